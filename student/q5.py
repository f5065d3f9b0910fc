"""Q5 (the course's run_q5.py): a 1024-32-32-32-1024 autoencoder (ReLU x3, sigmoid output) trained with
momentum on NIST36 to reconstruct its input. ``init_autoencoder``, ``psnr``, ``show_reconstructions``
and ``five_classes`` are given.

Run ``python q5.py`` to train it and write the report's figures (training loss, originals beside
reconstructions for 5 classes) and print the validation PSNR."""
import numpy as np
from nn import *

LAYERS = ('layer1', 'hidden', 'hidden2', 'output')


def init_autoencoder(in_size=1024, hidden_size=32):
    """Given: 'layer1' in->h, 'hidden' h->h, 'hidden2' h->h, 'output' h->in, and a zero momentum buffer
    params['m_'+key] for every weight and bias."""
    params = {}
    sizes = [in_size, hidden_size, hidden_size, hidden_size, in_size]
    for name, i, o in zip(LAYERS, sizes[:-1], sizes[1:]):
        initialize_weights(i, o, params, name)
    for key in [k for k in params if k[:1] in 'Wb']:
        params['m_' + key] = np.zeros_like(params[key])
    return params


# Q 5.1.1
def ae_forward(x, params):
    """The reconstruction of x: ReLU, ReLU, ReLU, then sigmoid."""
    raise NotImplementedError("ae_forward (Q5.1.1): forward through the four layers; return the reconstruction")


# Q 5.1.1
def ae_forward_backward(x, params):
    """Forward, loss, backward. Returns the TOTAL squared error sum((x - out)**2) over the batch and
    leaves params['grad_W'+name] and params['grad_b'+name] set for the four layers."""
    raise NotImplementedError("ae_forward_backward (Q5.1.1): forward, total squared error, backward "
                              "through the four layers")


# Q 5.1.2
def momentum_step(params, learning_rate):
    """For every parameter k with a gradient: M = 0.9 M - learning_rate * grad; k = k + M, with M kept in
    params['m_'+k] (created as zeros if missing)."""
    raise NotImplementedError("momentum_step (Q5.1.2): M = 0.9 M - lr * grad; W = W + M, with M in params['m_'+k]")


# Q 5.2
def train_autoencoder(train_x, hidden_size=32, batch_size=36, learning_rate=3e-5, max_iters=100,
                      decay_every=20):
    """The course's loop: max_iters epochs over fresh random batches, ae_forward_backward then
    momentum_step on each, and learning_rate *= 0.9 after every `decay_every` epochs.

    Returns (params, losses): losses[i] is the total squared error summed over epoch i's batches."""
    raise NotImplementedError("train_autoencoder (Q5.2): the training loop with momentum and the learning-rate decay")


def psnr(x, x_hat):
    """Given: PSNR per image (data range 1) averaged over the rows, as the course computes it."""
    from skimage.metrics import peak_signal_noise_ratio
    return float(np.mean([peak_signal_noise_ratio(a, np.clip(b, 0, 1), data_range=1)
                          for a, b in zip(x, x_hat)]))


def show_reconstructions(x, x_hat, rows, title, path):
    """Given: originals beside reconstructions for the chosen rows, written to `path`."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, len(rows), figsize=(1.6 * len(rows), 3.4))
    for col, r in enumerate(rows):
        for ax, img, label in ((axes[0, col], x[r], 'original'), (axes[1, col], x_hat[r], 'reconstruction')):
            ax.imshow(img.reshape(32, 32).T, cmap='gray', vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(label)
    fig.suptitle(title)
    fig.savefig(path, dpi=100, bbox_inches='tight')
    plt.close(fig)


def five_classes(valid_y, classes=(0, 5, 10, 26, 30), per_class=2):
    """Given: `per_class` validation rows from each of five classes (A, F, K, 0, 4)."""
    labels = np.argmax(valid_y, axis=1)
    return [int(r) for c in classes for r in np.flatnonzero(labels == c)[:per_class]]


if __name__ == '__main__':
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))  # the harness's data
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from grader.datasets import nist36

    os.makedirs('q5_figures', exist_ok=True)
    np.random.seed(0)
    (train_x, _), (valid_x, valid_y) = nist36.load('train'), nist36.load('valid')
    params, losses = train_autoencoder(train_x)
    fig = plt.figure()
    plt.plot(np.array(losses) / train_x.shape[0])
    plt.xlabel('epoch')
    plt.ylabel('squared error per example')
    fig.savefig('q5_figures/q5_loss.png', dpi=100, bbox_inches='tight')
    plt.close(fig)
    recon = ae_forward(valid_x, params)
    show_reconstructions(valid_x, recon, five_classes(valid_y), 'autoencoder', 'q5_figures/q5_reconstructions.png')
    print(f'validation PSNR {psnr(valid_x, recon):.2f}')
