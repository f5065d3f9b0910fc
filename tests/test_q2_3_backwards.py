"""Q2.3.1 backwards: gradients against central finite differences, for any shape, name and activation."""
import numpy as np
import pytest
from hypothesis import assume, given

from grader import checks
from grader.worker import activations
from tests.cases import fixture_params
from tests.strategies import layers

pytestmark = pytest.mark.question('2.3.1')
EPS = 1e-6


def _run_backwards(impl, X, W, b, name, act, delta):
    """The student's backwards on a cache built by the harness (so a forward bug is not charged here)."""
    __tracebackhide__ = True
    fn, deriv = activations.PAIRS[act]
    pre = X @ W + b
    params = {'W' + name: W.copy(), 'b' + name: b.copy(), 'cache_' + name: (X.copy(), pre, fn(pre))}
    call = f'backwards(delta {delta.shape}, params, {name!r}, {act}_deriv) for X {X.shape}, W {W.shape}'
    grad_X = impl.module('nn').backwards(delta.copy(), params, name, deriv)
    for key in ('grad_W' + name, 'grad_b' + name):
        checks.that(key in params, f'{call} should store params[{key!r}]; params has {sorted(params)}')
    return (checks.array(params['grad_W' + name], f"params['grad_W{name}'] from {call}", shape=W.shape),
            checks.array(params['grad_b' + name], f"params['grad_b{name}'] from {call}", shape=b.shape),
            checks.array(grad_X, f'the value returned by {call}', shape=X.shape), call)


def _numeric(f, value):
    """Central differences of the scalar f() with respect to every entry of value (perturb, restore)."""
    grad = np.zeros_like(value)
    for idx in np.ndindex(value.shape):
        orig = value[idx]
        value[idx] = orig + EPS
        plus = f()
        value[idx] = orig - EPS
        minus = f()
        value[idx] = orig
        grad[idx] = (plus - minus) / (2 * EPS)
    return grad


@given(case=layers())
def test_backwards_matches_finite_differences(impl, case):
    """With loss = sum(delta * activation(X W + b)), backwards(delta) must give its exact gradients."""
    X, W, b, name, act = (case[k].copy() if k in 'XWb' else case[k] for k in ('X', 'W', 'b', 'name', 'activation'))
    fn = activations.PAIRS[act][0]
    if act == 'relu':  # finite differences are meaningless at the kink
        assume(np.min(np.abs(X @ W + b)) > 1e-4)
    delta = np.random.default_rng(case['seed'] + 1).normal(size=(X.shape[0], W.shape[1]))
    grad_W, grad_b, grad_X, call = _run_backwards(impl, X, W, b, name, act, delta)

    def loss():
        return np.sum(delta * fn(X @ W + b))

    for label, got, value in [(f"params['grad_W{name}']", grad_W, W), (f"params['grad_b{name}']", grad_b, b),
                              ('the returned gradient for X', grad_X, X)]:
        checks.close(got, _numeric(loss, value), f'{label} from {call}', rtol=1e-5, atol=1e-6,
                     why='central finite differences of the summed loss (gradients are summed over the batch)')


@pytest.mark.parametrize('case', fixture_params('q2/backwards', lambda c: c['activation']))
def test_backwards_fixture(impl, case):
    grad_W, grad_b, grad_X, call = _run_backwards(impl, case['X'], case['W'], case['b'], 'l', case['activation'],
                                                  case['delta'])
    checks.close(grad_W, case['grad_W'], f"params['grad_Wl'] from {call}", rtol=1e-9, atol=1e-12)
    checks.close(grad_b, case['grad_b'], f"params['grad_bl'] from {call}", rtol=1e-9, atol=1e-12)
    checks.close(grad_X, case['grad_X'], f'the value returned by {call}', rtol=1e-9, atol=1e-12)
