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
from grader.warm_starts import Server, ServerStopped


# Grading computes with one BLAS thread (unless told otherwise): the matrices are small, and a second
# thread only spins, which on a machine shared with other gradings makes the time a test takes depend on
# the load. The worker inherits it; direct and isolated runs compute the same bits.
ONE_THREAD = {'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}


@dataclass
class RunResult:
    impl: str
    questions: list          # the rubric rows asked for
    outcomes: list           # one record per test (see grader/pytest_plugin.py)
    rows: dict               # question id -> QuestionScore
    returncode: int          # pytest's exit code (None if it was stopped at the time limit)
    output: str              # pytest's terminal output, for diagnosis
    timed_out: bool = False  # stopped at ``timeout``: the outcomes are those reached by then
    collected: dict = None   # question id -> number of its tests in the run
    violations: list = None  # {'file', 'line', 'library'}: forbidden imports the worker caught as they ran

    def complete(self, qid):
        """Did every test of ``qid`` in this run finish (always true unless the run was stopped)?"""
        return not self.timed_out or sum(o['question'] == qid for o in self.outcomes) == (self.collected or {}).get(qid)

    @property
    def total(self):
        return round(sum(r.score for r in self.rows.values()), 4)

    def points(self, qid):
        return self.rows[qid].score


def environment(env=None):
    """The environment a run gets: one BLAS thread unless the caller's environment says otherwise, the
    deterministic Hypothesis profile, a fixed hash seed, no display; ``env`` on top."""
    return {**ONE_THREAD, **os.environ, 'HYPOTHESIS_PROFILE': 'grading', 'PYTHONHASHSEED': '0',
            'MPLBACKEND': 'Agg', **(env or {})}


def warm_server(questions=None):
    """A grader.warm_starts.Server for run_tests of ``questions`` (rubric ids; None: any), started with
    the environment runs get."""
    return Server(environment(), paths.ROOT, questions)


def run_tests(impl, questions=None, hidden=True, extra_args=(), timeout=None, env=None, server=None):
    """Test ``impl`` ('reference', 'student' or a folder) on ``questions`` (rubric ids; all by default).
    ``server``: a warm_server() to fork the run from instead of starting Python afresh."""
    questions = list(questions or [q.id for q in QUESTIONS])
    selection = ' or '.join(marker_name(q) for q in questions)
    if not hidden:
        selection = f'({selection}) and not hidden'
    with tempfile.TemporaryDirectory(prefix='nn-grade-') as tmp:
        results = os.path.join(tmp, 'results.json')
        args = [str(paths.TESTS), f'--impl={impl}', '-m', selection, '--results-json', results, '-q', '--no-score',
                '-p', 'no:cacheprovider', *extra_args]
        run_env = environment(env)
        try:
            returncode, output, timed_out = (_fresh if server is None else server.run)(args, run_env, timeout)
        except ServerStopped:   # the warm server died (killed, out of memory): this run starts afresh
            returncode, output, timed_out = _fresh(args, run_env, timeout)
        records = _records(results)
        outcomes = [r for r in records if 'nodeid' in r]
        collected = next((r['collected'] for r in records if 'collected' in r), {})
        violations = [r['violation'] for r in records if 'violation' in r]
    return RunResult(str(impl), questions, outcomes, score(outcomes, questions), returncode, output, timed_out,
                     collected, violations)


def _fresh(args, env, timeout):
    """(returncode, output, timed_out) of ``python -m pytest *args`` in a new process."""
    try:
        proc = subprocess.run([sys.executable, '-m', 'pytest', *args], cwd=paths.ROOT, env=env, capture_output=True,
                              text=True, errors='replace', timeout=timeout)
        return proc.returncode, proc.stdout + proc.stderr, False
    except subprocess.TimeoutExpired as exc:   # pytest was killed; its worker dies with it
        return None, ''.join(s.decode(errors='replace') if isinstance(s, bytes) else s
                             for s in (exc.stdout, exc.stderr) if s), True


def read_outcomes(path):
    """The test records of a --results-json file (JSON lines; a run that was stopped leaves a partial one)."""
    return [r for r in _records(path) if 'nodeid' in r]


def _records(path):
    if not os.path.exists(path):
        return []
    records = []
    with open(path) as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except ValueError:   # a line cut off when the run was stopped
                break
    return records
