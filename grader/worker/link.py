"""The pipe pair straight between a hand-in's worker and the course's worker (the reference's pieces).

A training loop on the course's pieces makes thousands of calls out of the hand-in's worker. Relayed
through the grader, each would cross three processes and be decoded and encoded twice on the way; over
this pair it crosses two. The grader still decides what the pair may carry and counts its time:
- the course's side serves only ``call`` of the pieces the grader allowed (op ``allow`` on its own
  pipe); any other name it is sent becomes NOT_HERE, which it refuses to call and nothing can use. It
  answers with plain data, harness activations and allowed pieces by name only, and drops the pair on
  anything malformed or on a message that does not arrive whole within LINK_SECONDS (the hand-in's side
  may be hostile);
- the grader credits the course's worker's time to the hand-in's call, and when that worker dies during
  the call, the call fails with the reason (grader.isolation.client).

Messages: {'op': 'call', 'target', 'args', 'kwargs', 'rng'} and {'op': 'answer', 'ok', 'value',
'state', 'rng', 'error'}; while a call waits for its answer, calls from the other side are served (the
course's forward calling the hand-in's own activation function, say: the hand-in's objects cross as
handles, valid for the call that sent them)."""
import contextlib
import os
import time

from grader.worker import activations, limits, wire
from grader.worker.pieces import Closed, LinkObject, brief

LINK_SECONDS = 60.0   # for one message from the hand-in's side to arrive whole once it has begun
LIMIT = 4 << 30       # bytes of one message (the worker's memory limit stops it sooner)
_CLOSED = ('the pipe pair between the two workers was closed: something wrote to it or read from it out of turn '
           '(only the course\'s stand-ins may use it), or the other worker stopped')


class _NotHere:
    """What the course's side makes of a name it does not serve: an argument nothing can use."""

    def __repr__(self):
        return '<not available over the pair>'


NOT_HERE = _NotHere()


class Link:
    def __init__(self, server, rfd, wfd, course):
        self.server, self.reader, self.wfd, self.course = server, wire.Reader(rfd), wfd, course
        self.allowed = {}   # course side: (module, name) -> the function the grader allows to be called
        self.open = True

    @property
    def fd(self):
        return self.reader.fd

    # -- calls out
    def call(self, message):
        """Send a call and serve the other side's calls until its answer arrives."""
        handles = self.server.next_handle
        try:
            self._send(message)
            while True:
                incoming = self._receive(deadline=None)
                if incoming.get('op') == 'answer':
                    return incoming
                self.serve(incoming)
        finally:   # the hand-in's objects named in this call were needed for this call only
            for number in range(handles, self.server.next_handle):
                self.server.handles.pop(number, None)

    # -- calls in
    def serve_next(self):
        """Serve one call that has begun to arrive (the course's side, between the grader's requests)."""
        self.serve(self._receive(deadline=time.monotonic() + LINK_SECONDS))

    def serve(self, request):
        fn = request.get('target')
        if request.get('op') != 'call' or not callable(fn) or (self.course and not self._allowed(fn)):
            return self._send({'op': 'answer', 'ok': False, 'error': 'only the course pieces the grader allowed '
                               'can be called here'})
        if self.course and self.server.limits:   # the grader's limits, for each call
            limits.apply(self.server.limits)
        reply = self.server.invoke(fn, {**request, 'changes_only': True})
        answer = {'op': 'answer', **{k: reply[k] for k in ('ok', 'value', 'state', 'rng') if k in reply}}
        if not reply['ok']:
            answer['error'] = brief(reply['error'])
        self._send(answer)

    def _allowed(self, fn):
        return any(fn is f for f in self.allowed.values())

    # -- the wire, with each side's rules for what is not plain data
    def _send(self, message):
        if not self.open:
            raise Closed(_CLOSED)
        try:
            encoded = wire.encode(message, fallback=self._outgoing)
        except wire.WireError as exc:
            if message.get('op') != 'answer':
                raise
            encoded = wire.encode({'op': 'answer', 'ok': False, 'error': f'returned something that cannot be sent: {exc}'})
        try:
            wire.send(self.wfd, encoded, time.monotonic() + LINK_SECONDS if self.course else None)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise Closed(f'{_CLOSED} ({type(exc).__name__})') from None

    def _receive(self, deadline):
        if not self.open:
            raise Closed(_CLOSED)
        try:
            message = wire.read(self.reader, limit=LIMIT, resolve=self._resolve, deadline=deadline)
            if type(message) is not dict:
                raise wire.WireError('not a dict')
            return message
        except (EOFError, OSError, TimeoutError, MemoryError, RecursionError, wire.WireError, ValueError, KeyError,
                TypeError, IndexError) as exc:
            self.close()
            raise Closed(f'{_CLOSED} ({type(exc).__name__})') from None

    def _outgoing(self, obj):
        name = getattr(obj, 'harness_name', None) if callable(obj) else None
        if name is not None and activations.REGISTRY.get(name) is obj:
            return {'$': 'fn', 'name': name}
        if self.course:
            if isinstance(obj, LinkObject) and obj.link is self:
                return {'$': 'handle', 'id': obj.number}
            piece = next((key for key, f in self.allowed.items() if f is obj), None)
            return {'$': 'ref', 'module': piece[0], 'name': piece[1]} if piece else None
        tagged = self.server.outgoing(obj)
        return None if tagged.get('$') == 'remote' else tagged   # grader-side objects stay off the pair

    def _resolve(self, tag):
        kind = tag['$']
        if kind == 'fn':
            return activations.REGISTRY.get(str(tag['name']), NOT_HERE)
        if kind == 'ref':
            if self.course:   # only what the grader allowed: a name of anything else is refused, not looked up
                return self.allowed.get((str(tag['module']), str(tag['name'])), NOT_HERE)
            return getattr(self.server.loader.module(str(tag['module'])), str(tag['name']))
        if kind == 'handle':
            return LinkObject(self, int(tag['id'])) if self.course else self.server.handles[int(tag['id'])]
        return NOT_HERE   # 'remote': the grader's objects do not cross the pair

    def close(self):
        if self.open:
            self.open = False
            for fd in (self.reader.fd, self.wfd):
                with contextlib.suppress(OSError):
                    os.close(fd)
