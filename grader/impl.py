"""The implementation under test: a folder of course files (nn.py, q2.py, ...), flat like a hand-in.

``Implementation(root).module('nn').softmax`` is the submission's function, or a stand-in that fails
with a sentence saying what is missing, so a missing file or function costs only the tests that use it
and collection never breaks. The folder goes first on sys.path because course files import each other
by their plain names (``from nn import *``)."""
import contextlib
import importlib
import os
import random
import sys
import traceback
from pathlib import Path

import numpy as np

from grader import paths
from grader import compat

# Course files a hand-in may hold, in import order (later ones import earlier ones).
MODULES = ('util', 'nn', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7')
ENV_VAR = 'NN_IMPL'
NAMED = {'student': paths.STUDENT, 'reference': paths.REFERENCE}


class SubmissionError(Exception):
    """The submission lacks something or failed to load; the message says what, for the student."""


def resolve(spec):
    """'student', 'reference' or a folder path -> (label, Path); a clear error otherwise."""
    spec = spec or os.environ.get(ENV_VAR) or 'student'
    root = NAMED.get(spec, Path(spec))
    if spec == 'reference' and not root.is_dir():
        raise SubmissionError('this copy of the harness has no reference/ folder (it is a student release)')
    if not root.is_dir():
        raise SubmissionError(f"--impl {spec!r}: no such folder. Use 'student', 'reference', or the path "
                              f"of a folder holding nn.py (set it with --impl or {ENV_VAR}).")
    return (spec if spec in NAMED else str(root)), root.resolve()


def _missing(module, attr, why):
    def stand_in(*args, **kwargs):
        raise SubmissionError(why)
    stand_in.__name__ = attr
    stand_in.__qualname__ = f'{module}.{attr} (missing)'
    stand_in.missing = why
    return stand_in


class ModuleView:
    """Attribute access on one course module that never raises at lookup time."""

    def __init__(self, name, module, error):
        self._name, self._module, self._error = name, module, error

    def __getattr__(self, attr):
        if self._module is None:
            return _missing(self._name, attr, self._error)
        try:
            return getattr(self._module, attr)
        except AttributeError:
            return _missing(self._name, attr, f'{self._name}.py has no function {attr!r} '
                                              f'(expected by the course API; see the stub in student/).')

    @property
    def loaded(self):
        return self._module


class Implementation:
    """Course modules imported from one folder, under their plain names, on first use."""

    def __init__(self, root, label=None):
        self.root = Path(root).resolve()
        self.label = label or str(self.root)
        self._views = {}
        compat.install()   # old course code: np.float, selem=, multichannel= ... (grader/compat.py)
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))

    def __repr__(self):   # shown in Hypothesis's failing examples: no folder names, no harness classes
        return '<your code>'

    @classmethod
    def from_spec(cls, spec=None):
        label, root = resolve(spec)
        return cls(root, label)

    def seed(self, seed, torch=False):
        """Seed the RNGs the submission draws from (torch=True: torch too, as grader.torch_eval.setup)."""
        if torch:
            from grader import torch_eval
            torch_eval.setup(seed)
        else:
            random.seed(seed)
            np.random.seed(seed % 2 ** 32)

    def module(self, name):
        if name not in self._views:
            self._views[name] = self._load(name)
        return self._views[name]

    def _load(self, name):
        path = self.root / f'{name}.py'
        if not path.is_file():
            return ModuleView(name, None, f'{name}.py is missing from the submission ({self.root}).')
        loaded = sys.modules.get(name)
        if loaded is not None and Path(getattr(loaded, '__file__', '') or '').resolve() != path:
            raise RuntimeError(f'another {name!r} module is already imported ({loaded.__file__}); '
                               'one implementation per process')
        try:
            return ModuleView(name, importlib.import_module(name), None)
        except BaseException as exc:  # a hand-in may raise anything, even SystemExit, at import time
            sys.modules.pop(name, None)
            if isinstance(exc, KeyboardInterrupt):
                raise
            return ModuleView(name, None, f'{name}.py could not be imported: {_describe(exc)}')

    @contextlib.contextmanager
    def reference_pieces(self, module, names, source='nn'):
        """Within the block, ``module``'s own references to ``names`` point at the reference solution's
        (taken from the reference's ``source`` module), so a later question is graded on its own code
        and an earlier bug is not charged twice. In a student release (no reference/) the submission's
        own pieces are used."""
        target = self.module(module).loaded
        reference = reference_module(source)
        if target is None or reference is None or self.root == paths.REFERENCE.resolve():
            yield
            return
        saved = {n: target.__dict__[n] for n in names if n in target.__dict__}
        try:
            for n in names:
                setattr(target, n, getattr(reference, n))
            yield
        finally:
            for n in names:
                if n in saved:
                    setattr(target, n, saved[n])
                else:
                    delattr(target, n)


def _describe(exc):
    if isinstance(exc, SyntaxError):
        return f'SyntaxError: {exc.msg} (line {exc.lineno})'
    frames = traceback.extract_tb(exc.__traceback__)
    where = next((f'{Path(f.filename).name}, line {f.lineno}' for f in reversed(frames)
                  if Path(f.filename).name in {f'{m}.py' for m in MODULES}), None)
    return f'{type(exc).__name__}: {exc}' + (f' ({where})' if where else '')


_REFERENCE = {}


def reference_module(name):
    """The reference's ``name`` module, imported apart from the implementation under test: course
    modules are registered under their plain names only while it imports. None in a student release."""
    if name not in _REFERENCE:
        if not (paths.REFERENCE / f'{name}.py').is_file():
            return None
        saved = {m: sys.modules.pop(m) for m in MODULES if m in sys.modules}
        sys.path.insert(0, str(paths.REFERENCE))
        try:
            _REFERENCE[name] = importlib.import_module(name)
        finally:
            sys.path.remove(str(paths.REFERENCE))
            for m in MODULES:
                sys.modules.pop(m, None)
            sys.modules.update(saved)
    return _REFERENCE[name]
