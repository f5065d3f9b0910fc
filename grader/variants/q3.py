"""Q3 variants: training-loop bugs in train_mlp. The loop runs with the reference's nn.py pieces, so
each must cost 3.1.1 itself (a bug in the loop cannot be told apart from a weak model)."""
from grader.variants import Variant

UPDATE = "params[name] = params[name] - learning_rate * params['grad_' + name]"


def q3(old, new):
    return (('q3.py', old, new),)


VARIANTS = (
    Variant('q3-never-updates', 'train_mlp computes the gradients but drops the update (a local copy)',
            q3(UPDATE, "W = params[name] - learning_rate * params['grad_' + name]"), ('3.1.1',)),
    Variant('q3-gradient-ascent', 'the update adds the gradient: W <- W + lr * grad',
            q3(UPDATE, "params[name] = params[name] + learning_rate * params['grad_' + name]"), ('3.1.1',)),
    Variant('q3-lr-diverges', 'a learning rate 100x too large (1.0 with gradients summed over 32 examples)',
            q3('    params = init_params(train_x.shape[1], hidden_size, train_y.shape[1])\n',
               '    params = init_params(train_x.shape[1], hidden_size, train_y.shape[1])\n'
               '    learning_rate = learning_rate * 100\n'), ('3.1.1',)),
    Variant('q3-one-epoch', 'the epoch loop runs once, whatever max_iters says',
            q3('    for itr in range(max_iters):\n', '    for itr in range(1):\n'), ('3.1.1',)),
    Variant('q3-output-delta-sign', 'the output delta y - probs instead of probs - y',
            q3('backwards(probs - yb,', 'backwards(yb - probs,'), ('3.1.1',)),
    # A correct alternative: the course's template draws the batches once, before the epoch loop. The
    # grader's shortened run must not cost it anything.
    Variant('q3-batches-once', "the course template's loop: batches drawn once and reused every epoch",
            (('q3.py', '    history = []\n    for itr in range(max_iters):\n',
              '    history = []\n    batches = get_random_batches(train_x, train_y, batch_size)\n'
              '    for itr in range(max_iters):\n'),
             ('q3.py', '        for xb, yb in get_random_batches(train_x, train_y, batch_size):\n',
              '        for xb, yb in batches:\n')),
            loses=(), keeps=('3.1.1',)),
)
