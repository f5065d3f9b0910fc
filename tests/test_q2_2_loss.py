"""Q2.2.3 compute_loss_and_acc: the TOTAL cross-entropy and accuracy as a fraction."""
import numpy as np
import pytest
from hypothesis import given

from grader import checks
from tests.cases import fixture_params
from tests.strategies import one_hot_and_probs

pytestmark = pytest.mark.question('2.2.3')

# Students often write log(probs + 1e-12) to avoid log(0); that shifts each example's term by at most
# 1e-12 / p, which is allowed, and nothing more: the absolute tolerance is that shift plus a few
# rounding steps of p (-log p is only known to ~eps / p), with rtol 1e-9 on top. A pure rtol fails it
# where the loss is tiny (p near 1: -log p ~ 1e-10); a loose rtol would hide real slips.
LOG_EPS = 1e-12


def loss_tolerance(y, probs):
    return float(np.sum(y * (LOG_EPS + 4 * np.finfo(float).eps) / probs))


def _loss_and_acc(impl, y, probs):
    __tracebackhide__ = True
    out = impl.module('nn').compute_loss_and_acc(y.copy(), probs.copy())
    call = f'compute_loss_and_acc(y {y.shape}, probs {probs.shape})'
    checks.that(isinstance(out, (tuple, list)) and len(out) == 2,
                f'{call} should return the pair (loss, acc), but returned {type(out).__name__}')
    return checks.scalar(out[0], f'the loss from {call}'), checks.scalar(out[1], f'the accuracy from {call}'), call


@given(data=one_hot_and_probs())
def test_compute_loss_is_summed_cross_entropy(impl, data):
    y, probs = data
    loss, _, call = _loss_and_acc(impl, y, probs)
    checks.close(loss, -np.sum(y * np.log(probs)), f'the loss from {call}', rtol=1e-9,
                 atol=loss_tolerance(y, probs),
                 why='the loss is the total -sum(y log p) over all examples, not the mean')


@given(data=one_hot_and_probs())
def test_compute_loss_accuracy_is_fraction(impl, data):
    y, probs = data
    _, acc, call = _loss_and_acc(impl, y, probs)
    checks.close(acc, np.mean(y.argmax(1) == probs.argmax(1)), f'the accuracy from {call}', atol=1e-12,
                 why='the fraction (0..1) of rows whose argmax matches the label, not a count')


@pytest.mark.parametrize('case', fixture_params('q2/loss', lambda c: 'x'.join(map(str, c['y'].shape))))
def test_compute_loss_fixture(impl, case):
    loss, acc, call = _loss_and_acc(impl, case['y'], case['probs'])
    checks.close(loss, case['loss'], f'the loss from {call}', rtol=1e-9,
                 atol=loss_tolerance(case['y'], case['probs']))
    checks.close(acc, case['acc'], f'the accuracy from {call}', atol=1e-12)
