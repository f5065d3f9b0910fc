"""pytest runs forked from a warm process, for many runs in a row (``batch``, ``selfcheck``,
the selftests' kill table).

Each grading run is a fresh pytest process, so one implementation's course modules never meet another's.
Starting one costs seconds before the first test: Python, pytest, NumPy, SciPy, Hypothesis, scikit-image
and, for Q7, torch and torchvision. A ``Server`` imports those libraries once, and every run is a fork of
it: still a process of its own that has loaded no course module before its tests import one. Measured
here, one run at a time: Q2 variants 3.5-5.4 s fresh, 2.6-3.1 s forked; a Q4 one 7.9 and 5.7 s; a Q7.1.1
one 16.7 and 8.7 s.

The server is started with the runs' environment, and every run must ask for the same values of the
variables that are read only when Python starts or a library is imported (hash seed, BLAS threads, the
Hypothesis profile, matplotlib's backend): ``Server.run`` refuses others rather than run with stale ones."""
import contextlib
import gc
import importlib
import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback

from grader.rubric import is_torch

# Libraries the runs import; one that is not installed is passed over. Q7's cost 6 s to import, so only
# a server for runs that reach Q7 loads them.
PRELOAD = ('scipy.stats', 'scipy.special', 'scipy.ndimage', 'skimage.measure', 'skimage.morphology',
           'skimage.filters', 'skimage.transform', 'matplotlib.pyplot', 'hypothesis', 'numpy', 'pytest',
           'grader.pytest_plugin')
TORCH = ('torch', 'torchvision')
FIXED = ('PYTHONHASHSEED', 'HYPOTHESIS_PROFILE', 'MPLBACKEND', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS',
         'MKL_NUM_THREADS')
# pytest warns that modules imported before it started (here: on purpose) cannot have their asserts
# rewritten; neither the plugin nor Hypothesis relies on that, and the test files are imported by pytest.
QUIET = ('-W', 'ignore::pytest.PytestAssertRewriteWarning')
POLL = 0.05   # seconds between the server's checks for finished runs while any is running
_channel = None   # in the server: where its reports go (its original stdout)


class ServerStopped(RuntimeError):
    """The server is gone (killed, out of memory): the run did not start, or was stopped with it."""


class Server:
    """A warm process that forks pytest runs: ``run(args, env, timeout)`` as ``subprocess.run`` of
    ``python -m pytest *args`` in ``cwd`` would be. Safe to call from several threads."""

    def __init__(self, env, cwd, questions=None):
        """``questions``: the rubric ids the runs will ask for (None: any); torch is loaded for Q7's."""
        self.env, self.cwd = dict(env), str(cwd)
        self._outputs = tempfile.TemporaryDirectory(prefix='nn-warm-')
        torch = questions is None or any(map(is_torch, questions))
        preload = (TORCH if torch else ()) + PRELOAD
        self._proc = subprocess.Popen([sys.executable, '-c', 'from grader.warm_starts import serve; serve()', *preload],
                                      cwd=self.cwd, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._lock = threading.Lock()
        self._waiting = {}   # job number -> queue of the server's messages about it
        self._next = 0
        self._stopped = False
        threading.Thread(target=self._read, daemon=True).start()

    def run(self, args, env, timeout=None):
        """(returncode, output, timed_out) of ``pytest *args`` forked with ``env``; a run still going
        after ``timeout`` seconds is killed (returncode None)."""
        stale = [k for k in FIXED if env.get(k) != self.env.get(k)]
        if stale:
            raise ValueError(f'the warm-start server was started with other values of {", ".join(stale)}, '
                             'which a forked run cannot change: start a server with this environment')
        with self._lock:
            if self._stopped:
                raise self._gone()
            job, self._next = self._next, self._next + 1
            inbox = self._waiting[job] = queue.Queue()
            output = os.path.join(self._outputs.name, f'{job}.out')
            request = dict(job=job, args=[*QUIET, *args], env=dict(env), output=output)
            try:
                self._proc.stdin.write(json.dumps(request).encode() + b'\n')
                self._proc.stdin.flush()
            except OSError:
                pass   # the server is gone: _read has told the inbox
        pid = None
        try:
            pid = self._expect(inbox, 'pid')
            timed_out = False
            try:
                returncode = self._expect(inbox, 'exit', timeout)
            except queue.Empty:
                timed_out, returncode = True, None
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                self._expect(inbox, 'exit')
            try:
                with open(output, errors='replace') as f:
                    text = f.read()
                os.unlink(output)
            except FileNotFoundError:   # killed before it opened its output
                text = ''
            return returncode, text, timed_out
        except ServerStopped:
            if pid is not None:   # no server will report on it: it must not go on writing the run's files
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            raise
        finally:
            with self._lock:
                self._waiting.pop(job, None)

    @property
    def pid(self):
        return self._proc.pid

    def _expect(self, inbox, key, timeout=None):
        message = inbox.get(timeout=timeout)
        if key not in message:
            raise self._gone()
        return message[key]

    def _gone(self):
        return ServerStopped(f'the warm-start server stopped (exit code {self._proc.poll()}; its stderr says why)')

    def _read(self):
        try:
            for line in self._proc.stdout:
                message = json.loads(line)
                with self._lock:
                    inbox = self._waiting.get(message['job'])
                if inbox is not None:
                    inbox.put(message)
        finally:   # the server ended, or said something else: nothing more will come
            self._proc.kill()
            with self._lock:
                self._stopped = True
                for inbox in self._waiting.values():
                    inbox.put({})

    def close(self):
        """Stop the server (it kills any run still going) and remove the runs' outputs."""
        if self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait()
        self._outputs.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def serve():
    """The server: import the modules named on its command line, then fork one pytest run per request
    line on stdin and report each run's pid and exit code on stdout. Ends when stdin closes."""
    global _channel
    # Reports go out on the original stdout; anything else printed (by a library, a run) goes to stderr.
    _channel = os.fdopen(os.dup(1), 'w')
    os.dup2(2, 1)
    for name in sys.argv[1:]:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    # Out of the garbage collector's sight: otherwise every run's collections would walk (and copy, page
    # by page) the hundreds of thousands of objects torch's import made, which cost a Q2 run more than
    # the imports saved.
    gc.freeze()
    stdin, running, pending = sys.stdin.buffer.fileno(), {}, b''
    try:
        while True:
            ready, _, _ = select.select([stdin], [], [], POLL if running else None)
            if ready:
                chunk = os.read(stdin, 1 << 16)
                if not chunk:
                    return
                *lines, pending = (pending + chunk).split(b'\n')
                for line in lines:
                    request = json.loads(line)
                    pid = os.fork()
                    if pid == 0:
                        _child(request)   # never returns
                    running[pid] = request['job']
                    _report(job=request['job'], pid=pid)
            for pid in list(running):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    _report(job=running.pop(pid), exit=os.waitstatus_to_exitcode(status))
    finally:
        for pid in running:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _report(**message):
    _channel.write(json.dumps(message) + '\n')
    _channel.flush()


def _child(request):
    """In the forked process: run pytest as ``python -m pytest`` would, output to the request's file."""
    code = 70
    try:
        fd = os.open(request['output'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.close(_channel.fileno())   # the server's reports are not the run's to write
        # fresh streams on the new descriptors (the server's own stdout object stays untouched)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, 'w', buffering=1, closefd=False, errors='backslashreplace')
        sys.stderr = open(2, 'w', buffering=1, closefd=False, errors='backslashreplace')
        os.environ.clear()
        os.environ.update(request['env'])
        sys.path[0] = os.getcwd()   # as `python -m pytest` run here puts it
        sys.argv = ['pytest', *request['args']]
        import pytest
        code = int(pytest.main(request['args']))
    except BaseException:   # noqa: B036 -- the run must end here whatever happened
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:   # noqa: BLE001
                pass
        os._exit(code)
