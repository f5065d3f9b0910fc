"""Q1's theory facts as properties of the implementation under test (ungraded: they document the maths
the written answers rest on, and show that the toolkit obeys it)."""
import numpy as np
import pytest
from hypothesis import given

from grader import checks
from grader.worker import activations
from tests.strategies import layers, matrices

pytestmark = pytest.mark.question('1')


@given(x=matrices())
def test_theory_tanh_is_rescaled_sigmoid(impl, x):
    """tanh(x) = 2 sigmoid(2x) - 1."""
    s = checks.array(impl.module('nn').sigmoid(2 * x), 'sigmoid(2x)', shape=x.shape)
    checks.close(2 * s - 1, np.tanh(x), '2 sigmoid(2x) - 1', atol=1e-12, why='must equal tanh(x)')


@given(first=layers(), second=layers())
def test_theory_linear_layers_collapse(impl, first, second):
    """Without nonlinearities two layers are one affine map: X W1 W2 + (b1 W2 + b2)."""
    X, W1, b1 = first['X'], first['W'], first['b']
    W2 = np.resize(second['W'], (W1.shape[1], second['W'].shape[1]))
    b2 = second['b'][:W2.shape[1]]
    forward = impl.module('nn').forward
    params = {'W1': W1, 'b1': b1, 'W2': W2, 'b2': b2}
    out = forward(forward(X, params, '1', activations.linear), params, '2', activations.linear)
    out = checks.array(out, 'two linear layers', shape=(X.shape[0], W2.shape[1]))
    checks.close(out, X @ (W1 @ W2) + (b1 @ W2 + b2), 'two linear layers', rtol=1e-9, atol=1e-9,
                 why='must equal the single affine map X (W1 W2) + (b1 W2 + b2)')


@given(case=layers())
def test_theory_single_example_gradients(impl, case):
    """For one example with a linear layer: dJ/dW = x delta^T, dJ/dx = W delta, dJ/db = delta."""
    x, W, b = case['X'][:1], case['W'], case['b']
    delta = np.random.default_rng(case['seed']).normal(size=(1, W.shape[1]))
    params = {'W': W, 'b': b, 'cache_': (x, x @ W + b, x @ W + b)}
    grad_x = impl.module('nn').backwards(delta, params, '', activations.linear_deriv)
    checks.close(checks.array(params.get('grad_W'), 'grad_W', shape=W.shape), np.outer(x, delta), 'grad_W',
                 rtol=1e-9, atol=1e-12, why='dJ/dW = x delta^T')
    checks.close(checks.array(params.get('grad_b'), 'grad_b', shape=b.shape), delta[0], 'grad_b', rtol=1e-9,
                 why='dJ/db = delta')
    checks.close(checks.array(grad_x, 'dJ/dx', shape=x.shape), (W @ delta[0])[None], 'dJ/dx', rtol=1e-9,
                 atol=1e-12, why='dJ/dx = W delta')
