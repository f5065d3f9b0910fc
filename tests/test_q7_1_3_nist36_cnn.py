"""Q7.1.3 a CNN on NIST36 that beats the MLP of Q7.1.1.

The grader trains build_nist36_cnn() with the reference train_model on all 10,800 training crops
(reshaped to (N, 1, 32, 32), still transposed as the course stores them) and measures accuracy itself on
the validation set. "Beats the MLP" is built into the bar: it lies above every held-out accuracy the
reference MLP reached in calibration (test_q7_1_1_mlp.py)."""
import pytest

from grader import checks
from tests.q7_support import build, check_cnn, data_kind, held_out_accuracy, q7, train  # noqa: F401
from tests.test_q7_1_1_mlp import MLP_BEST

# Training calls take 1-12 s here when quiet; a busy grading machine may be many times slower.
pytestmark = [pytest.mark.question('7.1.3'), pytest.mark.limits(wall=300)]

# Held-out accuracy after TASKS['nist36_cnn'] (4 epochs, Adam lr 2e-3, batch 64). Generated stand-in (glyph
# recipe 3): the reference CNN over 11 seeds (benchmarks/calibrate.py nist36_cnn --seeds 11) reached
# 82.2-87.9% (mean 86.3%, sd 1.75 points; 9.3-9.8 CPU seconds per run on a quiet machine). The lowest is
# this test's own seed (82.2%); the ten others gave 84.2-87.9%. 78% lies 4.8 sd below the mean and above the
# best reference MLP (75.25%). Shorter runs were tried for speed (issue 12), 11 seeds each, and rejected: 3
# epochs (this test's seed reads 77.9%, under the bar); batch 128 (74.8-86.5%, sd 3.2); 3 epochs at batch 128
# and lr 3e-3 (78.8-86.5%, sd 2.7); 2 epochs at batch 32 (77.4-84.3%, sd 2.2). Each leaves a reference run
# under the bar or at it, and a bar low enough to keep the margin would not lie above the MLP. Real NIST36:
# the course reports 84.5-90% (SPEC.md section 5): 0.82, not measured here.
MIN_ACCURACY = {'generated': 0.78, 'real': 0.82}


def test_nist36_cnn_architecture(q7):
    check_cnn(q7, 'nist36_cnn', (1, 32, 32))


@pytest.mark.slow
@pytest.mark.question('7.1.3', weight=2)
def test_nist36_cnn_beats_the_mlp(q7, data_kind, measure):
    kind = data_kind('NIST36')
    bar = MIN_ACCURACY[kind]
    assert bar > MLP_BEST[kind], 'calibration: the CNN bar must lie above the MLP'
    model = build(q7, 'nist36_cnn')
    _, call = train(q7, model, 'nist36_cnn')
    acc = measure('accuracy', held_out_accuracy(model, 'nist36_cnn')[0])
    checks.that(acc >= bar, f'after {call} the CNN classifies {acc:.1%} of the NIST36 validation set '
                f'correctly (measured by the grader); it should reach {bar:.0%}, above the MLP '
                f'(best reference MLP run: {MLP_BEST[kind]:.1%})')
