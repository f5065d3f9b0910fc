"""What the Q7 tests share: the submission's q7 module with torch seeded and pinned, and the steps
"build a model, train it with the grader's settings, score it on the grader's held-out data".

Nothing here imports torch at module level, so collecting the Q7 test files costs the NumPy questions
nothing (selftests/test_torch_isolation.py checks it). The submission's models are only ever touched
through grader.torch_eval (logits, parameters, layer_types)."""
import zlib

import numpy as np
import pytest

from grader import checks, torch_data, torch_eval


def seed_of(nodeid):
    """The seed a Q7 test trains with: fixed by its pytest node id (benchmarks/calibrate.py covers it)."""
    return zlib.crc32(nodeid.encode())


@pytest.fixture
def q7(impl, request):
    """The submission's q7 module, after seeding every RNG from the test's id and pinning threads.
    Questions after 7.1.1 train with the course's training loop where the submission's own failed 7.1.1
    (rubric ``uses``, grader.pieces), so a broken loop is charged once, in 7.1.1."""
    pytest.importorskip('torch', reason='Q7 needs torch and torchvision (pip install -r requirements-torch.txt)')
    torch_eval.setup(seed_of(request.node.nodeid), impl)
    with impl.earlier_pieces(request.node.get_closest_marker('question').args[0]):
        yield impl.module('q7')


def build(q7, task_name, **kwargs):
    """The submission's model for a task, or a failure naming the builder."""
    task = torch_data.TASKS[task_name]
    model = getattr(q7, task.build)(**kwargs)
    checks.that(torch_eval.is_module(model),
                f'{task.build}() should return a torch.nn.Module, but returned {torch_eval.type_name(model)}')
    return model


def check_cnn(q7, task_name, image_shape):
    """The task's builder makes a CNN (it has nn.Conv2d layers) returning one raw score per class for
    a batch of 5 random images of ``image_shape`` (channels, height, width)."""
    __tracebackhide__ = True
    task = torch_data.TASKS[task_name]
    model = build(q7, task_name)
    kinds = torch_eval.layer_types(model)
    checks.that('Conv2d' in kinds, f'{task.build}() has layers {kinds}: a CNN needs nn.Conv2d layers')
    x = np.random.RandomState(0).rand(5, *image_shape).astype(np.float32)
    shape = ', '.join(map(str, image_shape))
    check_scores(torch_eval.logits(model, x), 5, task.classes, f'{task.build}()(x (5, {shape}))')


def check_scores(scores, n, classes, call):
    """One row of ``classes`` raw scores per input, not probabilities (CrossEntropyLoss applies the
    softmax itself: a softmax inside the model is applied twice)."""
    __tracebackhide__ = True
    checks.that(scores.shape == (n, classes),
                f'{call} returned shape {scores.shape}; expected ({n}, {classes}): one score per class')
    checks.array(scores, call)
    rows_are_probs = np.all((scores >= 0) & (scores <= 1)) and np.allclose(scores.sum(1), 1, atol=1e-4)
    checks.that(not rows_are_probs,
                f'{call} returned rows that are probabilities (in [0, 1], summing to 1): the model should '
                f'return raw scores (logits); nn.CrossEntropyLoss applies log-softmax itself, so a softmax '
                f'in the model is applied twice')


def train(q7, model, task_name, x=None, y=None, **overrides):
    """Train with the grader's settings; checks the returned history; returns it as an array."""
    task = torch_data.TASKS[task_name]
    settings = {**task.settings, **overrides}
    if x is None:
        (x, y), _ = task.data()
    call = f'train_model({task.build}(), x {x.shape}, y, ' + ', '.join(f'{k}={v}' for k, v in settings.items()) + ')'
    history = q7.train_model(model, x, y, **settings)
    checks.that(isinstance(history, (list, tuple)) and len(history) == settings['epochs'],
                f'{call} should return one (loss, accuracy) pair per epoch ({settings["epochs"]}), got '
                f'{len(history) if hasattr(history, "__len__") else type(history).__name__}')
    h = np.array([[checks.scalar(v, f'{call} history[{i}]') for v in pair] for i, pair in enumerate(history)])
    checks.that(h.shape[1] == 2, f'{call}: each history entry should be (mean loss, accuracy)')
    return h, call


def held_out_accuracy(model, task_name):
    """The grader's measurement: accuracy on held-out examples whose labels stay here."""
    task = torch_data.TASKS[task_name]
    _, (x, y) = task.data()
    scores = torch_eval.logits(model, x)
    check_scores(scores, len(x), task.classes, f'{task.build}() model on held-out x {x.shape}')
    return torch_eval.accuracy(scores, y), scores, y


def changed(before, after):
    """Names of parameters whose values differ between two torch_eval.parameters snapshots."""
    return sorted(n for n in before if n in after and not np.array_equal(before[n][1], after[n][1]))


@pytest.fixture
def torch_cache(impl, tmp_path, monkeypatch):
    """``use(data)`` puts a SqueezeNet checkpoint (bytes) where the submission's torchvision looks for
    pretrained weights: the worker's own torch cache when it runs isolated, a temporary TORCH_HOME when it
    is imported here. Removed after the test."""
    staged = []

    def use(data):
        if callable(getattr(impl, 'stage_checkpoint', None)):
            impl.stage_checkpoint(torch_eval.SQUEEZENET_FILE, data)
            staged.append(True)
        else:
            folder = tmp_path / 'hub' / 'checkpoints'
            folder.mkdir(parents=True, exist_ok=True)
            (folder / torch_eval.SQUEEZENET_FILE).write_bytes(data)
            monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    yield use
    if staged:
        impl.stage_checkpoint(torch_eval.SQUEEZENET_FILE, None)


def pretrained(torch_cache):
    """Offer the real pretrained weights to the submission if this machine's torch cache has them; returns
    whether it has."""
    path = torch_eval.squeezenet_weights()
    if path is not None:
        torch_cache(path.read_bytes())
    return path is not None


@pytest.fixture
def data_kind():
    """torch_data.kind: 'real' or 'generated' for a set (thresholds differ)."""
    return torch_data.kind
