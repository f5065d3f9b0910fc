# Memory no process maps: softmax starts processes (in sessions of their own) that each fill the buffers
# of 2,000 socket pairs (about 450 MB each, the kernel's, 1.8 GB in all), then answers honestly. The call
# must be stopped for the memory its processes hold together.
import os
import socket
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
                    kept = []
                    for _ in range(2000):
                        a, b = socket.socketpair()
                        a.setblocking(False)
                        try:
                            while True:
                                a.send(b'x' * 65536)
                        except BlockingIOError:
                            kept.append((a, b))
                    time.sleep(60)
                finally:
                    os._exit(0)
        time.sleep(5)
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)
