"""The isolated worker: the only process that runs a submission's code when grading.

Started by grader.isolation from a copy of this package and of the hand-in's course files, inside a
sandbox. It serves requests read from one pipe and answers on another, in grader.worker.wire's
plain-data format; what the submission prints goes to a captured file, never to the protocol. It
decides nothing: the trusted side checks every answer. The same code serves the reference's pieces
from a process of their own (the course's worker), to the hand-in's worker over a pipe pair between the
two (grader.worker.pieces, grader.worker.link).

Requests (dicts, each with a 'seq' and optional 'limits' and 'release'):
  load      import a course module (its top-level code runs here, under this request's limits)
  call      target 'nn.softmax' or a handle number; args, kwargs, seed
  getattr   an attribute of a handle
  probe     one of grader.worker.probes.PROBES applied to a handle: plain data back
  seed      random, np.random (and torch): what Implementation.seed does in pytest
  stage     a file put in this process's torch cache (a checkpoint the submission may load)
  pieces    put RemotePieces where the submission's own functions were (a numbered level; a level the
            worker has is not put in twice); unpieces undoes a level
  allow     (the course's worker) the pieces it may run for calls over the pair (grader.worker.link)
  import    a handle to torch, for a training loop the grader drives from outside
Replies: {'ok': True, 'value': ..., 'state': {arg index or keyword: final dict/list argument}} or
{'ok': False, 'error': {type, message, where, kind}}, plus 'violations' (grader.worker.rules).
While a call runs, a RemoteObject sends {'op': 'callback', ...} the other way and serves requests until
the grader's {'op': 'answer', ...} comes back; a RemotePiece calls the course's worker over the pair."""
import contextlib
import errno
import os
import select
import sys
import traceback

import numpy as np

from grader.worker import activations, limits, probes, rules, wire
from grader.worker.link import Link
from grader.worker.loader import Loader, course_frame
from grader.worker.pieces import Closed, RemoteObject, RemotePiece

REQUEST_LIMIT = 4 << 30
IMPORTABLE = ('torch',)   # what 'import' may hand out


class Server:
    def __init__(self, root, rfd, wfd, link_r, link_w, course=False):
        self.loader = Loader(root)
        self.reader, self.wfd = wire.Reader(rfd), wfd
        self.handles, self.next_handle = {}, 1
        self.installed = {}   # level -> what Loader.restore needs to undo its stand-ins
        self.limits = None    # the last limits the grader sent (the course's worker applies them to each call over the pair)
        self.link = Link(self, link_r, link_w, course)

    # -- plain data <-> objects
    def resolve(self, tag):
        kind = tag['$']
        if kind == 'fn':
            return activations.REGISTRY[str(tag['name'])]
        if kind == 'ref':
            return getattr(self.loader.module(str(tag['module'])), str(tag['name']))
        if kind == 'remote':
            return RemoteObject(self, int(tag['id']))
        return self.handles[int(tag['id'])]

    def outgoing(self, obj):
        """Anything that is not plain data: a piece or remote object by its address, a harness activation
        by name, everything else stays here and the other side gets a numbered handle."""
        if isinstance(obj, RemotePiece):
            return dict(obj._target)
        if isinstance(obj, RemoteObject):
            return {'$': 'remote', 'id': obj.harness_remote}
        name = getattr(obj, 'harness_name', None) if callable(obj) else None
        if name is not None and activations.REGISTRY.get(name) is obj:
            return {'$': 'fn', 'name': name}
        number = self.next_handle
        self.next_handle += 1
        self.handles[number] = obj
        return {'$': 'handle', 'id': number, 'type': probes.type_name(obj)[:200], 'callable': callable(obj)}

    def send(self, message):
        try:
            wire.write(self.wfd, message, fallback=self.outgoing)
        except wire.WireError as exc:
            wire.write(self.wfd, {'seq': message.get('seq'), 'ok': False, 'error': {
                'type': 'WireError', 'kind': 'wire', 'where': '', 'message': f'returned something that cannot be sent: {exc}'}})

    def receive(self):
        return wire.read(self.reader, limit=REQUEST_LIMIT, resolve=self.resolve)

    # -- the loop
    def serve(self):
        self.send({'ready': True})   # the grader counts no call's time before this
        while True:
            try:
                if self._from_pair():
                    with contextlib.suppress(Closed):   # a broken pair is dropped; the grader's pipe goes on
                        self.link.serve_next()
                else:
                    self.dispatch(self.receive())
            except EOFError:
                return

    def _from_pair(self):
        """Is the next message the pair's (the course's worker serves both its pipes as messages come)?"""
        if not (self.link.course and self.link.open) or self.reader.pending:
            return False
        if self.link.reader.pending:
            return True
        ready = select.select([self.reader.fd, self.link.fd], [], [])[0]
        return self.reader.fd not in ready

    def dispatch(self, request):
        for number in request.get('release') or ():
            self.handles.pop(number, None)
        if request.get('limits'):
            self.limits = request['limits']
            limits.apply(self.limits)
        reply = self.handle(request)
        reply['seq'] = request.get('seq')
        reply['violations'] = rules.collect()
        self.send(reply)

    def callback(self, message):
        """Send a call out (a RemotePiece's) and serve the grader's requests until its answer arrives."""
        self.send(message)
        while True:
            incoming = self.receive()
            if incoming.get('op') == 'answer':
                return incoming
            self.dispatch(incoming)

    def handle(self, request):
        op = request.get('op')
        if op == 'call':
            return self.call(request)
        if op == 'load':
            return self.run(lambda: self.load(str(request['module'])))
        if op == 'getattr':
            return self.run(lambda: getattr(self.handles[request['handle']], str(request['name'])))
        if op == 'probe':
            probe = probes.PROBES[str(request['name'])]
            return self.run(lambda: probe(self.handles[request['handle']], *request['args']))
        if op == 'seed':
            return self.run(lambda: probes.seed_everything(int(request['value']), bool(request.get('torch'))))
        if op == 'stage':
            return self.run(lambda: probes.stage_checkpoint(str(request['name']), request['data']))
        if op == 'pieces':
            return self.run(lambda: self.install(int(request['level']), [tuple(p) for p in request['pieces']]))
        if op == 'unpieces':
            return self.run(lambda: self.uninstall(int(request['level'])))
        if op == 'allow' and self.link.course:
            return self.run(lambda: self.allow([tuple(p) for p in request['pieces']]))
        if op == 'import' and request.get('module') in IMPORTABLE:
            return self.run(lambda: __import__(request['module']))
        return {'ok': False, 'error': {'type': 'ProtocolError', 'message': f'unknown op {op!r}', 'kind': 'wire',
                                       'where': ''}}

    def load(self, name):
        """Import a course module; the reason it could not be, or None."""
        return self.loader.module(name).error or None

    def call(self, request):
        target = request['target']
        if isinstance(target, str):
            module, name = target.split('.', 1)
            fn = getattr(self.loader.module(module), name)
        else:
            fn = self.handles[target] if not isinstance(target, dict) else self.resolve(target)
        return self.invoke(fn, request)

    def invoke(self, fn, request):
        """Call ``fn`` with the request's args and kwargs (and np.random's state or seed); the reply."""
        if request.get('rng') is not None:
            np.random.set_state(request['rng'])
        elif request.get('seed') is not None:
            np.random.seed(request['seed'])   # as direct mode seeds np.random per test
        args, kwargs = request['args'], request['kwargs']
        before = _snapshot(args, kwargs) if request.get('changes_only') else None
        reply = self.run(lambda: fn(*args, **kwargs))
        if reply['ok']:
            reply['state'] = _state(args, kwargs, before)
        if request.get('rng') is not None:
            reply['rng'] = np.random.get_state()
        return reply

    def run(self, thunk):
        try:
            reply = {'ok': True, 'value': thunk()}
        except BaseException as exc:   # the submission may raise anything, SystemExit included
            reply = {'ok': False, 'error': describe(exc)}
        try:   # what it printed goes to the captured file now, so a full disk shows in this call
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError as exc:
            reply = {'ok': False, 'error': describe(exc)}
        return reply

    # -- the course's pieces, served from outside (grader.worker.pieces, grader.worker.link)
    def allow(self, pieces):
        """The course's worker: the pieces the pair may call from now on."""
        self.link.allowed = {(m, n): getattr(self.loader.module(m), n) for m, n in pieces}

    def install(self, level, pieces):
        if level not in self.installed:
            self.installed[level] = self.loader.substitute({(m, n): RemotePiece(self, m, n) for m, n in pieces})

    def uninstall(self, level):
        if level in self.installed:
            self.loader.restore(self.installed.pop(level))


def _mutable(args, kwargs):
    found = {str(i): a for i, a in enumerate(args) if type(a) in (dict, list)}
    found.update({k: a for k, a in kwargs.items() if type(a) in (dict, list)})
    return found


def _snapshot(args, kwargs):
    """What a dict argument held before a call: (the objects, copies of arrays), to send back only changes."""
    return {key: {k: (v, v.copy() if type(v) is np.ndarray else None) for k, v in a.items()}
            for key, a in _mutable(args, kwargs).items() if type(a) is dict}


def _state(args, kwargs, before):
    """The final dict/list arguments; with ``before``, a dict's entries that the call left alone are left out."""
    state = _mutable(args, kwargs)
    for key, old in (before or {}).items():
        new = state[key]
        state[key] = {k: v for k, v in new.items() if k not in old or v is not old[k][0]
                      or (old[k][1] is not None and not _unchanged(old[k][1], v))}
    return state


def _unchanged(before, after):
    """The same bits. Compared as integers: as fast as a memory compare (a float comparison that lets
    NaN equal NaN costs 30 times more, on every array of every call a training loop makes out of the
    worker), and a -0.0 written over a 0.0 counts as a change."""
    if before.shape != after.shape or before.dtype != after.dtype:
        return False
    if not (before.flags.c_contiguous and after.flags.c_contiguous):
        return bool(np.array_equal(before, after, equal_nan=True))
    unit = np.uint64 if before.nbytes % 8 == 0 else np.uint8
    return bool(np.array_equal(before.reshape(-1).view(unit), after.reshape(-1).view(unit)))


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
    try:
        message = str(exc)[:2000]
    except BaseException:   # a hostile __str__
        message = '(message could not be shown)'
    return {'type': type(exc).__name__[:100], 'message': message, 'where': course_frame(exc), 'kind': kind}


def main(root, rfd, wfd, link_r, link_w, side, libraries='numpy'):
    """``side``: 'course' (the reference's pieces, served over the pair) or 'submission'; ``libraries``:
    'torch' to load torch and torchvision before serving (grader.isolation.client._wants_torch says when)."""
    fds = [int(fd) for fd in (rfd, wfd, link_r, link_w)]
    for fd in fds:
        os.set_inheritable(fd, False)
    with contextlib.suppress(Exception):
        sys.stdin.close()
        os.close(0)
    limits.settle(torch=libraries == 'torch')
    Server(root, *fds, course=side == 'course').serve()
