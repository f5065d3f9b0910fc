"""WorkerImplementation: the implementation under test (grader.impl.ImplementationUnderTest), with the
submission running in an isolated worker process and never in the pytest process that decides verdicts.

- Calls go over pipes as plain data (grader.worker.wire: no pickle); dict and list arguments come back
  with the worker's final state and are updated in place, arrays are copies. Objects that are not plain
  data stay in the worker as handles.
- Per-call limits (grader.limits): wall time (the worker is killed and restarted), CPU time, memory and
  output size; each hit fails only the test that made the call, with a sentence saying which limit. A
  function that hung is not called again; a module whose top-level code hung is not imported again.
  Nothing runs past the overall grading deadline.
- Where a question builds on earlier pieces that failed their own tests (grader.pieces), the course's
  pieces stand in: the worker gets stand-ins that call out, over a pipe pair straight to a second
  worker where the reference's functions run (grader.worker.link). The grader tells that worker which
  pieces it may run, credits its time to the submission's call, and fails the call if it dies. The
  reference never enters the submission's process; the submission never touches the reference's
  except through the pair. The two workers start and stop together, so a pair never outlives either."""
import ast
import contextlib
import fcntl
import functools
import os
import time
from pathlib import Path

from grader import paths
from grader.isolation import sandbox
from grader.isolation.process import MACHINE_PROBLEM, PIPE_BYTES, WorkerProcess
from grader.isolation.proxies import Handle, ModuleView, PieceRef, Proxy
from grader.limits import DEFAULT, LimitExceeded, busy_time, covers, death_message, seconds
from grader.pieces import Ledger
from grader.rubric import is_torch
from grader.worker import activations, wire
from grader.worker.loader import MODULES, SubmissionError
from grader.worker.pieces import brief

ENV_VAR = 'NN_ISOLATE'
_ACTIVATIONS = {id(fn): name for name, fn in activations.REGISTRY.items()}
OUT_OF_TIME = 'not graded for time: '   # the start of the message when the grading deadline stops a call


class WorkerImplementation:
    """The submission in ``root`` (a folder of course files), run in an isolated worker."""

    isolated = True

    def __init__(self, root, label=None, ledger=None):
        self.root = Path(root).resolve()
        self.label = label or str(self.root)
        self.ledger = ledger if ledger is not None else Ledger()
        self.limits = DEFAULT
        self.question = None
        self.deadline = None       # time.monotonic() after which nothing more runs (the grading deadline)
        self.spent = {}            # question -> seconds of calls
        self.output = ''           # the tail of what the submission printed during this test (diagnosis only)
        self.violations = []       # (file, line, library): imports the rules forbid, caught at run time
        self.restarts = 0
        self.strays_killed = 0
        self.hung = {}             # call -> how it hit the wall-time limit: not run again this session
        self.hung_modules = {}     # module -> why its top-level code is not run again
        self._seed = None
        self._hit = None
        self._student = None
        self._reference = None
        self._pair = None          # {'submission' | 'course': (read fd, write fd)}: ends of a pair not yet handed over
        self._loaded = set()       # course modules imported in the current student worker
        self._active = {}          # level number -> [(module, name)] the course stands in for, innermost last
        self._levels = 0
        self._relay = {}           # number -> grader-side object another worker may call back
        self._torch = None
        found = _imports(self.root)
        self._imports = _course_imports(found)
        self._torch_everywhere = _numpy_part_imports_torch(found)

    def __repr__(self):   # shown in Hypothesis's failing examples: no folder names, no harness classes
        return '<your code>'

    status = staticmethod(sandbox.status)

    # ---------------------------------------------------------------- the implementation interface
    def module(self, name):
        return ModuleView(self, name)

    def attribute(self, module, name):
        """``module.name`` as the tests see it: the submission's, or what stands in for it."""
        if any((module, name) in level for level in self._active.values()):
            if name == 'train_model':   # Q7: the grader's own training loop, driving the model in the worker
                from grader import trainer
                return functools.partial(trainer.train_model, self.torch())
            return _ReferenceCall(self, module, name)
        return Proxy(self, module, name)

    def seed(self, seed, torch=False):
        """Seed random and np.random in the worker (torch=True: torch too, as grader.torch_eval.setup);
        this replaces the per-test seed the first call would otherwise apply."""
        self._seed = None
        self.request({'op': 'seed', 'value': int(seed), 'torch': bool(torch)}, 'seeding the worker')

    def stage_checkpoint(self, name, data):
        """Put ``data`` (bytes; None removes it) in the worker's torch hub cache as ``name``."""
        self.request({'op': 'stage', 'name': name, 'data': data}, f'staging {name}')

    def torch(self):
        """A handle to torch in the worker (grader.trainer drives a training loop through it)."""
        if self._torch is None or self._torch._process is not self._student:
            self._torch = self.request({'op': 'import', 'module': 'torch'}, 'importing torch')['value']
        return self._torch

    @contextlib.contextmanager
    def earlier_pieces(self, qid, composite=()):
        """Within the block, question ``qid`` runs on the course's pieces where the submission's failed
        their own questions (grader.pieces); the worker gets stand-ins that call out for them."""
        if self.root == paths.REFERENCE.resolve() or not paths.REFERENCE.is_dir():
            yield
            return
        self._levels += 1
        number = self._levels
        self._active[number] = self.ledger.substitutes(qid, composite)
        try:
            self._send_pieces(number)
            yield
        finally:
            del self._active[number]
            if self._student is not None and self._student.alive():
                with contextlib.suppress(SubmissionError, LimitExceeded):
                    self.request({'op': 'unpieces', 'level': number}, 'restoring the submission\'s own pieces')
                    self._allow()

    # -- per test (called by the pytest plugin)
    def begin_test(self, seed, question=None, limits=DEFAULT):
        self._seed, self.question, self.limits = seed, question, limits
        self.output = ''
        self._hit = None   # the first limit this test hit: later calls of the test are not run

    def end_test(self):
        """Kill whatever the submission left running; returns how many stray processes there were."""
        if self._student is not None and self._student.alive():
            found = self._student.strays()
            if found:
                self.strays_killed += len(found)
                self._stop_workers()
            return len(found)
        return 0

    def close(self):
        self._stop_workers()

    # ---------------------------------------------------------------- calls
    def call(self, target, args, kwargs, call):
        if isinstance(target, Handle):
            message, process = {'target': target._number}, target._process
        else:
            self._ensure_loaded(target.split('.')[0], call)
            message, process = {'target': target}, None
        message.update(op='call', args=list(args), kwargs=dict(kwargs), seed=self._seed)
        reply = self.request(message, call, process)
        self._seed = None
        _update_in_place(args, kwargs, reply.get('state'))
        return reply['value']

    def request(self, message, call, process=None):
        """One request to the student's worker (or to the worker ``process`` a handle belongs to)."""
        if process is not None and process is not self._student:
            raise SubmissionError(f'{call}: this object belonged to a worker that was stopped (after a crash or '
                                  'a limit); it is gone')
        limits = self.limits
        if self._hit is not None:
            raise LimitExceeded(f'{call} was not run: earlier in this test, {self._hit}')
        if call in self.hung:   # a hung function would cost every later test its full wall-time limit
            raise LimitExceeded(f'{call} was not run: in an earlier test, {self.hung[call]}')
        spent = self.spent.get(self.question, 0.0)
        if spent >= limits.budget * limits.factor:
            raise LimitExceeded(f'question {self.question} used up its {seconds(limits.budget * limits.factor)} s time '
                                f'budget; {call} was not run')
        worker = self._worker()   # (a new worker's start-up is not the call's time)
        if self.deadline is not None and self.deadline <= time.monotonic():
            raise LimitExceeded(f'{OUT_OF_TIME}the grading deadline had passed, so {call} was not run')
        clock = worker.clock(limits, cap=self.deadline, elsewhere=self._course_time)
        start = time.monotonic()
        try:
            reply = worker.request(message, limits, call, clock, self._on_callback)
            self._course_alive(call, limits)
        except LimitExceeded as exc:
            self._stop_workers()
            self.restarts += 1
            if exc.wall_time and clock.capped():
                exc = LimitExceeded(f'{OUT_OF_TIME}{call} was stopped at the grading deadline')
            else:
                self._hit = str(exc)
                if exc.wall_time:
                    self.hung.setdefault(call, str(exc))
            raise exc
        except SubmissionError:
            self._stop_workers()
            raise
        finally:
            self.spent[self.question] = spent + time.monotonic() - start - clock.waited()
            if worker.last_output:
                self.output = (self.output + worker.last_output)[-4096:]
                worker.last_output = ''
        self._collect(reply)
        if not reply['ok']:
            raise _failure(call, reply.get('error'), limits)
        return reply

    def _collect(self, reply):
        for item in reply.get('violations') or ():
            if type(item) in (list, tuple) and len(item) == 3 and all(type(v) in (str, int) for v in item):
                file, line, library = item
                if str(file)[:-3] in MODULES:
                    self.violations.append((str(file), int(line), str(library)[:200]))

    # ---------------------------------------------------------------- the workers
    def _wants_torch(self):
        """Does the worker load torch before any hand-in code (grader.worker.limits.settle), so that torch's
        own memory does not count against the hand-in's? For Q7's tests, and for every test when the NumPy
        part's files import torch. A worker started without it is replaced when the first Q7 test begins."""
        return self._torch_everywhere or (self.question is not None and is_torch(self.question))

    def _worker(self, again=True):
        if self._student is not None and not covers(self._student.started_with, self.limits):
            self._stop_workers()   # this test needs more than the running worker may ever use
        elif self._student is not None and self._wants_torch() and not self._student.torch:
            self._stop_workers()
        if self._student is None or not self._student.alive():
            if self._student is not None:
                self._stop_workers()
                self.restarts += 1
            self._student = WorkerProcess(self.root, self.limits, self._resolver(lambda: self._student, True),
                                          self._end('submission'), torch=self._wants_torch())
            self._student.encoder = self._encoder(lambda: self._student, True)
            self._loaded = set()
            for number in list(self._active):
                self._send_pieces(number)
            if self._student is None:   # the course's worker was found dead meanwhile, which stopped both
                if again:
                    return self._worker(again=False)
                raise SubmissionError("the course's worker stopped twice while its pieces were being put in place "
                                      f'({MACHINE_PROBLEM})')
        return self._student

    def _reference_worker(self):
        if self._reference is not None and not self._reference.alive():
            self._stop_workers()   # its pair died with it: the submission's worker starts again too
        if self._reference is None:
            self._reference = WorkerProcess(paths.REFERENCE, self.limits, self._resolver(lambda: self._reference, False),
                                            self._end('course'), course=True)
            self._reference.encoder = self._encoder(lambda: self._reference, False)
        return self._reference

    def _stop_workers(self):
        """Stop the submission's worker and the course's: the pair between them goes with either."""
        for worker in (self._student, self._reference):
            if worker is not None:
                worker.kill()
        self._student = self._reference = None
        for fd in [fd for ends in (self._pair or {}).values() for fd in ends]:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._pair = None

    def _end(self, side):
        """The ends of the pipe pair (grader.worker.link) for the worker of ``side`` about to start; the
        other worker gets the other ends, now if it runs (it was started first), or when it starts."""
        if self._pair is None:
            up_r, up_w = os.pipe()       # submission -> course
            down_r, down_w = os.pipe()   # course -> submission
            for fd in (up_w, down_w):   # a layer's arrays in one step
                with contextlib.suppress(OSError):
                    fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            os.set_blocking(down_w, False)   # the course's side sends with a deadline: a reader that stops costs it nothing
            self._pair = {'submission': (down_r, up_w), 'course': (up_r, down_w)}
        ends = self._pair.pop(side)
        if not self._pair:
            self._pair = None
        return ends

    def _allow(self):
        """Tell the course's worker which pieces the pair may call: those standing in now (it starts with
        the first)."""
        pieces = sorted({tuple(p) for level in self._active.values() for p in level if p[1] != 'train_model'})
        if not pieces and self._reference is None:
            return
        worker = self._reference_worker()
        try:
            reply = worker.request({'op': 'allow', 'pieces': [list(p) for p in pieces]}, self.limits,
                                   "putting the course's pieces in place", worker.clock(self.limits, self.deadline))
        except (LimitExceeded, SubmissionError):
            self._stop_workers()
            raise
        if not reply['ok']:
            self._stop_workers()
            raise SubmissionError(f"the course's pieces could not be put in place: {reply.get('error')}")

    def _course_time(self):
        """Seconds the course's worker has run or waited to run: the time a call spends on the course's
        pieces over the pair is not the submission's."""
        return busy_time(self._reference.python_pid) if self._reference is not None else None

    def _course_alive(self, call, limits):
        """A call that used the course's worker over the pair fails if that worker died meanwhile."""
        if self._reference is not None and not self._reference.alive():   # (request then stops both)
            raise LimitExceeded(death_message(f"the course's pieces, run for {call},", self._reference.kill(), limits))

    def _ensure_loaded(self, module, call):
        """Import ``module`` (after the course modules it imports) on a request of its own, so that top-level
        code that hangs is charged once, to that module, and never run again."""
        chain = self._chain(module)
        hung = next((m for m in chain if m in self.hung_modules), None)
        if hung is not None:
            raise LimitExceeded(f'{call} was not run: {self.hung_modules[hung]}')
        for name in chain:
            if self._student is not None and name in self._loaded:
                continue
            try:
                self.request({'op': 'load', 'module': name}, f'{name}.py (its top-level code, run on import)')
            except LimitExceeded as exc:
                if exc.wall_time:
                    self.hung_modules[name] = (f'the top-level code of {name}.py (what runs when it is imported, '
                                               f'outside any function) did not finish within {self.limits.wall:g} s; '
                                               f'nothing in {name}.py, or in the files that import it, is run again')
                    raise LimitExceeded(f'{call} was not run: {self.hung_modules[name]}') from None
                raise
            self._loaded.add(name)

    def _chain(self, module):
        """``module`` after the course modules it imports, directly or not, in import order."""
        if module not in MODULES or not (self.root / f'{module}.py').is_file():
            return []
        seen, todo = set(), [module]
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo.extend(self._imports.get(m, ()))
        return sorted((m for m in seen if (self.root / f'{m}.py').is_file()), key=MODULES.index)

    def _send_pieces(self, number):
        """Have the worker put the stand-ins of level ``number`` in place (again, after a restart: the
        worker ignores a level it already has)."""
        level = self._active.get(number, [])
        usable = set()
        for module in {m for m, _ in level}:
            with contextlib.suppress(LimitExceeded, SubmissionError):   # a module that cannot load keeps its error
                self._ensure_loaded(module, f'{module}.py')
                usable.add(module)
        pieces = [list(p) for p in level if p[1] != 'train_model' and p[0] in usable]
        self.request({'op': 'pieces', 'level': number, 'pieces': pieces}, 'putting the course\'s pieces in place')
        self._allow()

    # -- objects crossing between the grader and the two workers
    def _resolver(self, process, student):
        def resolve(tag):
            kind = tag['$']
            if kind == 'handle':
                return Handle(self, process(), int(tag['id']), str(tag.get('type', 'object'))[:200],
                              bool(tag.get('callable')))
            if kind == 'fn':
                return activations.REGISTRY[str(tag['name'])]
            if kind == 'ref' and student:   # a stand-in in the submission's worker names the course's piece
                return PieceRef(str(tag['module']), str(tag['name']))
            if kind == 'remote':
                return self._relay[int(tag['id'])]
            raise wire.WireError(f"unexpected {kind!r} from the worker")
        return resolve

    def _encoder(self, process, student):
        def encode(obj):
            name = _ACTIVATIONS.get(id(obj))
            if name is not None:
                return {'$': 'fn', 'name': name}
            if isinstance(obj, Handle) and obj._process is process():
                return {'$': 'handle', 'id': obj._number}
            if isinstance(obj, Proxy) and student:
                return {'$': 'ref', 'module': obj.module, 'name': obj.name}
            if isinstance(obj, PieceRef) and not student:
                return {'$': 'ref', 'module': obj.module, 'name': obj.name}
            if isinstance(obj, (Handle, PieceRef)):   # lives elsewhere: the receiver may call it back
                if isinstance(obj, Handle) and obj._process not in (self._student, self._reference):
                    raise SubmissionError(f'{obj!r} belonged to a worker that was stopped (after a crash or limit)')
                number = max(self._relay, default=0) + 1
                self._relay[number] = obj
                return {'$': 'remote', 'id': number}
            return None
        return encode

    def _on_callback(self, message):
        """A worker calls something that lives elsewhere: the course's piece (run by the reference's
        worker) or an object of the other worker. Returns the answer to send back."""
        target, before = message.get('target'), set(self._relay)
        body = {'op': 'call', 'args': message.get('args', []), 'kwargs': message.get('kwargs', {}), 'changes_only': True}
        try:
            if isinstance(target, PieceRef):
                if not any((target.module, target.name) in level for level in self._active.values()):
                    return _refused(f"the course's {target.name} is not available here")
                process, body['target'] = self._reference_worker(), {'$': 'ref', 'module': target.module,
                                                                     'name': target.name}
                body['rng'] = message.get('rng')
            elif isinstance(target, Handle) and target._process in (self._student, self._reference):
                process, body['target'] = target._process, target._number
            else:
                return _refused('a call out of the worker named nothing the grader knows')
            label = f"the course's {target.name}" if isinstance(target, PieceRef) else repr(target)
            try:
                reply = process.request(body, None, label, process.clock(self.limits, self.deadline), self._on_callback)
            except (LimitExceeded, SubmissionError):
                if process is self._reference:
                    self._stop_workers()
                raise
        finally:
            for number in set(self._relay) - before:   # relayed objects live as long as the call
                self._relay.pop(number, None)
        if process is self._reference and not reply['ok']:
            return _refused(brief(reply.get('error') or {}))
        return {k: reply.get(k) for k in ('ok', 'value', 'state', 'rng', 'error')}


class _ReferenceCall:
    """The course's ``module.name`` called directly by a test while it stands in for the submission's."""

    def __init__(self, client, module, name):
        self._client, self._module, self._name = client, module, name

    def __call__(self, *args, **kwargs):
        client = self._client
        answer = client._on_callback({'target': PieceRef(self._module, self._name), 'args': list(args),
                                      'kwargs': dict(kwargs)})
        if not answer.get('ok'):
            raise SubmissionError(f"the course's {self._name} failed: {answer.get('error')}")
        _update_in_place(args, kwargs, answer.get('state'), merge=True)
        return answer['value']


def _refused(why):
    return {'ok': False, 'error': why}


def _imports(root):
    """{course module: top-level names of the modules it imports}, read from the files without running them."""
    found = {}
    for name in MODULES:
        path = root / f'{name}.py'
        try:
            tree = ast.parse(path.read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name.split('.')[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split('.')[0])
        found[name] = names
    return found


def _course_imports(found):
    """{course module: course modules it imports}."""
    return {name: (names & set(MODULES)) - {name} for name, names in found.items()}


def _numpy_part_imports_torch(found):
    """Does a module of the NumPy questions import torch (then every worker loads it first)?"""
    return any(names & {'torch', 'torchvision'} for name, names in found.items() if name != 'q7')


def _update_in_place(args, kwargs, state, merge=False):
    """The submission mutates its dict/list arguments (forward caches, backwards stores gradients):
    make the caller's objects hold the worker's final state (``merge``: only the entries that changed
    came back)."""
    for key, new in (state or {}).items():
        old = kwargs.get(key) if not key.isdigit() else (args[int(key)] if int(key) < len(args) else None)
        if type(old) is dict and type(new) is dict:
            if not merge:
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
        return LimitExceeded(f'{call} hit the limit of {sandbox.MAX_PROCESSES} processes ({etype}: {message})')
    if kind == 'exit':
        return SubmissionError(f'{call} called sys.exit({message}) instead of returning')
    if etype == 'SubmissionError':
        return SubmissionError(message)
    return SubmissionError(f'{call} raised {etype}: {message}{" (" + where + ")" if where else ""}')
