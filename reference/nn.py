"""Reference solution of the course's nn.py (Q2). The signatures and conventions are the course's:
real hand-ins must drop in unchanged (see SPEC.md section 1)."""
import numpy as np
from util import *


# Q 2.1.2
def initialize_weights(in_size, out_size, params, name=''):
    """Xavier/Glorot uniform: Var(W) = 2 / (in + out), i.e. bound sqrt(6 / (in + out)); zero 1-D bias."""
    bound = np.sqrt(6.0 / (in_size + out_size))
    params['W' + name] = np.random.uniform(-bound, bound, (in_size, out_size))
    params['b' + name] = np.zeros(out_size)


# Q 2.2.1
def sigmoid(x):
    # exp of a non-positive number never overflows: use exp(-|x|) on both sides.
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def forward(X, params, name='', activation=sigmoid):
    """One layer: pre_act = X W + b, post_act = activation(pre_act); caches (X, pre_act, post_act)."""
    W = params['W' + name]
    b = params['b' + name]
    pre_act = X @ W + b
    post_act = activation(pre_act)
    params['cache_' + name] = (X, pre_act, post_act)
    return post_act


# Q 2.2.2
def softmax(x):
    """Row-wise softmax; subtracting each row's max keeps exp() from overflowing."""
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


# Q 2.2.3
def compute_loss_and_acc(y, probs):
    """Total (summed) cross-entropy and the fraction of rows whose argmax matches the label."""
    loss = -np.sum(y * np.log(probs))
    acc = np.mean(np.argmax(y, axis=1) == np.argmax(probs, axis=1))
    return loss, acc


# given
def sigmoid_deriv(post_act):
    return post_act * (1.0 - post_act)


# Q 2.3.1
def backwards(delta, params, name='', activation_deriv=sigmoid_deriv):
    """delta is dLoss/d(post_act). Stores gradients summed over the batch; returns dLoss/dX."""
    W = params['W' + name]
    X, pre_act, post_act = params['cache_' + name]
    d_pre = delta * activation_deriv(post_act)
    params['grad_W' + name] = X.T @ d_pre
    params['grad_b' + name] = np.sum(d_pre, axis=0)
    return d_pre @ W.T


# Q 2.4.1
def get_random_batches(x, y, batch_size):
    """A random split into batches of batch_size (the last one may be smaller); x and y stay paired."""
    order = np.random.permutation(x.shape[0])
    return [(x[order[i:i + batch_size]], y[order[i:i + batch_size]])
            for i in range(0, x.shape[0], batch_size)]
