"""Q7.1.2 a CNN on MNIST, read through torchvision.datasets.MNIST from a local root.

The grader trains build_mnist_cnn() with the reference train_model (the loop is graded in 7.1.1) on
300 digits per class and measures accuracy itself on 100 test digits per class."""
import pytest

from grader import checks
from tests.q7_support import build, check_cnn, data_kind, held_out_accuracy, q7, train  # noqa: F401

# Training calls take 1-12 s here when quiet; a busy grading machine may be many times slower.
pytestmark = [pytest.mark.question('7.1.2'), pytest.mark.limits(wall=300)]

# Held-out accuracy after TASKS['mnist_cnn'] (3 epochs, Adam lr 2e-3, batch 32, 3,000 digits).
# Generated stand-in: the reference CNN over 11 seeds, this test's own first (benchmarks/calibrate.py
# mnist_cnn --seeds 11), reached 91.1-95.3% (1 s per run); its own seed reads 94.3%. 85% lies 6.4 sd below
# the mean and leaves room for other small CNNs. Real MNIST: the course reports 97.1% after 5 full epochs
# (SPEC.md section 5); with 5% of the data and 3 epochs a small CNN gets about 94-95%: 0.90, not measured here.
MIN_ACCURACY = {'generated': 0.85, 'real': 0.90}


def test_mnist_cnn_architecture(q7):
    check_cnn(q7, 'mnist_cnn', (1, 28, 28))


@pytest.mark.slow
@pytest.mark.question('7.1.2', weight=2)
def test_mnist_cnn_trains_to_threshold(q7, data_kind, measure):
    model = build(q7, 'mnist_cnn')
    history, call = train(q7, model, 'mnist_cnn')
    acc = measure('accuracy', held_out_accuracy(model, 'mnist_cnn')[0])
    bar = MIN_ACCURACY[data_kind('MNIST')]
    checks.that(acc >= bar, f'after {call} the CNN classifies {acc:.1%} of 1,000 held-out MNIST digits '
                f'correctly (measured by the grader); it should reach {bar:.0%}')
