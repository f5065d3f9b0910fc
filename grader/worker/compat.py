"""Make old course code run on current NumPy. The course's util.py used ``np.float`` (and hand-ins from
2018-2020 use ``np.int``/``np.bool``), which NumPy 1.24+ removed; a submission must not fail for that."""
import warnings

import numpy as np

_ALIASES = {'float': float, 'int': int, 'bool': bool, 'object': object, 'complex': complex, 'str': str}


def install_numpy_aliases():
    for name, value in _ALIASES.items():
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')   # NumPy 2 warns about some of these names before failing
            if not hasattr(np, name):
                setattr(np, name, value)


def install():
    """Everything this module makes old course code find (called before any course file is imported)."""
    install_numpy_aliases()
