"""The trusted side of Q7: seeding, and the only places where the grader touches a submission's torch
model (``logits``, ``parameters``, ``layer_types``, ``is_module``, ``as_numpy``). Each returns plain NumPy
data: the object is asked through grader.worker.probes, directly when the submission is imported into
pytest, and in the isolated worker (on a handle) when it runs there. Everything that decides a verdict
(labels, thresholds, accuracy) stays here, and what comes back is checked again.

Importing this module does not import torch: the NumPy questions never pay for it."""
import numpy as np

from grader import checks
from grader.worker import probes

# What torchvision.models.squeezenet1_1(weights='IMAGENET1K_V1') looks for in the torch hub cache.
SQUEEZENET_FILE = 'squeezenet1_1-b8a52dc0.pth'
THREADS = probes.THREADS


def probe(obj, name, *args):
    """grader.worker.probes.PROBES[name](obj, *args), run where ``obj`` lives."""
    return obj.probe(name, *args) if checks.remote(obj) else probes.PROBES[name](obj, *args)


def setup(seed, impl=None):
    """Seed every RNG a submission may draw from, pin threads, ask for deterministic kernels: here, and
    where the submission runs (``impl``)."""
    if impl is not None:
        impl.seed(seed, torch=True)
    probes.seed_everything(seed, torch=True)


# Images per batch when the grader runs a model. Its evaluation must leave the hand-in's memory to the hand-in:
# at 1000 a batch, PyTorch's own MNIST example net needed 200 MB for one activation on the NIST36 validation
# set, more than the worker had left under its address-space limit (torch's CUDA build alone maps 3.6 of its
# 4 GB), and a sound 7.1.3 lost its accuracy points.
EVAL_BATCH = 100


def logits(model, x, batch_size=EVAL_BATCH):
    """``model``'s outputs for the float32 inputs ``x`` (a NumPy array) as a float64 array, computed in
    eval mode without gradients. Fails with a sentence if the model does not return one tensor row per
    input."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    result = probe(model, 'logits', x, batch_size)
    if isinstance(result, str):
        checks.fail(result)
    result = checks.array(result, 'model(x)')
    checks.that(result.ndim == 2 and result.shape[0] == len(x),
                f'model(x) for x of shape {x.shape} returned shape {result.shape}; expected one row of '
                f'class scores per input ({len(x)}, number_of_classes)')
    return result.astype(np.float64)


def parameters(model):
    """{name: (requires_grad, values as a NumPy copy)} for every parameter of ``model``."""
    got = probe(model, 'parameters')
    checks.that(type(got) is dict and all(type(k) is str and type(v) is tuple and len(v) == 2 and type(v[0]) is bool
                                          and type(v[1]) is np.ndarray for k, v in got.items()),
                'the worker did not describe the model\'s parameters as {name: (requires_grad, array)}')
    return got


def type_name(obj):
    """The class name of ``obj``, or of the object behind a worker handle."""
    return (obj.type_name if checks.remote(obj) else probes.type_name(obj)).rsplit('.', 1)[-1]


def is_module(model):
    """Is ``model`` a torch.nn.Module?"""
    return probe(model, 'is_module') is True


def layer_types(model):
    """Class names of the model's leaf modules, in order (e.g. ['Conv2d', 'ReLU', ...])."""
    got = probe(model, 'layer_types')
    return list(got) if type(got) is list and all(type(t) is str for t in got) else []


def as_numpy(value):
    """A tensor a submission returned where an array was asked for, as an array; anything else as is
    (checks.array then says what is wrong with it)."""
    return probe(value, 'as_numpy') if checks.remote(value) else probes.as_numpy(value)


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
    from pathlib import Path
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


cpu_seconds = probes.cpu_seconds
