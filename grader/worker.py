"""The isolated worker: the only process that runs a submission's code when grading with --isolate.

Started by grader/isolation.py from a clean copy (the course files of the hand-in plus this package's
public modules), usually as an unprivileged user without network. It serves requests read from one pipe
and answers on another, in grader.wire's plain-data format; what the submission prints goes to a
captured file, never to the protocol. It decides nothing: the trusted side checks every answer.

Requests (dicts): call (target 'nn.softmax' or a handle number, args, kwargs, seed), getattr (of a
handle), probe (one of the harness's torch helpers, grader.torch_eval.PROBES, applied to a handle: how the
trusted side reads a model that cannot leave the worker), seed (Q7: every RNG, torch's too), stage (a file the
harness puts in the worker's torch cache), patch / unpatch (reference pieces, see
Implementation.reference_pieces), release (handles).
Replies: {'ok': True, 'value': ..., 'state': {arg index or keyword: final value of a dict/list
argument}} or {'ok': False, 'error': {type, message, where, kind}}."""
import contextlib
import errno
import os
import sys
import traceback
import types
from pathlib import Path

import numpy as np

from grader import activations, limits as limits_, wire
from grader.impl import MODULES, Implementation

REQUEST_LIMIT = 4 << 30


class Worker:
    def __init__(self, root, rfd, wfd):
        self.impl = Implementation(root)
        self.rfd, self.wfd = wire.Reader(rfd), wfd
        self.handles, self.next_handle = {}, 1
        self.reference, self.patches = {}, []

    # -- plain data <-> objects
    def resolve(self, tag):
        kind = tag['$']
        if kind == 'fn':
            return activations.REGISTRY[tag['name']]
        if kind == 'ref':
            return getattr(self.impl.module(tag['module']), tag['name'])
        return self.handles[int(tag['id'])]

    def keep(self, obj):
        """Anything that is not plain data stays here; the trusted side gets a numbered handle."""
        number = self.next_handle
        self.next_handle += 1
        self.handles[number] = obj
        t = type(obj)
        return {'$': 'handle', 'id': number, 'type': f'{t.__module__}.{t.__qualname__}', 'callable': callable(obj)}

    def send(self, reply):
        try:
            wire.write(self.wfd, reply, fallback=self.keep)
        except wire.WireError as exc:
            wire.write(self.wfd, {'ok': False, 'error': {'type': 'WireError', 'kind': 'wire', 'where': '',
                                                         'message': f'returned something that cannot be sent: {exc}'}})

    # -- the loop
    def serve(self):
        while True:
            try:
                request = wire.read(self.rfd, limit=REQUEST_LIMIT, resolve=self.resolve)
            except EOFError:
                return
            reply = self.handle(request)
            reply['seq'] = request.get('seq')
            self.send(reply)

    def handle(self, request):
        op = request['op']
        if request.get('limits'):
            limits_.apply(request['limits'])
        if op == 'call':
            return self.call(request)
        if op == 'getattr':
            return self.run(lambda: getattr(self.handles[request['handle']], request['name']), request)
        if op == 'probe':
            from grader import torch_eval
            probe = torch_eval.PROBES[request['name']]
            return self.run(lambda: probe(self.handles[request['handle']], *request['args']), request)
        if op == 'seed':   # what Implementation.seed (torch: grader.torch_eval.setup) does in direct mode
            return self.run(lambda: self.impl.seed(request['value'], request.get('torch')), request)
        if op == 'stage':
            from grader import torch_eval
            return self.run(lambda: torch_eval.stage_checkpoint(request['name'], request['data']), request)
        if op == 'patch':
            return self.run(lambda: self.patch(request), request)
        if op == 'unpatch':
            return self.run(self.unpatch, request)
        if op == 'release':
            for number in request['handles']:
                self.handles.pop(number, None)
            return {'ok': True, 'value': None}
        return {'ok': False, 'error': {'type': 'ProtocolError', 'message': f'unknown op {op!r}', 'kind': 'wire',
                                       'where': ''}}

    def call(self, request):
        target = request['target']
        if isinstance(target, str):
            module, name = target.split('.', 1)
            fn = getattr(self.impl.module(module), name)
        else:
            fn = self.handles[target]
        if request.get('seed') is not None:
            np.random.seed(request['seed'])   # as direct mode seeds np.random per test
        args, kwargs = request['args'], request['kwargs']
        reply = self.run(lambda: fn(*args, **kwargs), request)
        if reply['ok']:
            state = {str(i): a for i, a in enumerate(args) if type(a) in (dict, list)}
            state.update({k: a for k, a in kwargs.items() if type(a) in (dict, list)})
            reply['state'] = state
        return reply

    def run(self, thunk, request):
        try:
            value = thunk()
            reply = {'ok': True, 'value': value}
        except BaseException as exc:   # the submission may raise anything, SystemExit included
            reply = {'ok': False, 'error': describe(exc)}
        try:   # what it printed goes to the captured file now, so a full disk shows in this call
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError as exc:
            reply = {'ok': False, 'error': describe(exc)}
        return reply

    # -- reference pieces (Implementation.reference_pieces, run here)
    def patch(self, request):
        reference = self.reference_modules(request['sources'])
        target = self.impl.module(request['module']).loaded
        if target is None:
            self.patches.append((None, {}, []))
            return None
        names = request['names']
        saved = {n: target.__dict__[n] for n in names if n in target.__dict__}
        for n in names:
            setattr(target, n, getattr(reference[request['source']], n))
        self.patches.append((target, saved, names))
        return None

    def unpatch(self):
        target, saved, names = self.patches.pop()
        for n in names:
            if n in saved:
                setattr(target, n, saved[n])
            else:
                target.__dict__.pop(n, None)

    def reference_modules(self, sources):
        """The reference's modules from their source text (the worker cannot read reference/), imported
        apart from the submission's: course names point at them only while they load."""
        key = tuple(sorted(sources))
        if key not in self.reference:
            saved = {m: sys.modules.pop(m) for m in MODULES if m in sys.modules}
            loaded = {}
            try:
                for name in [m for m in MODULES if m in sources]:
                    module = types.ModuleType(name)
                    module.__file__ = f'<reference {name}.py>'
                    sys.modules[name] = module
                    exec(compile(sources[name], module.__file__, 'exec'), module.__dict__)
                    loaded[name] = module
            finally:
                for m in MODULES:
                    sys.modules.pop(m, None)
                sys.modules.update(saved)
            self.reference[key] = loaded
        return self.reference[key]


def describe(exc):
    kind = 'error'
    if isinstance(exc, MemoryError):
        kind = 'memory'
    elif isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        kind = 'output'
    elif isinstance(exc, OSError) and exc.errno == errno.EAGAIN and 'fork' in ''.join(
            traceback.format_tb(exc.__traceback__)):
        kind = 'processes'
    elif isinstance(exc, SystemExit):
        kind = 'exit'
    frames = traceback.extract_tb(exc.__traceback__)
    course = {f'{m}.py' for m in MODULES}
    where = next((f'{Path(f.filename).name}, line {f.lineno}' for f in reversed(frames)
                  if Path(f.filename).name in course), '')
    try:
        message = str(exc)[:2000]
    except BaseException:   # a hostile __str__
        message = '(message could not be shown)'
    return {'type': type(exc).__name__[:100], 'message': message, 'where': where, 'kind': kind}


def main(root, rfd, wfd):
    rfd, wfd = int(rfd), int(wfd)
    os.set_inheritable(rfd, False)
    os.set_inheritable(wfd, False)
    with contextlib.suppress(Exception):
        sys.stdin.close()
        os.close(0)
    Worker(root, rfd, wfd).serve()
