"""Assertion helpers that teach: each failure says which call, what came out, what should have, and
where the worst mismatch is. They refuse anything that is not a real NumPy array or number, so an object
that claims to equal everything cannot pass."""

import numpy as np


class CheckFailed(AssertionError):
    """A contract check failed; the message is written for the student."""


# A test that cannot be judged on this machine (say, pretrained weights are absent) skips with this prefix;
# the scorer then shares its weight among the question's other tests, and the report says why.
NOT_GRADABLE = 'not gradable here: '


def not_gradable(reason):
    """Stop the calling test as 'not gradable here' (neither passed nor failed), saying why."""
    __tracebackhide__ = True
    import pytest
    pytest.skip(NOT_GRADABLE + reason)


def fail(message):
    __tracebackhide__ = True
    raise CheckFailed(message)


def array(value, what, *, shape=None, ndim=None, finite=True):
    """``value`` as a float ndarray, or a failure naming ``what`` (e.g. 'softmax(x)')."""
    __tracebackhide__ = True
    if type(value) is not np.ndarray:
        fail(f'{what} should be a numpy array, but is {_typename(value)}')
    if value.dtype.kind not in 'fiub':
        fail(f'{what} has dtype {value.dtype}, but should hold numbers (float)')
    if ndim is not None and value.ndim != ndim:
        fail(f'{what} has {value.ndim} dimension(s) (shape {value.shape}), but should have {ndim}')
    if shape is not None and tuple(value.shape) != tuple(shape):
        fail(f'{what} has shape {value.shape}, but should have shape {tuple(shape)}')
    if finite and value.dtype.kind == 'f' and not np.all(np.isfinite(value)):
        bad = np.argwhere(~np.isfinite(value))[0]
        fail(f'{what} contains {value[tuple(bad)]} at index {tuple(int(i) for i in bad)}: '
             f'every value should be finite')
    return value.astype(float, copy=False) if value.dtype.kind != 'f' else value


def scalar(value, what):
    """A real number (Python or NumPy scalar, or a 0-d / single-element array) as float."""
    __tracebackhide__ = True
    if isinstance(value, np.ndarray) and type(value) is np.ndarray and value.size == 1 \
            and value.dtype.kind in 'fiub':
        value = value.reshape(()).item()
    # exact types only: a float subclass could redefine __eq__ to equal anything
    if not (type(value) in (int, float) or (isinstance(value, (np.integer, np.floating))
                                            and type(value).__module__ == 'numpy')):
        fail(f'{what} should be a number, but is {_typename(value)}')
    value = float(value)
    if not np.isfinite(value):
        fail(f'{what} is {value}, but should be finite')
    return value


def close(actual, expected, what, *, rtol=1e-7, atol=0.0, why=''):
    """``actual`` (already checked with ``array``/``scalar``) matches ``expected`` elementwise."""
    __tracebackhide__ = True
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        fail(f'{what} has shape {a.shape}, but should have shape {e.shape}')
    err = np.abs(a - e)
    bad = err > atol + rtol * np.abs(e)
    if not np.any(bad | (np.isnan(a) != np.isnan(e))):
        return
    idx = np.unravel_index(np.argmax(np.where(bad, err / (atol + rtol * np.abs(e) + 1e-300), -1)), a.shape)
    # "entry [0, 0] is": an index right after a call or a shape would read as part of it
    where = f': entry [{", ".join(str(int(i)) for i in idx)}] is' if a.ndim else ' is'
    # relative error only where it means something: not where the expected value is (nearly) zero
    meaningful = bad & (np.abs(e) > max(atol, np.finfo(float).tiny))
    rel = f', max rel error {np.max(err[meaningful] / np.abs(e[meaningful])):.3g}' if meaningful.any() else ''
    fail(f'{what}{where} {a[idx]:.10g}, but should be {e[idx]:.10g}'
         f'{" (" + why + ")" if why else ""}; {int(bad.sum())} of {a.size} value(s) differ, '
         f'max abs error {err.max():.3g}{rel} (rtol={rtol:g}, atol={atol:g})')


def that(condition, message):
    __tracebackhide__ = True
    if not condition:
        fail(message)


def remote(value):
    """Is ``value`` the grader's handle to an object living in the isolated worker (grader.isolation)?"""
    t = type(value)
    return t.__module__ == 'grader.isolation.proxies' and t.__name__ == 'Handle'


def _typename(value):
    if remote(value):   # the type of the object in the worker (numpy.matrix, a generator ...), not the handle's
        return value.type_name
    t = type(value)
    return f'{t.__module__}.{t.__qualname__}' if t.__module__ not in ('builtins',) else t.__qualname__


def shape_of(x):
    """A short description of an input for messages: 'array (3, 5)'."""
    return f'array {tuple(x.shape)}' if isinstance(x, np.ndarray) else repr(x)
