# While the course's forward stands in for the broken one, hand it a product far too big for the CPU
# limit: the course's worker is stopped by the limit, and the training call fails with a sentence naming
# the limit and the course's pieces (the time the course's worker spent is not charged to this worker's
# wall time, so the CPU limit is what stops it).
import numpy as _np

_train = train


def train(*args, **kwargs):
    big = _np.ones((8000, 8000))   # a trillion flops: over 10 s of one core on any machine of today
    forward(big, {'Wbig': big, 'bbig': _np.zeros(8000)}, 'big')
    return _train(*args, **kwargs)
