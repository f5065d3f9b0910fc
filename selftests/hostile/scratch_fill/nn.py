# Fill the scratch space (HOME, TMPDIR, /dev/shm) and the host's shared folders, then answer correctly:
# the writes must stop at the sandbox's cap and vanish with the worker, leaving nothing on the machine.
import os as _os

_softmax = softmax


def _fill(path, mb):
    try:
        with open(path, 'wb') as f:
            for _ in range(mb):
                f.write(b'\0' * 2 ** 20)
    except OSError:
        pass


def softmax(x):
    for folder, mb in (('/dev/shm', 240), (_os.environ.get('HOME', '/tmp'), 2048), ('/var/tmp', 64),
                       ('/run/lock', 64), ('/tmp', 64)):
        _fill(_os.path.join(folder, 'nn-hostile-scratch-fill'), mb)
    return _softmax(x)
