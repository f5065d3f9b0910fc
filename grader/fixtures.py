"""Fixed inputs with the reference's outputs, stored under fixtures/ so that a student release (which
has no reference code) runs the same comparisons. ``python -m grader fixtures --regenerate`` remakes
them deterministically; ``--check`` verifies checksums and, where the reference is present, that it
still produces what is stored.

Each generator takes a NumPy Generator and returns a list of cases ({field: array or str}); a case is
stored as '<index>/<field>' members of one byte-reproducible .npz per generator."""
import json
import platform
import zlib
from pathlib import Path

import numpy as np

from grader import activations, npzio, paths
from grader.impl import reference_module

SEED = 20181021         # public fixtures
HIDDEN_SEED = 31337     # hidden fixtures: same generators, other inputs (autograder bundle only)
MANIFEST = 'manifest.json'
GENERATORS = {}


def generator(name):
    def register(fn):
        GENERATORS[name] = fn
        return fn
    return register


def _folder(hidden):
    return paths.HIDDEN_FIXTURES if hidden else paths.FIXTURES


def path_of(name, hidden=False):
    return _folder(hidden) / f'{name}.npz'


def cases(name, hidden=False):
    """The stored cases of one generator as a list of dicts (strings come back as str)."""
    path = path_of(name, hidden)
    if not path.is_file():
        raise FileNotFoundError(f'fixture {path} is missing: run `python -m grader fixtures --regenerate`')
    flat = npzio.load_npz(path)
    out = {}
    for key, value in flat.items():
        index, field = key.split('/', 1)
        out.setdefault(int(index), {})[field] = value.item() if value.dtype.kind == 'U' else value
    return [out[i] for i in sorted(out)]


def available(hidden):
    return path_of(next(iter(GENERATORS)), hidden).is_file() if GENERATORS else False


def _build(name, seed):
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    np.random.seed(int(rng.integers(2 ** 31)))  # reference code draws from the global RNG
    built = GENERATORS[name](rng)
    return {f'{i}/{field}': (np.asarray(v) if not isinstance(v, str) else np.array(v))
            for i, case in enumerate(built) for field, v in case.items()}


def regenerate(hidden_too=True):
    """Write every fixture and the manifests; returns the written paths."""
    written = []
    for hidden, seed in [(False, SEED)] + ([(True, HIDDEN_SEED)] if hidden_too else []):
        files = {}
        for name in sorted(GENERATORS):
            path = npzio.save_npz(path_of(name, hidden), _build(name, seed))
            files[f'{name}.npz'] = npzio.sha256(path)
            written.append(path)
        manifest = {'seed': seed, 'python': platform.python_version(), 'numpy': np.__version__,
                    'files': files}
        (_folder(hidden) / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + '\n')
    return written


def check():
    """Problems found (empty when all is well): missing files, checksum mismatches, and cases that the
    reference no longer reproduces (within 1e-12, as BLAS builds may differ in the last bits)."""
    problems = []
    for hidden in (False, True):
        manifest_path = _folder(hidden) / MANIFEST
        if not manifest_path.is_file():
            if not hidden:
                problems.append(f'{manifest_path} is missing')
            continue
        manifest = json.loads(manifest_path.read_text())
        for rel, digest in sorted(manifest['files'].items()):
            path = _folder(hidden) / rel
            if not path.is_file():
                problems.append(f'{path} is missing')
            elif npzio.sha256(path) != digest:
                problems.append(f'{path}: checksum differs from {manifest_path.name}')
            elif reference_module('nn') is not None:
                name = rel[:-len('.npz')]
                stored, fresh = npzio.load_npz(path), _build(name, manifest['seed'])
                for key in sorted(set(stored) | set(fresh)):
                    a, b = stored.get(key), fresh.get(key)
                    if a is None or b is None or a.shape != b.shape or not (
                            np.array_equal(a, b) if a.dtype.kind == 'U'
                            else np.allclose(a, b, rtol=1e-12, atol=1e-12)):
                        problems.append(f'{path}: {key} is not what the reference produces now')
                        break
    return problems


# --- Q2 -------------------------------------------------------------------------------------------------

def _ref(module='nn'):
    mod = reference_module(module)
    if mod is None:
        raise RuntimeError('regenerating fixtures needs the reference solution (reference/)')
    return mod


@generator('q2/forward')
def _forward(rng):
    out = []
    for n, d, h, act in [(5, 3, 4, 'sigmoid'), (1, 7, 2, 'tanh'), (8, 8, 8, 'relu'), (3, 10, 1, 'linear'),
                         (6, 4, 9, 'sigmoid')]:
        X, W, b = rng.normal(size=(n, d)), rng.normal(size=(d, h)), rng.normal(size=h)
        params = {'Wl': W, 'bl': b}
        post = _ref().forward(X, params, 'l', activations.REGISTRY[act])
        out.append(dict(X=X, W=W, b=b, activation=act, pre_act=params['cache_l'][1], post_act=post))
    return out


@generator('q2/softmax')
def _softmax(rng):
    xs = [rng.normal(size=(4, 6)), rng.normal(scale=300, size=(7, 3)), np.array([[1000.0, 1000.0], [0, 0]]),
          rng.normal(size=(1, 36)), rng.normal(size=(5, 5)) + np.arange(5)[:, None] * 200]
    return [dict(x=x, probs=_ref().softmax(x)) for x in xs]


@generator('q2/loss')
def _loss(rng):
    out = []
    for n, c in [(10, 4), (1, 36), (7, 3), (40, 4)]:
        logits = rng.normal(size=(n, c))
        probs = _ref().softmax(logits)
        y = np.eye(c)[rng.integers(0, c, n)]
        loss, acc = _ref().compute_loss_and_acc(y, probs)
        out.append(dict(y=y, probs=probs, loss=loss, acc=acc))
    return out


@generator('q2/backwards')
def _backwards(rng):
    out = []
    for n, d, h, act in [(5, 3, 4, 'sigmoid'), (2, 6, 3, 'tanh'), (4, 4, 4, 'relu'), (7, 2, 5, 'linear')]:
        X, W, b = rng.normal(size=(n, d)), rng.normal(size=(d, h)), rng.normal(size=h)
        params = {'Wl': W, 'bl': b}
        fn, deriv = activations.PAIRS[act]
        _ref().forward(X, params, 'l', fn)
        delta = rng.normal(size=(n, h))
        grad_X = _ref().backwards(delta, params, 'l', deriv)
        out.append(dict(X=X, W=W, b=b, activation=act, delta=delta, grad_W=params['grad_Wl'],
                        grad_b=params['grad_bl'], grad_X=grad_X))
    return out


def toy_params(rng, sizes=(2, 25, 4)):
    """Initial parameters of the course's toy net, drawn here so fixtures do not depend on any
    submission's initialize_weights."""
    params = {}
    for name, (i, o) in zip(['layer1', 'output'], zip(sizes[:-1], sizes[1:])):
        bound = np.sqrt(6 / (i + o))
        params['W' + name] = rng.uniform(-bound, bound, (i, o))
        params['b' + name] = rng.normal(scale=0.1, size=o)
    return params


def _toy_batch(rng, n):
    x, y = _ref('q2').toy_data(seed=int(rng.integers(1000)))
    pick = rng.choice(40, size=n, replace=False)
    return x[pick], y[pick]


def _flat(params, prefix, grads=False):
    """Parameters (or, with grads=True, their gradients) as prefixed case fields."""
    return {prefix + k: v for k, v in params.items() if k.startswith('grad_') == grads and k[:1] in 'Wbg'}


@generator('q2/sgd_step')
def _sgd_step(rng):
    out = []
    for n, lr in [(5, 1e-3), (8, 1e-2), (1, 0.5)]:
        x, y = _toy_batch(rng, n)
        params = toy_params(rng)
        case = dict(x=x, y=y, learning_rate=lr, **_flat(params, 'in_'))
        loss, acc = _ref('q2').forward_backward(x, y, params)
        case.update(loss=loss, acc=acc, **_flat(params, 'grads_', grads=True))
        _ref('q2').sgd_step(params, lr)
        case.update(_flat(params, 'out_'))
        out.append(case)
    return out


@generator('q2/numerical_gradients')
def _numerical(rng):
    out = []
    for n, eps in [(6, 1e-3), (3, 1e-6), (10, 1e-2)]:
        x, y = _toy_batch(rng, n)
        params = toy_params(rng)
        case = dict(x=x, y=y, eps=eps, **_flat(params, 'in_'))
        analytic = dict(params)
        _ref('q2').forward_backward(x, y, analytic)
        case.update(_flat(analytic, 'analytic_', grads=True))
        case.update(_flat(_ref('q2').numerical_gradients(x, y, params, eps), 'numerical_', grads=True))
        out.append(case)
    return out


@generator('q2/toy_init')
def _toy_init(rng):
    """Starting points for the toy training loop: the course's data (as the grader's own copy, since a
    submission's given toy_data could be edited) and initial weights."""
    cases = []
    for _ in range(3):
        x, y = _ref('q2').toy_data(seed=int(rng.integers(1000)))
        cases.append(dict(x=x, y=y, **_flat(toy_params(rng), 'in_')))
    return cases


def unflatten(case, prefix):
    """The '<prefix>Wlayer1'... entries of a stored case as a fresh params dict."""
    return {k[len(prefix):]: np.array(v) for k, v in case.items() if k.startswith(prefix)}
