"""Calls that leave the worker: the course's own earlier pieces, served by another process.

When a later question is graded and one of the earlier pieces it builds on failed its own tests, the
grader puts a ``RemotePiece`` where the submission's function was (in every course module that refers
to it). Calling it sends the arguments out, over a pipe pair straight to the course's worker
(grader.worker.link), where the reference's function runs (the reference never enters this process);
the value comes back with what the call did to its dict/list arguments. ``LinkObject`` is the other
way: an object of the hand-in's worker that the course's function was handed (an activation function).
``RemoteObject`` is an object of another process reached through the grader.

A call sends only the parts of ``params`` the course's pieces read (SPEC.md's naming): forward and
backwards get the weights, bias (and for backwards the cache) of their own layer; others get weights and
biases, plus the gradients and momentum for momentum_step. A training loop then does not ship every
layer, cache and gradient twice per call. np.random's state goes along and comes back for the pieces that
draw, so they draw exactly the numbers they would draw inside this process."""
import numpy as np

TRANSIENT = ('cache_', 'grad_', 'm_')          # keys the pieces never read, unless listed below
READS_ALSO = {'backwards': ('cache_',), 'momentum_step': ('grad_', 'm_')}
ONE_LAYER = {'forward': ('W', 'b'), 'backwards': ('W', 'b', 'cache_')}   # read for the layer ``name`` only
DRAWS = ('initialize_weights', 'get_random_batches')   # the pieces that draw from np.random


class RemoteError(Exception):
    """A call that left the worker failed; the message says where and why."""


class Closed(Exception):
    """The pair to the course's worker is gone (that worker stopped, or this side dropped the pair)."""


def brief(error):
    """A failed call's error dict (server.describe) as the line its caller is told: 'Type: message'."""
    return f"{error.get('type', 'Exception')}: {str(error.get('message', ''))[:500]}"


def _sent(piece, value, only=None):
    """The part of a dict argument the course's ``piece`` reads: the keys ``only`` if given."""
    if type(value) is not dict:
        return value
    if only is not None:   # a 1024-wide first layer would otherwise travel with every call on the last one
        return {k: v for k, v in value.items() if k in only}
    keep = READS_ALSO.get(piece, ())
    return {k: v for k, v in value.items()
            if not (isinstance(k, str) and k.startswith(TRANSIENT) and not k.startswith(keep))}


def _restore(args, kwargs, state):
    """Apply the callee's changes to dict and list arguments in place (as if it had run here)."""
    for key, new in (state or {}).items():
        old = kwargs.get(key) if not key.isdigit() else (args[int(key)] if int(key) < len(args) else None)
        if type(old) is dict and type(new) is dict:
            old.update(new)
        elif type(old) is list and type(new) is list:
            old[:] = new


class _Outbound:
    """A call that leaves this process over ``channel`` (a function: message -> answer): the grader's
    pipe (server.callback) or the pair to the course's worker (grader.worker.link)."""

    def __init__(self, channel, op, target, label):
        self._channel, self._op, self._target, self._label = channel, op, target, label

    def _send(self, args, kwargs, piece=''):
        only = None
        if piece in ONE_LAYER:   # forward(X, params, name='', ...) and backwards(delta, params, name='', ...)
            layer = args[2] if len(args) > 2 else kwargs.get('name', '')
            only = {p + layer for p in ONE_LAYER[piece]} if type(layer) is str else None
        out_args = [_sent(piece, a, only) for a in args]
        out_kwargs = {k: _sent(piece, v, only) for k, v in kwargs.items()}
        rng = np.random.get_state() if piece in DRAWS else None
        try:
            reply = self._channel({'op': self._op, 'target': self, 'args': out_args, 'kwargs': out_kwargs, 'rng': rng})
        except Closed as exc:
            raise RemoteError(f'{self._label} could not be reached: {exc}') from None
        if reply.get('rng') is not None:
            np.random.set_state(reply['rng'])
        if not reply.get('ok'):
            raise RemoteError(f"{self._label} raised {reply.get('error', 'an error')}")
        _restore(args, kwargs, reply.get('state'))
        return reply.get('value')


class RemotePiece(_Outbound):
    """The course's ``module.name``, run by the course's worker (over the pair, grader.worker.link)."""

    def __init__(self, server, module, name):
        super().__init__(server.link.call, 'call', {'$': 'ref', 'module': module, 'name': name},
                         f"the course's {name}")
        self.harness_piece = (module, name)
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        return self._send(args, kwargs, self.harness_piece[1])

    def __repr__(self):
        return f"<the course's {self.__name__}, run by the grader>"


class RemoteObject(_Outbound):
    """An object that lives in another process, reached through the grader; it can be called, nothing else."""

    def __init__(self, server, number):
        super().__init__(server.callback, 'callback', {'$': 'remote', 'id': number}, 'a function passed across the grader')
        self.harness_remote = number

    def __call__(self, *args, **kwargs):
        return self._send(args, kwargs)

    def __repr__(self):
        return '<a function living in another process>'


class LinkObject(_Outbound):
    """On the course's side of the pair: an object of the hand-in's worker (its own activation function,
    say), called across the pair."""

    def __init__(self, link, number):
        super().__init__(link.call, 'call', {'$': 'handle', 'id': number}, 'a function of the submission')
        self.link, self.number = link, number

    def __call__(self, *args, **kwargs):
        return self._send(args, kwargs)

    def __repr__(self):
        return '<a function of the submission, living in its own process>'
