"""Q2: a small neural-network toolkit in NumPy. Replace each ``raise NotImplementedError`` with your code.

Run ``pytest -m q2`` to check your work; ``pytest -m q2_2_2`` checks one question (here 2.2.2)."""
import numpy as np
from util import *


# Q 2.1.2
def initialize_weights(in_size, out_size, params, name=''):
    """Set params['W' + name], shape (in_size, out_size), drawn uniformly with Var = 2 / (in + out)
    (Xavier/Glorot), and params['b' + name], a 1-D zero vector of length out_size. Return nothing."""
    raise NotImplementedError("initialize_weights (Q2.1.2): set params['W'+name] (Xavier uniform) and "
                              "params['b'+name] (zeros)")


# Q 2.2.1
def sigmoid(x):
    """Elementwise logistic function 1 / (1 + exp(-x)); must not overflow into NaN for |x| up to 1000."""
    raise NotImplementedError("sigmoid (Q2.2.1): return 1 / (1 + exp(-x)) elementwise, stable for large |x|")


# Q 2.2.1
def forward(X, params, name='', activation=sigmoid):
    """X is [examples x D]. Compute pre_act = X @ W + b and post_act = activation(pre_act), store
    params['cache_' + name] = (X, pre_act, post_act) and return post_act."""
    raise NotImplementedError("forward (Q2.2.1): compute activation(X @ W + b) and cache "
                              "(X, pre_act, post_act) in params['cache_'+name]")


# Q 2.2.2
def softmax(x):
    """Row-wise softmax of [examples x classes]; subtract each row's max first for stability."""
    raise NotImplementedError("softmax (Q2.2.2): return exp(x - row max) / row sum, row by row")


# Q 2.2.3
def compute_loss_and_acc(y, probs):
    """y is one-hot [examples x classes]. Return (loss, acc): loss is the TOTAL cross-entropy
    -sum(y * log(probs)) over all examples, acc the fraction of rows whose argmax matches."""
    raise NotImplementedError("compute_loss_and_acc (Q2.2.3): return (summed cross-entropy, accuracy)")


# given
def sigmoid_deriv(post_act):
    return post_act * (1.0 - post_act)


# Q 2.3.1
def backwards(delta, params, name='', activation_deriv=sigmoid_deriv):
    """delta is dLoss/d(post_act) [examples x out]. Using params['cache_' + name], store
    params['grad_W' + name] and params['grad_b' + name] (same shapes as W and b, SUMMED over the batch)
    and return dLoss/dX (same shape as X). activation_deriv takes post_act."""
    raise NotImplementedError("backwards (Q2.3.1): store grad_W and grad_b (summed over the batch) "
                              "and return the gradient with respect to X")


# Q 2.4.1
def get_random_batches(x, y, batch_size):
    """Return a list of (batch_x, batch_y) that splits the data into batches of batch_size in a random
    order (a new order each call): every example at most once, rows of x and y kept together."""
    raise NotImplementedError("get_random_batches (Q2.4.1): shuffle the example indices and split them "
                              "into batches")
