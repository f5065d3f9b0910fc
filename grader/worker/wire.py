"""The data format between the grader and an isolated worker: plain data only, in a form whose decoding
can never run code (no pickle, ever), and whose decoding costs the reader a bounded amount of memory.

A message is an 8-byte header (JSON length, buffer count), a JSON tree, then the raw buffers of the
arrays it holds, each length-prefixed. JSON carries None, bool, int, float (NaN/inf too), str and lists;
everything else is a tagged object {"$": tag, ...}:
  nd      ndarray of dtype kind b, i, u, f or U (no objects, no structured dtypes); 'scalar' marks a NumPy
          scalar (np.float64 ...), decoded as the exact NumPy type
  tuple / dict (str keys) / bytes
  fn      one of the harness's named activations (activations.REGISTRY)
  ref     a function of a course module, 'module.name', resolved by the receiving worker
  handle  an object that stays in the process that sent it (a torch model ...), addressed by number
  remote  an object that stays in another process (the grader relays calls to it)
Only exact built-in types cross: a subclass of float, dict or ndarray (say one whose __eq__ always says
True) is not plain data, so the worker keeps it as a handle and checks.array/scalar refuse it.

Reading is bounded three ways, because the other side may be hostile: ``limit`` bytes in all, at most
MAX_HEAD bytes of JSON holding at most MAX_ITEMS values, nested at most MAX_DEPTH deep. Array buffers
are read straight into fresh NumPy arrays, so a message costs about its own size once."""
import json
import math
import os
import select
import struct
import time

import numpy as np

KINDS = 'biufU'
MAX_DEPTH = 64
MAX_HEAD = 16 << 20       # bytes of JSON: the tree is small, the arrays travel as buffers
MAX_ITEMS = 1_000_000     # JSON values and buffers in one message (each costs the reader a Python object)
TAGS = ('fn', 'ref', 'handle', 'remote')
_HEAD = struct.Struct('<II')
_LEN = struct.Struct('<Q')


class WireError(Exception):
    """A message that is not plain data, or a malformed one."""


# ---------------------------------------------------------------- encoding

def encode(value, *, fallback=None):
    """value -> (json bytes, [buffers]). ``fallback(obj)`` returns a tagged dict for anything that is not
    plain data (a handle, a ref); without it such a value is a WireError, as is a value the reader would
    refuse for its size in values: refused here, before millions of them are encoded (seconds each time)."""
    buffers, meta, count = [], [], 0

    def items(v, per=1):
        """Count a container's elements (each becomes at least ``per`` JSON values or buffers, which the
        reader counts: a dict's key and value) before encoding any of them."""
        nonlocal count
        count += per * len(v)
        if count > MAX_ITEMS:
            raise WireError(f'more than {MAX_ITEMS:,} values (numbers, strings, lists ...): '
                            'many values travel as one NumPy array')
        return v

    def enc(v, depth):
        if depth > MAX_DEPTH:
            raise WireError(f'nested deeper than {MAX_DEPTH} levels')
        t = type(v)
        if v is None or t in (bool, int, str, float):
            return v
        if t is list:
            return [enc(x, depth + 1) for x in items(v)]
        if t is tuple:
            return {'$': 'tuple', 'v': [enc(x, depth + 1) for x in items(v)]}
        if t is dict:
            if not all(type(k) is str for k in v):
                return _other(v)
            return {'$': 'dict', 'k': list(v), 'v': [enc(x, depth + 1) for x in items(v, per=2).values()]}
        if t is np.ndarray and v.dtype.kind in KINDS and v.dtype.fields is None and v.dtype.subdtype is None:
            buffers.append(np.ascontiguousarray(v).data.cast('B') if v.size else b'')
            meta.append([v.dtype.str, list(v.shape)])
            return {'$': 'nd', 'b': len(buffers) - 1}
        if isinstance(v, np.generic) and type(v).__module__ == 'numpy' and v.dtype.kind in KINDS:
            buffers.append(np.asarray(v).tobytes())
            meta.append([v.dtype.str, []])
            return {'$': 'nd', 'b': len(buffers) - 1, 'scalar': True}
        if t is bytes:
            buffers.append(v)
            meta.append(None)
            return {'$': 'bytes', 'b': len(buffers) - 1}
        return _other(v)

    def _other(v):
        tagged = fallback(v) if fallback is not None else None
        if tagged is None:
            raise WireError(f'{typename(v)} is not plain data (arrays, numbers, strings, lists, tuples, '
                            'dicts with str keys)')
        return tagged

    tree = enc(value, 0)
    # The buffers' types come first, beside the tree, so that the reader can allocate every array before
    # it reads the tree's values.
    return json.dumps([tree, meta], separators=(',', ':'), allow_nan=True).encode(), buffers


def write(fd, value, *, fallback=None, deadline=None):
    """Send one message. With a ``deadline`` (see _wait), fd must be non-blocking and a reader that stops
    reading makes this raise TimeoutError instead of blocking forever."""
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
    """The receiving end of a pipe, read in large chunks: one small message usually takes one read."""

    def __init__(self, fd):
        self.fd, self.pending = fd, bytearray()

    def take(self, size, deadline):
        while len(self.pending) < size:
            self._fill(max(size - len(self.pending), 1 << 16), deadline)
        data = self.pending[:size]
        del self.pending[:size]
        return data

    def take_into(self, view, deadline):
        """Fill the writable byte view ``view`` (an array's memory) without an intermediate copy."""
        have = min(len(self.pending), view.nbytes)
        view[:have] = self.pending[:have]
        del self.pending[:have]
        while have < view.nbytes:
            if deadline is not None:
                _wait(self.fd, deadline)
            n = os.readv(self.fd, [view[have:]])
            if not n:
                raise EOFError('the other side closed the connection')
            have += n

    def _fill(self, size, deadline):
        if deadline is not None:
            _wait(self.fd, deadline)
        chunk = os.read(self.fd, size)
        if not chunk:
            raise EOFError('the other side closed the connection')
        self.pending += chunk


def read(reader, *, limit, resolve=None, deadline=None):
    """Read one message from a Reader; at most ``limit`` bytes in all. ``resolve(tagged dict)`` turns
    fn/ref/handle/remote tags into objects (None: refuse them). Raises EOFError if the other side is
    gone, TimeoutError if a message is not complete by ``deadline``, WireError if it breaks a bound."""
    n_head, n_buf = _HEAD.unpack(reader.take(_HEAD.size, deadline))
    if n_head > min(limit, MAX_HEAD) or n_buf > MAX_ITEMS:
        raise WireError(f'message header announces {n_head} bytes of JSON and {n_buf} buffers, over the limits '
                        f'({min(limit, MAX_HEAD)} bytes, {MAX_ITEMS} buffers)')
    text = bytes(reader.take(n_head, deadline))
    # Every JSON value but the first follows a '[', '{', ',' or ':': counting them bounds the objects
    # json.loads would build, before it builds any.
    items = text.count(b'[') + text.count(b'{') + text.count(b',') + text.count(b':')
    if items > MAX_ITEMS:
        raise WireError(f'message of about {items} values (at most {MAX_ITEMS})')
    try:
        tree, meta = json.loads(text)
    except (ValueError, RecursionError, TypeError) as exc:
        raise WireError(f'malformed message ({type(exc).__name__})') from None
    if type(meta) is not list or len(meta) != n_buf:
        raise WireError('malformed message (buffer types)')
    total, buffers = n_head, []
    for kind in meta:
        (size,) = _LEN.unpack(reader.take(_LEN.size, deadline))
        total += size
        if total > limit:
            raise WireError(f'message of more than {limit} bytes (the output-size limit)')
        if kind is None:
            buffers.append(bytes(reader.take(size, deadline)))
            continue
        dtype, shape = _dtype_shape(kind)
        if size != math.prod(shape) * dtype.itemsize:   # exact: no int64 wrap-around
            raise WireError(f'array buffer of {size} bytes does not match shape {shape} of {dtype}')
        arr = np.empty(shape, dtype)   # a fresh aligned array, as in direct mode (SIMD rounding depends on it)
        if size:
            reader.take_into(memoryview(arr.reshape(-1).view(np.uint8)), deadline)
        buffers.append(arr)
    return decode(tree, buffers, resolve)


def _index(v):
    b = v.get('b')
    if type(b) is not int or b < 0:
        raise WireError('malformed buffer index')
    return b


_DTYPES = {}


def _dtype_shape(kind):
    """([dtype string, shape]) -> (np.dtype, tuple), refusing objects, structures and odd shapes."""
    try:
        code, shape = kind
        dtype = _DTYPES.get(code)
        if dtype is None:
            dtype = np.dtype(str(code))   # a dtype string like '<f8'; objects/structures are refused below
            if dtype.kind not in KINDS or dtype.fields is not None or dtype.subdtype is not None or dtype.hasobject:
                raise WireError(f'dtype {dtype} is not allowed')
            if len(_DTYPES) < 64:
                _DTYPES[code] = dtype
        shape = tuple(int(s) for s in shape)
    except (KeyError, TypeError, ValueError) as exc:
        raise WireError(f'malformed array ({exc})') from None
    if any(s < 0 for s in shape) or len(shape) > 32:
        raise WireError(f'array shape {shape} is not allowed')
    return dtype, shape


def _wait(fd, deadline, write=False):
    """Wait until ``fd`` is ready. ``deadline``: a time.monotonic() value, or an object whose remaining()
    says how long is left (it may grow while we wait: grader.limits.CallClock)."""
    while True:
        left = deadline.remaining() if hasattr(deadline, 'remaining') else deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError('the other side did not keep up')
        step = min(left, 0.25) if hasattr(deadline, 'remaining') else left
        ready = select.select([], [fd], [], step)[1] if write else select.select([fd], [], [], step)[0]
        if ready:
            return


def decode(tree, buffers, resolve=None, meta=None):
    """The value of a message's tree, given its buffers (arrays already built by ``read``, or raw bytes
    with ``meta``, their [dtype, shape] list)."""
    if meta is not None:
        buffers = [bytes(b) if m is None else _from_bytes(b, m) for b, m in zip(buffers, meta)]

    def buffer(v, kind):
        i = _index(v)
        if i >= len(buffers) or not isinstance(buffers[i], kind):
            raise WireError('malformed buffer reference')
        return buffers[i]

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
        if tag == 'tuple' and type(v.get('v')) is list:
            return tuple(dec(x, depth + 1) for x in v['v'])
        if tag == 'dict':
            keys, values = v.get('k'), v.get('v')
            if type(keys) is not list or type(values) is not list or len(keys) != len(values) \
                    or not all(type(k) is str for k in keys):
                raise WireError('malformed dict')
            return {k: dec(x, depth + 1) for k, x in zip(keys, values)}
        if tag == 'nd':
            arr = buffer(v, np.ndarray)
            if v.get('scalar'):
                if arr.shape != ():
                    raise WireError('a scalar must have shape ()')
                return arr[()]
            return arr
        if tag == 'bytes':
            return bytes(buffer(v, (bytes, bytearray)))
        if tag in TAGS and resolve is not None:
            return resolve(v)
        raise WireError(f'unexpected tag {tag!r}')

    return dec(tree, 0)


def _from_bytes(buf, kind):
    dtype, shape = _dtype_shape(kind)
    if len(buf) != math.prod(shape) * dtype.itemsize:
        raise WireError(f'array buffer of {len(buf)} bytes does not match shape {shape} of {dtype}')
    return np.frombuffer(buf, dtype=dtype).reshape(shape).copy() if len(buf) else np.zeros(shape, dtype)


def typename(v):
    t = type(v)
    return t.__qualname__ if t.__module__ == 'builtins' else f'{t.__module__}.{t.__qualname__}'
