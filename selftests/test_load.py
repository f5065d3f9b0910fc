"""A verdict never depends on the machine's load (grader/limits.py): the time a worker waits for a CPU is
not counted against it, so the reference keeps full marks on a machine made deliberately busy."""
import contextlib
import os
import subprocess
import sys
import time

import pytest

from grader import paths
from grader.limits import CallClock, busy_time, cpu_time, run_delay
from grader.run import run_tests

SPIN = 'while True:\n    pass\n'
# Streams 2 x 256 MB through memory forever: the other programs' caches and memory bandwidth suffer.
BANDWIDTH = 'import numpy as np\na = np.ones(2 ** 25)\nb = np.empty_like(a)\nwhile True:\n    np.copyto(b, a)\n    np.copyto(a, b)\n'


@contextlib.contextmanager
def busy_machine(cpus=None, spinners=None):
    """CPU-bound processes (two per core, or ``spinners`` on ``cpus``) and one memory-bandwidth hog, all of
    this test's own, stopped at the end. Yields the list of processes."""
    cpus = cpus if cpus is not None else sorted(os.sched_getaffinity(0))
    count = spinners if spinners is not None else 2 * len(cpus)
    procs = [subprocess.Popen([sys.executable, '-c', SPIN]) for _ in range(count)]
    procs.append(subprocess.Popen([sys.executable, '-c', BANDWIDTH]))
    for p in procs:
        os.sched_setaffinity(p.pid, cpus)
    try:
        yield procs
    finally:
        for p in procs:
            p.kill()
            p.wait()


def _slowed_child(**clock_args):
    """A child that needs 0.6 s of CPU, sharing one core with three spinners (about 2.4 s of wall time),
    watched by a CallClock of 1.5 s: (the clock, the lowest time it had left, the child's wall time)."""
    with busy_machine(cpus=[0], spinners=3):
        child = subprocess.Popen([sys.executable, '-c', 'import time\nt = time.process_time()\n'
                                  'while time.process_time() - t < 0.6:\n    pass\n'])
        os.sched_setaffinity(child.pid, [0])
        clock, start = CallClock(1.5, child.pid, **clock_args), time.monotonic()
        lowest = clock.remaining()
        while child.poll() is None:
            lowest = min(lowest, clock.remaining())
            time.sleep(0.05)
        return clock, lowest, time.monotonic() - start


def test_call_clock_does_not_count_time_spent_waiting_for_a_cpu():
    """The slowed child: a plain 1.5 s deadline would stop it, its CallClock of 1.5 s does not run out."""
    clock, lowest, wall = _slowed_child()
    assert wall > 1.5, f'the child was not slowed down ({wall:.2f} s), so this proves nothing'
    assert lowest > 0, f'the clock ran out ({lowest:.2f} s left) although the child had waited {clock.waited():.2f} s'


def test_call_clock_counts_waiting_the_workers_own_processes_cause():
    """The same slowed child, but the worker is not alone (a fork bomb makes its own worker wait): from
    then on its wait counts, so the clock runs out as a plain deadline would."""
    clock, lowest, wall = _slowed_child(alone=lambda: False)
    assert wall > 1.7, f'the child was not slowed down ({wall:.2f} s), so this proves nothing'
    assert lowest < 0 and clock.waited() == 0.0, (lowest, clock.waited())


def test_call_clock_counts_sleeping():
    """Waiting that is not the machine's doing (a call that sleeps) is counted in full."""
    child = subprocess.Popen([sys.executable, '-c', 'import time\ntime.sleep(3)'])
    try:
        clock = CallClock(1.0, child.pid)
        time.sleep(1.3)
        assert clock.remaining() < 0, clock.remaining()
    finally:
        child.kill()
        child.wait()


def test_call_clock_credits_the_time_the_course_worker_works_and_only_that():
    """A call waiting for the course's worker (over their pipe pair) is not charged that worker's time,
    however long; while that worker idles, the call's own clock runs as usual."""
    procs = [subprocess.Popen([sys.executable, '-c', code]) for code in
             ('import time\ntime.sleep(3)', SPIN, 'import time\ntime.sleep(3)')]
    worker, working, idle = procs
    try:
        credited = CallClock(1.0, worker.pid, elsewhere=lambda: busy_time(working.pid))
        not_credited = CallClock(1.0, worker.pid, elsewhere=lambda: busy_time(idle.pid))
        time.sleep(1.3)
        assert credited.remaining() > 0.5, credited.remaining()
        assert not_credited.remaining() < 0, not_credited.remaining()
    finally:
        for p in procs:
            p.kill()
            p.wait()


@pytest.mark.slow
def test_reference_keeps_full_marks_on_a_busy_machine():
    """The reference, graded isolated while every core runs two CPU-bound processes and a memory hog
    streams through memory, keeps full marks on the questions whose training lost points to the load."""
    questions = ['2.4.1', '3.1.1', '5.2']
    with busy_machine() as procs:
        start, waited = time.monotonic(), [run_delay(p.pid) for p in procs]
        result = run_tests('reference', questions, extra_args=['--isolate'])
        elapsed = time.monotonic() - start
        spent = sum(cpu_time(p.pid) for p in procs)
        waited = sum(run_delay(p.pid) - w for p, w in zip(procs, waited))
    # The hogs ran, and the cores were oversubscribed: runnable, they waited for a CPU most of the time
    # (more so if other work shares the machine, so this cannot fail because of someone else's load).
    assert spent > 0.1 * elapsed and waited > 0.4 * elapsed * len(procs), \
        f'the machine was not busy: the hogs ran {spent:.0f} s and waited {waited:.0f} s in {elapsed:.0f} s'
    assert result.total == 10, ({q: r.score for q, r in result.rows.items()}, result.output[-3000:])


BLAS_PROBE = '''
import ctypes, glob, os

def pytest_sessionstart(session):   # after the checkout's conftest.py; NumPy is loaded by then
    import numpy
    libs = glob.glob(os.path.join(os.path.dirname(numpy.__file__) + '.libs', '*openblas*'))
    get = [getattr(ctypes.CDLL(p), n, None) for p in libs for n in ('scipy_openblas_get_num_threads64_',
                                                                    'openblas_get_num_threads')]
    threads = next((f() for f in get if f is not None), 'unknown')
    print('BLAS-THREADS', os.environ.get('OPENBLAS_NUM_THREADS'), threads)
'''


@pytest.mark.parametrize('chosen', [None, '2'])
def test_plain_pytest_computes_on_one_blas_thread_unless_the_caller_chose(tmp_path, chosen):
    """A student's plain `pytest` (and the workers of `pytest --isolate`, which inherit the setting) uses
    one BLAS thread, as grading does; a thread count the caller set is kept."""
    (tmp_path / 'blasprobe.py').write_text(BLAS_PROBE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(('OPENBLAS_', 'OMP_', 'MKL_'))}
    env['PYTHONPATH'] = str(tmp_path)
    if chosen:
        env['OPENBLAS_NUM_THREADS'] = chosen
    proc = subprocess.run([sys.executable, '-m', 'pytest', 'tests/test_q1_theory.py', '--impl=reference', '--co', '-q',
                           '-s', '-p', 'blasprobe', '-p', 'no:cacheprovider'], cwd=paths.ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    said = next((line.split()[1:] for line in proc.stdout.splitlines() if line.startswith('BLAS-THREADS')), None)
    assert said is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
    if chosen:
        assert said[0] == chosen
    else:
        assert said[0] == '1' and said[1] in ('1', 'unknown'), said
