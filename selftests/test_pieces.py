"""Which course pieces stand in for a hand-in's (grader/pieces.py, rubric PIECES and COMPOSITES): a composite
stands in whole only for a failed piece it is made of, and it is made of exactly the pieces the course's
version calls."""
import numpy as np
import pytest

from grader import paths
from grader.impl import reference_module
from grader.pieces import Ledger
from grader.rubric import BY_ID, COMPOSITES, NN_PIECES, PIECES

pytestmark = pytest.mark.skipif(not paths.REFERENCE.is_dir(), reason='needs the reference solution')


def _inputs(name, rng):
    """(args, params) for one call of the course's composite ``name`` on a small batch."""
    nn = reference_module('nn')
    params = {}
    x = rng.uniform(0, 1, (5, 8))
    if name == 'forward_backward':
        nn.initialize_weights(8, 4, params, 'layer1')
        nn.initialize_weights(4, 3, params, 'output')
        return (x, np.eye(3)[rng.integers(0, 3, 5)], params)
    for layer, (n_in, n_out) in {'layer1': (8, 4), 'hidden': (4, 4), 'hidden2': (4, 4), 'output': (4, 8)}.items():
        nn.initialize_weights(n_in, n_out, params, layer)
    return (x, params)


@pytest.mark.parametrize('name', sorted(COMPOSITES))
def test_a_composite_is_made_of_the_pieces_the_course_version_calls(monkeypatch, name):
    module = reference_module(PIECES[name][0])
    args = _inputs(name, np.random.default_rng(0))
    called = set()

    def traced(piece, function):
        def call(*a, **k):
            called.add(piece)
            return function(*a, **k)
        return call
    for piece in NN_PIECES:
        monkeypatch.setattr(module, piece, traced(piece, getattr(module, piece)))
    getattr(module, name)(*args)
    assert called == set(COMPOSITES[name]), f'the course\'s {name} calls {sorted(called)}'


def _ledger(failed):
    ledger = Ledger()
    for qid in ('2.1.2', '2.2.1', '2.2.2', '2.2.3', '2.3.1', '2.4.1', '5.1.1', '5.1.2'):
        ledger.record(qid, 'failed' if qid == failed else 'passed')
    return ledger


def test_a_composite_stands_in_only_for_a_failed_piece_it_is_made_of():
    # a failed softmax: the autoencoder's loop keeps the hand-in's own ae_forward_backward (it never calls
    # softmax), while the classifier's loop takes the course's forward_backward whole
    assert _ledger('2.2.2').substitutes('5.2', ('ae_forward_backward',)) == [('nn', 'softmax')]
    assert _ledger('2.2.2').substitutes('2.5.1', ('forward_backward',)) == [('nn', 'softmax'), ('q2', 'forward_backward')]
    # a failed backwards: both take the course's composite whole
    assert ('q5', 'ae_forward_backward') in _ledger('2.3.1').substitutes('5.2', ('ae_forward_backward',))
    assert BY_ID['5.2'].uses and _ledger(None).substitutes('5.2', ('ae_forward_backward',)) == []
