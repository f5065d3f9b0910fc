"""The sandbox around a hand-in (grader/isolation/sandbox.py, on bubblewrap): what the worker can reach,
what it can leave behind, that no reference code is ever within its reach, and that the code shipped
into it is one self-contained package."""
import ast
import contextlib
import io
import json
import os
import platform
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from grader import isolation, paths
from grader.isolation import process, sandbox, seccomp
from grader.limits import OPEN_FILES, Limits
from grader.run import run_tests
from grader.worker.loader import SubmissionError
from selftests.ci import requires
from selftests.workers import requires_bubblewrap as _requires_bubblewrap, survivors, worker_log

SPY = '''
import os, resource, socket

def look():
    """What this process can see of the machine."""
    found = {'root': sorted(os.listdir('/')), 'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),
             'mounts': open('/proc/self/mountinfo').read(), 'uid': os.getuid(), 'home': os.environ.get('HOME'),
             'cwd': os.getcwd(), 'oom_score_adj': int(open('/proc/self/oom_score_adj').read()),
             'open_files': resource.getrlimit(resource.RLIMIT_NOFILE)}
    st = os.statvfs('/dev/shm')
    found['scratch_mb'] = st.f_blocks * st.f_frsize / 2 ** 20
    found['exists'] = {p: os.path.exists(p) for p in PROBE_PATHS}
    return found

def fill(path, mb):
    """Write up to ``mb`` MB to files ``path``.0, .1 ... of 8 MB each (one file may not pass the output
    limit); the MB written before the first error."""
    chunk, done = b'x' * 2 ** 20, 0
    try:
        for part in range(0, mb, 8):
            with open(f'{path}.{part // 8}', 'wb') as f:
                for _ in range(min(8, mb - part)):
                    f.write(chunk)
                    f.flush()
                    done += 1
    except OSError:
        pass
    return done

def hold_outside(mb=64):
    """Try to hold memory no process maps: a memfd written to, a System V segment; what each gave."""
    import ctypes, errno
    found = {}
    try:
        fd = os.memfd_create('hoard')
        os.write(fd, b'x' * (mb << 20))
        found['memfd'] = os.fstat(fd).st_size >> 20
    except OSError as exc:
        found['memfd'] = errno.errorcode.get(exc.errno)
    libc = ctypes.CDLL(None, use_errno=True)
    segment = libc.shmget(0, mb << 20, 0o1600)
    found['shmget'] = segment if segment >= 0 else errno.errorcode.get(ctypes.get_errno())
    return found

def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return str(exc)

def connect(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return 'connected'
    except OSError as exc:
        return type(exc).__name__
    finally:
        s.close()
'''


@pytest.fixture
def spy(tmp_path, monkeypatch):
    _requires_bubblewrap()
    log, env = worker_log(tmp_path)
    monkeypatch.setenv(*next(iter(env.items())))
    handin = tmp_path / 'handin'
    handin.mkdir()
    probe = [str(paths.REFERENCE), str(paths.TESTS), str(paths.FIXTURES), str(paths.ROOT / 'grader'), str(handin),
             str(tmp_path), '/etc/passwd', '/var/tmp', '/run/lock', '/home', '/root/.bashrc']
    (handin / 'nn.py').write_text(f'PROBE_PATHS = {probe!r}\n' + SPY)
    impl = isolation.WorkerImplementation(handin)
    impl.begin_test(seed=0, question='2.2.2', limits=Limits(wall=60))
    impl.log = log
    yield impl
    impl.close()
    assert not survivors(log)


def test_worker_sees_only_its_sandbox(spy):
    seen = spy.module('nn').look()
    python_tops = {p.parts[1] for p in sandbox.python_paths()}
    allowed = {'usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'dev', 'proc', 'tmp', 'w', 'etc'} | python_tops
    assert set(seen['root']) <= allowed, f'the worker sees {sorted(set(seen["root"]) - allowed)} at /'
    assert not any(seen['exists'].values()), {p: e for p, e in seen['exists'].items() if e}
    for path in (paths.REFERENCE, paths.TESTS, paths.FIXTURES, paths.ROOT / 'grader'):
        assert str(path) not in seen['mounts'], f'/proc/self/mountinfo names {path}'
    assert seen['pids'] == [1, 2], f'the worker sees processes other than its own: {seen["pids"]}'
    if os.geteuid() == 0:
        assert seen['uid'] in sandbox.UIDS
    assert seen['scratch_mb'] == sandbox.SCRATCH_MB
    assert seen['home'] == '/tmp/home' and seen['cwd'] in ('/tmp', '/dev/shm')   # /tmp is a link to /dev/shm
    assert seen['oom_score_adj'] == sandbox.OOM_SCORE_ADJ, 'out of memory, the kernel would not kill the worker first'
    assert max(seen['open_files']) <= OPEN_FILES, f'the worker may open {seen["open_files"]} files'


def test_scratch_is_capped_shared_and_gone_with_the_worker(spy):
    """HOME, TMPDIR and /dev/shm share one private tmpfs of SCRATCH_MB: 2 GB cannot be written, and
    nothing written is left on the host or in the next worker."""
    nn = spy.module('nn')
    first = nn.fill('/dev/shm/nn-spy-shm', 2048)
    second = nn.fill(os.path.join(nn.look()['home'], 'nn-spy-home'), 2048)
    assert first + second <= sandbox.SCRATCH_MB, (first, second)
    assert first > sandbox.SCRATCH_MB // 2, f'only {first} MB could be written to /dev/shm'
    assert not [p for p in os.listdir('/dev/shm') if p.startswith('nn-spy')], 'the file is on the host'
    spy.close()   # a new worker starts for the next call: its scratch is new
    assert nn.listing('/dev/shm') in ([], ['home']), nn.listing('/dev/shm')


def test_no_memory_can_be_held_outside_the_workers_processes(spy):
    """The memory limits count what processes map; a memfd or a System V segment that nobody maps would
    escape them, so the sandbox's seccomp filter refuses both calls (grader/isolation/seccomp.py)."""
    requires(not sandbox.filters_calls(), f'bubblewrap does not load the seccomp filter here ({platform.machine()}; '
             f'table: {seccomp.program() is not None})')
    assert spy.module('nn').hold_outside() == {'memfd': 'ENOSYS', 'shmget': 'ENOSYS'}
    assert 'system-call filter' not in sandbox.status()


def test_host_sockets_are_out_of_reach(spy, tmp_path):
    """A unix socket is a file: the network namespace does not hide it, the filesystem does."""
    path = tmp_path / 'host.sock'
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen()
    try:
        assert spy.module('nn').connect(str(path)) == 'FileNotFoundError'
    finally:
        server.close()


def test_worker_package_imports_only_itself():
    """grader/worker is copied whole into the sandbox: its modules import the standard library, NumPy,
    SciPy, scikit-image, torch and each other, nothing else of the harness."""
    outside = []
    for path in sorted((paths.ROOT / 'grader' / 'worker').rglob('*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ''] if node.level == 0 else []
            outside += [f'{path.name}: {n}' for n in names
                        if n.split('.')[0] == 'grader' and not (n == 'grader.worker' or n.startswith('grader.worker.'))]
    assert not outside, outside


def test_the_sandbox_holds_no_reference_and_no_tests():
    files = sandbox.worker_files()
    assert 'grader/worker/server.py' in files and 'grader/datasets/nist36.py' in files
    bad = [f for f in files if not f.startswith('grader/') or f.startswith(('grader/isolation', 'grader/commands', 'grader/oracles',
                                                                            'grader/variants', 'grader/fixtures'))]
    assert not bad, bad
    reference = {p.read_text() for p in paths.REFERENCE.glob('*.py')}
    assert not any(src.read_text() in reference for src in files.values())


def test_harness_helpers_behave_the_same_imported_and_isolated(tmp_path):
    """A course file may import the harness's data helpers (grader.worker.rules.HARNESS_HELPERS): the
    worker has them, so the hand-in scores the same in pytest and in the worker."""
    handin = tmp_path / 'handin'
    handin.mkdir()
    for name in ('util.py', 'nn.py'):
        (handin / name).write_bytes((paths.REFERENCE / name).read_bytes())
    (handin / 'nn.py').write_text('from grader.datasets import nist36  # noqa\nfrom grader import torch_data  # noqa\n'
                                  + (paths.REFERENCE / 'nn.py').read_text())
    direct = run_tests(handin, ['2.2.2'])
    isolated = run_tests(handin, ['2.2.2'], extra_args=['--isolate'])
    assert direct.total == isolated.total == 3, (direct.output[-2000:], isolated.output[-2000:])


def test_without_bubblewrap_the_report_says_partly_isolated(tmp_path, monkeypatch):
    """Where bubblewrap is missing, the worker is a separate process with limits, and says so."""
    monkeypatch.setattr(sandbox, 'bubblewrap', lambda: (None, 'bubblewrap (bwrap) is not installed'))
    assert sandbox.status().startswith('PARTLY isolated (bubblewrap (bwrap) is not installed)')
    handin = tmp_path / 'handin'
    handin.mkdir()
    (handin / 'nn.py').write_text('def double(x):\n    return 2 * x\n')
    impl = isolation.WorkerImplementation(handin)
    try:
        impl.begin_test(0, '2.2.2', Limits(wall=30))
        np.testing.assert_array_equal(impl.module('nn').double(np.arange(3.0)), [0.0, 2.0, 4.0])
    finally:
        impl.close()


HUNTER = '''
import glob, os

def _hunt():
    found = []
    for pid in glob.glob('/proc/[0-9]*'):
        try:
            cmd = open(pid + '/cmdline', 'rb').read().replace(b'\\0', b' ').decode('utf-8', 'replace')
        except OSError:
            continue
        if 'victim' in cmd or 'gradebook' in cmd or 'nn-grade' in cmd:
            found.append(cmd[:300])
    for top in ('/tmp', '/w', '/dev/shm', '/work', '/root', '/home', '/autograder'):
        for dirpath, dirnames, filenames in os.walk(top):
            for name in filenames:
                path = os.path.join(dirpath, name)
                if 'victim' in path or name in ('gradebook.csv', 'history.sqlite'):
                    found.append(path)
                elif name == 'nn.py' and not path.startswith('/w/handin'):
                    try:
                        if 'VICTIM-MARKER' in open(path).read():
                            found.append(path)
                    except OSError:
                        pass
    return found

def softmax(x):
    raise RuntimeError('HUNTED: ' + repr(_hunt())[:3000])
'''


def test_batch_handin_cannot_find_another(tmp_path):
    """`batch --jobs 2`: a hand-in that hunts for the other hand-in's files, command lines, scores and the
    gradebook finds nothing of them (its report shows what it found)."""
    _requires_bubblewrap()
    handins = tmp_path / 'handins'
    victim, hunter = handins / 'victim', handins / 'hunter'
    for folder in (victim, hunter):
        folder.mkdir(parents=True)
        for name in ('util.py', 'nn.py'):
            (folder / name).write_bytes((paths.REFERENCE / name).read_bytes())
    with open(victim / 'nn.py', 'a') as f:
        f.write('\n# VICTIM-MARKER\n')
    with open(hunter / 'nn.py', 'a') as f:
        f.write(HUNTER)
    out = tmp_path / 'batch'
    proc = subprocess.run([sys.executable, '-m', 'grader', 'batch', str(handins), '--jobs', '2', '--out', str(out),
                           '--only', '2.2.2'], cwd=paths.ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    feedback = json.dumps(json.loads((out / 'hunter' / 'results.json').read_text()))
    assert 'HUNTED: []' in feedback, f'the hunter found something (or did not run): {feedback[:3000]}'
    assert json.loads((out / 'victim' / 'results.json').read_text())['score'] == 3


def test_a_forbidden_import_however_spelled_costs_what_a_literal_one_does(tmp_path):
    """The course allows numpy, scipy, scikit-image, matplotlib and torch: `import PIL` is refused by the
    scan of the source, `__import__('P' + 'IL')` by the worker's import guard as it runs; same verdict."""
    from grader import grading
    nn = (paths.REFERENCE / 'nn.py').read_text()
    spellings = {'literal': 'import PIL  # noqa\n' + nn,
                 'dynamic': nn + "\n\n_ok = softmax\n\n\ndef softmax(x):\n    __import__('P' + 'IL')\n    return _ok(x)\n",
                 'importlib': nn + "\n\n_ok = softmax\n\n\ndef softmax(x):\n    import importlib\n"
                                   "    importlib.import_module('P' + 'IL')\n    return _ok(x)\n"}
    scores = {}
    for name, source in spellings.items():
        handin = tmp_path / name
        handin.mkdir()
        (handin / 'util.py').write_bytes((paths.REFERENCE / 'util.py').read_bytes())
        (handin / 'nn.py').write_text(source)
        result = grading.grade(handin, tmp_path / f'{name}-out', ['2.2.1', '2.2.2', '2.2.3'])
        scores[name] = {q: r.score for q, r in result.rows.items()}
        assert all(status == 'rule violation' for status in result.status.values()), (name, result.status)
        feedback = json.loads((tmp_path / f'{name}-out' / 'results.json').read_text())['tests'][0]['output']
        assert "imports 'PIL', which the course does not allow" in feedback, (name, feedback[:500])
    assert scores['dynamic'] == scores['importlib'] == scores['literal'] == {'2.2.1': 0, '2.2.2': 0, '2.2.3': 0}


def _markers():
    """String literals of the reference solution (docstrings included) that appear nowhere else in the
    harness's code: were any reference module or its source loaded, its strings would be in memory."""
    import re
    others = ''.join(p.read_text() for folder in ('student', 'tests', 'grader', 'selftests')
                     for p in (paths.ROOT / folder).rglob('*.py'))
    found = set()
    for path in paths.REFERENCE.glob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for piece in re.split(r'\s*\n\s*', node.value):
                    if len(piece) >= 24 and piece not in others:
                        found.add(piece)
    return found


DUMPER = '''
import os

OWN_MARKER = 'dumper-own-marker-7f3a9c'


def forward(X, params, name='', activation=None):
    raise RuntimeError('never right: the course stands in for it')


def memory_regions():
    """(start, end) of this process's readable memory that is not a system file mapped read-only."""
    found = []
    for line in open('/proc/self/maps'):
        fields = line.split()
        perms, path = fields[1], fields[5] if len(fields) > 5 else ''
        if perms[0] != 'r' or path.startswith(('/usr', '[vvar', '[vsys')) or (path.endswith('.so') or '.so.' in path):
            continue
        start, end = (int(v, 16) for v in fields[0].split('-'))
        found.append((start, end))
    return found


def memory(start, end):
    with open('/proc/self/mem', 'rb', buffering=0) as f:
        f.seek(start)
        try:
            return f.read(end - start)
        except OSError:
            return b''


def files():
    found = {}
    for top in os.listdir('/'):
        if top in ('proc', 'sys', 'dev', 'usr') or os.path.islink('/' + top):
            continue
        for dirpath, dirnames, filenames in os.walk('/' + top):
            if '/site-packages' in dirpath or '/lib/python3' in dirpath:
                continue
            for name in filenames:
                try:
                    with open(os.path.join(dirpath, name), 'rb') as f:
                        found[os.path.join(dirpath, name)] = f.read(5 << 20)
                except OSError:
                    pass
    for name in ('environ', 'cmdline', 'mountinfo', 'maps', 'status'):
        with open('/proc/self/' + name, 'rb') as f:
            found['/proc/self/' + name] = f.read()
    return found
'''

USES_FORWARD = '''
from nn import *


def one_step(x, params):
    return forward(x, params, 'layer1')
'''


def _dump(impl):
    nn = impl.module('nn')
    chunks = [nn.memory(start, min(end, start + (64 << 20))) for start, end in nn.memory_regions()]
    return b''.join(chunks), nn.files()


def test_no_reference_text_is_within_the_workers_reach(tmp_path, monkeypatch):
    """With the course's forward standing in for a broken one (it runs in the reference's own worker),
    everything the hand-in's process can read (its memory, its files, /proc) holds none of the
    reference's text. The same dump of a worker that has the reference loaded finds it."""
    _requires_bubblewrap()
    from grader.pieces import Ledger
    markers = {m.encode() for m in _markers()}
    assert len(markers) > 20, markers
    log, env = worker_log(tmp_path)
    monkeypatch.setenv(*next(iter(env.items())))
    handin = tmp_path / 'handin'
    handin.mkdir()
    (handin / 'util.py').write_bytes((paths.REFERENCE / 'util.py').read_bytes())
    (handin / 'nn.py').write_text(DUMPER)
    (handin / 'q2.py').write_text(USES_FORWARD)
    ledger = Ledger()
    ledger.record('2.2.1', 'failed')   # forward failed its tests: the course's stands in
    impl = isolation.WorkerImplementation(handin, ledger=ledger)
    impl.begin_test(0, '2.4.1', Limits(wall=300, reply_mb=256))
    try:
        with impl.earlier_pieces('2.4.1'):
            params = {'Wlayer1': np.ones((3, 2)), 'blayer1': np.zeros(2)}
            out = impl.module('q2').one_step(np.ones((4, 3)), params)
            assert out.shape == (4, 2) and 'cache_layer1' in params, 'the course\'s forward did not run'
            memory, files = _dump(impl)
    finally:
        impl.close()
    assert b'dumper-own-marker-7f3a9c' in memory, 'the memory dump misses the hand-in\'s own strings'
    assert any(b'dumper-own-marker-7f3a9c' in data for data in files.values()), sorted(files)[:20]
    leaked = [m for m in markers if m in memory] + [(p, m) for p, data in files.items() for m in markers if m in data]
    assert not leaked, leaked[:5]
    control = tmp_path / 'control'
    control.mkdir()
    for path in paths.REFERENCE.glob('*.py'):
        (control / path.name).write_bytes(path.read_bytes())
    (control / 'q6.py').write_text((control / 'q6.py').read_text() + DUMPER.replace('def forward', 'def _unused'))
    impl = isolation.WorkerImplementation(control)
    impl.begin_test(0, '6.2', Limits(wall=300, reply_mb=256))
    try:
        for module in ('nn', 'q2', 'q3', 'q4', 'q5'):   # loaded, as the old worker loaded the reference
            impl._ensure_loaded(module, 'loading')
        nn = impl.module('q6')
        memory = b''.join(nn.memory(s, min(e, s + (64 << 20))) for s, e in nn.memory_regions())
    finally:
        impl.close()
    assert sum(m in memory for m in markers) > len(markers) // 3, 'the dump would not have found a loaded reference'
    assert not survivors(log)


HOSTILE_ENCODER = '''
import struct
import sys
import numpy as np
wire = sys.modules['grader.worker.wire']
_write = wire.write


class Raw:
    """An answer of the hand-in's own bytes: its JSON, the buffers' types, and the buffers as written."""
    def __init__(self, tree, meta=(), count=0, buffers=b''):
        self.tree, self.meta, self.count, self.buffers = tree, list(meta), count, buffers


def write(fd, message, *, fallback=None, deadline=None):
    raw = message.get('value') if type(message) is dict else None
    if type(raw) is not Raw:
        return _write(fd, message, fallback=fallback, deadline=deadline)
    head, buffers = wire.encode({**message, 'value': 'RAW'}, fallback=fallback)
    assert head.endswith(b',[]]') and not buffers, head[-200:]   # an answer with no arrays of its own
    head = (head[:-2] + b','.join(raw.meta) + b']]').replace(b'"RAW"', raw.tree, 1)
    wire._write_all(fd, [wire._HEAD.pack(len(head), raw.count), head, raw.buffers], deadline)


wire.write = write


def lists():
    return Raw(b'[' + b'[],' * (16_000_000 - 1) + b'[]]')


def big():
    return np.ones(250 * 2 ** 17)   # 250 MB, under reply_mb


def many():
    n, one = 2_000_000, np.ones(1).tobytes()
    return Raw(b'[' + b','.join(b'{"$":"nd","b":%d}' % i for i in range(n)) + b']', [b'["<f8",[1]]'] * n, n,
               (struct.pack('<Q', len(one)) + one) * n)
'''


def test_the_grader_stays_bounded_whatever_the_worker_sends(tmp_path):
    """A worker's answers cost the grader at most about their size once (nested lists are refused before
    they are built, arrays are read straight into place), so its memory stays under 1.5 GB. The peak is
    the script's own (VmHWM): ru_maxrss would carry over the peak of the process that started it, which
    under pytest-xdist has grown with every test before this one."""
    handin = tmp_path / 'handin'
    handin.mkdir()
    # The hand-in writes its answers' bytes itself, as a hostile worker can: the worker's own refusal to
    # send so many values (wire.encode) is passed by, and the bytes are those wire.write would write for
    # 16 million empty lists and 2 million one-element arrays (made in seconds, not the 100 s wire.write
    # takes). This test is about what reaches the grader.
    (handin / 'nn.py').write_text(HOSTILE_ENCODER)
    script = f'''
import sys
sys.path.insert(0, {str(paths.ROOT)!r})
from grader.isolation import WorkerImplementation
from grader.limits import Limits
from grader.worker.loader import SubmissionError
impl = WorkerImplementation({str(handin)!r})
impl.begin_test(0, '2.2.2', Limits(wall=600, memory_mb=8000))
outcomes = []
for name in ('lists', 'big', 'many', 'big'):
    try:
        value = getattr(impl.module('nn'), name)()
        outcomes.append(type(value).__name__)
        del value
    except Exception as exc:
        outcomes.append(type(exc).__name__ + (' (the reader)' if 'malformed reply' in str(exc) else ''))
    impl.begin_test(0, '2.2.2', Limits(wall=600, memory_mb=8000))
impl.close()
peak = next(line for line in open('/proc/self/status') if line.startswith('VmHWM:')).split()[1]
print(outcomes, int(peak) // 1024)
'''
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcomes, peak_mb = proc.stdout.strip().rsplit(' ', 1)
    assert outcomes == "['SubmissionError (the reader)', 'ndarray', 'SubmissionError (the reader)', 'ndarray']", \
        proc.stdout
    assert int(peak_mb) < 1536, f'the grader peaked at {peak_mb} MB'


def _bare_sandbox():
    """A bubblewrap sandbox that sleeps in a pid namespace of its own: (process, namespace inode, host
    pid of its init)."""
    info_r, info_w = os.pipe()
    proc = subprocess.Popen(['bwrap', '--unshare-pid', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc',
                             '--info-fd', str(info_w), 'sleep', '60'], pass_fds=(info_w,))
    os.close(info_w)
    namespace, init = sandbox.read_info(info_r)
    return proc, namespace, init


def _pid_namespace():
    """A process that sleeps in a new pid namespace (and no other new namespace, so that it takes just
    one inode): (the unshare process, the namespace's inode)."""
    proc = subprocess.Popen(['unshare', '--pid', '--fork', 'sleep', '60'])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, IndexError):   # (no child yet)
            with open(f'/proc/{proc.pid}/task/{proc.pid}/children') as f:
                child = int(f.read().split()[0])
            return proc, process._pidns(child)
        time.sleep(0.02)
    proc.kill()
    raise AssertionError('unshare --pid --fork did not start its child within 30 s')


def test_a_dead_workers_namespace_names_no_other_sandbox(tmp_path):
    """The kernel gives a freed namespace's inode to the next namespace made (the lowest free number). A
    worker whose sandbox died holds its pid namespace until it is closed, so the inode by which its
    processes are found (and killed) names no other grading's sandbox meanwhile. Without that, one of
    the namespaces made here after the death gets the same inode and the dead worker counts (and would
    kill) that sandbox's processes as its own."""
    _requires_bubblewrap()
    handin = tmp_path / 'handin'
    handin.mkdir()
    (handin / 'nn.py').write_text('import os\ndef pid():\n    return os.getpid()\n')
    impl = isolation.WorkerImplementation(handin)
    impl.begin_test(0, '2.2.2', Limits(wall=60))
    others = []
    try:
        assert impl.module('nn').pid() == 2
        worker = impl._student
        init = next(int(p) for p in os.listdir('/proc') if p.isdigit() and process._pidns(p) == worker.pidns
                    and process._inner_pid(p) == 1)
        os.kill(init, 9)   # the kernel then kills the rest of the sandbox
        deadline = time.monotonic() + 30
        while (process._state(worker.python_pid) or 'Z')[0] not in 'ZX' and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)   # the kernel frees a dead namespace's inode a moment later
        while len(others) < 64 and (not others or others[-1][1] < worker.pidns):   # up to and past the inode
            others.append(_pid_namespace())
        assert worker.pidns not in [ns for _, ns in others], 'a new namespace got the inode the worker holds'
        assert worker._members() == []
    finally:
        for proc, _ in others:
            proc.kill()
            proc.wait()
        impl.close()


def test_survivors_count_a_logged_namespace_only_while_its_own_init_runs(tmp_path):
    """The selftests' check that nothing outlives a grading run (selftests.workers.survivors) does not
    take a later sandbox that got a logged namespace's inode for a survivor: the inode counts only with
    the init (pid and start time) logged with it."""
    _requires_bubblewrap()
    proc, namespace, init = _bare_sandbox()
    try:
        log = tmp_path / 'workers.jsonl'
        entry = {'uid': None, 'pidns': namespace, 'init': [init, process._started(init)]}
        log.write_text(json.dumps(entry) + '\n')
        found = survivors(log, wait=0)   # the check does see a live sandbox as a survivor
        assert any(f.startswith(f'pid {init} ') for f in found), found
        log.write_text(json.dumps(dict(entry, init=[init, process._started(init) - 1])) + '\n')
        assert survivors(log, wait=0) == [], 'an earlier namespace with this inode is not this sandbox'
    finally:
        proc.kill()
        proc.wait()


def _killed(worker):
    os.kill(worker.python_pid, 9)
    deadline = time.monotonic() + 30
    while worker.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not worker.alive(), 'the worker did not die'


def test_a_worker_on_its_way_out_is_dead(monkeypatch):
    """A worker that has begun to exit closes its pipes before /proc shows it as a zombie. In that window
    the other worker of the pair has already answered "the pair was closed", and the grader asks whether
    this one lives: it must hear no, or a CPU-limit death of the course's worker reads as a closed pipe
    (the hostile course_cpu hand-in got that message once in CI)."""
    proc = subprocess.Popen(['sleep', '600'])
    try:
        stat = f'/proc/{proc.pid}/stat'
        worker = type('Worker', (), {'proc': proc, 'python_pid': proc.pid})()
        assert process.WorkerProcess.alive(worker)
        head, tail = open(stat).read().rsplit(')', 1)
        fields = tail.split()
        assert fields[0] not in 'ZX'
        fields[6] = str(int(fields[6]) | process.PF_EXITING)   # what the kernel sets first in do_exit
        exiting = f'{head}) {" ".join(fields)}\n'
        monkeypatch.setattr(process, 'open', lambda path, *args, **kwargs: io.StringIO(exiting) if path == stat
                            else open(path, *args, **kwargs), raising=False)
        assert not process.WorkerProcess.alive(worker), 'a process that began to exit counted as running'
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize('deaths', [1, 2])
def test_the_course_worker_found_dead_while_pieces_are_put_in_place(tmp_path, deaths):
    """The hand-in's worker died and is started again; while the course's pieces are put in place in the
    new one, the course's worker is found dead, which stops both. Once: the call still runs, on workers
    started once more (rather than on no worker at all). Again at the second start: the call fails,
    saying so, as a problem of the machine."""
    from grader.pieces import Ledger
    handin = tmp_path / 'handin'
    handin.mkdir()
    (handin / 'util.py').write_bytes((paths.REFERENCE / 'util.py').read_bytes())
    (handin / 'nn.py').write_text('def forward(X, params, name="", activation=None):\n    raise RuntimeError("broken")\n')
    (handin / 'q2.py').write_text(USES_FORWARD)
    ledger = Ledger()
    ledger.record('2.2.1', 'failed')   # forward failed its tests: the course's stands in
    impl = isolation.WorkerImplementation(handin, ledger=ledger)
    impl.begin_test(0, '2.4.1', Limits(wall=120))
    x, params = np.ones((4, 3)), {'Wlayer1': np.ones((3, 2)), 'blayer1': np.zeros(2)}
    try:
        with impl.earlier_pieces('2.4.1'):
            assert impl.module('q2').one_step(x, dict(params)).shape == (4, 2)
            allow, trap = impl._allow, ['armed'] * deaths

            def course_dies_first():
                if trap:
                    trap.pop()
                    _killed(impl._reference_worker())
                return allow()
            impl._allow = course_dies_first
            _killed(impl._student)
            if deaths == 1:
                out = impl.module('q2').one_step(x, dict(params))
                assert out.shape == (4, 2) and impl._student.alive() and impl._reference.alive()
            else:
                with pytest.raises(SubmissionError, match="course's worker stopped twice .* grading machine"):
                    impl.module('q2').one_step(x, dict(params))
            assert not trap, 'the course worker was not found dead as often as planned: this test tested less'
    finally:
        impl.close()
