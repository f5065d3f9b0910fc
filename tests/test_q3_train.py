"""Q3.1.1 training the 1024-64-36 MLP on NIST36 with the course's settings (batch 32, lr 1e-2), for
fewer epochs than the course's 50: the grader trains to check that the loop is right, not to reproduce
the write-up's figures, and the bars are calibrated for the shorter run (GRADED; the note at the end).
The student's own run (q3.py's __main__) keeps the course's 50 epochs. The grader measures validation and
test accuracy itself, from the weights train_mlp returns, with its own forward pass (in a student release,
which has none, with the submission's own): numbers the submission reports are never used.

The loop runs with the reference's nn.py pieces (see grader/rubric.py), so a bug in Q2 is charged only
once; a bug in the loop itself costs this question."""
import time

import pytest

from grader import checks, evaluate
from tests.shared_data import nist36_kind, nist36_split

# One graded run: about 2 CPU seconds here (reference=, named in a timeout message); the wall limit keeps
# the allowance per epoch that the course's 50 epochs had under the former 600 s (12 s an epoch).
pytestmark = [pytest.mark.question('3.1.1'), pytest.mark.slow, pytest.mark.limits(wall=120, reference=2)]
COURSE = dict(hidden_size=64, batch_size=32, learning_rate=1e-2, max_iters=50)
GRADED = dict(COURSE, max_iters=10)   # what the grader calls: the course's settings, fewer epochs
EPOCHS = GRADED['max_iters']
CALL = ('train_mlp(train_x, train_y, valid_x, valid_y, hidden_size=64, batch_size=32, learning_rate=1e-2, '
        f'max_iters={EPOCHS})')
# Accuracy bars per kind of data in use (the stand-in or the course's real files); see the calibration
# note at the end of this module.
MIN_ACCURACY = {'generated': {'valid': 0.60, 'test': 0.60},
                'real': {'valid': 0.60, 'test': 0.60}}
SEED = 3


@pytest.fixture(scope='module')
def trained(impl):
    """One training run per grading session, shared by this module's tests."""
    (train_x, train_y), (valid_x, valid_y) = nist36_split('train'), nist36_split('valid')
    impl.seed(SEED)
    start = time.perf_counter()
    with impl.earlier_pieces('3.1.1'):
        out = impl.module('q3').train_mlp(train_x.copy(), train_y.copy(), valid_x.copy(), valid_y.copy(), **GRADED)
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
    checks.that(isinstance(history, (list, tuple)) and len(history) == EPOCHS,
                f'{CALL} should return a history with one entry per epoch ({EPOCHS}); got '
                f'{len(history) if hasattr(history, "__len__") else type(history).__name__}')
    for key in ('train_acc', 'valid_acc', 'train_loss', 'valid_loss'):
        checks.that(isinstance(history[-1], dict) and key in history[-1],
                    f'each history entry from {CALL} should be a dict with {key!r}; the last is {history[-1]!r:.200}')
    first, last = (checks.scalar(history[i]['train_acc'], f"history[{i}]['train_acc']") for i in (0, -1))
    checks.that(last > first, f'{CALL}: the reported training accuracy did not rise ({first:.3f} in epoch 1, '
                f'{last:.3f} in epoch {EPOCHS})')
    if artifacts.enabled:
        from tests.figures import curves_figure
        title = f'Q3 MLP, lr 1e-2, {EPOCHS} epochs ({seconds:.0f} s)'
        artifacts.save_figure('q3_curves', curves_figure(history, title),
                              'training and validation accuracy and loss per epoch, as train_mlp reported them')

# Calibration (benchmarks/calibrate.py q3: one process per implementation, one BLAS thread, as grading runs).
# Stand-in ('generated', fixtures/data/nist36, nist36.npz sha256 c9a8a19710b2, glyph recipe 3): the reference
# train_mlp with GRADED (10 epochs), 11 seeds (3, 1000-1009), reached validation accuracy 65.9-71.2% (mean
# 68.7%, sd 1.6 points) and test accuracy 66.8-71.8% (mean 69.6%, sd 1.8); this test's seed reads 70.8% and
# 71.4%. The bar of 60% on both lies 5.3 sd below the means; the worst run is 5.9 points above it. The broken
# loops of grader/variants/q3.py, trained once each with GRADED: never updates, gradient ascent, 100x the
# learning rate and the output delta's sign flipped all stay at chance (2.8%); one epoch only reaches 35.1%
# validation and 35.9% test (and its history has one entry, not 10). The course template's loop, which draws
# the batches once before the epochs (the correct alternative q3-batches-once), reaches 64.2-70.1% validation
# (mean 68.0%, 4.9 sd above the bar) over the same 11 seeds. One run costs 1.8-2.1 CPU seconds (mean 1.9).
# Issue 12 cut the run from 15 epochs (70.0-74.4% validation, mean 72.3%, sd 1.3) to 10: the variants stay as
# far below. The course's 50 epochs (seeds 4-7) reach 77.2-78.2% validation. Real files ('real', not available
# here, so not measured): students reported 75.9-77.4% validation and 76.3-78.3% test after the course's 50
# epochs (SPEC.md section 5); on the stand-in the 10-epoch run loses about 9 points against 50 epochs, which
# leaves the same 60% about as far under the real figures as under the stand-in's. Re-derive both with
# `benchmarks/calibrate.py --nist36` whenever the NIST36 data changes.
