"""The rubric: one row per graded question, with the course's code points (SPEC.md section 2).

Tests are tied to a row by ``@pytest.mark.question('2.2.2')``; a question's points are shared among its
tests by weight (``@pytest.mark.question('2.2.2', weight=2)``; 1 by default), and a parametrized test's
weight is shared among its cases. ``uses`` names the earlier pieces the question builds on: where one of
them failed its own question's tests, the course's piece stands in for it while this question is graded,
so one bug is not charged twice (grader/pieces.py)."""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Question:
    id: str
    points: float
    title: str
    uses: tuple = field(default=())   # earlier pieces swapped for the reference's when grading
    note: str = ''
    absent: str = ''   # its status when no test of it ran because optional data is missing (short: a table cell)
    data: tuple = ()   # the data sets its tests read (grader.datasets.info.check names): grade checks them first


NN_PIECES = ('initialize_weights', 'sigmoid', 'forward', 'softmax', 'compute_loss_and_acc',
             'sigmoid_deriv', 'backwards')

Q7_PIECES = ('train_model',)

# Every piece a later question may build on: (the course module it lives in, the question whose tests
# grade it). A later question runs on the submission's own piece when that question passed all its
# tests in the same run, and on the course's otherwise (grader/pieces.py).
PIECES = {
    'initialize_weights': ('nn', '2.1.2'), 'sigmoid': ('nn', '2.2.1'), 'forward': ('nn', '2.2.1'),
    'sigmoid_deriv': ('nn', '2.2.1'), 'softmax': ('nn', '2.2.2'), 'compute_loss_and_acc': ('nn', '2.2.3'),
    'backwards': ('nn', '2.3.1'), 'get_random_batches': ('nn', '2.4.1'), 'forward_backward': ('q2', '2.4.1'),
    'findLetters': ('q4', '4.2'), 'ae_forward_backward': ('q5', '5.1.1'), 'momentum_step': ('q5', '5.1.2'),
    'train_model': ('q7', '7.1.1'),
}
# Pieces made of others: the nn.py pieces the course's version calls (a selftest traces them). A test of
# a loop may ask for one to stand in whole whenever a piece it is made of must: one call across the
# boundary per batch instead of one per layer (grader/pieces.py). A piece it is not made of (the
# autoencoder never calls softmax) leaves the submission's own composite in place; should a submission's
# composite call it anyway, that call alone goes to the course's piece, as every failed piece's does.
COMPOSITES = {'forward_backward': ('forward', 'sigmoid', 'softmax', 'compute_loss_and_acc', 'backwards',
                                   'sigmoid_deriv'),
              'ae_forward_backward': ('forward', 'sigmoid', 'backwards', 'sigmoid_deriv')}

# How a later question's note says which earlier pieces it runs on (grader/pieces.py decides).
YOURS = 'your nn.py pieces'
WHERE_PASSED = " where their questions passed all their tests in this run, the course's where they failed"
Q7_NOTE = ("Trains with your train_model where 7.1.1 passed all its tests, the course's otherwise, so a broken "
           'training loop is charged once.')

# The data sets behind the questions (what grade checks before it runs any test; see Question.data).
NIST36 = ('nist36',)
PAGES = ('pages', 'real pages')   # the files of 4.2-4.4 list the photos' pages when they are collected

QUESTIONS = [
    Question('1', 0, 'Theory facts (ungraded: written answers are graded by people)'),
    Question('2.1.2', 1, 'initialize_weights (Xavier)'),
    Question('2.2.1', 4, 'sigmoid, forward'),
    Question('2.2.2', 3, 'softmax'),
    Question('2.2.3', 3, 'compute_loss_and_acc'),
    Question('2.3.1', 7, 'backwards'),
    Question('2.4.1', 5, 'get_random_batches, SGD step and the toy training loop', uses=NN_PIECES,
             note='The training loop runs end to end on your get_random_batches, forward_backward, '
                  f'sgd_step and train, with {YOURS} of 2.1-2.3{WHERE_PASSED}.'),
    Question('2.5.1', 5, 'numerical gradient checker', uses=NN_PIECES + ('forward_backward',)),
    Question('3.1.1', 3, 'train the 1024-64-36 MLP on NIST36', uses=NN_PIECES + ('get_random_batches',), data=NIST36,
             note=f'Your train_mlp runs end to end with {YOURS} of Q2{WHERE_PASSED}; the '
                  'grader measures accuracy itself from the weights it returns. A bug in the loop itself '
                  '(updates, batches, epochs) cannot be told apart from a weak model: it costs this row.'),
    Question('4.2', 10, 'findLetters', data=PAGES),
    Question('4.3', 0, "The course's page photos: boxes and text (measured, not graded)", absent='not run: no photos',
             data=PAGES,
             note='Run only where the real photos are in the data folder (NN_DATA_DIR), which a grader may or '
                  'may not have, so they earn no points: a question\'s scale never depends on optional data. '
                  'They show how your findLetters and page reading do on real handwriting (course Q4.3).'),
    Question('4.4', 8, 'page to text', uses=NN_PIECES + ('findLetters',), data=PAGES,
             note='Graded with weights of the reference Q3 MLP shipped in fixtures/, and with your findLetters '
                  f'and {YOURS}{WHERE_PASSED}, so a weak Q3 or a failed Q4.2 does not cost these points.'),
    Question('5.1.1', 5, 'autoencoder forward/backward', uses=NN_PIECES),
    Question('5.1.2', 3, 'momentum update'),
    Question('5.2', 2, 'autoencoder training and PSNR',
             uses=NN_PIECES + ('get_random_batches', 'ae_forward_backward', 'momentum_step'), data=NIST36,
             note=f'Your train_autoencoder loop runs with {YOURS}, ae_forward_backward and momentum_step'
                  f'{WHERE_PASSED}; the grader computes the PSNR itself.'),
    Question('6.2', 6, 'PCA via SVD', data=NIST36),
    Question('7.1.1', 5, 'PyTorch MLP on NIST36', data=NIST36),
    Question('7.1.2', 2, 'CNN on MNIST', uses=Q7_PIECES, data=('MNIST',),
             note=Q7_NOTE),
    Question('7.1.3', 3, 'CNN on NIST36', uses=Q7_PIECES, data=NIST36,
             note=Q7_NOTE),
    Question('7.1.4', 10, 'CNN on EMNIST Balanced, then the pages', uses=Q7_PIECES, data=('EMNIST', 'pages'),
             note=Q7_NOTE),
    Question('7.2.1', 5, 'SqueezeNet fine-tuning vs a small net from scratch', uses=Q7_PIECES, data=('flowers17',),
             note=Q7_NOTE),
]

BY_ID = {q.id: q for q in QUESTIONS}
TOTAL = sum(q.points for q in QUESTIONS)
assert TOTAL == 90, TOTAL
assert all(p in PIECES for q in QUESTIONS for p in q.uses), 'every piece a question uses must be in PIECES'


def is_torch(qid):
    """Does question ``qid`` belong to the PyTorch part (Q7), the only one that imports torch?"""
    return qid.split('.')[0] == '7'


def independent_parts(questions):
    """``questions`` (rubric ids) as the NumPy and the PyTorch part, in rubric order, leaving out an empty
    one. Runs of the two may go side by side: no question uses a piece graded in the other part, so
    each run's ledger (grader/pieces.py) still sees every question its pieces depend on."""
    parts = [[q for q in questions if not is_torch(q)], [q for q in questions if is_torch(q)]]
    return [part for part in parts if part]


def _crossing(questions):
    """[(question, piece)] of pieces a question uses that are graded in the other part."""
    return [(q.id, p) for q in questions for p in q.uses if is_torch(q.id) != is_torch(PIECES[p][1])]


assert not _crossing(QUESTIONS), f'a question uses a piece graded in the other part: {_crossing(QUESTIONS)}'


def marker_name(qid):
    """'2.2.2' -> 'q2_2_2': the pytest marker that selects one question (``pytest -m q2_2_2``)."""
    return 'q' + qid.replace('.', '_')


def part_marker(qid):
    """'2.2.2' -> 'q2': selects a whole part of the assignment (``pytest -m q2``)."""
    return 'q' + qid.split('.')[0]


def select(only):
    """'2' or '2.2.2,3.1.1' -> the matching question ids (a part selects all its questions)."""
    wanted = [w.strip() for w in only.split(',') if w.strip()]
    chosen = [q.id for q in QUESTIONS if any(q.id == w or q.id.startswith(w + '.') for w in wanted)]
    unknown = [w for w in wanted if not any(q.id == w or q.id.startswith(w + '.') for q in QUESTIONS)]
    if unknown:
        raise ValueError(f"unknown question(s) {', '.join(unknown)}; known: "
                         f"{', '.join(q.id for q in QUESTIONS)}")
    return chosen
