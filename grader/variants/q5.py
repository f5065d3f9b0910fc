"""Q5 variants: autoencoder and momentum bugs. The training loop (5.2) is graded with the reference's
ae_forward_backward and momentum_step, so their bugs must cost 5.1.1 / 5.1.2 only."""
from grader.variants import Variant


def q5(old, new):
    return (('q5.py', old, new),)


VARIANTS = (
    Variant('q5-relu-output', 'ReLU instead of sigmoid on the output layer',
            q5("    return forward(h, params, 'output', sigmoid)\n", "    return forward(h, params, 'output', relu)\n"),
            ('5.1.1',)),
    Variant('q5-mean-loss', 'mean squared error instead of the total',
            q5('    loss = np.sum((x - out) ** 2)\n', '    loss = np.mean((x - out) ** 2)\n'), ('5.1.1',)),
    Variant('q5-delta-sign', 'output delta 2 (x - out) instead of 2 (out - x)',
            q5('backwards(2 * (out - x),', 'backwards(2 * (x - out),'), ('5.1.1',)),
    Variant('q5-skip-relu-deriv', 'the hidden layers back-propagate without the ReLU derivative',
            q5("    delta = backwards(delta, params, 'hidden2', relu_deriv)\n",
               "    delta = backwards(delta, params, 'hidden2', linear_deriv)\n"), ('5.1.1',)),
    Variant('q5-momentum-sign', 'momentum with the wrong sign: M = 0.9 M + lr * grad',
            q5("- learning_rate * params[key]", "+ learning_rate * params[key]"), ('5.1.2',), ('5.2',)),
    Variant('q5-momentum-not-stored', 'the momentum is computed but never stored in params',
            q5("        params['m_' + name] = m\n", ''), ('5.1.2',)),
    Variant('q5-plain-sgd', 'no momentum at all: W = W - lr * grad',
            q5("        m = 0.9 * params.get('m_' + name, 0.0) - learning_rate * params[key]\n",
               "        m = -learning_rate * params[key]\n"), ('5.1.2',)),
    Variant('q5-never-updates', 'the training loop forgets to call momentum_step',
            q5('            momentum_step(params, learning_rate)\n', ''), ('5.2',)),
    # A correct alternative: the course's template draws the batches once, before the epoch loop. The
    # grader's shortened run must not cost it anything.
    Variant('q5-batches-once', "the course template's loop: batches drawn once and reused every epoch",
            (('q5.py', '    dummy = np.zeros((train_x.shape[0], 1))\n',
              '    dummy = np.zeros((train_x.shape[0], 1))\n'
              '    batches = get_random_batches(train_x, dummy, batch_size)\n'),
             ('q5.py', '        for xb, _ in get_random_batches(train_x, dummy, batch_size):\n',
              '        for xb, _ in batches:\n')),
            loses=(), keeps=('5.2',)),
)
