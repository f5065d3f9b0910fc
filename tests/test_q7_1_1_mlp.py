"""Q7.1.1 the Q3 network in PyTorch (build_mlp) and the training loop every Q7 model uses (train_model).

The grader trains the model with its own settings and measures accuracy itself on NIST36's validation
set; the numbers train_model reports are only checked for form."""
import numpy as np
import pytest

from grader import checks, evaluate, torch_data, torch_eval
from tests.q7_support import build, changed, check_scores, data_kind, held_out_accuracy, q7, train  # noqa: F401

# Training calls take 1-12 s here when quiet; a busy grading machine may be many times slower.
pytestmark = [pytest.mark.question('7.1.1'), pytest.mark.limits(wall=300)]

# Held-out (validation) accuracy after train_model with TASKS['mlp'] (15 epochs, Adam lr 1e-3, batch 64,
# all 10,800 training examples; the grader trains to check the loop, not for the write-up's figure).
# Generated stand-in (glyph recipe 3): the reference over 10 seeds (1000-1009, benchmarks/calibrate.py mlp,
# one BLAS thread) reached 69.1-71.1% (mean 70.4%, sd 0.62 points; 4.2-6.8 CPU seconds per run, against
# 74.0-75.25% after 30 epochs); this test's own seed, calibrated first since, 69.6% (over the 11 seeds, 67% lies
# 5.3 sd below the mean). 67% lies 5.5 sd below the mean and 2.1 points under the worst run (the same
# margin as before the stand-in changed, when 68% held 70.2-72.8%), while a model or loop of
# grader/variants/q7.py trained the same way falls below it: ReLU instead of the sigmoid 60.9%, a softmax in
# the model or before the loss 44.4%, a loop that never steps 2.8% or never zeroes the gradients 4.5%, one
# epoch 29.8% (and a history of one entry); 26 outputs crash on the labels. Real NIST36 (SPEC.md section 5:
# 77-79.7% reported for this net after the course's training): 0.66, about the stand-in's loss from 30 to
# 15 epochs below the former 0.72, not measured here (no real files here).
MIN_ACCURACY = {'generated': 0.67, 'real': 0.66}
# The best held-out accuracy the reference MLP reached with 30 epochs (generated: 75.25% over 10 seeds,
# rounded up; real: the top of SPEC.md's 77-79.7%): the Q7.1.3 CNN bar lies above it, so the CNN must
# beat the MLP trained twice as long as the grader trains it.
MLP_BEST = {'generated': 0.76, 'real': 0.797}
# The last epoch's reported mean loss against the grader's own cross-entropy of the trained model on the
# training set: the reference's differ by 2-6% (the epoch mean trails the end of the epoch); a softmax
# before nn.CrossEntropyLoss reports at least ln(1 + 35/e) = 2.63 whatever the model does.
LOSS_AGREEMENT = 0.25


def _blocks(params):
    """The two weight matrices and biases of a 1024-64-36 net, found by shape (any layer names)."""
    by_shape = {v.shape: (n, v) for n, (_, v) in params.items()}
    want = {'W1': (64, 1024), 'b1': (64,), 'W2': (36, 64), 'b2': (36,)}
    shapes = sorted(v.shape for _, v in params.values())
    checks.that(len(params) == 4 and all(s in by_shape for s in want.values()),
                f'build_mlp() has parameters of shapes {shapes}; the Q3 net 1024 -> 64 -> 36 has exactly '
                f'{sorted(want.values())} (two nn.Linear layers)')
    return {k: by_shape[s][1].astype(float) for k, s in want.items()}


def test_mlp_architecture(impl, q7):
    """The outputs equal the grader's own sigmoid(x W1' + b1) W2' + b2 computed from the model's
    parameters: two linear layers, a sigmoid between, raw scores out. (In a student release, which has
    no forward pass of the grader's, the submission's own nn.forward computes it.)"""
    model = build(q7, 'mlp')
    p = _blocks(torch_eval.parameters(model))
    x = np.random.RandomState(0).rand(20, 1024).astype(np.float32)
    scores = torch_eval.logits(model, x)
    check_scores(scores, 20, 36, 'build_mlp()(x (20, 1024))')
    layers = {'Wlayer1': p['W1'].T, 'blayer1': p['b1'], 'Woutput': p['W2'].T, 'boutput': p['b2']}
    expected = evaluate.mlp_scores(layers, x.astype(float), impl)
    checks.close(scores, expected, 'build_mlp()(x (20, 1024))', rtol=1e-4, atol=1e-4,
                 why='expected sigmoid(x W1^T + b1) W2^T + b2: a sigmoid hidden layer and raw scores out')


@pytest.mark.slow
@pytest.mark.question('7.1.1', weight=2)
def test_mlp_trains_to_threshold(q7, data_kind, measure):
    model = build(q7, 'mlp')
    before = torch_eval.parameters(model)
    history, call = train(q7, model, 'mlp')
    moved = changed(before, torch_eval.parameters(model))
    checks.that(len(moved) == len(before), f'{call} left parameters {sorted(set(before) - set(moved))} '
                'unchanged: every parameter should be updated (optimizer.step() after loss.backward())')
    checks.that(history[-1, 0] < history[0, 0], f'{call}: the mean loss went from {history[0, 0]:.3f} in '
                f'the first epoch to {history[-1, 0]:.3f} in the last; it should fall')
    (x, y), _ = torch_data.TASKS['mlp'].data()
    measured = measure('train_cross_entropy', torch_eval.cross_entropy(torch_eval.logits(model, x), y))
    reported = history[-1, 0]
    checks.that(abs(reported - measured) <= LOSS_AGREEMENT * measured + 0.05,
                f'{call} reported a mean loss of {reported:.3f} in its last epoch, but the cross-entropy of the '
                f'trained model\'s raw scores on the training set is {measured:.3f} (computed by the grader): the '
                f'loss should be nn.CrossEntropyLoss on the raw scores (a softmax before it is applied twice)')
    acc = measure('accuracy', held_out_accuracy(model, 'mlp')[0])
    bar = MIN_ACCURACY[data_kind('NIST36')]
    checks.that(acc >= bar, f'after {call} the model classifies {acc:.1%} of the NIST36 validation set '
                f'correctly (measured by the grader); it should reach {bar:.0%}')
