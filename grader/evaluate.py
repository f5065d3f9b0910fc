"""The grader's own measurements of what a submission produced (Q2.4-Q6): it never trusts a number the
submission reports. Loss and accuracy of a network from its weights, an autoencoder's reconstructions,
PSNR, boxes matched to ground truth, and character accuracy of read text.

The forward passes behind them solve graded parts, so they live in grader/oracles.py, which the student
release leaves out; there (``oracle()`` is None) the submission's own pieces compute them instead, as the
release's tests use the student's earlier pieces everywhere."""
import numpy as np

from grader import checks

NOT_IN_RELEASE = ("checked by the autograder only: the grader's own solution it compares with is not part of "
                  'the student release')


def oracle():
    """grader.oracles, or None in a student release."""
    try:
        from grader import oracles
    except ImportError:
        return None
    return oracles


def require_oracle():
    """grader.oracles, or stop the calling test as 'not gradable here' (its share goes to the question's
    other tests; the autograder runs it)."""
    __tracebackhide__ = True
    found = oracle()
    if found is None:
        checks.not_gradable(NOT_IN_RELEASE)
    return found

MLP_SHAPES = {'Wlayer1': (1024, 64), 'blayer1': (64,), 'Woutput': (64, 36), 'boutput': (36,)}
AE_LAYERS = ('layer1', 'hidden', 'hidden2', 'output')


def weights(params, shapes, what):
    """The arrays params[key] of the given shapes, checked (a clear failure names the missing key)."""
    __tracebackhide__ = True
    checks.that(isinstance(params, dict), f'{what} should be a dict of arrays, but is {type(params).__name__}')
    out = {}
    for key, shape in shapes.items():
        checks.that(key in params, f"{what} has no {key!r} (the course's layer names are kept); it has "
                                   f'{sorted(k for k in params if not k.startswith(("cache_", "grad_", "m_")))}')
        out[key] = checks.array(params[key], f'{what}[{key!r}]', shape=shape)
    return out


def mlp_scores(params, x, impl, output='linear'):
    """Class scores of the Q3 MLP (sigmoid 'layer1', then 'output'; with output='softmax', probabilities):
    the grader's forward pass, or in a student release the submission's own nn.forward and activations."""
    if oracle() is not None:
        return oracle().mlp_scores(params, x) if output == 'linear' else oracle().mlp_probs(params, x)
    nn, own = impl.module('nn'), dict(params)
    hidden = nn.forward(x, own, 'layer1', nn.sigmoid)
    last = impl.module('util').linear if output == 'linear' else nn.softmax
    return checks.array(nn.forward(hidden, own, 'output', last), 'your forward pass of the MLP (nn.forward)',
                        shape=(x.shape[0], params['Woutput'].shape[1]))


def mlp_probs(params, x, impl):
    return mlp_scores(params, x, impl, output='softmax')


def mlp_accuracy(params, x, y, impl):
    return float(np.mean(np.argmax(mlp_probs(params, x, impl), axis=1) == np.argmax(y, axis=1)))


def mlp_loss_and_accuracy(params, x, y, impl):
    """Total cross-entropy and accuracy of the MLP's predictions (the course's toy net in Q2.4)."""
    probs = mlp_probs(params, x, impl)
    return float(-np.sum(y * np.log(probs))), float(np.mean(probs.argmax(1) == y.argmax(1)))


def autoencoder_output(params, x, impl):
    """Reconstructions of the Q5 autoencoder (ReLU x3, sigmoid): the grader's forward pass, or in a
    student release the submission's own q5.ae_forward."""
    if oracle() is not None:
        return oracle().autoencoder_output(params, x, AE_LAYERS)
    return checks.array(impl.module('q5').ae_forward(x, dict(params)), 'your ae_forward', shape=x.shape)


def psnr(x, x_hat):
    """PSNR of each row (data range 1), averaged over rows, as the course reports it."""
    from skimage.metrics import peak_signal_noise_ratio
    return float(np.mean([peak_signal_noise_ratio(a, np.clip(b, 0, 1), data_range=1) for a, b in zip(x, x_hat)]))


def iou(a, b):
    """IoU matrix of boxes a (n, 4) and b (m, 4), each [y1, x1, y2, x2] with exclusive y2, x2."""
    a, b = np.asarray(a, float).reshape(-1, 4), np.asarray(b, float).reshape(-1, 4)
    ih = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iw = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ih * iw
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def match_boxes(found, truth, threshold=0.5):
    """Number of one-to-one matches with IoU >= threshold (an optimal assignment)."""
    # Imported here: scipy.optimize takes about half a second to import, and the Q2 test files, which
    # import this module, never match boxes.
    from scipy.optimize import linear_sum_assignment
    if len(found) == 0 or len(truth) == 0:
        return 0
    m = iou(found, truth)
    rows, cols = linear_sum_assignment(-m)
    return int(np.sum(m[rows, cols] >= threshold))


def f1(matched, n_found, n_true):
    """F1 of a one-to-one box matching: 2 matched / (found + true), the harmonic mean of recall and
    precision; 0 when nothing was found or nothing is there."""
    return 2.0 * matched / (n_found + n_true) if n_found + n_true else 0.0


def _edit_rows(a, b):
    """The rows of the Levenshtein table of a and b: row i holds the distances between a[:i] and each
    prefix of b. A generator, so a distance needs only two rows in memory."""
    prev = np.arange(len(b) + 1)
    yield prev
    for i, ca in enumerate(a, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        yield cur
        prev = cur


def edit_distance(a, b):
    """Levenshtein distance between two strings."""
    for row in _edit_rows(a, b):
        pass
    return int(row[-1])


def page_text(lines):
    """A page's lines as char_accuracy compares them: in reading order, spaces dropped, upper case."""
    return ''.join(lines).replace(' ', '').upper()


def misreads(read, truth):
    """(true character, character read) for each error char_accuracy counts, from a least-cost alignment
    of the page as read with its text; a character missed or added is ('X', '-') or ('-', 'X'). For the
    figures of benchmarks/photos.py: it keeps the whole table, so it is not for a hand-in's output."""
    a, b = page_text(truth), page_text(read)
    cost = np.array(list(_edit_rows(a, b)))
    pairs, i, j = [], len(a), len(b)
    while i or j:
        if i and j and cost[i, j] == cost[i - 1, j - 1] + (a[i - 1] != b[j - 1]):
            if a[i - 1] != b[j - 1]:
                pairs.append((a[i - 1], b[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i, j] == cost[i - 1, j] + 1:
            pairs.append((a[i - 1], '-'))
            i -= 1
        else:
            pairs.append(('-', b[j - 1]))
            j -= 1
    return pairs[::-1]


def char_accuracy(read, truth):
    """Fraction of a page's characters read correctly: 1 - edit distance / number of true characters,
    over the whole page in reading order, spaces ignored (so a line split or merged costs nothing, a
    missed, extra or wrong character costs one each). Floored at 0."""
    t, r = page_text(truth), page_text(read)
    if t and len(r) - len(t) >= len(t):
        return 0.0   # the distance is at least the difference in length: no need to compute it
    return max(0.0, 1.0 - edit_distance(r, t) / max(len(t), 1))
