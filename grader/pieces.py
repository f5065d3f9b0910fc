"""Which earlier pieces a later question is graded on. A question that builds on earlier ones (rubric
``uses``) runs on the submission's own pieces when the question grading each of them passed all its
tests earlier in the same run, and on the course's (the reference's) otherwise, so one bug is not
charged twice, and a correct hand-in never has course code near it.

The implementation under test carries the substitution out (grader.impl for a submission imported into
pytest, grader.isolation for one in the worker): this module only decides. Without a reference (a
student release), the submission's own pieces are always used."""
from collections import defaultdict

from grader.rubric import BY_ID, COMPOSITES, PIECES


class Ledger:
    """The outcomes of this run's tests, by question, as far as they have run."""

    def __init__(self):
        self.outcomes = defaultdict(list)

    def record(self, qid, outcome):
        """``outcome``: 'passed', 'failed', 'skipped' or 'not gradable' (which counts neither way)."""
        if outcome != 'not gradable':
            self.outcomes[qid].append(outcome == 'passed')

    def trusted(self, piece):
        """Did the question grading ``piece`` run in this session and pass every test?"""
        results = self.outcomes.get(PIECES[piece][1], [])
        return bool(results) and all(results)

    def substitutes(self, qid, composite=()):
        """[(module, name)] of the pieces question ``qid`` builds on that the course must stand in for.
        ``composite``: pieces of COMPOSITES that stand in whole as soon as one piece they are made of does
        (a loop test asks for this: the composite is graded by a test of its own)."""
        names = [p for p in BY_ID[qid].uses if not self.trusted(p)]
        names += [c for c in composite if c not in names and set(names) & set(COMPOSITES[c])]
        return [(PIECES[p][0], p) for p in names]
