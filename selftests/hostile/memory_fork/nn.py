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
        done_r, done_w = os.pipe()
        for _ in range(4):
            if os.fork() == 0:
                try:
                    os.setsid()
                    try:
                        block = bytearray(700 << 20)
                        for i in range(0, len(block), 4096):
                            block[i] = 1
                    finally:
                        os.write(done_w, b'.')   # held (or refused): the call goes on however busy the machine
                    time.sleep(60)
                finally:
                    os._exit(0)
        for _ in range(4):
            os.read(done_r, 1)
        time.sleep(3)
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)
