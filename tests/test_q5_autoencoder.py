"""Q5.1.1 the autoencoder's forward and backward passes, Q5.1.2 the momentum update.

The nn.py pieces of Q2 are the reference's while these tests run (see grader/rubric.py), so a bug there
is charged only once; what is graded is the autoencoder's own wiring, loss and update rule."""
import numpy as np
import pytest

from grader import checks, evaluate
from grader.fixtures import unflatten
from tests.cases import fixture_params

EPS = 1e-6


@pytest.fixture
def q5(impl):
    with impl.earlier_pieces('5.1.1'):
        yield impl.module('q5')


def _shape(case):
    return f"x {case['x'].shape}, layers {case['in_Wlayer1'].shape[1]} wide"


@pytest.mark.question('5.1.1')
@pytest.mark.parametrize('case', fixture_params('q5/autoencoder', lambda c: f"n{len(c['x'])}"))
def test_ae_forward_backward_fixture(q5, case):
    """Output, total squared error and every gradient equal the reference's on the same weights."""
    call = f'ae_forward(x, params) for {_shape(case)}'
    out = q5.ae_forward(case['x'].copy(), unflatten(case, 'in_'))
    checks.close(checks.array(out, call, shape=case['x'].shape), case['out'], call, rtol=1e-9, atol=1e-12,
                 why='ReLU, ReLU, ReLU, then sigmoid')
    params = unflatten(case, 'in_')
    call = f'ae_forward_backward(x, params) for {_shape(case)}'
    loss = checks.scalar(q5.ae_forward_backward(case['x'].copy(), params), f'the loss from {call}')
    checks.close(loss, case['loss'], f'the loss from {call}', rtol=1e-9,
                 why='the TOTAL squared error sum((x - out)**2), not the mean')
    for key, expected in unflatten(case, 'grad_').items():
        key = 'grad_' + key
        checks.that(key in params, f'{call} should leave params[{key!r}] set; params has {sorted(params)}')
        checks.close(checks.array(params[key], f'params[{key!r}] after {call}', shape=expected.shape), expected,
                     f'params[{key!r}] after {call}', rtol=1e-7, atol=1e-10)


@pytest.mark.question('5.1.1')
@pytest.mark.parametrize('case', fixture_params('q5/autoencoder', lambda c: f"n{len(c['x'])}")[:1])
def test_ae_gradients_match_finite_differences(q5, case):
    """The gradients ae_forward_backward stores are those of the loss it returns: the grader's central
    differences along random directions per parameter block (grader/oracles.py: not gradable in a
    student release)."""
    x = case['x'].copy()
    params = unflatten(case, 'in_')
    call = f'ae_forward_backward(x, params) for {_shape(case)}'
    q5.ae_forward_backward(x.copy(), params)
    grads = {k: checks.array(params.get('grad_' + k), f"params['grad_{k}'] after {call}",
                             shape=params[k].shape).copy() for k in unflatten(case, 'in_')}
    oracles = evaluate.require_oracle()   # (what failed above fails in a student release too)
    rng = np.random.default_rng(0)
    for key, grad in sorted(grads.items()):
        base = params[key].copy()

        def loss(value):
            params[key] = value
            return checks.scalar(q5.ae_forward_backward(x.copy(), params), f'the loss from {call}')
        for _ in range(3):
            direction = rng.normal(size=grad.shape)
            numerical = oracles.directional_derivative(loss, base, direction, EPS)
            analytic = float(np.sum(grad * direction))
            params[key] = base
            err = abs(numerical - analytic) / max(1e-8, abs(numerical) + abs(analytic))
            checks.that(err < 1e-5, f"params['grad_{key}'] after {call} disagrees with central differences of "
                        f'the returned loss along a random direction: analytic {analytic:.8g}, numerical '
                        f'{numerical:.8g} (relative error {err:.2e}, should be < 1e-5)')


@pytest.mark.question('5.1.2')
@pytest.mark.parametrize('case', fixture_params('q5/momentum', lambda c: f"lr{c['learning_rate']:g}"))
def test_momentum_step_fixture(impl, case):
    """One update from a non-zero momentum state: M = 0.9 M - lr * grad; W = W + M, both kept in params."""
    params = unflatten(case, 'in_')
    lr = float(case['learning_rate'])
    call = f'momentum_step(params, {lr:g})'
    impl.module('q5').momentum_step(params, lr)
    for key, expected in unflatten(case, 'out_').items():
        checks.close(checks.array(params.get(key), f'params[{key!r}] after {call}', shape=expected.shape),
                     expected, f'params[{key!r}] after {call}', rtol=1e-10, atol=1e-14,
                     why="M = 0.9 * params['m_'+k] - lr * params['grad_'+k]; params[k] = params[k] + M; "
                         "params['m_'+k] = M")


@pytest.mark.question('5.1.2')
def test_momentum_step_keeps_state(impl):
    """Two steps with the same gradient: the second moves 1.9x as far as the first (the state persists)."""
    params = {'Wx': np.zeros((2, 3)), 'bx': np.zeros(3), 'm_Wx': np.zeros((2, 3)), 'm_bx': np.zeros(3),
              'grad_Wx': np.ones((2, 3)), 'grad_bx': -np.ones(3)}
    steps = []
    for _ in range(2):
        before = checks.array(params.get('Wx'), "params['Wx']", shape=(2, 3)).copy()
        impl.module('q5').momentum_step(params, 0.1)
        steps.append(checks.array(params.get('Wx'), "params['Wx'] after momentum_step(params, 0.1)",
                                  shape=(2, 3)) - before)
    checks.close(steps[0], np.full((2, 3), -0.1), "the first step of params['Wx'] by momentum_step(params, 0.1) "
                 'from zero momentum', rtol=1e-12)
    checks.close(steps[1], np.full((2, 3), -0.19), "the second step of params['Wx'] with the same gradient",
                 rtol=1e-12, why="0.9 * (-0.1) - 0.1 * 1: the momentum must be stored in params['m_Wx']")
