"""Q2 of the course (run_q2.py) as graded functions: a 2-25-4 network on four 2-D Gaussian classes.

Run ``python q2.py`` to train it and print the course's progress lines and the gradient check."""
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
    """Forward through 'layer1' (sigmoid) and 'output' (softmax), then backward.

    Leaves params['grad_W*'] and params['grad_b*'] set and returns (total loss, accuracy)."""
    h1 = forward(x, params, 'layer1', sigmoid)
    probs = forward(h1, params, 'output', softmax)
    loss, acc = compute_loss_and_acc(y, probs)
    # d(loss)/d(pre-softmax) is probs - y; the output layer's deriv is then the identity.
    delta = backwards(probs - y, params, 'output', linear_deriv)
    backwards(delta, params, 'layer1', sigmoid_deriv)
    return loss, acc


# Q 2.4.1
def sgd_step(params, learning_rate):
    """Plain SGD on every parameter that has a gradient: W <- W - lr * grad_W (in place in params)."""
    for key in [k for k in params if k.startswith('grad_')]:
        name = key[len('grad_'):]
        params[name] = params[name] - learning_rate * params[key]


# Q 2.4.1
def train(x, y, params, batch_size=5, learning_rate=1e-3, max_iters=500):
    """The course's loop: each iteration is one pass over fresh random batches. Returns one
    (total loss, mean batch accuracy) pair per iteration, the loss summed over all batches."""
    history = []
    for itr in range(max_iters):
        batches = get_random_batches(x, y, batch_size)
        total_loss, total_acc = 0.0, 0.0
        for xb, yb in batches:
            loss, acc = forward_backward(xb, yb, params)
            sgd_step(params, learning_rate)
            total_loss += loss
            total_acc += acc
        history.append((total_loss, total_acc / len(batches)))
    return history


# Q 2.5.1
def numerical_gradients(x, y, params, eps=1e-6):
    """Central differences of the total loss for every entry of every 'W*' and 'b*' parameter.

    Returns {'grad_W<name>': ..., 'grad_b<name>': ...}; params comes back exactly as it went in."""
    grads = {}
    for key in [k for k in params if k[:1] in ('W', 'b')]:
        value = params[key]
        grad = np.zeros_like(value, dtype=float)
        for idx in np.ndindex(value.shape):
            original = value[idx]
            value[idx] = original + eps
            plus, _ = forward_backward(x, y, params)
            value[idx] = original - eps
            minus, _ = forward_backward(x, y, params)
            value[idx] = original
            grad[idx] = (plus - minus) / (2 * eps)
        grads['grad_' + key] = grad
    for key in [k for k in params if k.startswith(('grad_', 'cache_'))]:
        del params[key]  # forward_backward left these behind; the caller's params had none of them
    return grads


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
