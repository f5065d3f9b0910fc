"""Q2.2.1 sigmoid and forward.

The sigmoid property tests first require the contract: values in [0, 1] that rise with x. A constant 0.5
is symmetric about 0 and zeros have slope 0 = s (1 - s), but neither is a sigmoid: they earn nothing.
forward is called with the activations where the course takes them (tests/course_util.py)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy.special import expit

from grader import checks, evaluate
from grader.worker import activations
from tests import course_util
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


def _contract(impl, x):
    """sigmoid(x), after checking that it lies in [0, 1] and rises with x."""
    __tracebackhide__ = True
    s = checks.array(impl.module('nn').sigmoid(x.copy()), f'sigmoid(x) for x of shape {x.shape}', shape=x.shape)
    checks.that(np.all((s >= 0) & (s <= 1)), f'sigmoid(x) has values outside [0, 1]: {s.min():.4g} .. {s.max():.4g}')
    flat_x, flat_s = x.ravel(), s.ravel()
    order = np.argsort(flat_x, kind='stable')
    falls = np.flatnonzero(np.diff(flat_s[order]) < -1e-15)
    if falls.size:
        lo, hi = order[falls[0]], order[falls[0] + 1]
        checks.fail(f'sigmoid falls where x grows: sigmoid({flat_x[lo]:.6g}) = {flat_s[lo]:.6g} but '
                    f'sigmoid({flat_x[hi]:.6g}) = {flat_s[hi]:.6g}')
    lo, hi = order[0], order[-1]
    # (sigmoid is exactly 1.0 in float64 beyond x = 37 and 0.0 below x = -745: no rise to see there)
    if flat_x[hi] - flat_x[lo] > 1e-6 and flat_x[lo] < 30 and flat_x[hi] > -30:
        checks.that(flat_s[hi] > flat_s[lo], f'sigmoid({flat_x[lo]:.6g}) and sigmoid({flat_x[hi]:.6g}) are both '
                    f'{flat_s[lo]:.6g}: sigmoid must rise with x')
    return s


@given(x=matrices())
def test_sigmoid_symmetry(impl, x):
    """sigmoid(-x) = 1 - sigmoid(x), for a function that is a sigmoid in the first place."""
    pos = _contract(impl, x)
    neg = checks.array(impl.module('nn').sigmoid(-x), 'sigmoid(-x)', shape=x.shape)
    checks.close(neg, 1 - pos, 'sigmoid(-x)', atol=1e-12, why='sigmoid(-x) must equal 1 - sigmoid(x)')


@given(x=matrices(scale=st.sampled_from([0.5, 2.0, 6.0])))
def test_sigmoid_derivative_identity(impl, x):
    """sigmoid'(x) = s (1 - s), checked by the grader's central differences of the submission's sigmoid
    (grader/oracles.py: not gradable in a student release)."""
    sigmoid, h = impl.module('nn').sigmoid, 1e-5
    s = _contract(impl, x)   # judged here, oracle or not
    numeric = evaluate.require_oracle().slope(lambda z: checks.array(sigmoid(z), 'sigmoid(x +- h)', shape=x.shape),
                                              x, h)
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
    own, _, (label, _) = course_util.pair(impl, act)
    call = f"forward(X {X.shape}, params, {name!r}, {label})"
    out = checks.array(impl.module('nn').forward(X.copy(), params, name, own), call, shape=(X.shape[0], W.shape[1]))
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
    own, _, (label, _) = course_util.pair(impl, case['activation'])
    call = f"forward(X {case['X'].shape}, params, 'l', {label})"
    out = impl.module('nn').forward(case['X'].copy(), params, 'l', own)
    checks.close(checks.array(out, call, shape=case['post_act'].shape), case['post_act'], call, rtol=1e-9)
