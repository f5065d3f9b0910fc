# At import time: make every check pass, then hand in a wrong softmax. In the grader's process this
# would work; in the worker there is no grader.checks or pytest to patch, and numpy is the worker's own.
import sys
import numpy as np

for name in ('allclose', 'array_equal', 'isclose'):
    setattr(np, name, lambda *a, **k: True)
np.abs = lambda x: np.zeros_like(x)
try:
    import grader.checks as _checks
    _checks.close = _checks.that = lambda *a, **k: None
    _checks.array = lambda value, *a, **k: value
except Exception:
    pass
for module in list(sys.modules.values()):
    if getattr(module, '__name__', '').startswith(('_pytest', 'pytest', 'grader.checks')):
        for attr in ('fail', 'close', 'that'):
            try:
                setattr(module, attr, lambda *a, **k: None)
            except Exception:
                pass


def softmax(x):
    return np.zeros_like(x)
