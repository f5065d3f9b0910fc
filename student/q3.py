"""Q3 (the course's run_q3.py): train a 1024-64-36 MLP ('layer1' sigmoid, 'output' softmax) on NIST36.
``init_params``, ``predict``, ``evaluate``, ``confusion_matrix`` and ``most_confused`` are given.

Run ``python q3.py`` to train with the best, 10x and 0.1x learning rates and write the report's figures;
``pytest -m q3`` checks it (the grader measures accuracy itself from the weights you return)."""
import numpy as np
from nn import *


def init_params(in_size=1024, hidden_size=64, out_size=36):
    """Given: the course's two layers, 'layer1' (sigmoid) and 'output' (softmax)."""
    params = {}
    initialize_weights(in_size, hidden_size, params, 'layer1')
    initialize_weights(hidden_size, out_size, params, 'output')
    return params


def predict(x, params):
    """Given: class probabilities of the MLP for the rows of x."""
    h1 = forward(x, params, 'layer1', sigmoid)
    return forward(h1, params, 'output', softmax)


def evaluate(x, y, params):
    """Given: (total cross-entropy, accuracy) of the MLP on (x, y)."""
    return compute_loss_and_acc(y, predict(x, params))


# Q 3.1.1
def train_mlp(train_x, train_y, valid_x, valid_y, hidden_size=64, batch_size=32, learning_rate=1e-2,
              max_iters=50):
    """Train the 1024-hidden_size-36 MLP (start from init_params) by SGD for max_iters epochs: each
    epoch, go over fresh random batches (get_random_batches); on each, forward, loss, backward (the
    gradient at the softmax input is probs - y) and W <- W - learning_rate * grad_W for the four arrays.

    Return (params, history): params holds 'Wlayer1', 'blayer1', 'Woutput', 'boutput'; history is a
    list with one dict per epoch: 'train_loss' (mean loss per example), 'train_acc', 'valid_loss',
    'valid_acc'. With the defaults the course's students reach about 75% validation accuracy."""
    raise NotImplementedError("train_mlp (Q3.1.1): the SGD training loop; return (params, history)")


def confusion_matrix(x, y, params):
    """Given: counts[true class, predicted class] over the rows of (x, y)."""
    counts = np.zeros((y.shape[1], y.shape[1]), dtype=int)
    np.add.at(counts, (np.argmax(y, axis=1), np.argmax(predict(x, params), axis=1)), 1)
    return counts


def most_confused(counts, classes, top=5):
    """Given: the `top` unordered class pairs most often mistaken for each other, with their counts."""
    both = counts + counts.T
    pairs = [(int(both[i, j]), classes[i], classes[j])
             for i in range(len(classes)) for j in range(i + 1, len(classes))]
    return sorted(pairs, reverse=True)[:top]


def _figures(out='q3_figures'):
    """The report's figures, written as PNG files into `out`."""
    import os
    import sys
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))  # the harness's data
    from grader.datasets import nist36

    os.makedirs(out, exist_ok=True)
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = (nist36.load(s) for s in ('train', 'valid', 'test'))
    best, runs = 1e-2, {}
    for lr in (best, best * 10, best / 10):
        np.random.seed(0)
        runs[lr] = train_mlp(train_x, train_y, valid_x, valid_y, learning_rate=lr)
        print(f'lr {lr:g}: validation accuracy {runs[lr][1][-1]["valid_acc"]:.3f}')
    for metric in ('acc', 'loss'):
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.5), sharey=True)
        for ax, (lr, (_, hist)) in zip(axes, runs.items()):
            ax.plot([h['train_' + metric] for h in hist], label='training')
            ax.plot([h['valid_' + metric] for h in hist], label='validation')
            ax.set(title=f'learning rate {lr:g}', xlabel='epoch', ylabel=metric)
            ax.legend()
        fig.savefig(os.path.join(out, f'q3_{metric}.png'), dpi=100, bbox_inches='tight')
        plt.close(fig)
    params = runs[best][0]
    np.savez(os.path.join(out, 'q3_params.npz'), **{k: params[k] for k in ('Wlayer1', 'blayer1', 'Woutput', 'boutput')})
    print('test accuracy', evaluate(test_x, test_y, params)[1])
    np.random.seed(0)
    initial = init_params()
    for label, W in (('before', initial['Wlayer1']), ('after', params['Wlayer1'])):
        fig = plt.figure(figsize=(8, 8))
        # each column is a transposed 32x32 crop, like the data: .T shows it upright
        plt.imshow(np.block([[W[:, 8 * r + c].reshape(32, 32).T for c in range(8)] for r in range(8)]),
                   cmap='gray')
        plt.axis('off')
        plt.title(f'first-layer weights {label} training')
        fig.savefig(os.path.join(out, f'q3_weights_{label}.png'), dpi=100, bbox_inches='tight')
        plt.close(fig)
    counts = confusion_matrix(test_x, test_y, params)
    pairs = most_confused(counts, nist36.CLASSES)
    fig = plt.figure(figsize=(7, 7))
    plt.imshow(counts, interpolation='nearest')
    plt.xticks(range(36), nist36.CLASSES)
    plt.yticks(range(36), nist36.CLASSES)
    plt.xlabel('predicted')
    plt.ylabel('true')
    plt.title('most confused: ' + ', '.join(f'{a}/{b} ({n})' for n, a, b in pairs))
    fig.savefig(os.path.join(out, 'q3_confusion.png'), dpi=100, bbox_inches='tight')
    plt.close(fig)


if __name__ == '__main__':
    _figures()
