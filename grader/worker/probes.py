"""What the grader may learn about an object of the submission that cannot leave the process it lives in
(a torch model): plain data only. grader.torch_eval calls these directly when the submission is
imported into pytest, and asks the isolated worker to run them on a handle otherwise; either way the
trusted side checks what comes back.

Importing this module does not import torch: the NumPy questions never pay for it."""
import os
import random
from pathlib import Path

import numpy as np

# One thread: results do not depend on the machine's core count, and 6 graders on 2 cores do not fight.
THREADS = 1


def seed_everything(seed, torch=False):
    """Seed random and np.random (torch=True: torch too, with pinned threads and deterministic kernels)."""
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    if torch:
        import torch as torch_
        torch_.manual_seed(seed)
        torch_.set_num_threads(THREADS)
        try:
            torch_.set_num_interop_threads(THREADS)
        except RuntimeError:  # allowed only before the first parallel op; pinned by the first test then
            pass
        torch_.use_deterministic_algorithms(True, warn_only=True)


def logits(model, x, batch_size=100):   # grader.torch_eval.EVAL_BATCH
    """``model``'s outputs for the float32 inputs ``x`` in eval mode without gradients, as one float32
    array; a message (str) instead if the model does not return tensors."""
    import torch
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                y = model(torch.from_numpy(np.ascontiguousarray(x[start:start + batch_size], dtype=np.float32)))
                if not isinstance(y, torch.Tensor):
                    return f'model(x) should return a torch.Tensor, but returned {type(y).__name__}'
                out.append(y.detach().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def parameters(model):
    """{name: (requires_grad, values as a NumPy copy)} for every parameter of ``model``."""
    return {name: (bool(p.requires_grad), p.detach().cpu().numpy().copy()) for name, p in model.named_parameters()}


def trainable(model):
    """The model's parameters that require gradients, as a list (the objects themselves)."""
    return [p for p in model.parameters() if p.requires_grad]


def is_module(model):
    import torch
    return isinstance(model, torch.nn.Module)


def layer_types(model):
    """Class names of the model's leaf modules, in order (e.g. ['Conv2d', 'ReLU', ...])."""
    return [type(m).__name__ for m in model.modules() if not list(m.children())]


def as_numpy(value):
    """A tensor where an array was asked for, as an array; anything else as is."""
    if type(value).__module__.startswith('torch') and hasattr(value, 'detach'):
        return value.detach().cpu().numpy()
    return value


def type_name(value):
    """The full type name of ``value`` ('numpy.matrix', 'builtins.generator'), for messages."""
    t = type(value)
    return t.__qualname__ if t.__module__ == 'builtins' else f'{t.__module__}.{t.__qualname__}'


def stage_checkpoint(name, data):
    """Write ``data`` (bytes) into this process's torch hub cache as checkpoints/``name``, or remove that
    file when ``data`` is None."""
    import torch
    path = Path(torch.hub.get_dir()) / 'checkpoints' / name
    if data is None:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def cpu_seconds():
    return sum(os.times()[:2])


# What the isolated worker may run on a handle for the grader (op 'probe').
PROBES = {'logits': logits, 'parameters': parameters, 'is_module': is_module, 'layer_types': layer_types,
          'as_numpy': as_numpy, 'type_name': type_name, 'trainable': trainable}
