"""What the process running a hand-in can see and do. Built on bubblewrap (``bwrap``, the sandbox
Flatpak uses) where it is installed and works; the README and the bundle's setup.sh install it.

The worker's whole filesystem, with bubblewrap:
  /w/lib       this harness's worker package (grader/worker) and the data helpers course files may
               import (grader.worker.rules.HARNESS_HELPERS), read-only
  /w/handin    the hand-in's course files, read-only
  the Python runtime and its site-packages, /usr and the system libraries, read-only
  /dev/shm     a private scratch of SCRATCH_MB (HOME and TMPDIR; /tmp points at it), gone with the worker
  /dev, /proc  private: the worker sees only its own processes
Nothing else: not the harness (reference, tests, fixtures, the rest of grader/), not other hand-ins,
not the output folders, no host sockets, no network. Run as root, the worker takes a uid of its own
(setpriv), with a cap on its processes; otherwise it keeps the caller's uid inside a user namespace.

Without bubblewrap (or where it cannot start), the worker is only a separate process with per-call
limits, under a uid of its own when run as root; ``status()`` says so, for the report."""
import ast
import contextlib
import functools
import json
import os
import pwd
import random
import resource
import shutil
import subprocess
import sys
from pathlib import Path

from grader import paths
from grader.isolation import seccomp
from grader.limits import hard_limits
from grader.worker import rules

SCRATCH_MB = 256
OOM_SCORE_ADJ = 1000           # the worker's processes are the first the kernel kills out of memory
MAX_PROCESSES = 256            # RLIMIT_NPROC of the worker's uid (root only): a fork bomb stops here
UIDS = range(2_000_000, 3_000_000)   # uids no account uses: a worker's processes are its alone
LOG_ENV = 'NN_WORKER_LOG'      # a file each worker's identity is appended to (selftests find survivors by it)
INSIDE = Path('/w')


def privileged():
    return os.geteuid() == 0


@functools.lru_cache(maxsize=None)
def bubblewrap():
    """(path of bwrap, None) if it works here, else (None, why not)."""
    path = shutil.which('bwrap')
    if path is None:
        return None, 'bubblewrap (bwrap) is not installed'
    why = _fails(path)
    return (None, f'bubblewrap could not start ({why})') if why else (path, None)


def _fails(bwrap, *options, pass_fds=()):
    """Why ``true`` does not run in a sandbox of bubblewrap (with ``options``) here, or None if it does."""
    try:
        probe = subprocess.run([bwrap, *_namespaces(), '--ro-bind', '/', '/', '--proc', '/proc', *options, 'true'],
                               pass_fds=pass_fds, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if probe.returncode == 0:
        return None
    return probe.stderr.strip()[:200] or f'exit code {probe.returncode}'


def _namespaces():
    # As root, bwrap needs no user namespace (and the worker gets its uid from setpriv); otherwise it does.
    if privileged():
        return ['--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try']
    return ['--unshare-all']


def status():
    """One line for the grading report: how far the submission was isolated on this machine."""
    bwrap, why = bubblewrap()
    if bwrap and not filters_calls():
        return _status(bwrap, why) + ('; but without the system-call filter that keeps memory from being held '
                                      'outside its processes (not supported here)')
    return _status(bwrap, why)


def _status(bwrap, why):
    if bwrap and privileged():
        return ('isolated: the submission ran in a bubblewrap sandbox under a uid of its own, with no network, '
                'its own process list, a size-capped private scratch, and nothing of the harness, the hidden '
                'tests or other hand-ins in sight, with per-call limits on wall time, CPU time, memory and output')
    if bwrap:
        return ('isolated, except for the user: the submission ran in a bubblewrap sandbox with no network, its '
                'own process list, a size-capped private scratch and nothing of the harness in sight, but under '
                'the grader\'s own uid (the grader was not run as root), with per-call limits')
    who = ('under a uid of its own' if fallback_uid() else
           'as the same user as the grader, so it could read what the grader can')
    return (f'PARTLY isolated ({why}): the submission ran in a separate worker process {who}, with per-call '
            'limits on wall time, CPU time, memory and output, but with network access and the machine\'s '
            'files in sight')


def fallback_uid():
    """Without bubblewrap, may the worker run under a uid of its own? Only as root, and only where that
    uid can reach the Python runtime (pyenv under /root cannot be)."""
    if not privileged():
        return False
    for folder in python_paths():
        for step in [folder, *folder.parents]:
            if not os.stat(step).st_mode & 0o001:
                return False
    return True


def fresh_uid():
    """An unused uid (no account needed): the worker's processes are then its alone."""
    taken = set()
    with contextlib.suppress(OSError):
        taken = {os.stat(f'/proc/{p}').st_uid for p in os.listdir('/proc') if p.isdigit()}
    while True:
        uid = random.SystemRandom().choice(UIDS)
        if uid not in taken:
            try:
                pwd.getpwuid(uid)
            except KeyError:
                return uid


# ---------------------------------------------------------------- what goes in

def worker_files():
    """{path relative to the lib folder: source file}: the worker package, whole, and the harness
    helpers course files may import with every grader module they import in turn."""
    grader = paths.ROOT / 'grader'
    files = {'grader/__init__.py': grader / '__init__.py'}
    for path in sorted((grader / 'worker').rglob('*.py')):
        files[path.relative_to(paths.ROOT).as_posix()] = path
    todo = [_module_file(h) for h in rules.HARNESS_HELPERS]
    while todo:
        path = todo.pop()
        if path is None or path.relative_to(paths.ROOT).as_posix() in files:
            continue
        files[path.relative_to(paths.ROOT).as_posix()] = path
        for parent in path.relative_to(grader).parents:   # the packages on the way
            init = grader / parent / '__init__.py'
            if init.is_file() and init not in files.values():
                todo.append(init)
        if path.name == '__init__.py':
            todo.extend(sorted(path.parent.glob('*.py')))
        todo.extend(_module_file(m) for m in _grader_imports(path))
    return files


def _module_file(dotted):
    base = paths.ROOT.joinpath(*dotted.split('.'))
    for candidate in (base / '__init__.py', base.with_suffix('.py')):
        if candidate.is_file():
            return candidate
    return None


def _grader_imports(path):
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f'{node.module}.{a.name}' for a in node.names]
        found += [n for n in names if n == 'grader' or n.startswith('grader.')]
    return found


def stage(folder, handin, course_files):
    """Fill ``folder`` with the worker's lib (worker_files) and a copy of the hand-in's course files."""
    lib, sub = folder / 'lib', folder / 'handin'
    for rel, src in worker_files().items():
        (lib / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, lib / rel)
    sub.mkdir(parents=True)
    for name in course_files:
        if (Path(handin) / name).is_file():
            shutil.copyfile(Path(handin) / name, sub / name)
    for dirpath, dirnames, filenames in os.walk(folder):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    os.chmod(folder, 0o700)
    return lib, sub


# ---------------------------------------------------------------- how it starts

def python_paths():
    """The folders the Python runtime needs: the interpreter's installation and the environment's."""
    found = []
    for p in (Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.executable).resolve().parent.parent):
        if not any(p.is_relative_to(q) for q in found):
            found = [q for q in found if not q.is_relative_to(p)] + [p]
    return found


def _system():
    """bwrap arguments giving the worker /usr and the system's library folders, read-only."""
    args = ['--ro-bind', '/usr', '/usr']
    for name in ('bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'):
        host = Path('/') / name
        if host.is_symlink():
            args += ['--symlink', os.readlink(host), str(host)]
        elif host.is_dir():
            args += ['--ro-bind', str(host), str(host)]
    args += ['--ro-bind-try', '/etc/ld.so.cache', '/etc/ld.so.cache']
    return args


def command(lib, handin, boot_args, uid, info_fd=None, seccomp_fd=None):
    """The argument list that starts the worker: ``python -c BOOT lib handin *boot_args`` in the sandbox
    (bubblewrap) or as a plain process (the fallback). ``seccomp_fd``: see seccomp_pipe."""
    bwrap, _ = bubblewrap()
    boot = 'import sys; sys.path.insert(0, sys.argv[1]); from grader.worker.server import main; main(*sys.argv[2:])'
    if bwrap is None:
        return [sys.executable, '-I', '-B', '-c', boot, str(lib), str(handin), *boot_args]
    cmd = [bwrap, *_namespaces(), '--die-with-parent', '--new-session', '--proc', '/proc', '--dev', '/dev',
           '--perms', '1777', '--size', str(SCRATCH_MB << 20), '--tmpfs', '/dev/shm', '--symlink', '/dev/shm', '/tmp',
           '--perms', '1777', '--dir', '/dev/shm/home', *_system()]
    binds = [(p, p) for p in python_paths() if not p.is_relative_to('/usr')]
    binds += [(Path(lib), INSIDE / 'lib'), (Path(handin), INSIDE / 'handin')]
    made = set()
    for _, dest in binds:   # the folders on the way, searchable (bubblewrap would make them 0700)
        for parent in reversed(dest.parents[:-1]):
            if parent not in made:
                made.add(parent)
                cmd += ['--perms', '0755', '--dir', str(parent)]
    for src, dest in binds:
        cmd += ['--ro-bind', str(src), str(dest)]
    cmd += ['--chdir', '/tmp', '--info-fd', str(info_fd)]
    if seccomp_fd is not None:
        cmd += ['--seccomp', str(seccomp_fd)]
    if uid is not None:
        cmd += ['/usr/bin/setpriv', f'--reuid={uid}', f'--regid={uid}', '--clear-groups', '--inh-caps=-all',
                '--bounding-set=-all', '--no-new-privs', '--']
    return cmd + [sys.executable, '-I', '-B', '-c', boot, str(INSIDE / 'lib'), str(INSIDE / 'handin'), *boot_args]


def seccomp_pipe():
    """The read end of a pipe holding grader.isolation.seccomp's filter, for bubblewrap to load; None where
    it cannot be loaded (filters_calls)."""
    return _filter_pipe() if filters_calls() else None


@functools.lru_cache(maxsize=None)
def filters_calls():
    """Does bubblewrap load the seccomp filter here? Not where the filter has no table for the machine or
    the kernel refuses it: the worker then runs without, and status() says so."""
    bwrap, fd = bubblewrap()[0], _filter_pipe()
    if bwrap is None or fd is None:
        return False
    try:
        return _fails(bwrap, '--seccomp', str(fd), pass_fds=(fd,)) is None
    finally:
        os.close(fd)


def _filter_pipe():
    code = seccomp.program()
    if code is None:
        return None
    read, write = os.pipe()
    os.write(write, code)   # (a few hundred bytes: the pipe holds them)
    os.close(write)
    return read


def environment(home):
    return {'PATH': '/usr/bin:/bin', 'HOME': home, 'TMPDIR': os.path.dirname(home), 'LANG': 'C.UTF-8',
            'MPLBACKEND': 'Agg', 'PYTHONHASHSEED': '0', 'USER': 'nngrader', 'LOGNAME': 'nngrader',
            # the BLAS and threading settings of the grader's machine: without them OpenBLAS may pick
            # other kernels and round differently from a direct run
            **{k: v for k, v in os.environ.items() if k.startswith(('OPENBLAS_', 'OMP_', 'MKL_', 'GOTO_', 'NVPL_'))}}


def preexec(limits, uid):
    """Run in the child before exec: resource limits (inherited by the sandbox), and the uid (fallback)."""
    def apply():
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        # Should the machine run out of memory anyway (the memory of a hand-in's processes together is
        # watched, not capped: grader.isolation.process), the kernel kills the worker's processes first.
        with open('/proc/self/oom_score_adj', 'w') as f:
            f.write(str(OOM_SCORE_ADJ))
        for which, value in hard_limits(limits):
            resource.setrlimit(which, (value, value))
        if uid is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
            if bubblewrap()[0] is None:   # with bubblewrap, setpriv changes the uid inside the sandbox
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
    return apply


def read_info(fd, timeout=30.0):
    """bwrap's --info-fd report as (the pid namespace's inode, the host pid of the sandbox's init), or
    (None, None) if bubblewrap did not start."""
    import select
    import time
    text, deadline = b'', time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            text += chunk
            with contextlib.suppress(ValueError, KeyError, TypeError):
                info = json.loads(text)
                return int(info['pid-namespace']), int(info['child-pid'])
    finally:
        os.close(fd)
    return None, None


def log_identity(uid, namespace, init=None):
    """Append this worker's uid, pid namespace and the (pid, start time) of that namespace's init to
    $NN_WORKER_LOG, so that a selftest can tell its own workers' processes from anything else running
    on the machine. (The kernel gives a freed namespace's inode to the next new one, so the inode alone
    could later name another grading's worker; its init's start time tells them apart.)"""
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, 'a') as f:
            f.write(json.dumps({'uid': uid, 'pidns': namespace, 'init': init}) + '\n')
