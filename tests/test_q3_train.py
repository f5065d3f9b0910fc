"""Q3.1.1 training the 1024-64-36 MLP on NIST36 with the course's settings (batch 32, lr 1e-2, 50
epochs). The grader measures validation and test accuracy itself, from the weights train_mlp returns,
with its own forward pass (in a student release, which has none, with the submission's own): numbers the
submission reports are never used.

The loop runs with the reference's nn.py pieces (see grader/rubric.py), so a bug in Q2 is charged only
once; a bug in the loop itself costs this question."""
import time

import pytest

from grader import checks, evaluate
from tests.shared_data import nist36_kind, nist36_split

# A training call may take minutes on a busy grading machine (one run: 7-20 s here when quiet).
pytestmark = [pytest.mark.question('3.1.1'), pytest.mark.slow, pytest.mark.limits(wall=600)]
COURSE = dict(hidden_size=64, batch_size=32, learning_rate=1e-2, max_iters=50)
CALL = 'train_mlp(train_x, train_y, valid_x, valid_y, hidden_size=64, batch_size=32, learning_rate=1e-2, max_iters=50)'
# Accuracy bars per kind of data in use (the stand-in or the course's real files); see the calibration
# note at the end of this module.
MIN_ACCURACY = {'generated': {'valid': 0.72, 'test': 0.72},
                'real': {'valid': 0.72, 'test': 0.72}}
SEED = 3


@pytest.fixture(scope='module')
def trained(impl):
    """One training run per grading session, shared by this module's tests."""
    (train_x, train_y), (valid_x, valid_y) = nist36_split('train'), nist36_split('valid')
    impl.seed(SEED)
    start = time.perf_counter()
    with impl.earlier_pieces('3.1.1'):
        out = impl.module('q3').train_mlp(train_x.copy(), train_y.copy(), valid_x.copy(), valid_y.copy(), **COURSE)
    seconds = time.perf_counter() - start
    checks.that(isinstance(out, (tuple, list)) and len(out) == 2, f'{CALL} should return (params, history)')
    return evaluate.weights(out[0], evaluate.MLP_SHAPES, f'the params returned by {CALL}'), out[1], seconds


def _check_accuracy(impl, params, split, measure):
    __tracebackhide__ = True
    bar = MIN_ACCURACY[nist36_kind()][split]
    acc = measure(f'{split}_accuracy', evaluate.mlp_accuracy(params, *nist36_split(split), impl))
    name = 'validation' if split == 'valid' else 'test'
    checks.that(acc >= bar, f'after {CALL} the {name} accuracy (computed by the grader from the returned '
                f'weights) is {acc:.1%}; it should be >= {bar:.0%}')


@pytest.mark.question('3.1.1', weight=2)
def test_train_mlp_validation_accuracy(impl, trained, measure):
    _check_accuracy(impl, trained[0], 'valid', measure)


def test_train_mlp_test_accuracy(impl, trained, measure):
    _check_accuracy(impl, trained[0], 'test', measure)


def test_train_mlp_history(trained, artifacts, measure):
    """One record per epoch, as the report's curves need (training and validation accuracy and loss)."""
    _, history, seconds = trained
    measure('training_seconds', seconds)
    checks.that(isinstance(history, (list, tuple)) and len(history) == 50,
                f'{CALL} should return a history with one entry per epoch (50); got '
                f'{len(history) if hasattr(history, "__len__") else type(history).__name__}')
    for key in ('train_acc', 'valid_acc', 'train_loss', 'valid_loss'):
        checks.that(isinstance(history[-1], dict) and key in history[-1],
                    f'each history entry from {CALL} should be a dict with {key!r}; the last is {history[-1]!r:.200}')
    first, last = (checks.scalar(history[i]['train_acc'], f"history[{i}]['train_acc']") for i in (0, -1))
    checks.that(last > first, f'{CALL}: the reported training accuracy did not rise ({first:.3f} in epoch 1, '
                f'{last:.3f} in epoch 50)')
    if artifacts.enabled:
        from tests.figures import curves_figure
        artifacts.save_figure('q3_curves', curves_figure(history, f'Q3 MLP, lr 1e-2 ({seconds:.0f} s)'),
                              'training and validation accuracy and loss per epoch, as train_mlp reported them')

# Calibration. Stand-in ('generated'): the reference train_mlp with the course's settings, trained on
# fixtures/data/nist36 with 12 seeds (3, 100-110), reached validation accuracy 75.4-80.3% (mean 78.5%,
# sd 1.6 points) and test accuracy 74.6-80.4% (mean 78.0%, sd 1.4). A bar of 72% on both lies more than
# 4 sd below the means (a reference run fails it with probability well under 1% under a normal model;
# none of the 12 came within 2.6 points of it), and a loop that never updates, climbs the gradient,
# stops after one epoch or diverges at 100x the learning rate falls far below it (grader/variants/q3.py).
# Real files ('real', not available here, so not measured): students reported 75.9-77.4% validation
# and 76.3-78.3% test with these settings (SPEC.md section 5); the same 72% keeps about the margin
# seen on the stand-in. One run took 62-126 s on this machine while it was shared by other jobs (load
# 9-18 on 2 cores, one BLAS thread); about 20 s when it was quiet (0.38 s per epoch).
