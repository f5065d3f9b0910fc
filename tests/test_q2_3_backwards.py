"""Q2.3.1 backwards: grad_W, grad_b and the returned gradient for X, for any shape, name and activation.

The three are separate things a student can get right, so each is a case of its own and earns its own
share: a grad_b of the wrong shape costs grad_b's share, not the whole question. The cache is built by
the harness, so a forward bug is not charged here. The property test compares with the grader's central
differences (grader/oracles.py; in a student release it is not gradable, and the fixture test, exact
values stored from the reference, gives the feedback)."""
import numpy as np
import pytest
from hypothesis import assume, given

from grader import checks, evaluate
from grader.worker import activations
from tests import course_util
from tests.cases import fixture_params
from tests.strategies import layers

pytestmark = pytest.mark.question('2.3.1')
EPS = 1e-6
PARTS = ('grad_W', 'grad_b', 'grad_X')


def _backwards(impl, X, W, b, name, act, delta, deriv=None):
    """The student's backwards on a cache built by the harness: {part: value} and the call, as a message
    shows it. ``deriv`` replaces the activation's derivative (to ask: does it change anything?)."""
    __tracebackhide__ = True
    fn = activations.PAIRS[act][0]
    _, own_deriv, (_, deriv_name) = course_util.pair(impl, act)
    pre = X @ W + b
    params = {'W' + name: W.copy(), 'b' + name: b.copy(), 'cache_' + name: (X.copy(), pre, fn(pre))}
    call = f'backwards(delta {delta.shape}, params, {name!r}, {deriv_name}) with X {X.shape}, W {W.shape}'
    grad_X = impl.module('nn').backwards(delta.copy(), params, name, deriv or own_deriv)
    return {'grad_W': params.get('grad_W' + name), 'grad_b': params.get('grad_b' + name), 'grad_X': grad_X}, call


def _label(part, name, call):
    return f'the value returned by {call}' if part == 'grad_X' else f"params['{part}{name}'] from {call}"


def _check(impl, part, got, expected, case, call, **tolerance):
    """One part against its expected value; a failure for a non-linear activation that the same call
    with linear_deriv reproduces says the activation's derivative looks missing."""
    __tracebackhide__ = True
    X, W, b, name, act, delta = (case[k] for k in ('X', 'W', 'b', 'name', 'activation', 'delta'))
    label = _label(part, name, call)
    if part != 'grad_X':
        checks.that(got is not None, f"{call} should store params['{part}{name}']")
    value = checks.array(got, label, shape=expected.shape)
    try:
        checks.close(value, expected, label, **tolerance)
    except checks.CheckFailed as failure:
        if act != 'linear':
            linear = _backwards(impl, X, W, b, name, act, delta, activations.linear_deriv)[0][part]
            if isinstance(linear, np.ndarray) and linear.shape == value.shape and np.allclose(value, linear):
                checks.fail(f"{failure}. It is exactly what backwards gives with linear_deriv: the activation's "
                            f'derivative looks missing. Multiply delta by activation_deriv(post_act) first.')
        raise


@pytest.mark.parametrize('part', PARTS)
@given(case=layers())
def test_backwards_matches_finite_differences(impl, part, case):
    """With loss = sum(delta * activation(X W + b)), each gradient backwards gives is the exact one
    (summed over the batch): the grader's central differences of that loss agree."""
    X, W, b = (case[k].copy() for k in 'XWb')
    fn = activations.PAIRS[case['activation']][0]
    if case['activation'] == 'relu':  # finite differences are meaningless at the kink
        assume(np.min(np.abs(X @ W + b)) > 1e-4)
    case = dict(case, delta=np.random.default_rng(case['seed'] + 1).normal(size=(X.shape[0], W.shape[1])))
    got, call = _backwards(impl, X, W, b, case['name'], case['activation'], case['delta'])
    wrt = {'grad_W': W, 'grad_b': b, 'grad_X': X}[part]
    checks.array(got[part], _label(part, case['name'], call), shape=wrt.shape)   # judged here, oracle or not
    expected = evaluate.require_oracle().central_differences(lambda: np.sum(case['delta'] * fn(X @ W + b)), wrt, EPS)
    _check(impl, part, got[part], expected, case, call, rtol=1e-5, atol=1e-6,
           why='central finite differences of the summed loss; gradients are summed over the batch')


@pytest.mark.parametrize('part', PARTS)
@pytest.mark.parametrize('case', fixture_params('q2/backwards', lambda c: c['activation']))
def test_backwards_fixture(impl, case, part):
    case = dict(case, name='l')
    got, call = _backwards(impl, case['X'], case['W'], case['b'], 'l', case['activation'], case['delta'])
    _check(impl, part, got[part], case[part], case, call, rtol=1e-9, atol=1e-12)
