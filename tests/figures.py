"""Figures the tests save for the grader's report (via the ``artifacts`` fixture), drawn with
matplotlib's Agg backend."""
import matplotlib

matplotlib.use('Agg')
import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from grader.pytest_plugin import FIGURE_DPI  # noqa: E402

# two validation rows each of A, F, K, 0 and 4 (the validation set is sorted by class, 100 per class)
FIVE_CLASSES = [0, 1, 500, 501, 1000, 1001, 2600, 2601, 3000, 3001]


def boxes_figure(image, found, truth=None):
    """The page with the found boxes in red and, if given, the true boxes in green."""
    height, width = image.shape[:2]
    inches = 9
    fig = plt.figure(figsize=(inches, inches * height / width))
    step = max(1, width // (inches * FIGURE_DPI))   # the figure shows at most this many pixels: more costs seconds
    plt.imshow(image[::step, ::step], extent=(-0.5, width - 0.5, height - 0.5, -0.5))   # boxes stay in page pixels
    for boxes, colour, line in ((truth if truth is not None else [], 'lime', 2), (found, 'red', 1)):
        for y1, x1, y2, x2 in boxes:
            plt.gca().add_patch(matplotlib.patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                                             edgecolor=colour, linewidth=line))
    plt.axis('off')
    return fig


def reconstructions_figure(x, x_hat, rows, title):
    """Originals (top) beside reconstructions (bottom) of the chosen rows of NIST36-format data."""
    fig, axes = plt.subplots(2, len(rows), figsize=(1.6 * len(rows), 3.4), squeeze=False)
    for col, r in enumerate(rows):
        for ax, img in ((axes[0, col], x[r]), (axes[1, col], x_hat[r])):
            ax.imshow(img.reshape(32, 32).T, cmap='gray', vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel('original')
    axes[1, 0].set_ylabel('reconstruction')
    fig.suptitle(title)
    return fig


def curves_figure(history, title):
    """Training and validation accuracy and loss per epoch from a Q3 history."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, metric in zip(axes, ('acc', 'loss')):
        for split in ('train', 'valid'):
            ax.plot([h[f'{split}_{metric}'] for h in history], label=split)
        ax.set(xlabel='epoch', ylabel=metric)
        ax.legend()
    fig.suptitle(title)
    return fig
