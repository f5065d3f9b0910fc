"""Outcomes of tests -> points per question, following the rubric. A question's points are shared among
its test functions by weight; a parametrized function's weight is shared among its cases."""
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from grader.rubric import BY_ID, QUESTIONS

NO_TESTS = 'no tests yet'   # the status of a question none of whose tests ran


@dataclass
class QuestionScore:
    id: str
    title: str
    max_score: float
    score: float = 0.0
    passed: int = 0
    failed: int = 0
    not_gradable: int = 0
    tests: list = field(default_factory=list)   # the outcome records of this question's tests

    @property
    def graded(self):
        return bool(self.tests)

    @property
    def tally(self):
        """'5/6' (tests passed / judged), with '+1 not gradable' for tests this machine could not judge."""
        judged = len(self.tests) - self.not_gradable
        return f'{self.passed}/{judged}' + (f' +{self.not_gradable} not gradable' if self.not_gradable else '')


NOT_GRADABLE = 'not gradable'


def score(outcomes, questions=None):
    """``outcomes``: dicts with question, function, weight and outcome ('passed'/'failed'/'skipped'/
    'not gradable'). Returns {question id: QuestionScore} for the rubric rows in ``questions`` (all by
    default); a row with no tests scores 0 and says so in the report. A 'not gradable' case (this machine
    cannot judge it, e.g. pretrained weights are absent) counts neither way: its share goes to the cases
    that could be judged. A plain skip counts as not passed."""
    wanted = questions or [q.id for q in QUESTIONS]
    rows = {qid: QuestionScore(qid, BY_ID[qid].title, BY_ID[qid].points) for qid in wanted}
    groups = defaultdict(list)
    for o in outcomes:
        if o['question'] in rows:
            rows[o['question']].tests.append(o)
            if o['outcome'] != NOT_GRADABLE:
                groups[(o['question'], o['function'])].append(o)
    weights = defaultdict(float)
    earned = defaultdict(float)
    for (qid, _), cases in groups.items():
        weight = cases[0]['weight']
        weights[qid] += weight
        earned[qid] += weight * sum(c['outcome'] == 'passed' for c in cases) / len(cases)
    for qid, row in rows.items():
        row.passed = sum(t['outcome'] == 'passed' for t in row.tests)
        row.not_gradable = sum(t['outcome'] == NOT_GRADABLE for t in row.tests)
        row.failed = len(row.tests) - row.passed - row.not_gradable
        if weights[qid]:
            row.score = round(row.max_score * earned[qid] / weights[qid], 4)
    return rows


def cents(x):
    """``x`` points rounded half up to 0.01: every score the harness shows or stores is in cents, so the
    parts shown always add up to the total shown."""
    return float(Decimal(repr(float(x))).quantize(Decimal('0.01'), ROUND_HALF_UP))


def add(*points):
    """Exact sum of point values in cents (no float drift: 1.12 + 0.13 is 1.25)."""
    return float(sum((Decimal(repr(cents(p))) for p in points), Decimal(0)))


TABLE_WIDTH = 100        # characters at most; a long title is cut to fit
STATUS_WIDTH = 24        # at most, for the status column ('12/13 +1 not gradable', 'rule violation')


def table(rows):
    """The per-question table of a pytest run (grader/pytest_plugin.py): ``rows`` is score()'s dict."""
    return render_table([(r.id, cents(r.score), r.max_score, r.tally if r.graded else untested(r.id), r.title)
                         for r in rows.values()])


def untested(qid):
    """The status of a question none of whose tests ran in a run that ended normally."""
    question = BY_ID.get(qid)
    return (question.absent if question is not None else '') or NO_TESTS


def render_table(rows, width=TABLE_WIDTH):
    """A plain-text per-question table, at most ``width`` characters wide: rows of (question, points,
    max points, status, title). Shared by the pytest summary, ``grade`` and the Gradescope output."""
    wide = min(STATUS_WIDTH, max([len('tests')] + [len(r[3]) for r in rows]))
    head = f"{'question':<8}  {'score':>6}   {'of':<5}  {'tests':<{wide}}  title"
    lines = []
    for qid, points, top, status, title in rows:
        line = f'{qid:<8}  {cents(points):>6.2f} / {top:<5g}  {_cut(status, wide):<{wide}}  '
        lines.append(line + _cut(title, width - len(line)))
    rule = '-' * max(len(line) for line in [head, *lines])
    total = f"{'total':<8}  {add(*(r[1] for r in rows)):>6.2f} / {add(*(r[2] for r in rows)):g}"
    return '\n'.join([head, rule, *lines, rule, total])


def _cut(text, room):
    return text if len(text) <= room else text[:max(0, room - 3)] + '...'
