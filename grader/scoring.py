"""Outcomes of tests -> points per question, following the rubric. A question's points are shared among
its test functions by weight; a parametrized function's weight is shared among its cases."""
from collections import defaultdict
from dataclasses import dataclass, field

from grader.rubric import BY_ID, QUESTIONS


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
        """'5/6' (tests passed / run), with '+1 n/g' for tests this machine could not judge."""
        judged = len(self.tests) - self.not_gradable
        return f'{self.passed}/{judged}' + (f' +{self.not_gradable} n/g' if self.not_gradable else '')


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


def table(rows):
    """A plain-text per-question table for terminals and reports."""
    lines = [f"{'question':<9} {'score':>11}  {'tests':>11}  title", '-' * 74]
    for row in rows.values():
        tests = row.tally if row.graded else 'none'
        lines.append(f'{row.id:<9} {row.score:>5.2f} / {row.max_score:<3g}  {tests:>11}  {row.title}')
    total = sum(r.score for r in rows.values())
    lines.append('-' * 74)
    lines.append(f"{'total':<9} {total:>5.2f} / {sum(r.max_score for r in rows.values()):<3g}")
    return '\n'.join(lines)
