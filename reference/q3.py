"""Q3 of the course (run_q3.py) as graded functions: a 1024-64-36 sigmoid/softmax MLP on NIST36.

Run ``python q3.py`` to train it with the best, 10x and 0.1x learning rates and write the report's
figures (accuracy and loss curves, first-layer weights before and after, confusion matrix)."""
import numpy as np
from nn import *


def init_params(in_size=1024, hidden_size=64, out_size=36):
    """Given: the course's two layers, 'layer1' (sigmoid) and 'output' (softmax)."""
    params = {}
    initialize_weights(in_size, hidden_size, params, 'layer1')
    initialize_weights(hidden_size, out_size, params, 'output')
    return params


def predict(x, params):
    """Class probabilities of the MLP for the rows of x."""
    h1 = forward(x, params, 'layer1', sigmoid)
    return forward(h1, params, 'output', softmax)


def evaluate(x, y, params):
    """(total cross-entropy, accuracy) of the MLP on (x, y)."""
    return compute_loss_and_acc(y, predict(x, params))


# Q 3.1.1
def train_mlp(train_x, train_y, valid_x, valid_y, hidden_size=64, batch_size=32, learning_rate=1e-2,
              max_iters=50):
    """Train the 1024-hidden_size-36 MLP by SGD for max_iters epochs (fresh random batches each epoch,
    one update per batch, gradients summed over the batch).

    Returns (params, history): params holds 'Wlayer1', 'blayer1', 'Woutput', 'boutput'; history has one
    dict per epoch with the mean training loss per example ('train_loss'), training accuracy
    ('train_acc'), and the same on the validation set ('valid_loss', 'valid_acc')."""
    params = init_params(train_x.shape[1], hidden_size, train_y.shape[1])
    history = []
    for itr in range(max_iters):
        total_loss, correct = 0.0, 0.0
        for xb, yb in get_random_batches(train_x, train_y, batch_size):
            h1 = forward(xb, params, 'layer1', sigmoid)
            probs = forward(h1, params, 'output', softmax)
            loss, acc = compute_loss_and_acc(yb, probs)
            total_loss += loss
            correct += acc * xb.shape[0]
            delta = backwards(probs - yb, params, 'output', linear_deriv)
            backwards(delta, params, 'layer1', sigmoid_deriv)
            for name in ('Wlayer1', 'blayer1', 'Woutput', 'boutput'):
                params[name] = params[name] - learning_rate * params['grad_' + name]
        valid_loss, valid_acc = evaluate(valid_x, valid_y, params)
        history.append({'train_loss': total_loss / train_x.shape[0], 'train_acc': correct / train_x.shape[0],
                        'valid_loss': valid_loss / valid_x.shape[0], 'valid_acc': valid_acc})
    return params, history


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
