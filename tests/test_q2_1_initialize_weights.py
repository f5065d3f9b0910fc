"""Q2.1.2 initialize_weights: Xavier/Glorot uniform weights, zero 1-D bias.

The shape test also requires real draws (a constant W, such as all zeros, has the right shape and lies
within the bound, yet is no initialisation: it earns nothing)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from grader import checks
from tests.strategies import names

pytestmark = pytest.mark.question('2.1.2')

# False-alarm rate of each statistical test below, for a correct implementation: 1e-9.
ALPHA = 1e-9


@given(in_size=st.integers(1, 50), out_size=st.integers(1, 50), name=names)
def test_initialize_weights_shapes(impl, in_size, out_size, name):
    params = {}
    result = impl.module('nn').initialize_weights(in_size, out_size, params, name)
    call = f'initialize_weights({in_size}, {out_size}, params, {name!r})'
    checks.that(result is None, f'{call} should return nothing (it fills params), but returned {result!r}')
    checks.that('W' + name in params and 'b' + name in params,
                f"{call} should set params[{'W' + name!r}] and params[{'b' + name!r}]; params has {sorted(params)}")
    W = checks.array(params['W' + name], f"params[{'W' + name!r}] after {call}", shape=(in_size, out_size))
    b = checks.array(params['b' + name], f"params[{'b' + name!r}] after {call}", shape=(out_size,))
    checks.that(np.all(b == 0), f"params[{'b' + name!r}] after {call} should be all zeros, but holds {b[b != 0][:3]}")
    bound = np.sqrt(6 / (in_size + out_size))
    checks.that(np.all(np.abs(W) <= bound), f'{call}: W should lie within +-sqrt(6/(in+out)) = +-{bound:.4g}, '
                f'but max |W| is {np.abs(W).max():.4g}')
    checks.that(W.size == 1 or np.ptp(W) > 0, f'{call}: every entry of W is {W.flat[0]:.4g}; each weight should be '
                f'its own random draw from U(-{bound:.4g}, {bound:.4g})')


@pytest.mark.parametrize('in_size,out_size', [(400, 100), (64, 1024), (300, 300)])
def test_initialize_weights_distribution(impl, in_size, out_size):
    """Uniform on [-sqrt(6/(in+out)), +sqrt(6/(in+out))]: a Kolmogorov-Smirnov test against that
    uniform and a z-test of the variance 2/(in+out), each with false-alarm rate 1e-9."""
    # Imported here, not with the file: scipy.stats takes about a second to import, and every pytest
    # run that collects this file (a student's `pytest -m q2_2`, each graded run) would pay it.
    from scipy import stats
    params = {}
    impl.module('nn').initialize_weights(in_size, out_size, params, 'layer')
    W = checks.array(params['Wlayer'], f'initialize_weights({in_size}, {out_size}, ...)', shape=(in_size, out_size))
    bound = np.sqrt(6 / (in_size + out_size))
    w = W.ravel()
    variance, target = w.var(), 2 / (in_size + out_size)
    # Var of the sample variance of U(-a, a): (E[w^4] - E[w^2]^2) / n = (a^4/5 - a^4/9) / n
    se = np.sqrt((bound ** 4 / 5 - bound ** 4 / 9) / w.size)
    z_limit = stats.norm.isf(ALPHA / 2)
    checks.that(abs(variance - target) <= z_limit * se,
                f'initialize_weights({in_size}, {out_size}): the variance of W is {variance:.4g}, but Xavier '
                f'needs 2/(in+out) = {target:.4g} (allowed +-{z_limit * se:.2g}; false-alarm rate {ALPHA:g})')
    ks = stats.kstest(w, stats.uniform(loc=-bound, scale=2 * bound).cdf)
    checks.that(ks.pvalue >= ALPHA,
                f'initialize_weights({in_size}, {out_size}): W does not look uniform on +-{bound:.4g} '
                f'(Kolmogorov-Smirnov D = {ks.statistic:.3g}, p = {ks.pvalue:.2g} < {ALPHA:g}); '
                f'draw with np.random.uniform(-bound, bound, shape)')


def test_initialize_weights_fresh_draws(impl):
    """Not constant, and each call draws new weights."""
    first, second = {}, {}
    impl.module('nn').initialize_weights(30, 20, first, 'a')
    impl.module('nn').initialize_weights(30, 20, second, 'a')
    W1 = checks.array(first['Wa'], 'initialize_weights(30, 20, ...)["Wa"]', shape=(30, 20))
    W2 = checks.array(second['Wa'], 'a second initialize_weights(30, 20, ...)["Wa"]', shape=(30, 20))
    checks.that(np.unique(W1).size > 0.9 * W1.size,
                f'initialize_weights(30, 20) gave only {np.unique(W1).size} distinct values in 600 weights: '
                'every weight should be an independent random draw')
    checks.that(not np.array_equal(W1, W2), 'two calls of initialize_weights(30, 20) gave the same W: each '
                'call should draw new weights (do not reseed inside the function)')
