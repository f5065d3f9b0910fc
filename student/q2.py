"""Q2 (the course's run_q2.py): train a 2-25-4 network on four 2-D Gaussian classes, then check its
gradients numerically. ``toy_data``, ``init_params`` and ``relative_error`` are given.

Run ``python q2.py`` to train and print progress; ``pytest -m q2_4_1`` and ``pytest -m q2_5_1`` check it."""
import copy

import numpy as np
from nn import *


def toy_data(seed=0):
    """Given: the course's 40 points in 4 classes (10 each) and their one-hot labels."""
    rng = np.random.RandomState(seed)
    groups = [rng.multivariate_normal([3.6, 40], [[0.05, 0], [0, 10]], 10),
              rng.multivariate_normal([3.9, 10], [[0.01, 0], [0, 5]], 10),
              rng.multivariate_normal([3.4, 30], [[0.25, 0], [0, 5]], 10),
              rng.multivariate_normal([2.0, 10], [[0.5, 0], [0, 10]], 10)]
    x = np.vstack(groups)
    y = np.zeros((40, 4))
    y[np.arange(40), np.repeat(np.arange(4), 10)] = 1
    return x, y


def init_params(in_size=2, hidden_size=25, out_size=4):
    """Given: the course's two layers, 'layer1' (sigmoid) and 'output' (softmax)."""
    params = {}
    initialize_weights(in_size, hidden_size, params, 'layer1')
    initialize_weights(hidden_size, out_size, params, 'output')
    return params


# Q 2.4.1
def forward_backward(x, y, params):
    """Forward through 'layer1' (sigmoid) and 'output' (softmax), compute the loss, then backward
    (the gradient at the softmax input is probs - y). Leave params['grad_W*'] and params['grad_b*']
    set and return (total loss, accuracy)."""
    raise NotImplementedError("forward_backward (Q2.4.1): forward, loss, and backward through both layers")


# Q 2.4.1
def sgd_step(params, learning_rate):
    """For every parameter with a gradient in params: W <- W - learning_rate * grad_W."""
    raise NotImplementedError("sgd_step (Q2.4.1): subtract learning_rate * params['grad_'+k] from params[k]")


# Q 2.4.1
def train(x, y, params, batch_size=5, learning_rate=1e-3, max_iters=500):
    """For max_iters iterations, go over random batches (forward_backward, then sgd_step on each).
    Return one (total loss, mean batch accuracy) pair per iteration, the loss summed over batches.
    With the defaults the course expects loss < 35 and accuracy > 75% by the end."""
    raise NotImplementedError("train (Q2.4.1): the training loop; return [(loss, acc)] per iteration")


# Q 2.5.1
def numerical_gradients(x, y, params, eps=1e-6):
    """For every entry of every 'W*' and 'b*' array in params, estimate d(total loss)/d(entry) by
    central differences: (loss(w + eps) - loss(w - eps)) / (2 eps). Return
    {'grad_W<name>': ..., 'grad_b<name>': ...} and leave params exactly as it was."""
    raise NotImplementedError("numerical_gradients (Q2.5.1): central differences, restoring each entry")


def relative_error(analytic, numerical):
    """Given: the course's check, summed over entries: |a - n| / max(|a|, |n|)."""
    a, n = np.asarray(analytic, float), np.asarray(numerical, float)
    return float(np.sum(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-12)))


if __name__ == '__main__':
    np.random.seed(0)
    x, y = toy_data()
    params = init_params()
    batches = get_random_batches(x, y, 5)
    print('batch sizes:', [b[0].shape[0] for b in batches])
    history = train(x, y, params)
    for itr in range(0, len(history), 100):
        print("itr: {:02d} \t loss: {:.2f} \t acc : {:.2f}".format(itr, *history[itr]))
    loss, acc = forward_backward(x, y, params)
    analytic = {k: v.copy() for k, v in params.items() if k.startswith('grad_')}
    numerical = numerical_gradients(x, y, copy.deepcopy(params))
    total = 0.0
    for k in sorted(analytic):
        err = relative_error(analytic[k], numerical[k])
        print('{} {:.2e}'.format(k, err))
        total += err
    print('total {:.2e}  (should be less than 1e-4)'.format(total))
