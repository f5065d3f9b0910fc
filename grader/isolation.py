"""Grading untrusted code: the submission runs in a worker process (grader/worker.py), never in the
pytest process that decides the verdicts. ``WorkerImplementation`` has the interface of
grader.impl.Implementation, so the same tests run in both modes (pytest --isolate, or NN_ISOLATE=1).

- Calls go over pipes as plain data (grader/wire.py: no pickle); dict and list arguments come back with
  the worker's final state and are updated in place, arrays are copies (the grader's arrays cannot be
  modified by the submission). Callables are named, not shipped; objects that are not plain data stay in
  the worker as handles.
- Per-call limits (grader/limits.py): wall time (the worker is killed and restarted), CPU time, memory
  and output size; each hit fails only the test that made the call, with a sentence saying which limit.
- As root, the worker runs under an unprivileged uid of its own (no account, no files, no other
  processes) in its own network namespace (no network, not even loopback) and mount namespace (the harness's folders and /tmp are hidden behind
  empty file systems; it sees only its clean copy), with a cap on its processes. Stray processes are
  killed after every test. Not as root, it is only a separate process with limits: isolation_status()
  says so, for the report."""
import contextlib
import ctypes
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import activations, paths, wire
from grader.impl import MODULES, SubmissionError, reference_module
from grader.limits import DEFAULT, LimitExceeded, covers, death_message, for_worker, hard_limits, wall_message

USER = 'nngrader'             # the name the worker sees (USER, LOGNAME); its uid is a fresh one per worker
UIDS = range(2_000_000, 3_000_000)   # a uid no account uses: no files, no other processes share it
ENV_VAR = 'NN_ISOLATE'
BLAS_ENV = ('OPENBLAS_', 'OMP_', 'MKL_', 'GOTO_', 'NVPL_')   # numeric configuration only, passed to the worker
HIDE_ENV = 'NN_WORKER_HIDE'   # extra folders to hide from the worker (os.pathsep-separated), e.g. results/
# The harness modules the worker needs, copied next to the submission (nothing else of the harness).
WORKER_MODULES = ('__init__.py', 'activations.py', 'checks.py', 'compat.py', 'impl.py', 'limits.py', 'paths.py',
                  'torch_eval.py', 'wire.py', 'worker.py')
MAX_PROCESSES = 256           # RLIMIT_NPROC of the worker's user: a fork bomb stops here
CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWUSER = 0x00020000, 0x40000000, 0x10000000
MS_RDONLY, MS_BIND, MS_REC, MS_PRIVATE = 1, 4096, 16384, 1 << 18
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def privileged():
    return os.geteuid() == 0


def isolation_status():
    """One line for the grading report: how far the submission was isolated on this machine."""
    if privileged():
        return ('isolated: the submission ran in a separate worker process under a uid of its own, with no network, '
                'without access to the harness files, the hidden tests/fixtures or the results folder, and with '
                'per-call limits on wall time, CPU time, memory and output')
    return ('PARTLY isolated (the grader was not run as root): the submission ran in a separate worker process '
            'with per-call limits on wall time, CPU time, memory and output, but as the same user as the grader, '
            'so it could read the harness files and write where the grader can, and it had network access')


# ---------------------------------------------------------------- the worker process

def _fresh_uid():
    """An unused uid of our own (no account needed): kill(-1) and RLIMIT_NPROC then reach only this worker's
    processes, so grading runs side by side cannot disturb each other."""
    import random
    taken = {_uid_of(p) for p in os.listdir('/proc') if p.isdigit()}
    while True:
        uid = random.SystemRandom().choice(UIDS)
        if uid not in taken:
            try:
                pwd.getpwuid(uid)
            except KeyError:
                return uid


def _uid_of(pid):
    try:
        return os.stat(f'/proc/{pid}').st_uid
    except OSError:
        return None


def _state(pid):
    """(state letter, ppid, session) of a process, or None if it is gone."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return fields[0], int(fields[1]), int(fields[3])
    except (OSError, IndexError, ValueError):
        return None


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f'{what}: {os.strerror(err)}')


def _mount(source, target, fstype, flags, data):
    _check(_libc.mount(source.encode() if source else None, str(target).encode(),
                       fstype.encode() if fstype else None, flags, data.encode() if data else None), f'mount {target}')


def _hidden_paths():
    """The harness's folders (reference, tests, fixtures, grader, .git ...) minus the one holding Python."""
    python = Path(sys.prefix).resolve()
    hide = [p for p in paths.ROOT.iterdir() if p.is_dir() and not python.is_relative_to(p.resolve())]
    hide += [Path(p) for p in os.environ.get(HIDE_ENV, '').split(os.pathsep) if p]
    return hide


def _expose(path):
    """Make ``path`` (the Python installation) reachable by the worker's user: a folder on the way that
    others cannot enter (/root, for pyenv) is replaced by an empty one holding only the next step."""
    for parent in reversed(path.parents):
        if os.stat(parent).st_mode & 0o001:
            continue
        step = path.relative_to(parent).parts[0]
        keep = os.open(parent / step, os.O_PATH)
        _mount('tmpfs', parent, 'tmpfs', 0, 'size=4k,mode=755')
        os.mkdir(parent / step)
        _mount(f'/proc/self/fd/{keep}', parent / step, None, MS_BIND, None)
        os.close(keep)


class WorkerProcess:
    """One running worker. Dies with the first limit hit or crash; WorkerImplementation starts another."""

    def __init__(self, root, generation, limits):
        self.generation, self.started = generation, limits
        self.privileged = privileged()
        self.hide = _hidden_paths()   # listed here: in the sandbox the harness may already be out of sight
        self.tmp = Path(tempfile.mkdtemp(prefix='nn-worker-'))
        lib, sub = self.tmp / 'lib' / 'grader', self.tmp / 'sub'
        lib.mkdir(parents=True)
        sub.mkdir()
        (self.tmp / 'tmp').mkdir()
        here = Path(__file__).resolve().parent
        for name in WORKER_MODULES:
            shutil.copyfile(here / name, lib / name)
        for name in MODULES:   # the course files only: no conftest.py, sitecustomize.py, *.pth ...
            if (Path(root) / f'{name}.py').is_file():
                shutil.copyfile(Path(root) / f'{name}.py', sub / f'{name}.py')
        self.output_path = self.tmp / 'output.txt'
        out = os.open(self.output_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.output = os.open(self.output_path, os.O_RDWR)
        req_r, self.req_w = os.pipe()
        os.set_blocking(self.req_w, False)
        self.rep_r, rep_w = os.pipe()
        self.reader = wire.Reader(self.rep_r)
        self.home = '/tmp/w' if self.privileged else str(self.tmp)
        if self.privileged:
            self.uid = _fresh_uid()
            for dirpath, dirnames, filenames in os.walk(self.tmp):
                for name in [dirpath, *(os.path.join(dirpath, f) for f in dirnames + filenames)]:
                    if not name.endswith('output.txt'):
                        os.chown(name, self.uid, self.uid)
            os.chmod(self.tmp, 0o700)
        else:
            self.uid = None
            with contextlib.suppress(OSError):
                _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 'prctl')
        boot = 'import sys; sys.path.insert(0, sys.argv[1]); from grader.worker import main; main(*sys.argv[2:])'
        cmd = [sys.executable, '-I', '-B', '-c', boot, f'{self.home}/lib', f'{self.home}/sub', str(req_r), str(rep_w)]
        env = {'PATH': '/usr/bin:/bin', 'HOME': f'{self.home}/tmp', 'TMPDIR': f'{self.home}/tmp', 'LANG': 'C.UTF-8',
               'MPLBACKEND': 'Agg', 'PYTHONHASHSEED': '0', 'USER': USER, 'LOGNAME': USER,
               # the BLAS and threading settings of the grader's machine: without them OpenBLAS may pick
               # other kernels and round differently from a direct run
               **{k: v for k, v in os.environ.items() if k.startswith(BLAS_ENV)}}
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, pass_fds=(req_r, rep_w),
                                     cwd=self.tmp, env=env, preexec_fn=self._sandbox, start_new_session=True)
        for fd in (req_r, rep_w, out):
            os.close(fd)
        self.pid = self.proc.pid
        self.seq = 0
        self.last_output = ''
        self.limits = None

    def _sandbox(self):
        """In the child, before exec: namespaces, hidden folders, limits, then the unprivileged user."""
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        for which, value in hard_limits(self.started):
            resource.setrlimit(which, (value, value))
        if not self.privileged:
            with contextlib.suppress(OSError):   # no network if unprivileged user namespaces are allowed
                _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNET), 'unshare')
            _die_with_parent()
            return
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET), 'unshare')
        _mount(None, '/', None, MS_REC | MS_PRIVATE, None)
        keep = os.open(self.tmp, os.O_PATH)
        # A Python installed under /tmp (a checkout or bundle unpacked there) must survive the empty /tmp
        pythons = [(p, os.open(p, os.O_PATH)) for p in {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
                   if p.is_relative_to('/tmp')]
        _mount('tmpfs', '/tmp', 'tmpfs', 0, 'size=1m,mode=1777')
        os.mkdir('/tmp/w')
        _mount(f'/proc/self/fd/{keep}', '/tmp/w', None, MS_BIND, None)
        os.close(keep)
        for path, fd in pythons:
            os.makedirs(path, exist_ok=True)
            _mount(f'/proc/self/fd/{fd}', path, None, MS_BIND, None)
            os.close(fd)
        for prefix in {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}:
            _expose(prefix)
        for path in self.hide:
            if path.is_dir():   # (one under /tmp is already gone with the old /tmp)
                _mount('tmpfs', path, 'tmpfs', MS_RDONLY, 'size=4k,mode=000')
        os.chdir('/tmp/w')
        resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
        os.setgroups([])
        os.setgid(self.uid)
        os.setuid(self.uid)
        _die_with_parent()   # after setuid, which clears it

    # -- one request
    def request(self, message, limits, call):
        """Send one request; the reply (a dict), or LimitExceeded/SubmissionError if the worker died."""
        self.seq += 1
        message = {**message, 'limits': for_worker(limits), 'seq': self.seq}
        try:
            encoded = wire.encode(message, fallback=_outgoing(self.generation))
        except wire.WireError as exc:
            raise wire.WireError(f'{call}: an argument cannot be sent to the isolated worker: {exc}') from None
        deadline = time.monotonic() + limits.wall
        try:
            wire.send(self.req_w, encoded, deadline)
            reply = None
            while type(reply) is not dict or reply.get('seq') != self.seq:   # a forked copy may answer late
                reply = wire.read(self.reader, limit=limits.reply_mb << 20, resolve=self.incoming, deadline=deadline)
        except TimeoutError:
            self.kill()
            raise LimitExceeded(wall_message(call, limits), wall_time=True)
        except (EOFError, BrokenPipeError):
            raise self.died(call, limits)
        except (wire.WireError, ValueError, KeyError, IndexError, TypeError) as exc:
            self.kill()
            raise SubmissionError(f'{call}: the worker sent a malformed reply ({exc}); it was stopped')
        self.drain_output()
        if type(reply) is not dict or type(reply.get('ok')) is not bool:
            self.kill()
            raise SubmissionError(f'{call}: the worker sent a malformed reply; it was stopped')
        return reply

    def incoming(self, tag):
        if tag['$'] == 'handle':
            return Handle(self, int(tag['id']), str(tag.get('type', 'object'))[:200], bool(tag.get('callable')))
        if tag['$'] == 'fn':
            return activations.REGISTRY[str(tag['name'])]
        raise wire.WireError(f"unexpected {tag['$']!r} from the worker")

    def drain_output(self):
        """Keep the tail of what the call printed (for diagnosis only; never read for verdicts)."""
        size = os.fstat(self.output).st_size
        if size:
            self.last_output = os.pread(self.output, 4096, max(0, size - 4096)).decode('utf-8', 'replace')
            os.ftruncate(self.output, 0)

    def died(self, call, limits):
        status = self.kill()
        return LimitExceeded(death_message(call, status, limits))

    def alive(self):
        return self.proc.poll() is None

    def strays(self):
        """Processes the submission started that are still running (other than the worker itself):
        as root, every process of the worker's uid; otherwise those in its session or orphaned to us."""
        found = []
        for entry in os.listdir('/proc'):
            if not entry.isdigit() or int(entry) == self.pid:
                continue
            if self.privileged and _uid_of(entry) != self.uid:
                continue
            state = _state(entry)
            if state is None or state[0] in 'ZX':   # a zombie is already dead
                continue
            if self.privileged or state[2] == self.pid or state[1] == os.getpid():
                found.append(int(entry))
        return found

    def kill_strays(self):
        found = self.strays()
        if found:
            self.kill()   # all of the worker user's processes at once, the worker too
        return len(found)

    def kill(self):
        """Stop the worker and everything it started; returns the worker's wait status."""
        if self.privileged:
            # kill(-1) as the worker's user reaches all its processes atomically: a fork bomb cannot outrun it
            subprocess.run(['/bin/kill', '-KILL', '-1'], user=self.uid, group=self.uid, extra_groups=[],
                           capture_output=True)
        else:
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)
            for pid in self.strays():
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()
        if not self.privileged:
            with contextlib.suppress(ChildProcessError):
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
        self.close()
        return _status(self.proc.returncode)

    def close(self):
        for fd in ('req_w', 'rep_r', 'output'):
            with contextlib.suppress(OSError, TypeError):
                os.close(getattr(self, fd))
            setattr(self, fd, None)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _die_with_parent():
    """The worker is killed when the grader's process ends, even if that is killed at a time limit."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), 'prctl')


def _status(returncode):
    """Popen's returncode back to a wait status for os.WIFSIGNALED & co."""
    return (-returncode) & 0x7f if returncode < 0 else (returncode & 0xff) << 8


def _outgoing(generation):
    def tag(obj):
        if isinstance(obj, Proxy):
            return {'$': 'ref', 'module': obj.module, 'name': obj.name}
        if isinstance(obj, Handle):   # before any getattr: a handle's attributes live in the worker
            if obj._worker.generation != generation:
                raise SubmissionError(f'{obj!r} belonged to a worker that was stopped (after a crash or limit)')
            return {'$': 'handle', 'id': obj._id}
        name = getattr(obj, 'harness_name', None)
        if name is not None and activations.REGISTRY.get(name) is obj:
            return {'$': 'fn', 'name': name}
        return None
    return tag


# ---------------------------------------------------------------- the grader's side

class Proxy:
    """A submission's function, called in the worker: same arguments, same results, as plain data."""

    def __init__(self, impl, module, name):
        self._impl, self.module, self.name = impl, module, name
        self.__name__ = name

    def __repr__(self):
        return f'<isolated {self.module}.{self.name}>'

    def __call__(self, *args, **kwargs):
        return self._impl.call(f'{self.module}.{self.name}', args, kwargs, f'{self.module}.{self.name}')


class Handle:
    """An object that could not leave the worker (a torch model ...): calls and attribute reads round-trip."""

    def __init__(self, worker, number, typename, is_callable):
        self._worker, self._id, self._type, self._callable = worker, number, typename, is_callable

    def __repr__(self):
        return f'<handle to a {self._type} in the worker>'

    def __call__(self, *args, **kwargs):
        return self._worker_impl().call(self._id, args, kwargs, f'{self._type}(...)', worker=self._worker)

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return self._worker_impl().request({'op': 'getattr', 'handle': self._id, 'name': name},
                                           f'{self._type}.{name}', worker=self._worker)['value']

    def probe_in_worker(self, name, *args):
        """grader.torch_eval.PROBES[name](this object, *args), run in the worker; plain data back."""
        return self._worker_impl().request({'op': 'probe', 'handle': self._id, 'name': name, 'args': list(args)},
                                           f'{name}({self._type})', worker=self._worker)['value']

    def _worker_impl(self):
        return self._worker.owner


class ModuleView:
    def __init__(self, impl, name):
        self._impl, self._name = impl, name

    def __getattr__(self, attr):
        if attr.startswith('__'):
            raise AttributeError(attr)
        return Proxy(self._impl, self._name, attr)


class WorkerImplementation:
    """grader.impl.Implementation's interface, with the submission in an isolated worker process."""

    def __init__(self, root, label=None):
        self.root = Path(root).resolve()
        self.label = label or str(self.root)
        self.limits = DEFAULT
        self.question = None
        self.spent = {}
        self._seed = None
        self._hit = None
        self.output = ''
        self._worker = None
        self._generation = 0
        self._patches = []   # active reference_pieces, replayed into a restarted worker
        self.restarts = 0
        self.strays_killed = 0
        self.hung = {}       # call -> how it hit the wall-time limit: not run again this session

    def __repr__(self):   # shown in Hypothesis's failing examples: no folder names, no harness classes
        return '<your code>'

    status = staticmethod(isolation_status)

    def module(self, name):
        return ModuleView(self, name)

    def seed(self, seed, torch=False):
        """Seed random and np.random in the worker (torch=True: torch too, as grader.torch_eval.setup);
        this replaces the per-test seed the first call would otherwise apply."""
        self._seed = None
        self.request({'op': 'seed', 'value': int(seed), 'torch': bool(torch)}, 'seeding the worker')

    def stage_checkpoint(self, name, data):
        """Put ``data`` (bytes; None removes it) in the worker's torch hub cache as ``name``."""
        self.request({'op': 'stage', 'name': name, 'data': data}, f'staging {name}')

    # -- per test (called by the pytest plugin)
    def begin_test(self, seed, question=None, limits=DEFAULT):
        self._seed, self.question, self.limits = seed, question, limits
        self.output = ''   # the tail of what the submission printed during this test (diagnosis only)
        self._hit = None   # the first limit this test hit: later calls of the test are not run

    def end_test(self):
        """Kill whatever the submission left running; returns how many stray processes there were."""
        if self._worker is not None and self._worker.alive():
            n = self._worker.kill_strays()
            self.strays_killed += n
            if n:
                self._worker = None
            return n
        return 0

    def close(self):
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

    # -- calls
    def worker(self):
        if self._worker is not None and not covers(self._worker.started, self.limits):
            self._worker.kill()   # this test needs more than the running worker may ever use
            self._worker = None
        if self._worker is None or not self._worker.alive():
            if self._worker is not None:
                self._worker.kill()
                self.restarts += 1
            self._generation += 1
            self._worker = WorkerProcess(self.root, self._generation, self.limits)
            self._worker.owner = self
            for patch in self._patches:
                self._send_patch(patch)
        return self._worker

    def call(self, target, args, kwargs, call, worker=None):
        message = {'op': 'call', 'target': target, 'args': list(args), 'kwargs': dict(kwargs), 'seed': self._seed}
        reply = self.request(message, call, worker=worker)
        self._seed = None
        _update_in_place(args, kwargs, reply.get('state'), call)
        return reply['value']

    def request(self, message, call, worker=None):
        if worker is not None and worker is not self._worker:
            raise SubmissionError(f'{call}: this handle belonged to a worker that was stopped (after a crash or '
                                  'a limit); it is gone')
        limits = self.limits
        if self._hit is not None:
            raise LimitExceeded(f'{call} was not run: earlier in this test, {self._hit}')
        if call in self.hung:   # a hung function would cost every later test its full wall-time limit
            raise LimitExceeded(f'{call} was not run: in an earlier test, {self.hung[call]}')
        spent = self.spent.get(self.question, 0.0)
        if spent >= limits.budget:
            raise LimitExceeded(f'question {self.question} used up its {limits.budget:g} s time budget; {call} '
                                'was not run')
        process = self.worker()
        start = time.monotonic()
        try:
            reply = process.request(message, limits, call)
        except LimitExceeded as exc:
            self._worker = None
            self.restarts += 1
            self._hit = str(exc)
            if exc.wall_time:
                self.hung.setdefault(call, str(exc))
            raise
        finally:
            self.spent[self.question] = spent + time.monotonic() - start
            if process.last_output:
                self.output = (self.output + process.last_output)[-4096:]
                process.last_output = ''
        if not reply['ok']:
            raise _failure(call, reply.get('error'), limits)
        return reply

    # -- reference pieces, as grader.impl.Implementation.reference_pieces, carried out in the worker
    @contextlib.contextmanager
    def reference_pieces(self, module, names, source='nn'):
        if self.root == paths.REFERENCE.resolve() or reference_module(source) is None:
            yield
            return
        upto = MODULES[:MODULES.index(source) + 1]
        sources = {m: (paths.REFERENCE / f'{m}.py').read_text() for m in upto
                   if (paths.REFERENCE / f'{m}.py').is_file()}
        patch = {'op': 'patch', 'module': module, 'names': list(names), 'source': source, 'sources': sources}
        self._send_patch(patch)
        self._patches.append(patch)
        try:
            yield
        finally:
            self._patches.pop()
            if self._worker is not None and self._worker.alive():
                with contextlib.suppress(SubmissionError, LimitExceeded):
                    self.request({'op': 'unpatch'}, 'restoring the reference pieces')

    def _send_patch(self, patch):
        self.request(patch, f'loading the reference pieces for {patch["module"]}.py')


def _update_in_place(args, kwargs, state, call):
    """The submission mutates its dict/list arguments (forward caches, backwards stores gradients):
    make the caller's objects hold the worker's final state."""
    if not state:
        return
    for key, new in state.items():
        old = kwargs.get(key) if not key.isdigit() else (args[int(key)] if int(key) < len(args) else None)
        if type(old) is dict and type(new) is dict:
            old.clear()
            old.update(new)
        elif type(old) is list and type(new) is list:
            old[:] = new


def _failure(call, error, limits):
    if type(error) is not dict:
        return SubmissionError(f'{call} failed in the worker')
    kind, etype = error.get('kind'), str(error.get('type', 'Exception'))
    message, where = str(error.get('message', '')), str(error.get('where', ''))
    if kind == 'memory':
        return LimitExceeded(f'{call} exceeded the {limits.memory_mb} MB memory limit (MemoryError'
                             f'{", " + where if where else ""})')
    if kind == 'output':
        return LimitExceeded(f'{call} exceeded the {limits.output_mb} MB output limit (it printed or wrote too much)')
    if kind == 'processes':
        return LimitExceeded(f'{call} hit the limit of {MAX_PROCESSES} processes ({etype}: {message})')
    if kind == 'exit':
        return SubmissionError(f'{call} called sys.exit({message}) instead of returning')
    if etype == 'SubmissionError':
        return SubmissionError(message)
    if etype == 'CheckFailed':   # a harness check run in the worker (grader.torch_eval): same sentence
        from grader.checks import CheckFailed
        return CheckFailed(message)
    return SubmissionError(f'{call} raised {etype}: {message}{" (" + where + ")" if where else ""}')
