"""Run the test suite on one implementation in a fresh pytest process and score it.

Shared by ``grade``, ``selfcheck``, ``batch`` and the harness's own tests, so they all score the same
way. A fresh process per run keeps each implementation's course modules (nn, q2, ...) apart."""
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from grader import limits, paths
from grader.rubric import QUESTIONS, independent_parts, marker_name
from grader.scoring import score
from grader.warm_starts import Server, ServerStopped


# pytest exit codes after which every reported outcome is trustworthy: all passed, some failed, none selected.
NORMAL_EXIT = (0, 1, 5)

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


def run_tests(impl, questions=None, hidden=True, extra_args=(), timeout=None, env=None, server=None, jobs=1):
    """Test ``impl`` ('reference', 'student' or a folder) on ``questions`` (rubric ids; all by default).
    ``server``: a warm_server() to fork the run from instead of starting Python afresh. ``jobs`` > 1: the
    NumPy and the PyTorch part run side by side, each in a pytest process (and worker) of its own; every
    test computes on one thread with its own seed, and no limit counts time spent waiting for a CPU, so
    the verdicts are those of one run, sooner."""
    questions = list(questions or [q.id for q in QUESTIONS])
    parts = independent_parts(questions)
    if jobs > 1 and len(parts) > 1:
        with ThreadPoolExecutor(max_workers=min(jobs, len(parts))) as pool:
            runs = list(pool.map(lambda part: run_tests(impl, part, hidden, extra_args, timeout, env, server), parts))
        return _merged(impl, questions, runs)
    selection = ' or '.join(marker_name(q) for q in questions)
    if not hidden:
        selection = f'({selection}) and not hidden'
    with tempfile.TemporaryDirectory(prefix='nn-grade-') as tmp:
        results = os.path.join(tmp, 'results.json')
        # --tb=native: a verdict reads only a failure's crash line (pytest_plugin._message), the same in every
        # style, while pytest's own style re-parses the source of every frame of every failure: half the
        # trusted process's CPU on a hand-in that fails most tests. extra_args may still choose another.
        args = [str(paths.TESTS), f'--impl={impl}', '-m', selection, '--results-json', results, '-q', '--no-score',
                '--tb=native', '-p', 'no:cacheprovider', *extra_args]
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


def _merged(impl, questions, runs):
    """One RunResult of the side-by-side ``runs``. An abnormal exit of either run is the merged exit code,
    and its output comes last, where a reader of the run's last lines looks."""
    abnormal = [r for r in runs if r.returncode not in NORMAL_EXIT]
    codes = {r.returncode for r in runs}
    returncode = abnormal[0].returncode if abnormal else 1 if 1 in codes else 0 if 0 in codes else 5
    shown = [r for r in runs if r not in abnormal] + abnormal
    outcomes = [o for r in runs for o in r.outcomes]
    return RunResult(str(impl), questions, outcomes, score(outcomes, questions), returncode,
                     '\n'.join(r.output for r in shown), any(r.timed_out for r in runs),
                     {q: n for r in runs for q, n in (r.collected or {}).items()},
                     [v for r in runs for v in r.violations or []])


def side_by_side_jobs(extra_args=()):
    """How many parts a single grading runs at once on this machine: 2 when two CPUs are ours and the
    memory left holds two runs at their limits (a worker's address-space cap, as ``extra_args`` or
    NN_WORKER_LIMITS set it, and its libraries, plus what the trusted pytest process itself takes), so that one part can never
    push the other out of memory; else 1. A malformed --worker-limits gives 1: pytest then says what is wrong."""
    try:
        memory_mb = worker_limits(extra_args).memory_mb
    except (ValueError, TypeError):
        return 1
    need_mb = 2 * (memory_mb + LIBRARY_MB + TRUSTED_MB)
    return 2 if available_cpus() >= 2 and available_mb() >= need_mb else 1


def pytest_option(extra_args, name):
    """The value pytest will take for option ``--name`` from ``extra_args`` (the last one given, as
    ``--name=V`` or ``--name V``), or None."""
    given, args, flag = None, list(extra_args), f'--{name}'
    for i, arg in enumerate(args):
        if arg.startswith(flag + '='):
            given = arg.partition('=')[2]
        elif arg == flag and i + 1 < len(args):
            given = args[i + 1]
    return given


def worker_limits(extra_args=()):
    """The worker limits a test run given ``extra_args`` (pytest arguments) will use: the last
    --worker-limits among them, else NN_WORKER_LIMITS, else the defaults, as the plugin reads them."""
    return limits.requested(pytest_option(extra_args, 'worker-limits'))


# What the trusted pytest process of one run holds at most (peak RSS measured while grading the reference:
# 1.7 GB for the PyTorch part, with torch imported and the data loaded; 1.3 GB for the NumPy part).
TRUSTED_MB = 2000
# What a worker's libraries hold beside the hand-in's memory limit, which leaves them out (grader.worker.limits):
# torch and torchvision take 375 MB of their own memory once imported (RssAnon; numpy 13 MB).
LIBRARY_MB = 400


def available_cpus():
    """CPUs this process may run on, and no more than its cgroup's CPU quota (a container started with
    --cpus=1 still sees every CPU of the host)."""
    cpus = len(os.sched_getaffinity(0))
    try:
        quota, period = Path('/sys/fs/cgroup/cpu.max').read_text().split()
        if quota != 'max':
            cpus = min(cpus, int(quota) // int(period))
    except (OSError, ValueError):
        pass
    return cpus


def available_mb():
    """Memory this process may still use, MB: the kernel's MemAvailable, or the cgroup's limit less its
    usage where that is smaller (a container)."""
    found = float('inf')
    try:
        with open('/proc/meminfo') as f:
            found = next(int(line.split()[1]) / 1024 for line in f if line.startswith('MemAvailable:'))
    except (OSError, StopIteration, ValueError):
        pass
    try:
        limit = Path('/sys/fs/cgroup/memory.max').read_text().strip()
        if limit != 'max':
            used = int(Path('/sys/fs/cgroup/memory.current').read_text())
            found = min(found, (int(limit) - used) / 2 ** 20)
    except (OSError, ValueError):
        pass
    return found


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
