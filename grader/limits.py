"""Limits on what one call into an isolated submission may use, and the sentences that say which one a
call hit. Defaults are generous enough for a legitimate training call; a test that trains longer says
so with ``@pytest.mark.limits(reference=20)`` (the seconds the reference needs for its calls here).

A verdict must not depend on the machine's load, so no limit counts time the worker spent waiting for a
CPU: CPU time is the worker's own, and a call's wall time is measured by ``CallClock``, which leaves out
the worker's run-queue delay (what other processes cost it). Wall time still catches a call that sleeps
or waits. A machine that is slower than the one the figures were measured on gets proportionally more
(``machine_factor``, from a short probe when grading starts)."""
import os
import resource
import time
from dataclasses import dataclass, fields, replace

from grader.worker.limits import LIBRARY_ROOM

OPEN_FILES = 4096   # a worker process's open files: four times the usual default, which honest code expects


@dataclass(frozen=True)
class Limits:
    wall: float = 60.0          # seconds of real time per call
    cpu: float = None           # seconds of CPU time per call (None: same as wall, times the cores used)
    memory_mb: int = 4000       # address space of the worker (RLIMIT_AS), MB, beyond its libraries' (grader.worker.limits)
    output_mb: int = 16         # what one call may print (stdout + stderr), and any file it writes, MB
    reply_mb: int = 1024        # size of the data one call may send back, MB
    budget: float = 900.0       # seconds of wall time for all calls of one rubric question
    reference: float = None     # seconds the reference needs for this test's longest call (calibration
                                # machine): its limits are then REFERENCE_MULTIPLE times that
    factor: float = 1.0         # how much slower this machine is than the calibration machine (>= 1)

    @property
    def wall_seconds(self):
        base = max(self.wall, REFERENCE_MULTIPLE * self.reference) if self.reference else self.wall
        return base * self.factor

    @property
    def cpu_seconds(self):
        return (self.cpu * self.factor) if self.cpu is not None else 2 * self.wall_seconds

    def with_marker(self, mark):
        """Apply ``@pytest.mark.limits(...)`` keyword arguments; unknown names are refused."""
        if mark is None:
            return self
        known = {f.name for f in fields(self)}
        unknown = set(mark.kwargs) - known
        if unknown or mark.args:
            raise ValueError(f'@pytest.mark.limits takes keyword arguments {sorted(known)}; got '
                             f'{sorted(unknown) or list(mark.args)}')
        return replace(self, **mark.kwargs)


DEFAULT = Limits()


def parse(text):
    """'wall=10,memory_mb=2000' (the --worker-limits / NN_WORKER_LIMITS form) -> Limits; an unknown name
    or a value that is not a number raises ValueError."""
    types = {f.name: float for f in fields(DEFAULT)}
    types.update(memory_mb=int, output_mb=int, reply_mb=int)
    values = {}
    for part in filter(None, (p.strip() for p in text.split(','))):
        name, _, value = part.partition('=')
        if name not in types:
            raise ValueError(f'unknown limit {name!r}; known: {", ".join(types)}')
        values[name] = types[name](value)
    return replace(DEFAULT, **values)


def requested(given=None):
    """The worker limits a run uses: ``given`` (a --worker-limits value) if set, else NN_WORKER_LIMITS,
    else the defaults."""
    return parse(given or os.environ.get('NN_WORKER_LIMITS', ''))


REFERENCE_MULTIPLE = 10   # a correct but slower solution gets ten times the reference's time


class LimitExceeded(Exception):
    """A call into the submission hit a limit; the message says which (for the student). ``wall_time``:
    the limit hit was the call's wall time (the grader then stops calling that function)."""

    def __init__(self, message, wall_time=False):
        super().__init__(message)
        self.wall_time = wall_time


def seconds(x):
    """A limit as a student reads it: '3', '2.5', '600' (limits scaled by the machine factor are not
    worth six digits)."""
    return f'{x:.0f}' if x >= 10 else f'{x:.1f}'.removesuffix('.0')


def wall_message(call, limits):
    return f'{call} exceeded the {seconds(limits.wall_seconds)} s wall-time limit (it was stopped){_reference_note(limits)}'


def _reference_note(limits):
    if not limits.reference:
        return ''
    return (f'; the reference takes about {limits.reference * limits.factor:.0f} s for it on this machine, and time '
            'the machine spent on other work was not counted')


def memory_message(call, limits, held_mb):
    """A sentence for a call whose processes together held more memory than the limit allows one."""
    return (f'{call} exceeded the {limits.memory_mb} MB memory limit: the worker and any processes it started '
            f'held {held_mb:.0f} MB, sockets counted as full (it was stopped)')


def death_message(call, status, limits):
    """A sentence for a worker that died during ``call`` with waitpid ``status``."""
    import signal
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU or sig == signal.SIGKILL:
            return f'{call} exceeded the {seconds(limits.cpu_seconds)} s CPU-time limit (or was killed){_reference_note(limits)}'
        if sig == signal.SIGXFSZ:
            return f'{call} exceeded the {limits.output_mb} MB output limit'
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f'{call} crashed the worker process ({name}); the grader restarted it'
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return f'{call} ended the worker process (exit code {code}) before returning; graded functions must ' \
           f'return, not exit'


def hard_limits(limits):
    """Set in the worker before it starts (soft = hard): what it can never exceed. Per-call limits are
    soft ones below these (see apply). CPU time has no hard cap because it adds up over the session; the
    wall-time limit, enforced from outside, bounds every call anyway. The address space has room for the
    libraries' files until the worker has loaded them (grader.worker.limits.settle). Open files are capped
    the same on every machine (the host's cap may be 1024 or a million): each can hold kernel memory that
    no memory limit sees (a socket's buffers)."""
    files = min(OPEN_FILES, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    return [(resource.RLIMIT_AS, (limits.memory_mb << 20) + LIBRARY_ROOM), (resource.RLIMIT_FSIZE, limits.output_mb << 20),
            (resource.RLIMIT_NOFILE, files)]


def covers(started, limits):
    """Can a worker started with ``started`` serve a call with ``limits`` (hard limits only go down)?"""
    return limits.memory_mb <= started.memory_mb and limits.output_mb <= started.output_mb


def for_worker(limits):
    return {'cpu': limits.cpu_seconds, 'memory': limits.memory_mb << 20, 'output': limits.output_mb << 20}


# ---------------------------------------------------------------- time that load cannot use up

def _schedstat(pid):
    """(seconds on a CPU, seconds runnable but waiting for one) of process ``pid``'s main thread, or None."""
    try:
        with open(f'/proc/{pid}/schedstat') as f:
            ran, waited = f.read().split()[:2]
        return int(ran) / 1e9, int(waited) / 1e9
    except (OSError, ValueError, TypeError):
        return None


def cpu_time(pid):
    """Seconds process ``pid``'s main thread has run on a CPU, or None."""
    times = _schedstat(pid)
    return times[0] if times else None


def run_delay(pid):
    """Seconds process ``pid``'s main thread has spent runnable but waiting for a CPU, or None."""
    times = _schedstat(pid)
    return times[1] if times else None


def busy_time(pid):
    """Seconds process ``pid``'s main thread has run or waited to run (what it would have cost a process
    that waited for it), or None."""
    times = _schedstat(pid)
    return sum(times) if times else None


class CallClock:
    """A call's wall-time allowance that the machine's load does not use up: the time the worker ``pid``
    waited on the run queue is added back (where the kernel reports it). ``extend`` adds time spent
    elsewhere (a call out of the worker); ``cap`` (a time.monotonic() value) is never passed.

    ``alone()``, if given, says whether the worker runs without processes of its own beside it. Once it
    has some, the wait is no longer the machine's doing (a fork bomb makes its own worker wait): the
    allowance keeps what was added back while the worker was last seen alone, and nothing more.

    ``elsewhere()``, if given, is another process's busy time (busy_time: the course's worker, which the
    worker calls over their pipe pair); what it adds during the call is added to the allowance, as the
    time of a call out relayed by the grader is (extend)."""

    REFRESH = 0.25   # seconds between looks at the worker: alone() scans /proc, and a reply of many
                     # chunks asks for the time left at each one
    WATCH = 0.25     # seconds between calls of watch()

    def __init__(self, seconds, pid=None, cap=None, alone=None, elsewhere=None, watch=None):
        self.end, self.pid, self.cap, self.alone = time.monotonic() + seconds, pid, cap, alone
        self.watch, self.watched = watch, time.monotonic()
        self.delay = run_delay(pid) if pid else None
        self.elsewhere, self.away = elsewhere, (elsewhere() if elsewhere else None)
        # the first look comes after REFRESH: a call that ends sooner needs no credit (a training loop
        # makes thousands of such calls out of the worker, each with a clock of its own)
        self.credited, self.crowded, self.looked, self.spent_away = 0.0, False, time.monotonic(), 0.0

    def waited(self):
        if time.monotonic() - self.looked < self.REFRESH:
            return self.credited
        self.looked = time.monotonic()
        # (the other process cannot start during the call: it ran when the clock started, or it is not counted)
        now = self.elsewhere() if self.away is not None else None
        if now is not None:
            self.spent_away = max(self.spent_away, now - self.away)
        if self.delay is None or self.crowded:
            return self.credited
        now = run_delay(self.pid)
        if now is None or now - self.delay <= self.credited:   # no new waiting: nothing to look into
            return self.credited
        if self.alone is not None and not self.alone():
            self.crowded = True
        else:
            self.credited = now - self.delay
        return self.credited

    def remaining(self):
        """Seconds left; ``watch()``, if given, is called every WATCH seconds from here (it may raise to
        stop the call: grader.isolation.process watches the memory of the worker's processes)."""
        now = time.monotonic()
        if self.watch is not None and now - self.watched >= self.WATCH:
            self.watched = now
            self.watch()
        left = self.end + self.waited() + self.spent_away - now
        return min(left, self.cap - now) if self.cap is not None else left

    def extend(self, seconds):
        self.end += seconds

    def capped(self):
        """Did the cap (not the allowance) run out?"""
        return self.cap is not None and time.monotonic() >= self.cap - 0.01




def probe():
    """CPU seconds of a fixed single-threaded workload, like the grading's (small matrix products and
    Python-level loops)."""
    import numpy as np
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(64, 256)), rng.normal(size=(256, 64))
    start = time.process_time()
    total = 0.0
    for _ in range(1500):
        total += float(np.tanh(a @ b).sum())
    return time.process_time() - start


# CPU seconds of probe() on the calibration machine (the 2-core machine the figures in the tests'
# calibration notes come from; the fastest of 7 runs with the grader at real-time priority, so that
# other work did not slow it).
PROBE_BASE = 0.20


def machine_factor():
    """How much slower this machine runs the probe than the calibration machine (at least 1)."""
    seconds = min(probe() for _ in range(3))
    return max(1.0, seconds / PROBE_BASE)
