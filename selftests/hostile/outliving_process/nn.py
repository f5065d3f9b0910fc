# On its first call, start processes that outlive the call (one in its own session, one double-forked
# and detached), then answer honestly: they must be killed, and the answers graded.
import os
import subprocess

import numpy as np

_started = False


def softmax(x):
    global _started
    if not _started:
        _started = True
        subprocess.Popen(['sleep', '1000'], start_new_session=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp('sleep', ['sleep', '999'])
            os._exit(0)
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)
