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
    tests: list = field(default_factory=list)   # the outcome records of this question's tests

    @property
    def graded(self):
        return bool(self.tests)


def score(outcomes, questions=None):
    """``outcomes``: dicts with question, function, weight and outcome ('passed'/'failed'/'error'/
    'skipped'). Returns {question id: QuestionScore} for the rubric rows in ``questions`` (all by
    default); a row with no tests scores 0 and says so in the report."""
    wanted = questions or [q.id for q in QUESTIONS]
    rows = {qid: QuestionScore(qid, BY_ID[qid].title, BY_ID[qid].points) for qid in wanted}
    groups = defaultdict(list)
    for o in outcomes:
        if o['question'] in rows:
            groups[(o['question'], o['function'])].append(o)
            rows[o['question']].tests.append(o)
    weights = defaultdict(float)
    earned = defaultdict(float)
    for (qid, _), cases in groups.items():
        weight = cases[0]['weight']
        weights[qid] += weight
        earned[qid] += weight * sum(c['outcome'] == 'passed' for c in cases) / len(cases)
    for qid, row in rows.items():
        row.passed = sum(t['outcome'] == 'passed' for t in row.tests)
        row.failed = len(row.tests) - row.passed
        if weights[qid]:
            row.score = round(row.max_score * earned[qid] / weights[qid], 4)
    return rows


def table(rows):
    """A plain-text per-question table for terminals and reports."""
    lines = [f"{'question':<9} {'score':>11}  {'tests':>9}  title", '-' * 72]
    for row in rows.values():
        tests = f'{row.passed}/{len(row.tests)}' if row.graded else 'none'
        lines.append(f'{row.id:<9} {row.score:>5.2f} / {row.max_score:<3g}  {tests:>9}  {row.title}')
    total = sum(r.score for r in rows.values())
    lines.append('-' * 72)
    lines.append(f"{'total':<9} {total:>5.2f} / {sum(r.max_score for r in rows.values()):<3g}")
    return '\n'.join(lines)
