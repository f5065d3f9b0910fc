"""Course modules (nn.py, q2.py ...) imported from one folder, flat like a hand-in, under their plain
names: course files import each other that way (``from nn import *``). Used where the submission's code
runs: in the isolated worker, and in pytest itself when an implementation is tested directly.

``Loader(root).module('nn').softmax`` is the submission's function, or a stand-in that fails with a
sentence saying what is missing, so a missing file or function costs only the tests that use it and
collection never breaks."""
import importlib
import sys
import traceback
from pathlib import Path

from grader.worker import compat, rules

# Course files a hand-in may hold, in import order (later ones import earlier ones).
MODULES = ('util', 'nn', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7')
# What the course itself defined (SPEC.md section 1; None: the whole module). The other graded functions
# are this harness's, so a hand-in made for the course's original scripts does not have them.
COURSE_API = {'util': None, 'nn': None, 'q4': ('findLetters',)}


_ABSENT = object()


class SubmissionError(Exception):
    """The submission lacks something or failed to load; the message says what, for the student."""


def missing(module, attr, why):
    """A stand-in for something the submission lacks: calling it raises SubmissionError(why)."""
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
        if attr.startswith('__'):
            raise AttributeError(attr)
        if self._module is None:
            return missing(self._name, attr, self._error)
        try:
            return getattr(self._module, attr)
        except AttributeError:
            api = COURSE_API.get(self._name, ())
            whose = ('expected by the course API' if api is None or attr in api else
                     "added to the course's files by this harness")
            return missing(self._name, attr, f'{self._name}.py has no function {attr!r} '
                                             f'({whose}; see the stub in student/{self._name}.py).')

    @property
    def loaded(self):
        return self._module

    @property
    def error(self):
        """Why the module could not be loaded ('' if it was)."""
        return self._error or ''


class Loader:
    """The course modules of one folder, imported on first use (or by ``load``)."""

    def __init__(self, root):
        self.root = Path(root).resolve()
        self._views = {}
        compat.install()
        rules.install(MODULES, [self.root / f'{m}.py' for m in MODULES])
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))

    def module(self, name):
        if name not in self._views:
            self._views[name] = self._load(name)
        return self._views[name]

    def loaded(self):
        """The course modules of this folder imported so far (by the loader or by each other): {name: module}."""
        return {n: m for n in MODULES if (m := sys.modules.get(n)) is not None
                and Path(getattr(m, '__file__', '') or '').resolve() == self.root / f'{n}.py'}

    def substitute(self, replacements):
        """Put ``replacements[(module, name)]`` where the submission's ``module.name`` was, in every loaded
        course module that refers to it (``from nn import *`` copies names; ``import nn`` does not);
        returns what ``restore`` needs to undo it."""
        done = []
        for (module, name), new in replacements.items():
            home = self.module(module).loaded
            if home is None:
                continue
            original = home.__dict__.get(name, _ABSENT)
            done.append((home, name, original))
            setattr(home, name, new)
            for mod in self.loaded().values() if callable(original) else ():
                for key, value in list(mod.__dict__.items()):
                    if value is original:
                        done.append((mod, key, value))
                        setattr(mod, key, new)
        return done

    @staticmethod
    def restore(done):
        for mod, key, value in reversed(done):
            if value is _ABSENT:
                mod.__dict__.pop(key, None)
            else:
                setattr(mod, key, value)

    def _load(self, name):
        path = self.root / f'{name}.py'
        if name not in MODULES or not path.is_file():
            return ModuleView(name, None, f'{name}.py is missing from the submission.')
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
            return ModuleView(name, None, f'{name}.py could not be imported: {describe(exc)}')


def describe(exc):
    """'TypeError: ... (nn.py, line 12)': an exception, placed at the deepest course-file frame."""
    if isinstance(exc, SyntaxError):
        return f'SyntaxError: {exc.msg} (line {exc.lineno})'
    try:
        text = str(exc)[:2000]
    except BaseException:   # a hostile __str__
        text = '(message could not be shown)'
    where = course_frame(exc)
    return f'{type(exc).__name__}: {text}' + (f' ({where})' if where else '')


def course_frame(exc):
    """'nn.py, line 12' for the deepest frame of ``exc``'s traceback that is in a course file, or ''."""
    course = {f'{m}.py' for m in MODULES}
    frames = traceback.extract_tb(exc.__traceback__)
    return next((f'{Path(f.filename).name}, line {f.lineno}' for f in reversed(frames)
                 if Path(f.filename).name in course), '')
