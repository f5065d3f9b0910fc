"""Q2.2.2 softmax: row-wise, numerically stable.

Every property test first requires the contract: each row is a probability distribution that follows
its logits (a larger logit never gets less probability, and a row's largest logit gets more than its
smallest). A constant function (zeros, or the uniform 1/C) satisfies "softmax(x + c) == softmax(x)" and
the uniform one even sums to 1, but it is no softmax: it earns nothing."""
import numpy as np
import pytest
from hypothesis import example, given, strategies as st
from scipy.special import softmax as exact_softmax

from grader import checks
from tests.cases import fixture_params
from tests.strategies import matrices, seeds

pytestmark = pytest.mark.question('2.2.2')

# Rows that break common slips: a huge row next to a small one (global-max shift), non-square shapes
# (wrong axis, missing keepdims), a single row and a single column.
STUDENT_BUGS = [np.array([[1000.0, 1000.0], [0.0, 0.0]]), np.array([[1.0, 2.0, 3.0], [1.0, 5.0, 9.0]]),
                np.array([[0.0, 1e3, -1e3, 5.0]]), np.array([[3.0], [-2.0], [800.0]])]


def _softmax(impl, x):
    __tracebackhide__ = True
    return checks.array(impl.module('nn').softmax(x.copy()), f'softmax(x) for x of shape {x.shape}', shape=x.shape)


def _contract(impl, x):
    """softmax(x), after checking that its rows are distributions that follow the logits."""
    __tracebackhide__ = True
    p = _softmax(impl, x)
    checks.that(np.all((p >= 0) & (p <= 1)), f'softmax(x) has values outside [0, 1]: {p.min():.4g} .. {p.max():.4g}')
    checks.close(p.sum(axis=1), np.ones(x.shape[0]), 'softmax(x).sum(axis=1)', atol=1e-9,
                 why='each row must sum to 1')
    for i, (row, probs) in enumerate(zip(x, p)):
        order = np.argsort(row, kind='stable')
        drops = np.diff(probs[order]) < -1e-12
        checks.that(not drops.any(), f'softmax(x) row {i} gives less probability to a larger logit: x[{i}] = '
                    f'{np.round(row, 4)} gave {np.round(probs, 4)}; a larger logit must get at least as much')
        if row.max() - row.min() > 1e-9:
            checks.that(probs[order[-1]] > probs[order[0]],
                        f'softmax(x) row {i} gives its largest logit ({row.max():.4g}) no more probability than its '
                        f'smallest ({row.min():.4g}): both get {probs[order[0]]:.4g}; softmax must follow the logits')
    return p


@given(x=matrices())
@example(x=STUDENT_BUGS[0]).via('global-max shift')
@example(x=STUDENT_BUGS[1]).via('non-square')
@example(x=STUDENT_BUGS[2]).via('one row')
@example(x=STUDENT_BUGS[3]).via('one column')
def test_softmax_rows_are_distributions(impl, x):
    """Each row is a probability distribution that follows its logits."""
    _contract(impl, x)


@given(x=matrices(), shift_seed=seeds, shift_scale=st.sampled_from([1.0, 100.0, 1000.0]))
@example(x=STUDENT_BUGS[0], shift_seed=0, shift_scale=1000.0).via('global-max shift')
def test_softmax_shift_invariance(impl, x, shift_seed, shift_scale):
    """Adding any constant to a row leaves that row's softmax unchanged."""
    c = np.random.default_rng(shift_seed).uniform(-shift_scale, shift_scale, size=(x.shape[0], 1))
    p = _contract(impl, x)
    checks.close(_softmax(impl, x + c), p, 'softmax(x + c)', atol=1e-9,
                 why=f'adding a constant to each row must not change it; c = {np.round(c.ravel()[:4], 2)}...')


@given(x=matrices())
@example(x=STUDENT_BUGS[1]).via('non-square')
@example(x=STUDENT_BUGS[3]).via('one column')
def test_softmax_values(impl, x):
    checks.close(_softmax(impl, x), exact_softmax(x, axis=1), 'softmax(x)', rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize('case', fixture_params('q2/softmax', lambda c: 'x'.join(map(str, c['x'].shape))))
def test_softmax_fixture(impl, case):
    checks.close(_softmax(impl, case['x']), case['probs'], f"softmax(x {case['x'].shape})", rtol=1e-9, atol=1e-15)
