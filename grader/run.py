"""Run the test suite on one implementation in a fresh pytest process and score it.

Shared by ``grade``, ``selfcheck``, ``batch`` and the harness's own tests, so they all score the same
way. A fresh process per run keeps each implementation's course modules (nn, q2, ...) apart."""
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from grader import paths
from grader.rubric import QUESTIONS, marker_name
from grader.scoring import score


@dataclass
class RunResult:
    impl: str
    questions: list          # the rubric rows asked for
    outcomes: list           # one record per test (see grader/pytest_plugin.py)
    rows: dict               # question id -> QuestionScore
    returncode: int
    output: str              # pytest's terminal output, for diagnosis

    @property
    def total(self):
        return round(sum(r.score for r in self.rows.values()), 4)

    def points(self, qid):
        return self.rows[qid].score


def run_tests(impl, questions=None, hidden=True, extra_args=(), timeout=None, env=None):
    """Test ``impl`` ('reference', 'student' or a folder) on ``questions`` (rubric ids; all by default)."""
    questions = list(questions or [q.id for q in QUESTIONS])
    selection = ' or '.join(marker_name(q) for q in questions)
    if not hidden:
        selection = f'({selection}) and not hidden'
    with tempfile.TemporaryDirectory(prefix='nn-grade-') as tmp:
        results = os.path.join(tmp, 'results.json')
        cmd = [sys.executable, '-m', 'pytest', str(paths.TESTS), f'--impl={impl}', '-m', selection,
               '--results-json', results, '-q', '--no-score', '-p', 'no:cacheprovider', *extra_args]
        run_env = {**os.environ, 'HYPOTHESIS_PROFILE': 'grading', 'PYTHONHASHSEED': '0', 'MPLBACKEND': 'Agg',
                   **(env or {})}
        proc = subprocess.run(cmd, cwd=paths.ROOT, env=run_env, capture_output=True, text=True, timeout=timeout)
        outcomes = []
        if os.path.exists(results):
            with open(results) as f:
                outcomes = json.load(f)['tests']
    return RunResult(str(impl), questions, outcomes, score(outcomes, questions), proc.returncode,
                     proc.stdout + proc.stderr)
