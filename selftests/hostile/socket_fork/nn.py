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
        done_r, done_w = os.pipe()
        for _ in range(4):
            if os.fork() == 0:
                try:
                    os.setsid()
                    kept = []
                    try:
                        for _ in range(2000):
                            a, b = socket.socketpair()
                            a.setblocking(False)
                            try:
                                while True:
                                    a.send(b'x' * 65536)
                            except BlockingIOError:
                                kept.append((a, b))
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
