"""One running worker process (grader.worker.server in the sandbox of grader.isolation.sandbox): start it,
send it requests under per-call limits, read its replies (and the calls it makes out while it works),
and stop it with everything it started."""
import contextlib
import errno
import fcntl
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from grader.isolation import sandbox
from grader.limits import CallClock, LimitExceeded, death_message, for_worker, memory_message, wall_message
from grader.worker import wire
from grader.worker.loader import MODULES, SubmissionError

STARTUP_SECONDS = 120.0   # for Python, NumPy (and torch) to load in a new worker, however busy the machine
MACHINE_PROBLEM = 'a problem of the grading machine, not of the hand-in: please tell the course staff'
FEW_FILES = 256           # a worker with at most this many open files is not watched alone: 64 MB of sockets
SOCKET_KB = 256           # what one socket's buffers can hold here: 2,000 socket pairs, one way full, held 444 MB
PIPE_BYTES = 1 << 20      # the pipes' buffers (Linux's default cap for a process without privileges)
KILL_SECONDS = 60.0       # for a killed worker's processes to be gone, however busy the machine
PF_EXITING = 0x4          # in the flags of /proc/<pid>/stat: the process has begun to exit (linux/sched.h)


class WorkerProcess:
    """One worker over the course files of ``root``. Dies with the first limit hit or crash; the client
    starts another. ``resolve(tag)`` turns the tags it sends (handles, refs) into grader-side objects.
    ``pair``: its ends (read, write) of the pipe pair to the other worker (grader.worker.link), handed
    over (closed here); ``course``: this worker serves the course's pieces over it; ``torch``: it loads torch
    and torchvision before any hand-in code (grader.worker.limits.settle)."""

    def __init__(self, root, limits, resolve, pair, course=False, torch=False):
        self.started_with = limits
        self.torch = torch
        self.resolve = resolve
        self.bwrap = sandbox.bubblewrap()[0] is not None
        self.uid = sandbox.fresh_uid() if (self.bwrap and sandbox.privileged()) or sandbox.fallback_uid() else None
        self.tmp = Path(tempfile.mkdtemp(prefix='nn-worker-'))
        lib, handin = sandbox.stage(self.tmp, root, [f'{m}.py' for m in MODULES])
        scratch = self.tmp / 'scratch'
        if not self.bwrap:   # the fallback's private scratch is a folder of the host
            (scratch / 'home').mkdir(parents=True)
            if self.uid is not None:
                for p in (scratch, scratch / 'home'):
                    os.chown(p, self.uid, self.uid)
                os.chmod(self.tmp, 0o711)
        self.output_path = self.tmp / 'output.txt'
        out = os.open(self.output_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.output = os.open(self.output_path, os.O_RDWR)
        req_r, self.req_w = os.pipe()
        os.set_blocking(self.req_w, False)
        self.rep_r, rep_w = os.pipe()
        for fd in (self.req_w, self.rep_r):   # arrays of many MB cross in 1 MB steps, not 64 kB ones
            with contextlib.suppress(OSError):
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self.reader = wire.Reader(self.rep_r)
        info_r, info_w = os.pipe() if self.bwrap else (None, None)
        filter_r = sandbox.seccomp_pipe() if self.bwrap else None
        cmd = sandbox.command(lib, handin, [str(req_r), str(rep_w), *map(str, pair), 'course' if course else 'submission',
                                            'torch' if torch else 'numpy'], self.uid, info_w, filter_r)
        home = '/tmp/home' if self.bwrap else str(scratch / 'home')
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd='/' if self.bwrap else scratch,
            pass_fds=tuple(fd for fd in (req_r, rep_w, *pair, info_w, filter_r) if fd is not None), env=sandbox.environment(home),
            start_new_session=True, preexec_fn=sandbox.preexec(limits, self.uid))
        for fd in (req_r, rep_w, *pair, out, info_w, filter_r):
            if fd is not None:
                os.close(fd)
        self.pidns, init = sandbox.read_info(info_r) if self.bwrap else (None, None)
        sandbox.log_identity(self.uid, self.pidns, init and [init, _started(init)])
        self._pinned = _pin(init, self.pidns)
        if self._pinned is None:   # (its sandbox is gone: _wait_ready says so) an inode not held names nothing
            self.pidns = None
        self.pid = self.proc.pid
        self.seq = 0
        self.last_output = ''
        self.releases = []   # handle numbers the grader no longer holds, sent with the next request
        self._wait_ready()
        self.python_pid = self._python_pid()
        self.base_kb = _memory_kb(self.python_pid) or 0   # its libraries' own, before any hand-in code

    def _python_pid(self):
        """The worker's own process (inside bubblewrap, the sandbox's second process), whose run-queue delay
        CallClock leaves out."""
        if self.pidns is None:
            return self.pid
        return next((int(p) for p in os.listdir('/proc') if p.isdigit() and _pidns(p) == self.pidns
                     and _inner_pid(p) == 2), None)

    def _wait_ready(self):
        """Wait for the worker's first message (Python, NumPy, torch where asked and the worker package
        loaded), so that no call is charged for the start-up."""
        try:
            hello = wire.read(self.reader, limit=1 << 20, deadline=time.monotonic() + STARTUP_SECONDS)
            if hello == {'ready': True}:
                return
        except (TimeoutError, EOFError, wire.WireError, ValueError):
            pass
        self.drain_output()
        self.kill()
        raise SubmissionError(f'the isolated worker could not start; it said: {self.last_output.strip()[-800:]!r} '
                              f'({MACHINE_PROBLEM})')

    # -- one request
    def request(self, message, limits, call, clock, on_callback=None):
        """Send one request and return its reply (a dict), before ``clock`` (a CallClock) runs out. While
        it runs, the worker may call out ({'op': 'callback'}): ``on_callback(message)`` answers, and the
        time that takes is added to the clock. Raises LimitExceeded or SubmissionError if the worker dies,
        overruns or misbehaves."""
        self.seq += 1
        seq = self.seq
        message = {**message, 'seq': seq, 'release': self.releases}
        self.releases = []
        if limits is not None:
            message['limits'] = for_worker(limits)
        try:
            encoded = wire.encode(message, fallback=self.outgoing)
        except wire.WireError as exc:
            raise wire.WireError(f'{call}: an argument cannot be sent to the isolated worker: {exc}') from None
        try:
            wire.send(self.req_w, encoded, clock)
            while True:
                reply = wire.read(self.reader, limit=(limits.reply_mb if limits else 256) << 20, resolve=self.resolve,
                                  deadline=clock)
                if type(reply) is not dict:
                    raise wire.WireError('not a dict')
                if reply.get('op') == 'callback' and on_callback is not None:
                    started = time.monotonic()
                    answer = on_callback(reply)
                    clock.extend(time.monotonic() - started)   # the time spent elsewhere is not this call's
                    wire.send(self.req_w, wire.encode({**answer, 'op': 'answer'}, fallback=self.outgoing), clock)
                elif reply.get('seq') == seq:
                    break
                # else: a forked copy answering late, or a callback nobody asked for: ignored
        except TimeoutError:
            self.kill()
            raise LimitExceeded(wall_message(call, limits), wall_time=True)
        except _TooMuchMemory as exc:
            self.kill()
            raise LimitExceeded(memory_message(call, limits, exc.held_mb)) from None
        except (EOFError, BrokenPipeError):
            raise self.died(call, limits)
        except (wire.WireError, ValueError, KeyError, IndexError, TypeError, RecursionError) as exc:
            self.kill()
            raise SubmissionError(f'{call}: the worker sent a malformed reply ({str(exc)[:200]}); it was stopped')
        except BaseException:   # a call out failed: this worker is stuck waiting for its answer
            self.kill()
            raise
        finally:
            self.drain_output()
        if type(reply.get('ok')) is not bool:
            self.kill()
            raise SubmissionError(f'{call}: the worker sent a malformed reply; it was stopped')
        return reply

    def clock(self, limits, cap=None, elsewhere=None):
        """A CallClock for one call of this worker under ``limits`` (``elsewhere``: see CallClock)."""
        return CallClock(limits.wall_seconds, self.python_pid, cap, alone=lambda: not self.strays(), elsewhere=elsewhere,
                         watch=lambda: self._watch_memory(limits))

    def _watch_memory(self, limits):
        """RLIMIT_AS bounds each process's memory, so a hand-in that starts processes could hold the limit
        many times over: while it has some, they and the worker together must stay within the limit (above
        the worker's libraries, as grader.worker.limits counts). Each socket counts as full buffers: what
        it holds is the kernel's memory, in no process's count. Stops counting once over. A worker alone is
        bounded by RLIMIT_AS, so it is counted only when it has many files open (sockets, maybe)."""
        if self.python_pid is None:
            return
        others = self.strays()
        if not others and _open_files_room(self.python_pid) <= FEW_FILES:
            return
        held_kb, limit_kb = -self.base_kb, limits.memory_mb << 10
        for pid in (self.python_pid, *others):
            held_kb += (_memory_kb(pid) or 0) + _sockets(pid) * SOCKET_KB
            if held_kb > limit_kb:
                raise _TooMuchMemory(held_kb / 1024)

    def outgoing(self, obj):
        """Grader-side objects of this worker as the worker knows them (set by the client)."""
        return self.encoder(obj)

    def drain_output(self):
        """Keep the tail of what the call printed (for diagnosis only; never read for verdicts)."""
        with contextlib.suppress(OSError, TypeError):
            size = os.fstat(self.output).st_size
            if size:
                self.last_output = os.pread(self.output, 4096, max(0, size - 4096)).decode('utf-8', 'replace')
                os.ftruncate(self.output, 0)

    def died(self, call, limits):
        return LimitExceeded(death_message(call, self.kill(), limits))

    def alive(self):
        """Is the worker's Python running? (Its sandbox notices a death a moment later: a grader that asks
        right after the other worker of a pair saw it die must already hear no.)"""
        if self.proc.poll() is not None:
            return False
        if self.python_pid is None:   # (not found at start: the sandbox's own answer is all there is)
            return True
        return _running(self.python_pid)

    # -- processes
    def strays(self):
        """Processes the submission started that are still running, other than the worker itself."""
        return self._members(worker=False)

    def _members(self, worker=True):
        """The live processes of this worker: those in the sandbox's pid namespace (bubblewrap), of the
        worker's uid (root) or of its session; ``worker=False`` leaves out the worker itself (and
        bubblewrap's init)."""
        return [int(e) for e in os.listdir('/proc') if e.isdigit() and self._is_member(e, worker)]

    def _is_member(self, pid, worker):
        if not worker and int(pid) == self.pid:
            return False
        state = _state(pid)
        if state is None or state[0] in 'ZX':   # a zombie is already dead
            return False
        if self.pidns is not None:   # inside, 1 is bubblewrap's init and 2 the worker
            return _pidns(pid) == self.pidns and (worker or _inner_pid(pid) not in (1, 2))
        if self.uid is not None:
            return _uid(pid) == self.uid
        return state[2] == self.pid

    def _kill_members(self, worker):
        """SIGKILL the worker's processes through pidfds, checked again once open, so that a number the
        system has meanwhile given to another process is never signalled (kernels before 5.3 have no
        pidfds: there, a plain kill). Returns how many there were."""
        found = self._members(worker)
        for pid in found:
            try:
                fd = os.pidfd_open(pid)
            except (AttributeError, OSError) as exc:
                if getattr(exc, 'errno', errno.ENOSYS) == errno.ENOSYS:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                continue   # else it is gone already
            try:
                if self._is_member(str(pid), worker):
                    with contextlib.suppress(OSError):
                        signal.pidfd_send_signal(fd, signal.SIGKILL)
            finally:
                os.close(fd)
        return len(found)

    def kill(self):
        """Stop the worker and everything it started, and wait until all of it is gone; returns the
        worker's wait status."""
        if self.uid is not None:   # kill(-1) as the worker's uid reaches all its processes at once
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(['/bin/kill', '-KILL', '-1'], user=self.uid, group=self.uid, extra_groups=[],
                               capture_output=True, timeout=10)
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)
        self._kill_members(worker=False)
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()
        # Killed processes die asynchronously (bubblewrap's init, killed with its parent, first reaps the
        # whole namespace), and on a busy machine that takes seconds: a grading run must not end, or a
        # selftest look, while any of them still runs.
        deadline = time.monotonic() + KILL_SECONDS
        while self._kill_members(worker=True) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.close()
        return _status(self.proc.returncode, self.bwrap)

    def close(self):
        for fd in ('req_w', 'rep_r', 'output', '_pinned'):
            with contextlib.suppress(OSError, TypeError):
                os.close(getattr(self, fd))
            setattr(self, fd, None)
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)


class _TooMuchMemory(Exception):
    def __init__(self, held_mb):
        super().__init__(f'{held_mb:.0f} MB')
        self.held_mb = held_mb


def _open_files_room(pid):
    """The size of process ``pid``'s table of open files (FDSize: at least its highest open file number;
    one short read, where counting its sockets reads every link)."""
    with contextlib.suppress(OSError, StopIteration, ValueError, IndexError):
        with open(f'/proc/{pid}/status') as f:
            return int(next(line for line in f if line.startswith('FDSize:')).split()[1])
    return 0


def _sockets(pid):
    """How many sockets process ``pid`` has open (0 if it is gone)."""
    found = 0
    with contextlib.suppress(OSError):
        for fd in os.listdir(f'/proc/{pid}/fd'):
            with contextlib.suppress(OSError):
                found += os.readlink(f'/proc/{pid}/fd/{fd}').startswith('socket:')
    return found


def _memory_kb(pid):
    """kB of memory process ``pid`` holds that is not a file's (anonymous and shared memory), a page shared
    by several processes counted in equal parts (PSS: a forked child's untouched copy costs nothing), or
    None if it is gone."""
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            fields = dict(line.split(':', 1) for line in list(f)[1:] if ':' in line)   # (the first names the range)
    except (OSError, ValueError):
        return None
    kb = lambda name: int(fields[name].split()[0]) if name in fields else None
    if kb('Pss_Anon') is None:   # before Linux 5.8: whole pages, shared or not (a forked child counts in full)
        return kb('Anonymous')
    return kb('Pss_Anon') + (kb('Pss_Shmem') or 0)


def _pin(init, namespace):
    """An fd holding the sandbox's pid namespace, so that its inode, by which the worker's processes are
    found (and killed), names no other namespace until this worker is closed: the kernel gives a freed
    namespace's inode to the next one made, which may be another grading's worker. None if the sandbox's
    init is gone already (or its pid was taken since, so that the inode differs): the worker did not start."""
    if init is None:
        return None
    try:
        fd = os.open(f'/proc/{init}/ns/pid', os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    if os.fstat(fd).st_ino != namespace:
        os.close(fd)
        return None
    return fd


def _stat(pid, pick):
    """``pick`` applied to the fields of /proc/<pid>/stat after the command name (the first is the
    state), or None if the process is gone."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return pick(f.read().rsplit(')', 1)[1].split())
    except (OSError, IndexError, ValueError):
        return None


def _started(pid):
    """A process's start time (clock ticks since boot): with its pid, a name no later process has."""
    return _stat(pid, lambda fields: int(fields[19]))


def _running(pid):
    """Is the process there and not on its way out? A dying process closes its files (so the other side of
    a pipe reads EOF) before /proc shows it as a zombie; the kernel marks it as exiting before either."""
    return _stat(pid, lambda fields: fields[0] not in 'ZX' and not int(fields[6]) & PF_EXITING) or False


def _state(pid):
    """(state letter, ppid, session) of a process, or None if it is gone."""
    return _stat(pid, lambda fields: (fields[0], int(fields[1]), int(fields[3])))


def _uid(pid):
    try:
        return os.stat(f'/proc/{pid}').st_uid
    except OSError:
        return None


def _pidns(pid):
    try:
        return os.stat(f'/proc/{pid}/ns/pid').st_ino
    except OSError:
        return None


def _inner_pid(pid):
    """The process's pid inside its own namespace (the last field of NSpid)."""
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('NSpid:'):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return None


def _status(returncode, bwrap):
    """Popen's returncode back to a wait status for os.WIFSIGNALED & co. bubblewrap reports a worker
    killed by signal n as exit code 128 + n."""
    if returncode < 0:
        return (-returncode) & 0x7f
    if bwrap and 128 < returncode < 128 + 65:
        return (returncode - 128) & 0x7f
    return (returncode & 0xff) << 8
