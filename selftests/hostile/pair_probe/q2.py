# While the course's forward stands in for the broken one, take this worker's end of the pipe pair to
# the course's worker and ask it for what the grader did not allow: other pieces, the modules' own
# attributes, other requests than calls, the grader's objects, a name of the reference as an argument.
# Every answer must be a refusal that shows nothing of the reference; then train as usual.
import gc as _gc
import json as _json
import os as _os
import struct as _struct

import numpy as _np

_train = train


def _pair():
    found = [o for o in _gc.get_objects() if type(o).__name__ == 'Link' and hasattr(o, 'wfd')]
    if not found:
        raise RuntimeError('the attack found no pair to the course\'s worker')
    return found[0]


def _ask(link, tree, arrays):
    """Send a hand-made message (tags and all; ``arrays`` are its buffers); the answer's fields as raw JSON,
    and its whole text."""
    head = _json.dumps([tree, [[a.dtype.str, list(a.shape)] for a in arrays]]).encode()
    body = b''.join(_struct.pack('<Q', a.nbytes) + a.tobytes() for a in arrays)
    _os.write(link.wfd, _struct.pack('<II', len(head), len(arrays)) + head + body)
    n_head, n_buf = _struct.unpack('<II', link.reader.take(8, None))
    text = bytes(link.reader.take(n_head, None))
    for _ in range(n_buf):
        (size,) = _struct.unpack('<Q', link.reader.take(8, None))
        text += bytes(link.reader.take(size, None))
    tree = _json.loads(text[:n_head])[0]
    return dict(zip(tree['k'], tree['v'])), text.decode('utf-8', 'replace')


def _ref(module, name):
    return {'$': 'ref', 'module': module, 'name': name}


def _call(target, args=(), op='call'):
    return {'$': 'dict', 'k': ['op', 'target', 'args', 'kwargs', 'rng'],
            'v': [op, target, list(args), {'$': 'dict', 'k': [], 'v': []}, None]}


_ARRAYS = [_np.ones((3, 2)), _np.ones((3, 1)), _np.ones((2, 4)), _np.zeros(4), _np.ones((40, 40))]
_X, _Y, _W, _B, _PAGE = ({'$': 'nd', 'b': i} for i in range(5))
_PARAMS = {'$': 'dict', 'k': ['Wlayer', 'blayer'], 'v': [_W, _B]}
_REFUSED = 'only the course pieces the grader allowed can be called here'
_PROBES = [   # (the message, what its answer's error must say)
    (_call(_ref('nn', 'get_random_batches'), [_X, _Y, 1]), _REFUSED),   # course pieces 2.4.1 does not build on
    (_call(_ref('q4', 'findLetters'), [_PAGE]), _REFUSED),
    (_call(_ref('q2', 'train'), [_X, _Y, _PARAMS]), _REFUSED),          # the reference's own training loop
    (_call(_ref('nn', '__loader__')), _REFUSED),
    (_call(_ref('nn', 'forward'), [_X, _PARAMS, 'layer'], op='getattr'), _REFUSED),   # other requests than calls
    (_call(_ref('nn', 'forward'), [_X, _PARAMS, 'layer'], op='load'), _REFUSED),
    (_call({'$': 'remote', 'id': 1}, [_X]), _REFUSED),                  # the grader's objects
    (_call({'$': 'fn', 'name': 'no such activation'}, [_X]), _REFUSED),
    # a course function it may not call, named as the activation of one it may: nothing to call
    (_call(_ref('nn', 'forward'), [_X, _PARAMS, 'layer', _ref('nn', 'get_random_batches')]), 'object is not callable'),
]


def _probe():
    link = _pair()
    for probe, says in _PROBES:
        fields, answer = _ask(link, probe, _ARRAYS)
        if fields.get('op') != 'answer' or fields.get('ok') is not False or says not in str(fields.get('error')):
            raise RuntimeError(f'LEAKED: the course\'s worker served {probe}: {answer[:300]}')
        for sign in ('/w/lib', 'reference', 'Traceback', 'File "', 'def ', '__code__'):
            if sign in answer:
                raise RuntimeError(f'LEAKED: {sign!r} in the answer to {probe}: {answer[:300]}')


def train(*args, **kwargs):
    _probe()
    return _train(*args, **kwargs)
