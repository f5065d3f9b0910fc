"""The grader's own measurements of what a submission produced (Q3-Q6): it never trusts a number the
submission reports. Accuracy of an MLP from its weights, an autoencoder's reconstructions, PSNR, boxes
matched to ground truth, and character accuracy of read text."""
import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.special import expit, softmax

from grader import checks

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


def mlp_probs(params, x):
    """Class probabilities of the Q3 MLP (sigmoid hidden layer, softmax output), computed here."""
    return softmax(expit(x @ params['Wlayer1'] + params['blayer1']) @ params['Woutput'] + params['boutput'], axis=1)


def mlp_accuracy(params, x, y):
    return float(np.mean(np.argmax(mlp_probs(params, x), axis=1) == np.argmax(y, axis=1)))


def autoencoder_output(params, x):
    """Reconstructions of the Q5 autoencoder (ReLU x3, sigmoid), computed here."""
    h = x
    for name in AE_LAYERS[:-1]:
        h = np.maximum(h @ params['W' + name] + params['b' + name], 0)
    return expit(h @ params['Woutput'] + params['boutput'])


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
    if len(found) == 0 or len(truth) == 0:
        return 0
    m = iou(found, truth)
    rows, cols = linear_sum_assignment(-m)
    return int(np.sum(m[rows, cols] >= threshold))


def edit_distance(a, b):
    """Levenshtein distance between two strings."""
    prev = np.arange(len(b) + 1)
    for i, ca in enumerate(a, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return int(prev[-1])


def char_accuracy(read, truth):
    """Fraction of a page's characters read correctly: 1 - edit distance / number of true characters,
    over the whole page in reading order, spaces ignored (so a line split or merged costs nothing, a
    missed, extra or wrong character costs one each). Floored at 0."""
    strip = lambda lines: ''.join(lines).replace(' ', '').upper()
    t = strip(truth)
    return max(0.0, 1.0 - edit_distance(strip(read), t) / max(len(t), 1))
