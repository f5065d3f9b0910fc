"""The grader's own answers to graded parts, which some tests use as their oracle: central differences
(the heart of Q2.5.1), the forward passes of the networks it evaluates (the Q2.4 toy net, the Q3 MLP, the
Q5 autoencoder) and the top principal directions (Q6.2).

Instructor-only: grader/packaging.py keeps this module out of the student release, and
selftests/test_release_solutions.py proves the release holds none of it. There, the tests that need it
either use the student's own earlier pieces (grader.evaluate) or are 'not gradable here', and the
stored fixtures still give exact feedback. Only the trusted side imports it; it never reaches the
isolated worker."""
import numpy as np
from scipy.special import expit, softmax


def central_differences(f, value, eps):
    """d f() / d value[idx] for every entry of the array ``value``, which f reads: each entry is moved by
    +-eps and put back."""
    grad = np.zeros_like(value, dtype=float)
    for idx in np.ndindex(value.shape):
        orig = value[idx]
        value[idx] = orig + eps
        plus = f()
        value[idx] = orig - eps
        minus = f()
        value[idx] = orig
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def directional_derivative(f, value, direction, eps):
    """d f(value + t direction) / dt at t = 0, by central differences."""
    return (f(value + eps * direction) - f(value - eps * direction)) / (2 * eps)


def slope(f, x, eps):
    """The elementwise derivative of an elementwise function f at x, by central differences."""
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def mlp_scores(params, x):
    """Raw class scores of a 'layer1' (sigmoid) + 'output' (linear) network."""
    return expit(x @ params['Wlayer1'] + params['blayer1']) @ params['Woutput'] + params['boutput']


def mlp_probs(params, x):
    """Class probabilities of a 'layer1' (sigmoid) + 'output' (softmax) network."""
    return softmax(mlp_scores(params, x), axis=1)


def autoencoder_output(params, x, layers=('layer1', 'hidden', 'hidden2', 'output')):
    """Reconstructions of the Q5 autoencoder: ReLU on every layer but the last, sigmoid there."""
    h = x
    for name in layers[:-1]:
        h = np.maximum(h @ params['W' + name] + params['b' + name], 0)
    return expit(h @ params['W' + layers[-1]] + params['b' + layers[-1]])


def top_directions(data, mean, dim):
    """The top-``dim`` principal directions of data - mean, as columns (eigenvectors of the scatter matrix:
    the right singular vectors, at a fraction of an SVD's cost)."""
    centred = data - mean
    _, vectors = np.linalg.eigh(centred.T @ centred)   # ascending eigenvalues = squared singular values
    return vectors[:, ::-1][:, :dim]
