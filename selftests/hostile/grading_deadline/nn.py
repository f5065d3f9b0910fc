# softmax sleeps just under its per-call limit on every call (2.5 s of 3 s): no call is stopped, but the
# question would take minutes. The grading deadline stops the run; what was not graded says so.
import time as _time

_softmax = softmax


def softmax(x):
    _time.sleep(2.5)
    return _softmax(x)
