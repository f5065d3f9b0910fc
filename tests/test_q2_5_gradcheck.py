"""Q2.5.1 the numerical gradient checker (central differences). forward_backward and the nn.py pieces
are the reference's while these tests run, so only the checker itself is graded here."""
import numpy as np
import pytest

from grader import checks
from grader.fixtures import unflatten
from tests.cases import fixture_params

pytestmark = pytest.mark.question('2.5.1')
# The course sums |a - n| / max(|a|, |n|) over entries and expects < 1e-4 on its trained net; on other
# inputs entries near zero make that sum blow up from rounding alone (the reference scored 7e-4 on a
# 3-example batch). The grader uses the same bound on the block's relative error in norm instead.
LIMIT = 1e-4


@pytest.fixture
def q2(impl):
    with impl.earlier_pieces('2.5.1', composite=('forward_backward',)):
        yield impl.module('q2')


def relative_error(a, n):
    """||a - n|| / (||a|| + ||n||): scale-free, and well-behaved where single entries are near zero."""
    return float(np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12))


def _numerical(q2, case):
    __tracebackhide__ = True
    params = unflatten(case, 'in_')
    eps = float(case['eps'])
    call = f"numerical_gradients(x {case['x'].shape}, y, params, eps={eps:g})"
    grads = q2.numerical_gradients(case['x'].copy(), case['y'].copy(), params, eps)
    checks.that(isinstance(grads, dict), f'{call} should return a dict, but returned {type(grads).__name__}')
    expected = unflatten(case, 'numerical_')
    checks.that(set(expected) <= set(grads), f'{call} should return the keys {sorted(expected)}; got {sorted(grads)}')
    return {k: checks.array(grads[k], f'{call}[{k!r}]', shape=v.shape) for k, v in expected.items()}, params, call


@pytest.mark.parametrize('case', fixture_params('q2/numerical_gradients', lambda c: f"eps{c['eps']:g}"))
def test_numerical_gradients_central_differences(q2, case):
    """Same eps, same formula: (L(w+eps) - L(w-eps)) / (2 eps). A large eps makes forward differences
    or a wrong divisor show plainly."""
    grads, _, call = _numerical(q2, case)
    eps = float(case['eps'])
    for key, expected in unflatten(case, 'numerical_').items():
        # the loss's last bit (~2e-15 for a loss near 10) divided by 2 eps: allow about 15 of them
        checks.close(grads[key], expected, f'{call}[{key!r}]', rtol=1e-6, atol=3e-14 / eps,
                     why='central differences (L(w + eps) - L(w - eps)) / (2 eps) of the total loss')


# What "estimates the gradient" means before anything else is judged: within this relative error (in norm)
# of the true gradient. Loose on purpose: forward differences (a separate bug) still qualify; zeros or
# noise do not.
ESTIMATE = 0.5


@pytest.mark.parametrize('case', fixture_params('q2/numerical_gradients', lambda c: f"eps{c['eps']:g}"))
def test_numerical_gradients_restore_params(q2, case):
    """A checker that estimates the gradient leaves every parameter as it found it (one that does nothing
    leaves them too, and earns nothing: the estimate is required first)."""
    grads, params, call = _numerical(q2, case)
    for key, analytic in unflatten(case, 'analytic_').items():
        err = relative_error(analytic, grads[key])
        checks.that(err < ESTIMATE, f'{call}[{key!r}] does not estimate the gradient (relative error {err:.2g} to '
                    f'the true one); restoring the parameters is judged once it does')
    for key, before in unflatten(case, 'in_').items():
        after = checks.array(params.get(key), f'params[{key!r}] after {call}', shape=before.shape)
        checks.close(after, before, f'params[{key!r}] after {call}', rtol=0, atol=1e-12,
                     why='the checker must restore every entry it perturbs')


@pytest.mark.parametrize('case', [p for p in fixture_params('q2/numerical_gradients', lambda c: f"eps{c['eps']:g}")
                                  if float(p.values[0]['eps']) == 1e-6])
def test_numerical_gradients_check_analytic(q2, case):
    """With the course's eps = 1e-6 the check accepts the true gradient (summed relative error < 1e-4)
    (relative error in norm < 1e-4) and catches one that is 1% off in its largest entry."""
    grads, _, call = _numerical(q2, case)
    for key, analytic in unflatten(case, 'analytic_').items():
        err = relative_error(analytic, grads[key])
        checks.that(err < LIMIT, f'{call}[{key!r}] disagrees with the true gradient: relative error '
                    f'{err:.2e} (should be < {LIMIT:g})')
        wrong = analytic.copy()
        wrong.flat[np.argmax(np.abs(wrong))] *= 1.01
        err = relative_error(wrong, grads[key])
        checks.that(err > LIMIT, f'{call}[{key!r}] would not catch a gradient that is 1% off in one '
                    f'entry (relative error only {err:.2e})')
