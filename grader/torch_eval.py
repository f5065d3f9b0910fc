"""The trusted side of Q7: seeding and thread pinning, and the only places where the grader touches a
submission's torch model (``logits``, ``parameters``). Both return plain NumPy data, so when student code
runs in a separate worker these two calls are what the worker answers; everything that decides a
verdict (labels, thresholds, accuracy) stays here.

Importing this module does not import torch: the NumPy questions never pay for it."""
import os
import random
from pathlib import Path

import numpy as np

# One thread: results do not depend on the machine's core count, and 6 graders on 2 cores do not fight.
THREADS = 1
# What torchvision.models.squeezenet1_1(weights='IMAGENET1K_V1') looks for in the torch hub cache.
SQUEEZENET_FILE = 'squeezenet1_1-b8a52dc0.pth'


def setup(seed):
    """Seed every RNG a submission may draw from, pin threads, ask for deterministic kernels."""
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
    import torch
    from grader import checks
    x = np.ascontiguousarray(x, dtype=np.float32)
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
    checks.that(result.ndim == 2 and result.shape[0] == len(x),
                f'model(x) for x of shape {x.shape} returned shape {result.shape}; expected one row of '
                f'class scores per input ({len(x)}, number_of_classes)')
    return result.astype(np.float64)


def parameters(model):
    """{name: (requires_grad, values as a NumPy copy)} for every parameter of ``model``."""
    return {name: (bool(p.requires_grad), p.detach().cpu().numpy().copy())
            for name, p in model.named_parameters()}


def accuracy(scores, labels):
    """Fraction of rows whose highest score is the label (labels: int class indices)."""
    return float(np.mean(np.argmax(scores, axis=1) == np.asarray(labels)))


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
    return [type(m).__name__ for m in model.modules() if not list(m.children())]


def as_numpy(value):
    """A tensor a submission returned where an array was asked for, as an array; anything else as is
    (checks.array then says what is wrong with it)."""
    if type(value).__module__.startswith('torch') and hasattr(value, 'detach'):
        return value.detach().cpu().numpy()
    return value
