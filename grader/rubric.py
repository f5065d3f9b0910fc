"""The rubric: one row per graded question, with the course's code points (SPEC.md section 2).

Tests are tied to a row by ``@pytest.mark.question('2.2.2')``; a question's points are shared among its
tests by weight (``@pytest.mark.question('2.2.2', weight=2)``; 1 by default), and a parametrized test's
weight is shared among its cases. ``uses`` names the earlier pieces that the grader replaces with the
reference's while grading the question, so one bug is not charged twice."""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Question:
    id: str
    points: float
    title: str
    uses: tuple = field(default=())   # earlier pieces swapped for the reference's when grading
    note: str = ''


NN_PIECES = ('initialize_weights', 'sigmoid', 'forward', 'softmax', 'compute_loss_and_acc',
             'sigmoid_deriv', 'backwards')

QUESTIONS = [
    Question('1', 0, 'Theory facts (ungraded: written answers are graded by people)'),
    Question('2.1.2', 1, 'initialize_weights (Xavier)'),
    Question('2.2.1', 4, 'sigmoid, forward'),
    Question('2.2.2', 3, 'softmax'),
    Question('2.2.3', 3, 'compute_loss_and_acc'),
    Question('2.3.1', 7, 'backwards'),
    Question('2.4.1', 5, 'get_random_batches, SGD step and the toy training loop', uses=NN_PIECES,
             note='The training loop runs end to end on your get_random_batches, forward_backward, '
                  'sgd_step and train, with nn.py pieces 2.1-2.3 taken from the reference.'),
    Question('2.5.1', 5, 'numerical gradient checker', uses=NN_PIECES + ('forward_backward',)),
    Question('3.1.1', 3, 'train the 1024-64-36 MLP on NIST36'),
    Question('4.2', 10, 'findLetters'),
    Question('4.4', 8, 'page to text'),
    Question('5.1.1', 5, 'autoencoder forward/backward'),
    Question('5.1.2', 3, 'momentum update'),
    Question('5.2', 2, 'autoencoder training and PSNR'),
    Question('6.2', 6, 'PCA via SVD'),
    Question('7.1.1', 5, 'PyTorch MLP on NIST36'),
    Question('7.1.2', 2, 'CNN on MNIST'),
    Question('7.1.3', 3, 'CNN on NIST36'),
    Question('7.1.4', 10, 'CNN on EMNIST Balanced, then the pages'),
    Question('7.2.1', 5, 'SqueezeNet fine-tuning vs a small net from scratch'),
]

BY_ID = {q.id: q for q in QUESTIONS}
TOTAL = sum(q.points for q in QUESTIONS)
assert TOTAL == 90, TOTAL


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
