"""Q2 variants: bugs seen in real nn.py / run_q2.py hand-ins, and correct code written another way.

A bug in an nn.py piece must cost its own question and nothing in 2.4.1 / 2.5.1, where the rubric
swaps in the reference's pieces (``AFTER``)."""
from grader.variants import Variant

AFTER = ('2.4.1', '2.5.1')   # graded with the reference's nn.py pieces (rubric `uses`)

SOFTMAX = '    e = np.exp(x - np.max(x, axis=1, keepdims=True))\n    return e / np.sum(e, axis=1, keepdims=True)\n'
SIGMOID = ('    x = np.asarray(x, dtype=float)\n    e = np.exp(-np.abs(x))\n'
           '    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n')
GRADS = "    params['grad_W' + name] = X.T @ d_pre\n    params['grad_b' + name] = np.sum(d_pre, axis=0)\n"
BATCHES = ('    order = np.random.permutation(x.shape[0])\n'
           '    return [(x[order[i:i + batch_size]], y[order[i:i + batch_size]])\n'
           '            for i in range(0, x.shape[0], batch_size)]\n')
BOUND = 'bound = np.sqrt(6.0 / (in_size + out_size))'
CENTRAL = ('            value[idx] = original - eps\n            minus, _ = forward_backward(x, y, params)\n'
           '            value[idx] = original\n            grad[idx] = (plus - minus) / (2 * eps)\n')


# The tests of one function that a constant or zero stand-in must earn nothing from (not the fixture tests,
# which are scored per case: the uniform distribution is the right answer for a row of equal logits).
SOFTMAX_TESTS = ('test_softmax_rows_are_distributions', 'test_softmax_shift_invariance', 'test_softmax_values')
SIGMOID_TESTS = ('test_sigmoid_symmetry', 'test_sigmoid_derivative_identity', 'test_sigmoid_values',
                 'test_sigmoid_extremes')


def nn(old, new):
    return (('nn.py', old, new),)


def q2(old, new):
    return (('q2.py', old, new),)


BROKEN = (
    # 2.1.2 initialize_weights
    Variant('xavier-bound-sqrt2', 'Xavier bound sqrt(2/(in+out)): the variance formula used as the bound',
            nn(BOUND, 'bound = np.sqrt(2.0 / (in_size + out_size))'), ('2.1.2',), AFTER),
    Variant('xavier-in-only', 'Xavier bound from the fan-in only: sqrt(6/in)',
            nn(BOUND, 'bound = np.sqrt(6.0 / in_size)'), ('2.1.2',), AFTER),
    Variant('xavier-normal', 'normal distribution with the Xavier variance instead of a uniform one',
            nn('np.random.uniform(-bound, bound, (in_size, out_size))',
               'np.random.normal(0, np.sqrt(2.0 / (in_size + out_size)), (in_size, out_size))'), ('2.1.2',), AFTER),
    Variant('bias-2d', "bias of shape (1, out) instead of a 1-D vector",
            nn("params['b' + name] = np.zeros(out_size)", "params['b' + name] = np.zeros((1, out_size))"),
            ('2.1.2',), AFTER),
    Variant('bias-random', 'bias drawn like the weights instead of zeros',
            nn("params['b' + name] = np.zeros(out_size)", "params['b' + name] = np.random.uniform(-bound, bound, out_size)"),
            ('2.1.2',), AFTER),
    Variant('init-reseeds', 'np.random.seed(0) inside initialize_weights: every call draws the same weights',
            nn(f'    {BOUND}\n', f'    np.random.seed(0)\n    {BOUND}\n'), ('2.1.2',), AFTER),
    Variant('init-zeros', 'all-zero weights: the right shapes and within the bound, but no draw at all',
            nn('np.random.uniform(-bound, bound, (in_size, out_size))', 'np.zeros((in_size, out_size))'),
            ('2.1.2',), AFTER, earns_nothing=('test_initialize_weights_shapes', 'test_initialize_weights_distribution',
                                              'test_initialize_weights_fresh_draws')),
    # 2.2.1 sigmoid, forward
    Variant('sigmoid-sign', 'sigmoid as 1 / (1 + exp(x)): the sign of the exponent flipped',
            nn(SIGMOID, '    return 1.0 / (1.0 + np.exp(x))\n'), ('2.2.1',), AFTER),
    Variant('sigmoid-overflow', 'exp(x) / (1 + exp(x)): inf / inf = NaN for large x',
            nn(SIGMOID, '    return np.exp(x) / (1.0 + np.exp(x))\n'), ('2.2.1',), AFTER),
    Variant('sigmoid-float32', 'sigmoid computed in float32 (7 digits); also shows that the absolute tolerance '
            'on sigmoid values (a few ulps of 1) still bites',
            nn(SIGMOID, '    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float32)))\n'), ('2.2.1',), AFTER),
    Variant('forward-no-bias', 'forward forgets the bias: pre_act = X W',
            nn('pre_act = X @ W + b', 'pre_act = X @ W'), ('2.2.1',), AFTER),
    Variant('forward-cache-order', 'cache stored as (X, post_act, pre_act)',
            nn("params['cache_' + name] = (X, pre_act, post_act)", "params['cache_' + name] = (X, post_act, pre_act)"), ('2.2.1',), AFTER),
    Variant('forward-always-sigmoid', 'forward ignores its activation argument and always applies sigmoid',
            nn('    post_act = activation(pre_act)\n', '    post_act = sigmoid(pre_act)\n'), ('2.2.1',), AFTER),
    Variant('sigmoid-constant', 'sigmoid returning 0.5 everywhere: symmetric about 0, yet no sigmoid',
            nn(SIGMOID, '    return np.full(np.shape(x), 0.5)\n'), ('2.2.1',), AFTER, earns_nothing=SIGMOID_TESTS),
    Variant('sigmoid-zeros', 'sigmoid returning zeros: its finite-difference slope 0 equals s(1 - s) = 0',
            nn(SIGMOID, '    return np.zeros(np.shape(x))\n'), ('2.2.1',), AFTER, earns_nothing=SIGMOID_TESTS),
    Variant('forward-zeros', 'forward storing the right cache but returning zeros',
            nn('    return post_act\n', '    return np.zeros_like(post_act)\n'), ('2.2.1',), AFTER,
            earns_nothing=('test_forward_values_and_cache', 'test_forward_default_activation_is_sigmoid',
                           'test_forward_fixture')),
    # 2.2.2 softmax
    Variant('softmax-no-shift', 'softmax without subtracting the max: exp overflows for large rows',
            nn(SOFTMAX, '    e = np.exp(x)\n    return e / np.sum(e, axis=1, keepdims=True)\n'), ('2.2.2',), AFTER),
    Variant('softmax-global-max', "softmax shifted by the whole array's max: small rows underflow to 0/0",
            nn(SOFTMAX, '    e = np.exp(x - np.max(x))\n    return e / np.sum(e, axis=1, keepdims=True)\n'),
            ('2.2.2',), AFTER),
    Variant('softmax-wrong-axis', 'softmax over columns (axis=0) instead of rows',
            nn(SOFTMAX, '    e = np.exp(x - np.max(x, axis=0, keepdims=True))\n'
                        '    return e / np.sum(e, axis=0, keepdims=True)\n'), ('2.2.2',), AFTER),
    Variant('softmax-no-keepdims', 'row sums without keepdims: broadcasts along the wrong axis (silently '
            'wrong on square input, an error otherwise)',
            nn(SOFTMAX, '    e = np.exp(x - np.max(x, axis=1, keepdims=True))\n    return e / np.sum(e, axis=1)\n'),
            ('2.2.2',), AFTER),
    Variant('softmax-constant', 'softmax returning the uniform distribution 1/C whatever x: rows are '
            'distributions and shifting x changes nothing, but it ignores the logits',
            nn(SOFTMAX, '    return np.full(np.shape(x), 1.0 / np.shape(x)[1])\n'), ('2.2.2',), AFTER,
            earns_nothing=SOFTMAX_TESTS),
    Variant('softmax-zeros', 'softmax returning np.zeros_like(x) (a stub that returns something)',
            nn(SOFTMAX, '    return np.zeros_like(x, dtype=float)\n'), ('2.2.2',), AFTER, earns_nothing=SOFTMAX_TESTS),
    # 2.2.3 compute_loss_and_acc
    Variant('loss-mean', 'mean cross-entropy instead of the total',
            nn('loss = -np.sum(y * np.log(probs))', 'loss = -np.mean(np.sum(y * np.log(probs), axis=1))'),
            ('2.2.3',), AFTER),
    Variant('loss-per-example', 'the loss left as a vector of per-example cross-entropies (no final sum); '
            'the accuracy is right',
            nn('loss = -np.sum(y * np.log(probs))', 'loss = -np.sum(y * np.log(probs), axis=1)'),
            ('2.2.3',), AFTER, partial=('2.2.3',)),
    Variant('loss-zeros', 'compute_loss_and_acc returning (0, 0) (right by chance only where the accuracy is 0)',
            nn('    return loss, acc\n', '    return 0.0, 0.0\n'), ('2.2.3',), AFTER,
            earns_nothing=('test_compute_loss_is_summed_cross_entropy', 'test_compute_loss_accuracy_is_fraction',
                           'test_compute_loss_fixture')),
    Variant('acc-count', 'accuracy as the number of correct rows instead of a fraction',
            nn('acc = np.mean(', 'acc = np.sum('), ('2.2.3',), AFTER),
    # 2.3.1 backwards
    Variant('backwards-no-deriv', 'backwards skips the activation derivative',
            nn('d_pre = delta * activation_deriv(post_act)', 'd_pre = delta'), ('2.3.1',), AFTER),
    Variant('backwards-deriv-of-pre-act', 'activation derivative applied to pre-activations',
            nn('d_pre = delta * activation_deriv(post_act)', 'd_pre = delta * activation_deriv(pre_act)'),
            ('2.3.1',), AFTER),
    Variant('backwards-averaged', 'gradients averaged over the batch instead of summed',
            nn(GRADS, "    params['grad_W' + name] = X.T @ d_pre / X.shape[0]\n"
                      "    params['grad_b' + name] = np.mean(d_pre, axis=0)\n"), ('2.3.1',), AFTER),
    Variant('backwards-bias-axis', 'bias gradient summed over the wrong axis',
            nn('np.sum(d_pre, axis=0)', 'np.sum(d_pre, axis=1)'), ('2.3.1',), AFTER),
    Variant('backwards-zeros', 'backwards storing zero gradients and returning zeros',
            nn(GRADS + '    return d_pre @ W.T\n', "    params['grad_W' + name] = np.zeros_like(W)\n"
                                                   "    params['grad_b' + name] = np.zeros(W.shape[1])\n"
                                                   '    return np.zeros_like(X)\n'), ('2.3.1',), AFTER,
            earns_nothing=('test_backwards_matches_finite_differences', 'test_backwards_fixture')),
    Variant('backwards-grad-b-keepdims', 'grad_b summed with keepdims=True: shape (1, n) instead of (n,); '
            'grad_W and the returned gradient are right',
            nn('np.sum(d_pre, axis=0)', 'np.sum(d_pre, axis=0, keepdims=True)'), ('2.3.1',), AFTER,
            partial=('2.3.1',)),
    Variant('backwards-grad-x-no-deriv', 'grad_X from delta without the activation derivative',
            nn('return d_pre @ W.T', 'return delta @ W.T'), ('2.3.1',), AFTER),
    Variant('backwards-grad-x-w', 'grad_X with W instead of W.T (only runs when W is square)',
            nn('return d_pre @ W.T', 'return d_pre @ W'), ('2.3.1',), AFTER),
    # 2.4.1 batches, SGD step, training loop
    Variant('batches-with-replacement', 'batch indices drawn with replacement (duplicates, unseen examples); '
            'one bug, so only the split test fails (the order is still random each call)',
            nn('order = np.random.permutation(x.shape[0])', 'order = np.random.randint(0, x.shape[0], x.shape[0])'),
            ('2.4.1',), partial=('2.4.1',)),
    Variant('batches-shuffled-separately', 'x and y shuffled with two different permutations',
            nn(BATCHES, '    order = np.random.permutation(x.shape[0])\n'
                        '    other = np.random.permutation(x.shape[0])\n'
                        '    return [(x[order[i:i + batch_size]], y[other[i:i + batch_size]])\n'
                        '            for i in range(0, x.shape[0], batch_size)]\n'), ('2.4.1',)),
    Variant('batches-one-batch', 'get_random_batches returning the whole data as one batch, unshuffled',
            nn(BATCHES, '    return [(x, y)]\n'), ('2.4.1',),
            earns_nothing=('test_get_random_batches_splits_the_data', 'test_get_random_batches_is_random_each_call')),
    Variant('batches-never-shuffled', 'batches in the original order, the same every call',
            nn('order = np.random.permutation(x.shape[0])', 'order = np.arange(x.shape[0])'), ('2.4.1',)),
    Variant('batches-reseeded', 'np.random.seed(0) inside get_random_batches: the same order every call',
            nn('    order = np.random.permutation(x.shape[0])\n',
               '    np.random.seed(0)\n    order = np.random.permutation(x.shape[0])\n'), ('2.4.1',)),
    Variant('forward-backward-delta-sign', 'output delta y - probs instead of probs - y',
            q2('backwards(probs - y,', 'backwards(y - probs,'), ('2.4.1',)),
    Variant('sgd-wrong-sign', 'SGD step adds the gradient: W <- W + lr * grad',
            q2('params[name] - learning_rate * params[key]', 'params[name] + learning_rate * params[key]'),
            ('2.4.1',)),
    Variant('sgd-local-copy', 'SGD step computes the new weights into a local variable and drops them',
            q2('        params[name] = params[name] - learning_rate * params[key]\n',
               '        W = params[name]\n        W = W - learning_rate * params[key]\n'), ('2.4.1',)),
    Variant('train-never-updates', 'training loop that forgets to call sgd_step',
            q2('            sgd_step(params, learning_rate)\n', ''), ('2.4.1',)),
    # 2.5.1 numerical gradient checker
    Variant('gradcheck-forward-diff', 'forward differences (L(w + eps) - L(w)) / eps',
            q2(CENTRAL, '            value[idx] = original\n            minus, _ = forward_backward(x, y, params)\n'
                        '            grad[idx] = (plus - minus) / eps\n'), ('2.5.1',)),
    Variant('gradcheck-no-restore', 'checker that leaves each entry at w - eps',
            q2(CENTRAL, '            value[idx] = original - eps\n            minus, _ = forward_backward(x, y, params)\n'
                        '            grad[idx] = (plus - minus) / (2 * eps)\n'), ('2.5.1',)),
    Variant('gradcheck-zeros', 'checker that perturbs and restores every entry but reports 0 for each',
            q2('grad[idx] = (plus - minus) / (2 * eps)', 'grad[idx] = 0.0'), ('2.5.1',),
            earns_nothing=('test_numerical_gradients_central_differences', 'test_numerical_gradients_restore_params',
                           'test_numerical_gradients_check_analytic')),
    Variant('gradcheck-eps-divisor', 'central differences divided by eps instead of 2 eps',
            q2('grad[idx] = (plus - minus) / (2 * eps)', 'grad[idx] = (plus - minus) / eps'), ('2.5.1',)),
    Variant('gradcheck-perturbs-copy', 'checker perturbs a copy of the parameter: every estimate is 0',
            q2('        value = params[key]\n', '        value = params[key].copy()\n'), ('2.5.1',)),
)

CORRECT = (
    # SPEC.md's ways of handling the remainder (the reference keeps a smaller last batch)
    Variant('batches-drop-remainder', 'full batches only, dropping the < batch_size leftovers',
            nn('for i in range(0, x.shape[0], batch_size)]', 'for i in range(0, x.shape[0] - batch_size + 1, batch_size)]'),
            (), ('2.4.1',)),
    Variant('batches-array-split-floor', 'np.array_split into floor(N / batch_size) near-equal parts',
            nn(BATCHES, '    order = np.random.permutation(x.shape[0])\n'
                        '    parts = np.array_split(order, max(1, x.shape[0] // batch_size))\n'
                        '    return [(x[p], y[p]) for p in parts]\n'), (), ('2.4.1',)),
    Variant('batches-array-split-ceil', 'np.array_split into ceil(N / batch_size) near-equal parts',
            nn(BATCHES, '    order = np.random.permutation(x.shape[0])\n'
                        '    parts = np.array_split(order, int(np.ceil(x.shape[0] / batch_size)))\n'
                        '    return [(x[p], y[p]) for p in parts]\n'), (), ('2.4.1',)),
    Variant('batches-shuffle-in-place', 'x and y shuffled in place with the same RNG state, then sliced',
            nn(BATCHES, '    state = np.random.get_state()\n    np.random.shuffle(x)\n'
                        '    np.random.set_state(state)\n    np.random.shuffle(y)\n'
                        '    return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size)]\n'),
            (), ('2.4.1',)),
    # sigmoid: the reference is np.where with exp(-|x|)
    Variant('sigmoid-expit', 'sigmoid via scipy.special.expit',
            nn(SIGMOID, '    from scipy.special import expit\n    return expit(x)\n'), (), ('2.2.1',)),
    Variant('sigmoid-tanh', 'sigmoid as 0.5 (1 + tanh(x / 2))',
            nn(SIGMOID, '    return 0.5 * (1.0 + np.tanh(x / 2.0))\n'), (), ('2.2.1',)),
    Variant('sigmoid-naive', 'the textbook 1 / (1 + exp(-x)): exp overflows to inf for x < -709, giving '
            'the right limit 0 (with a RuntimeWarning), never NaN',
            nn(SIGMOID, '    return 1.0 / (1.0 + np.exp(-x))\n'), (), ('2.2.1',)),
    Variant('sigmoid-masked', 'two branches by boolean mask, each with a non-positive exponent',
            nn(SIGMOID, '    x = np.asarray(x, dtype=float)\n    out = np.empty_like(x)\n    pos = x >= 0\n'
                        '    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))\n    ex = np.exp(x[~pos])\n'
                        '    out[~pos] = ex / (1.0 + ex)\n    return out\n'), (), ('2.2.1',)),
    # matmul written as einsum / dot
    Variant('forward-einsum', 'forward with np.einsum',
            nn('pre_act = X @ W + b', "pre_act = np.einsum('nd,dh->nh', X, W) + b"), (), ('2.2.1',)),
    Variant('backwards-einsum', 'backwards with np.einsum',
            nn(GRADS + '    return d_pre @ W.T\n',
               "    params['grad_W' + name] = np.einsum('nd,nh->dh', X, d_pre)\n"
               "    params['grad_b' + name] = np.einsum('nh->h', d_pre)\n"
               "    return np.einsum('nh,dh->nd', d_pre, W)\n"), (), ('2.3.1',)),
    Variant('softmax-logsumexp', 'softmax as exp(x - logsumexp(x)) per row',
            nn(SOFTMAX, '    from scipy.special import logsumexp\n'
                        '    return np.exp(x - logsumexp(x, axis=1, keepdims=True))\n'), (), ('2.2.2',)),
    # the loss
    Variant('loss-masked-log', 'loss as -sum(log(probs[y == 1]))',
            nn('loss = -np.sum(y * np.log(probs))', 'loss = -np.sum(np.log(probs[y == 1]))'), (), ('2.2.3',)),
    Variant('loss-log-epsilon', 'loss with a tiny epsilon inside the log: log(probs + 1e-12)',
            nn('loss = -np.sum(y * np.log(probs))', 'loss = -np.sum(y * np.log(probs + 1e-12))'), (), ('2.2.3',)),
    # the course's own util.py: astype(np.float) (removed in NumPy 1.24); the grader's shim restores it
    Variant('util-np-float', "the course's original util.py: relu_deriv uses astype(np.float); forward and "
            'backwards are tested with util.py where the course uses it',
            (('util.py', 'return (x > 0).astype(float)', 'return (x > 0).astype(np.float)'),), (),
            ('2.2.1', '2.3.1') + AFTER),
    # a hand-in of 2018-2020: np.int (NumPy 1.24 removed it; grader.worker.compat restores it)
    Variant('nn-np-int', 'get_random_batches counting batches with np.int, as hand-ins before NumPy 1.24 did',
            nn('for i in range(0, x.shape[0], batch_size)]', 'for i in range(0, np.int(x.shape[0]), batch_size)]'),
            (), ('2.4.1',)),
    # the update and the checker written another way
    Variant('sgd-in-place', 'SGD step updating the arrays in place: W -= lr * grad_W',
            q2('params[name] = params[name] - learning_rate * params[key]',
               'params[name] -= learning_rate * params[key]'), (), ('2.4.1',)),
    Variant('gradcheck-in-place-steps', 'checker stepping the entry += eps, -= 2 eps, += eps',
            q2('            value[idx] = original + eps\n            plus, _ = forward_backward(x, y, params)\n'
               + CENTRAL,
               '            value[idx] += eps\n            plus, _ = forward_backward(x, y, params)\n'
               '            value[idx] -= 2 * eps\n            minus, _ = forward_backward(x, y, params)\n'
               '            value[idx] += eps\n            grad[idx] = (plus - minus) / (2 * eps)\n'), (), ('2.5.1',)),
    Variant('xavier-rand', 'Xavier drawn as (2 rand - 1) * bound',
            nn('np.random.uniform(-bound, bound, (in_size, out_size))',
               '(2 * np.random.rand(in_size, out_size) - 1) * bound'), (), ('2.1.2',)),
)

VARIANTS = BROKEN + CORRECT
