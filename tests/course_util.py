"""The activations that tests pass to forward and backwards, taken where the course takes them: linear,
tanh, relu and their derivatives from the submission's own util.py (which the course hands out; a
hand-in without it gets the course's copy), sigmoid and sigmoid_deriv from the harness (the submission's
sigmoid is graded in 2.2.1 itself, so a bug there must not cost forward and backwards too)."""
from grader.worker import activations

NAMES = tuple(sorted(activations.PAIRS))


def pair(impl, name):
    """(activation, its derivative, how a message names them) for 'sigmoid', 'tanh', 'relu' or 'linear'."""
    if name == 'sigmoid':
        fn, deriv = activations.PAIRS[name]
        return fn, deriv, ('sigmoid', 'sigmoid_deriv')
    util = impl.module('util')
    return getattr(util, name), getattr(util, name + '_deriv'), (f'util.{name}', f'util.{name}_deriv')
