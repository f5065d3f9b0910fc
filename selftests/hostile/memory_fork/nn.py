# Each process keeps under the per-process memory limit, but softmax starts several (detached, in
# sessions of their own), which together hold far more; then it answers honestly. The call must be
# stopped for the memory the processes hold together.
import os
import time

import numpy as np

_started = False


def softmax(x):
    global _started
    if not _started:
        _started = True
        for _ in range(4):
            if os.fork() == 0:
                os.setsid()
                try:
                    block = bytearray(700 << 20)
                    for i in range(0, len(block), 4096):
                        block[i] = 1
                    time.sleep(60)
                finally:
                    os._exit(0)
        time.sleep(5)
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)
