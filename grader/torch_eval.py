"""The trusted side of Q7: seeding and thread pinning, and the only places where the grader touches a
submission's torch model (``logits``, ``parameters``). Both return plain NumPy data, so when student code
runs in a separate worker these two calls are what the worker answers; everything that decides a
verdict (labels, thresholds, accuracy) stays here.

When grading, the model lives in the isolated worker (grader/isolation.py) and the grader holds a handle
to it: then ``logits``, ``parameters``, ``layer_types``, ``is_module`` and ``as_numpy`` run in the worker
(PROBES, the same code) and only plain data comes back, which is checked again here.

Importing this module does not import torch: the NumPy questions never pay for it."""
import os
import random
from pathlib import Path

import numpy as np

# One thread: results do not depend on the machine's core count, and 6 graders on 2 cores do not fight.
THREADS = 1
# What torchvision.models.squeezenet1_1(weights='IMAGENET1K_V1') looks for in the torch hub cache.
SQUEEZENET_FILE = 'squeezenet1_1-b8a52dc0.pth'


def _worker_class():
    from grader.isolation import WorkerImplementation
    return WorkerImplementation


def _isolated(obj):
    """True for a handle to an object in the isolated worker (grader.isolation.Handle)."""
    return callable(getattr(type(obj), 'probe_in_worker', None))


def setup(seed, impl=None):
    """Seed every RNG a submission may draw from, pin threads, ask for deterministic kernels: here, and
    in the isolated worker when ``impl`` runs the submission there."""
    if impl is not None and isinstance(impl, _worker_class()):
        impl.seed(seed, torch=True)
    import torch
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    try:
        torch.set_num_interop_threads(THREADS)
    except RuntimeError:  # allowed only before the first parallel op; pinned by the first test then
        pass
    torch.use_deterministic_algorithms(True, warn_only=True)


def logits(model, x, batch_size=1000):
    """``model``'s outputs for the float32 inputs ``x`` (a NumPy array) as a NumPy array, computed in
    eval mode without gradients. Fails with a sentence if the model does not return one tensor row per
    input."""
    from grader import checks
    x = np.ascontiguousarray(x, dtype=np.float32)
    if _isolated(model):
        return _checked_logits(checks.array(model.probe_in_worker('logits', x, batch_size), 'model(x)'), x)
    import torch
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                y = model(torch.from_numpy(x[start:start + batch_size]))
                checks.that(isinstance(y, torch.Tensor),
                            f'model(x) should return a torch.Tensor, but returned {type(y).__name__}')
                out.append(y.detach().cpu().numpy())
    finally:
        model.train(was_training)
    result = np.concatenate(out) if out else np.zeros((0, 0), np.float32)
    return _checked_logits(result, x)


def _checked_logits(result, x):
    from grader import checks
    checks.that(result.ndim == 2 and result.shape[0] == len(x),
                f'model(x) for x of shape {x.shape} returned shape {result.shape}; expected one row of '
                f'class scores per input ({len(x)}, number_of_classes)')
    return result.astype(np.float64)


def parameters(model):
    """{name: (requires_grad, values as a NumPy copy)} for every parameter of ``model``."""
    if _isolated(model):
        from grader import checks
        got = model.probe_in_worker('parameters')
        checks.that(type(got) is dict and all(type(k) is str and type(v) is tuple and len(v) == 2
                                              and type(v[0]) is bool and type(v[1]) is np.ndarray
                                              for k, v in got.items()),
                    'the worker did not describe the model\'s parameters as {name: (requires_grad, array)}')
        return got
    return {name: (bool(p.requires_grad), p.detach().cpu().numpy().copy())
            for name, p in model.named_parameters()}


def type_name(obj):
    """The class name of ``obj``, or of the object behind a worker handle."""
    return obj._type.rsplit('.', 1)[-1] if _isolated(obj) else type(obj).__name__


def is_module(model):
    """Is ``model`` a torch.nn.Module (asked in the worker when it lives there)?"""
    if _isolated(model):
        return model.probe_in_worker('is_module') is True
    import torch
    return isinstance(model, torch.nn.Module)


def accuracy(scores, labels):
    """Fraction of rows whose highest score is the label (labels: int class indices)."""
    return float(np.mean(np.argmax(scores, axis=1) == np.asarray(labels)))


def cross_entropy(scores, labels):
    """Mean cross-entropy of raw scores (logits) against int labels, computed here in float64."""
    s = np.asarray(scores, np.float64)
    s = s - s.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(s)), np.asarray(labels)]))


def confusion(scores, labels, classes):
    """classes x classes counts, rows = true label, columns = prediction."""
    m = np.zeros((classes, classes), int)
    np.add.at(m, (np.asarray(labels), np.argmax(scores, axis=1)), 1)
    return m


def squeezenet_weights():
    """Path of the pretrained SqueezeNet 1.1 weights in the local torch cache, or None if absent (no
    download is ever attempted)."""
    import torch
    path = Path(torch.hub.get_dir()) / 'checkpoints' / SQUEEZENET_FILE
    return path if path.is_file() else None


def stage_checkpoint(name, data):
    """Write ``data`` (bytes) into this process's torch hub cache as checkpoints/``name``, or remove that
    file when ``data`` is None. The worker runs this for the grader (its cache is its own)."""
    import torch
    path = Path(torch.hub.get_dir()) / 'checkpoints' / name
    if data is None:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def subset(labels, per_class, seed):
    """Indices of ``per_class`` examples of every class (fewer if a class has fewer), chosen with
    ``seed``, in a fixed shuffled order: the grader's own draw, the same for every submission."""
    rng = np.random.RandomState(seed)
    labels = np.asarray(labels)
    picked = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    return rng.permutation(np.concatenate(picked))


def cpu_seconds():
    """Process CPU time, for the timing notes in the tests' calibration comments."""
    return sum(os.times()[:2])


def layer_types(model):
    """Class names of the model's leaf modules, in order (e.g. ['Conv2d', 'ReLU', ...])."""
    if _isolated(model):
        got = model.probe_in_worker('layer_types')
        return list(got) if type(got) is list and all(type(t) is str for t in got) else []
    return [type(m).__name__ for m in model.modules() if not list(m.children())]


def as_numpy(value):
    """A tensor a submission returned where an array was asked for, as an array; anything else as is
    (checks.array then says what is wrong with it)."""
    if _isolated(value):
        return value.probe_in_worker('as_numpy')
    if type(value).__module__.startswith('torch') and hasattr(value, 'detach'):
        return value.detach().cpu().numpy()
    return value


# What the isolated worker may run on a handle for the grader (grader/worker.py, op 'probe').
PROBES = {'logits': logits, 'parameters': parameters, 'is_module': is_module, 'layer_types': layer_types,
          'as_numpy': as_numpy}
