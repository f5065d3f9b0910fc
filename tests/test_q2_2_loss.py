"""Q2.2.3 compute_loss_and_acc: the TOTAL cross-entropy and accuracy as a fraction.

The loss and the accuracy are separate things a student can get right: each test judges one of them, so
a loss left as a per-example vector costs the loss tests and not the accuracy ones."""
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
    """The pair compute_loss_and_acc returns (unchecked) and the call, as a message shows it."""
    __tracebackhide__ = True
    out = impl.module('nn').compute_loss_and_acc(y.copy(), probs.copy())
    call = f'compute_loss_and_acc(y {y.shape}, probs {probs.shape})'
    checks.that(isinstance(out, (tuple, list)) and len(out) == 2,
                f'{call} should return the pair (loss, acc), but returned {type(out).__name__}')
    return out, call


def _check_loss(impl, y, probs, expected):
    __tracebackhide__ = True
    out, call = _loss_and_acc(impl, y, probs)
    loss = out[0]
    if isinstance(loss, np.ndarray) and loss.size == y.shape[0] > 1:
        checks.fail(f'the loss from {call} is an array of shape {loss.shape}, one value per example; it should be '
                    f'one number, their total -sum(y log p)')
    loss = checks.scalar(loss, f'the loss from {call}')
    checks.close(loss, expected, f'the loss from {call}', rtol=1e-9, atol=loss_tolerance(y, probs),
                 why='the loss is the total -sum(y log p) over all examples, not the mean')


def _check_accuracy(impl, y, probs, expected):
    __tracebackhide__ = True
    out, call = _loss_and_acc(impl, y, probs)
    checks.close(checks.scalar(out[1], f'the accuracy from {call}'), expected, f'the accuracy from {call}',
                 atol=1e-12, why='the fraction (0..1) of rows whose argmax matches the label, not a count')


@given(data=one_hot_and_probs())
def test_compute_loss_is_summed_cross_entropy(impl, data):
    y, probs = data
    _check_loss(impl, y, probs, -np.sum(y * np.log(probs)))


@given(data=one_hot_and_probs())
def test_compute_loss_accuracy_is_fraction(impl, data):
    y, probs = data
    _check_accuracy(impl, y, probs, np.mean(y.argmax(1) == probs.argmax(1)))


@pytest.mark.parametrize('case', fixture_params('q2/loss', lambda c: 'x'.join(map(str, c['y'].shape))))
def test_compute_loss_fixture(impl, case):
    _check_loss(impl, case['y'], case['probs'], case['loss'])


@pytest.mark.parametrize('case', fixture_params('q2/loss', lambda c: 'x'.join(map(str, c['y'].shape))))
def test_compute_accuracy_fixture(impl, case):
    _check_accuracy(impl, case['y'], case['probs'], case['acc'])
