"""Q2.2.1 sigmoid and forward."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy.special import expit

from grader import checks
from grader.worker import activations
from tests.cases import fixture_params
from tests.strategies import layers, matrices

pytestmark = pytest.mark.question('2.2.1')

# Absolute tolerance of sigmoid values: a few rounding steps of 1. Stable forms that compute 1 - s or
# 0.5 (1 + tanh(x / 2)) are exact to ~2e-16 absolute but return 0 for x < -37, where expit gives
# 1e-17 ... 1e-300; demanding relative precision down there would fail correct code. A float32
# sigmoid (errors ~3e-8) or one clipped at |x| = 30 (errors ~1e-13) is still caught.
ATOL = 4 * np.finfo(float).eps


@given(x=matrices())
def test_sigmoid_values(impl, x):
    s = checks.array(impl.module('nn').sigmoid(x.copy()), f'sigmoid(x) for x of shape {x.shape}', shape=x.shape)
    checks.close(s, expit(x), 'sigmoid(x)', rtol=1e-9, atol=ATOL)


@given(x=matrices())
def test_sigmoid_symmetry(impl, x):
    """sigmoid(-x) = 1 - sigmoid(x)."""
    sigmoid = impl.module('nn').sigmoid
    pos = checks.array(sigmoid(x.copy()), 'sigmoid(x)', shape=x.shape)
    neg = checks.array(sigmoid(-x), 'sigmoid(-x)', shape=x.shape)
    checks.close(neg, 1 - pos, 'sigmoid(-x)', atol=1e-12, why='sigmoid(-x) must equal 1 - sigmoid(x)')


@given(x=matrices(scale=st.sampled_from([0.5, 2.0, 6.0])))
def test_sigmoid_derivative_identity(impl, x):
    """sigmoid'(x) = s (1 - s), checked by central differences of the submission's sigmoid."""
    sigmoid, h = impl.module('nn').sigmoid, 1e-5
    s = checks.array(sigmoid(x.copy()), 'sigmoid(x)', shape=x.shape)
    numeric = (checks.array(sigmoid(x + h), 'sigmoid(x + h)', shape=x.shape)
               - checks.array(sigmoid(x - h), 'sigmoid(x - h)', shape=x.shape)) / (2 * h)
    checks.close(numeric, s * (1 - s), "finite-difference slope of sigmoid", atol=1e-8,
                 why="sigmoid'(x) must equal s(1 - s)")


def test_sigmoid_extremes(impl):
    x = np.array([[-1000.0, -745.0, -100.0, -1.0, 0.0], [1.0, 36.0, 100.0, 745.0, 1000.0]])
    s = checks.array(impl.module('nn').sigmoid(x.copy()), 'sigmoid([-1000 ... 1000])', shape=x.shape)
    checks.close(s, expit(x), 'sigmoid([-1000 ... 1000])', rtol=1e-9, atol=ATOL,
                 why='must not overflow for |x| up to 1000')


@given(case=layers())
def test_forward_values_and_cache(impl, case):
    X, W, b, name, act = case['X'], case['W'], case['b'], case['name'], case['activation']
    params = {'W' + name: W.copy(), 'b' + name: b.copy()}
    fn = activations.PAIRS[act][0]
    call = f"forward(X {X.shape}, params, {name!r}, {act})"
    out = checks.array(impl.module('nn').forward(X.copy(), params, name, fn), call, shape=(X.shape[0], W.shape[1]))
    pre = X @ W + b
    checks.close(out, fn(pre), call, rtol=1e-9, atol=1e-12)
    key = 'cache_' + name
    checks.that(key in params, f'{call} should store params[{key!r}]; params has {sorted(params)}')
    cache = params[key]
    checks.that(isinstance(cache, (tuple, list)) and len(cache) == 3,
                f'params[{key!r}] after {call} should be the tuple (X, pre_act, post_act), but is '
                f'{type(cache).__name__}{" of length " + str(len(cache)) if hasattr(cache, "__len__") else ""}')
    for i, (label, expected) in enumerate([('X', X), ('pre_act', pre), ('post_act', fn(pre))]):
        got = checks.array(cache[i], f'params[{key!r}][{i}] ({label})', shape=expected.shape)
        checks.close(got, expected, f'params[{key!r}][{i}] ({label})', rtol=1e-9, atol=1e-12)


def test_forward_default_activation_is_sigmoid(impl):
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)
    out = checks.array(impl.module('nn').forward(X, {'W': W, 'b': b}), "forward(X, params) with no activation",
                       shape=(4, 5))
    checks.close(out, expit(X @ W + b), 'forward(X, params)', rtol=1e-9, why='the default activation is sigmoid')


@pytest.mark.parametrize('case', fixture_params('q2/forward', lambda c: c['activation']))
def test_forward_fixture(impl, case):
    params = {'Wl': case['W'].copy(), 'bl': case['b'].copy()}
    call = f"forward(X {case['X'].shape}, params, 'l', {case['activation']})"
    out = impl.module('nn').forward(case['X'].copy(), params, 'l', activations.REGISTRY[case['activation']])
    checks.close(checks.array(out, call, shape=case['post_act'].shape), case['post_act'], call, rtol=1e-9)
