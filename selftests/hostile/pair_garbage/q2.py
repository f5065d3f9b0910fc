# While the course's forward stands in for the broken one, write a malformed message and half of
# another into this worker's end of the pipe pair to the course's worker, then train as usual. The course's
# worker must drop the pair, not hang or crash; the loop then fails with a sentence that says so, and
# grading goes on.
import gc as _gc
import os as _os
import struct as _struct

_train = train


def train(*args, **kwargs):
    links = [o for o in _gc.get_objects() if type(o).__name__ == 'Link' and hasattr(o, 'wfd')]
    if not links:
        raise RuntimeError('the attack found no pair to the course\'s worker')
    # one write (a pipe takes it whole): the course's worker may drop the pair as soon as it reads the first
    _os.write(links[0].wfd, _struct.pack('<II', 12, 0) + b'not json at ' + _struct.pack('<II', 1000, 0) + b'[[')
    return _train(*args, **kwargs)
