"""The implementation under test: a folder of course files (nn.py, q2.py ...), flat like a hand-in, seen
through one interface (``ImplementationUnderTest``) whether it is imported into pytest
(``DirectImplementation``: debuggable, what a student runs) or runs in an isolated worker
(grader.isolation.WorkerImplementation: what the grader runs).

Tests only ever use that interface: ``impl.module('nn').softmax(x)``, ``impl.seed(...)``,
``with impl.earlier_pieces('2.4.1'): ...``. Which earlier pieces a question runs on is decided in one
place, grader.pieces; each implementation only carries it out."""
import contextlib
import functools
import os
from pathlib import Path
from typing import ContextManager, Protocol

from grader import paths
from grader.pieces import Ledger
from grader.worker import probes
from grader.worker.loader import MODULES, Loader, SubmissionError  # noqa: F401  (SubmissionError: re-exported)

ENV_VAR = 'NN_IMPL'
NAMED = {'student': paths.STUDENT, 'reference': paths.REFERENCE}


class ImplementationUnderTest(Protocol):
    """What the tests and the plugin may ask of the code being graded."""

    label: str
    isolated: bool
    ledger: Ledger        # this run's outcomes so far, which decide earlier_pieces
    output: str           # the tail of what the submission printed in the current test (diagnosis only)
    violations: list      # (file, line, library): forbidden imports caught while it ran

    def module(self, name: str): ...                        # a course module: attribute access never raises
    def seed(self, seed: int, torch: bool = False) -> None: ...   # seed the RNGs the submission draws from
    def earlier_pieces(self, qid: str, composite=()) -> ContextManager: ...   # qid on the right earlier pieces
    def stage_checkpoint(self, name: str, data) -> None: ...  # a file in the submission's torch cache
    def torch(self): ...                                      # torch as the submission's process has it
    def begin_test(self, seed, question=None, limits=None) -> None: ...
    def end_test(self) -> int: ...
    def close(self) -> None: ...


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


class DirectImplementation:
    """The course modules of one folder imported into this process (one implementation per process)."""

    isolated = False

    def __init__(self, root, label=None, ledger=None):
        self.root = Path(root).resolve()
        self.label = label or str(self.root)
        self.ledger = ledger if ledger is not None else Ledger()
        self.output = ''
        self.violations = []
        self._loader = Loader(self.root)
        self._active = []

    def __repr__(self):
        return '<your code>'   # shown in Hypothesis's failing examples: no folder names, no harness classes

    @classmethod
    def from_spec(cls, spec=None):
        label, root = resolve(spec)
        return cls(root, label)

    def module(self, name):
        return self._loader.module(name)

    def seed(self, seed, torch=False):
        probes.seed_everything(seed, torch)

    def stage_checkpoint(self, name, data):
        probes.stage_checkpoint(name, data)

    def torch(self):
        import torch
        return torch

    @contextlib.contextmanager
    def earlier_pieces(self, qid, composite=()):
        """Within the block, question ``qid`` runs on the reference's pieces where the submission's failed
        their own questions (grader.pieces): the reference's functions are put where the submission's
        were, in every course module that refers to them. In a student release (no reference/) the
        submission's own pieces are used."""
        replacements = {}
        if self.root != paths.REFERENCE.resolve():
            for module, name in self.ledger.substitutes(qid, composite):
                if name == 'train_model':   # called by the tests, never by the submission: grader.trainer
                    from grader import trainer
                    replacements[(module, name)] = functools.partial(trainer.train_model, self.torch())
                elif reference_module(module) is not None:
                    replacements[(module, name)] = getattr(reference_module(module), name)
        done = self._loader.substitute(replacements)
        try:
            yield
        finally:
            self._loader.restore(done)

    def begin_test(self, seed, question=None, limits=None):
        from grader.worker import rules
        self.violations.extend(rules.collect())

    def end_test(self):
        from grader.worker import rules
        self.violations.extend(rules.collect())
        return 0

    def close(self):
        pass


_REFERENCE = {}


def reference_module(name):
    """The reference's ``name`` module, imported apart from the implementation under test: course
    modules are registered under their plain names only while it imports. None in a student release.
    Only ever imported into the trusted process (fixtures, direct mode), never into a worker."""
    if name not in _REFERENCE:
        if not (paths.REFERENCE / f'{name}.py').is_file():
            return None
        import importlib
        import sys
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
