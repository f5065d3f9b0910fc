"""Deliberately broken implementations (bugs students really make) and correct implementations written
another way, used to show that the graded tests catch the first and accept the second.

A variant is a few exact text replacements applied to a copy of reference/: a real bug is a few lines,
and a patch whose ``old_text`` no longer matches exactly once fails loudly, so editing the reference
can never silently turn a variant into the reference.

Adding variants for a part of the assignment (q3.py, ...): create ``grader/variants/q3.py`` with

    from grader.variants import Variant

    VARIANTS = (
        Variant('q3-never-updates', 'train_mlp computes the update but never stores it',
                patches=(('q3.py', "params[k] = params[k] - lr * params['grad_' + k]", 'pass'),),
                loses=('3.1.1',)),
        ...
    )

and add 'q3' to PARTS below. ``loses``: the questions that must lose points (at least one test fails;
for a measured row worth no points, such as 4.3 on the course's photos, a test of it fails);
``keeps``: the questions that must keep full marks, either because the rubric swaps in the reference's
piece there (one bug is charged once) or, for a correct alternative (``loses`` empty), the questions
its patch touches and those that depend on it. Two finer claims: ``partial``, questions of ``loses``
where the bug costs some but not all points (shares follow the separate things a student can get
right), and ``earns_nothing``, test functions every case of which must fail (a constant or zero
function earns nothing from a property test). ``selftests/test_variants.py`` grades every variant on
``questions(variant)`` and checks all of these."""
import importlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from grader import paths
from grader.rubric import BY_ID

PARTS = ('q2', 'q3', 'q4', 'q5', 'q6', 'q7')   # modules of this package that define VARIANTS


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    patches: tuple      # ((file, old_text, new_text), ...) applied to a copy of reference/
    loses: tuple        # question ids that must lose points (empty = a correct alternative)
    keeps: tuple = ()   # question ids that must keep full marks
    partial: tuple = ()         # of ``loses``: questions that must keep some of their points
    earns_nothing: tuple = ()   # test function names (test_...) whose every case must fail

    def __post_init__(self):
        # Mistakes in the catalogue itself fail at import, naming the variant.
        where = f'variant {self.name!r}'
        if not self.patches or not all(isinstance(p, tuple) and len(p) == 3 and all(isinstance(s, str) for s in p)
                                       for p in self.patches):
            raise ValueError(f'{where}: patches must be a non-empty tuple of (file, old_text, new_text)')
        for file, old, new in self.patches:
            if not old or old == new:
                raise ValueError(f'{where}: a patch of {file} has an empty old_text or changes nothing')
        for qid in self.loses + self.keeps:
            if qid not in BY_ID:
                raise ValueError(f'{where}: unknown question {qid!r} (see grader/rubric.py)')
        if set(self.loses) & set(self.keeps):
            raise ValueError(f'{where}: a question cannot be both lost and kept')
        if not set(self.partial) <= set(self.loses):
            raise ValueError(f'{where}: a question with partial credit must be one it loses')
        if not all(t.startswith('test_') for t in self.earns_nothing):
            raise ValueError(f'{where}: earns_nothing names test functions (test_...)')
        if not self.loses and not self.keeps:
            raise ValueError(f'{where}: a correct alternative must say which questions keep full marks')

    @property
    def correct(self):
        """A correct alternative: it must keep full marks everywhere it is graded."""
        return not self.loses


def questions(variant):
    """The rubric rows to grade a variant on: the ones it must lose, then the ones it must keep."""
    return tuple(dict.fromkeys(variant.loses + variant.keeps))


class PatchError(Exception):
    """A variant's patch does not apply to the current reference (its old_text moved or changed)."""


def materialize(variant, dest, source=None):
    """Copy the reference's course files (``source``, reference/ by default) into the folder ``dest``
    and apply the variant's patches; returns ``dest`` as a Path. Raises PatchError unless each
    ``old_text`` occurs exactly once in its file."""
    source, dest = Path(source or paths.REFERENCE), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob('*.py')):
        shutil.copyfile(path, dest / path.name)
    for file, old, new in variant.patches:
        target = dest / file
        if not target.is_file():
            raise PatchError(f'variant {variant.name!r}: {file} is not in {source}')
        text = target.read_text()
        count = text.count(old)
        if count != 1:
            raise PatchError(f'variant {variant.name!r}: the text to replace occurs {count} times in {file} '
                             f'(must be exactly once; update the patch):\n{old}')
        target.write_text(text.replace(old, new))
    return dest


def problems(variant, rows):
    """What is wrong with a grading run of ``variant`` (``rows``: question id -> QuestionScore, as
    ``grader.run.run_tests(...).rows``); empty when every declared loss and keep holds."""
    found = []
    for qid in questions(variant):
        row = rows.get(qid)
        if (row is None or not row.graded) and BY_ID[qid].absent:
            continue   # a row run only on optional data absent here (test_variants requires it in CI)
        if row is None or not row.graded:
            found.append(f'{qid}: no test of this question ran')
        elif qid in variant.loses and not _lost(row):
            found.append(f'{qid}: kept full marks ({row.score:g}/{row.max_score:g}); the bug went unnoticed'
                         if row.max_score else f'{qid}: every test passed (a measured row); the bug went unnoticed')
        elif qid in variant.partial and row.score <= 0:
            found.append(f'{qid}: lost every point; the parts this bug leaves right should keep their share')
        elif qid in variant.keeps and _lost(row):
            failed = [t['nodeid'].split('::')[-1] + ': ' + t['message'].splitlines()[0][:200]
                      for t in row.tests if t['outcome'] != 'passed']
            found.append(f'{qid}: lost points ({row.score:g}/{row.max_score:g}) it should keep; failed: '
                         + '; '.join(failed[:3]))
    tests = [t for row in rows.values() for t in row.tests]
    for name in variant.earns_nothing:
        cases = [t for t in tests if t['function'].split('::')[-1] == name]
        if not cases:
            found.append(f'{name}: did not run')
        elif any(t['outcome'] == 'passed' for t in cases):
            found.append(f'{name}: {sum(t["outcome"] == "passed" for t in cases)} of {len(cases)} case(s) passed; '
                         'a trivial function must earn nothing from it')
    return found


def _lost(row):
    """A row lost to a bug: fewer points than its maximum, or, for a measured row worth no points (4.3),
    a test of it failed."""
    if row.max_score:
        return row.score < row.max_score
    return row.passed < len(row.tests)


def _load():
    catalogue, seen = [], set()
    for part in PARTS:
        for variant in importlib.import_module(f'grader.variants.{part}').VARIANTS:
            if variant.name in seen:
                raise ValueError(f'two variants are named {variant.name!r}')
            seen.add(variant.name)
            catalogue.append(variant)
    return tuple(catalogue)


CATALOGUE = _load()
BY_NAME = {v.name: v for v in CATALOGUE}


def by_name(name):
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f'no variant named {name!r}; known: {", ".join(sorted(BY_NAME))}') from None
