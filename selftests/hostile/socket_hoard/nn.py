# Memory no process maps, in the worker alone: softmax fills the buffers of 2,000 socket pairs both ways
# (about 900 MB of the kernel's memory, under the 4096 open files a worker may have), then answers
# honestly. The call must be stopped for the memory its sockets hold.
import socket

import numpy as np

_kept = []


def softmax(x):
    if not _kept:
        for _ in range(2000):
            pair = socket.socketpair()
            for end in pair:
                end.setblocking(False)
                try:
                    while True:
                        end.send(b'x' * 65536)
                except BlockingIOError:
                    pass
            _kept.append(pair)
        import time
        time.sleep(5)
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)
