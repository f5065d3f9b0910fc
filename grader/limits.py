"""Limits on what one call into an isolated submission may use, and the sentences that say which one a
call hit. Defaults are generous enough for a legitimate training call; a test that trains longer says
so with ``@pytest.mark.limits(wall=300, memory_mb=4000)``."""
import resource
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Limits:
    wall: float = 60.0          # seconds of real time per call
    cpu: float = None           # seconds of CPU time per call (None: same as wall, times the cores used)
    memory_mb: int = 4000       # address space of the worker (RLIMIT_AS), MB
    output_mb: int = 16         # what one call may print (stdout + stderr), and any file it writes, MB
    reply_mb: int = 1024        # size of the data one call may send back, MB
    budget: float = 900.0       # seconds of wall time for all calls of one rubric question

    @property
    def cpu_seconds(self):
        return self.cpu if self.cpu is not None else 2 * self.wall

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


class LimitExceeded(Exception):
    """A call into the submission hit a limit; the message says which (for the student). ``wall_time``:
    the limit hit was the call's wall time (the grader then stops calling that function)."""

    def __init__(self, message, wall_time=False):
        super().__init__(message)
        self.wall_time = wall_time


def wall_message(call, limits):
    return f'{call} exceeded the {limits.wall:g} s wall-time limit (it was stopped)'


def death_message(call, status, limits):
    """A sentence for a worker that died during ``call`` with waitpid ``status``."""
    import os
    import signal
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU or sig == signal.SIGKILL:
            return f'{call} exceeded the {limits.cpu_seconds:g} s CPU-time limit (or was killed)'
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
    wall-time limit, enforced from outside, bounds every call anyway."""
    return [(resource.RLIMIT_AS, limits.memory_mb << 20), (resource.RLIMIT_FSIZE, limits.output_mb << 20)]


def covers(started, limits):
    """Can a worker started with ``started`` serve a call with ``limits`` (hard limits only go down)?"""
    return limits.memory_mb <= started.memory_mb and limits.output_mb <= started.output_mb


def for_worker(limits):
    return {'cpu': limits.cpu_seconds, 'memory': limits.memory_mb << 20, 'output': limits.output_mb << 20}
