"""The data format between the grader and an isolated worker (grader/worker.py): plain data only, in a
form whose decoding can never run code (no pickle, ever).

A message is an 8-byte header (JSON length, buffer count), a JSON tree, then the raw buffers of the
arrays it holds, each length-prefixed. JSON carries None, bool, int, float (NaN/inf too), str and lists;
everything else is a tagged object {"$": tag, ...}:
  nd      ndarray of dtype kind b, i, u, f or U (no objects, no structured dtypes); 'scalar' marks a NumPy
          scalar (np.float64 ...), decoded as the exact NumPy type
  tuple / dict (str keys) / bytes
  fn      one of the harness's named activations (grader.activations.REGISTRY)
  ref     a function of the submission, 'module.name', resolved in the worker
  handle  an object that stays in the worker (a torch model ...), addressed by number
Only exact built-in types cross: a subclass of float, dict or ndarray (say one whose __eq__ always says
True) is not plain data, so the worker keeps it as a handle and checks.array/scalar refuse it."""
import json
import os
import select
import struct
import time

import numpy as np

KINDS = 'biufU'
MAX_DEPTH = 64
_HEAD = struct.Struct('<II')
_LEN = struct.Struct('<Q')


class WireError(Exception):
    """A message that is not plain data, or a malformed one."""


# ---------------------------------------------------------------- encoding

def encode(value, *, fallback=None):
    """value -> (json bytes, [buffers]). ``fallback(obj)`` returns a tagged dict for anything that is not
    plain data (a handle, a ref); without it such a value is a WireError."""
    buffers = []

    def enc(v, depth):
        if depth > MAX_DEPTH:
            raise WireError(f'nested deeper than {MAX_DEPTH} levels')
        t = type(v)
        if v is None or t in (bool, int, str):
            return v
        if t is float:
            return v
        if t is list:
            return [enc(x, depth + 1) for x in v]
        if t is tuple:
            return {'$': 'tuple', 'v': [enc(x, depth + 1) for x in v]}
        if t is dict:
            if not all(type(k) is str for k in v):
                return _other(v)
            return {'$': 'dict', 'k': list(v), 'v': [enc(x, depth + 1) for x in v.values()]}
        if t is np.ndarray and v.dtype.kind in KINDS and v.dtype.fields is None and v.dtype.subdtype is None:
            buffers.append(np.ascontiguousarray(v).data.cast('B') if v.size else b'')
            return {'$': 'nd', 'd': v.dtype.str, 's': list(v.shape), 'b': len(buffers) - 1}
        if isinstance(v, np.generic) and type(v).__module__ == 'numpy' and v.dtype.kind in KINDS:
            buffers.append(np.asarray(v).tobytes())
            return {'$': 'nd', 'd': v.dtype.str, 's': [], 'b': len(buffers) - 1, 'scalar': True}
        if t is bytes:
            buffers.append(v)
            return {'$': 'bytes', 'b': len(buffers) - 1}
        return _other(v)

    def _other(v):
        tagged = fallback(v) if fallback is not None else None
        if tagged is None:
            raise WireError(f'{_typename(v)} is not plain data (arrays, numbers, strings, lists, tuples, '
                            'dicts with str keys)')
        return tagged

    tree = enc(value, 0)
    return json.dumps(tree, separators=(',', ':'), allow_nan=True).encode(), buffers


def write(fd, value, *, fallback=None, deadline=None):
    """Send one message. With a ``deadline`` (time.monotonic()), fd must be non-blocking and a reader
    that stops reading makes this raise TimeoutError instead of blocking forever."""
    send(fd, encode(value, fallback=fallback), deadline)


def send(fd, encoded, deadline=None):
    """Send an already encoded message (see encode)."""
    head, buffers = encoded
    parts = [_HEAD.pack(len(head), len(buffers)), head]
    for buf in buffers:
        parts.append(_LEN.pack(len(buf) if isinstance(buf, bytes) else buf.nbytes))
        parts.append(buf)
    _write_all(fd, parts, deadline)


def _write_all(fd, parts, deadline):
    views = [memoryview(p).cast('B') for p in parts]
    if sum(v.nbytes for v in views) < 1 << 20:   # one write for the usual small message
        views = [memoryview(b''.join(views))]
    for view in views:
        while view.nbytes:
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                _wait(fd, deadline, write=True)


# ---------------------------------------------------------------- decoding

class Reader:
    """The receiving end of a pipe, read in large chunks: one message usually takes one read."""

    def __init__(self, fd):
        self.fd, self.pending = fd, bytearray()

    def take(self, size, deadline):
        while len(self.pending) < size:
            if deadline is not None:
                _wait(self.fd, deadline)
            chunk = os.read(self.fd, max(size - len(self.pending), 1 << 16))
            if not chunk:
                raise EOFError('the other side closed the connection')
            self.pending += chunk
        data = self.pending[:size]
        del self.pending[:size]
        return data


def read(reader, *, limit, resolve=None, deadline=None):
    """Read one message from a Reader; at most ``limit`` bytes in all. ``resolve(tagged dict)`` turns
    fn/ref/handle tags into objects (None: refuse them). Raises EOFError if the other side is gone,
    TimeoutError if a message is not complete by ``deadline``."""
    n_head, n_buf = _HEAD.unpack(reader.take(_HEAD.size, deadline))
    if n_head > limit or n_buf > limit // 8 + 1:
        raise WireError(f'message header of {n_head} bytes is over the {limit}-byte limit')
    tree = json.loads(reader.take(n_head, deadline))
    total, buffers = n_head, []
    for _ in range(n_buf):
        (size,) = _LEN.unpack(reader.take(_LEN.size, deadline))
        total += size
        if total > limit:
            raise WireError(f'message of more than {limit} bytes (the output-size limit)')
        buffers.append(reader.take(size, deadline))
    return decode(tree, buffers, resolve)


def _wait(fd, deadline, write=False):
    left = deadline - time.monotonic()
    ready = select.select([], [fd], [], max(left, 0))[1] if write else select.select([fd], [], [], max(left, 0))[0]
    if not ready:
        raise TimeoutError('the other side did not keep up')


def decode(tree, buffers, resolve=None):
    def dec(v, depth):
        if depth > MAX_DEPTH:
            raise WireError('nested too deeply')
        if v is None or type(v) in (bool, int, float, str):
            return v
        if type(v) is list:
            return [dec(x, depth + 1) for x in v]
        if type(v) is not dict:
            raise WireError(f'unexpected JSON value {type(v).__name__}')
        tag = v.get('$')
        if tag == 'tuple':
            return tuple(dec(x, depth + 1) for x in v['v'])
        if tag == 'dict':
            keys = v['k']
            if not all(type(k) is str for k in keys) or len(keys) != len(v['v']):
                raise WireError('malformed dict')
            return {k: dec(x, depth + 1) for k, x in zip(keys, v['v'])}
        if tag == 'nd':
            return _array(v, buffers)
        if tag == 'bytes':
            return bytes(buffers[v['b']])
        if tag in ('fn', 'ref', 'handle') and resolve is not None:
            return resolve(v)
        raise WireError(f'unexpected tag {tag!r}')

    return dec(tree, 0)


def _array(v, buffers):
    dtype = np.dtype(str(v['d']))   # a dtype string like '<f8'; objects/structures are refused below
    if dtype.kind not in KINDS or dtype.fields is not None or dtype.subdtype is not None or dtype.hasobject:
        raise WireError(f'dtype {dtype} is not allowed')
    shape = tuple(int(s) for s in v['s'])
    if any(s < 0 for s in shape):
        raise WireError('negative array dimension')
    buf = buffers[int(v['b'])]
    if len(buf) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise WireError(f'array buffer of {len(buf)} bytes does not match shape {shape} of {dtype}')
    # A fresh (aligned) copy, not a view of the message buffer: NumPy's SIMD loops round differently on
    # unaligned data, and the worker must compute exactly what direct mode computes.
    arr = np.frombuffer(buf, dtype=dtype).reshape(shape).copy() if len(buf) else np.zeros(shape, dtype)
    if v.get('scalar'):
        return arr[()]
    return arr


def _typename(v):
    t = type(v)
    return t.__qualname__ if t.__module__ == 'builtins' else f'{t.__module__}.{t.__qualname__}'
