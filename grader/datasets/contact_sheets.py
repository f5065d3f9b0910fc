"""Contact sheets of the generated sets, so a person can judge their realism by eye (docs/img/*.png).

``python -m grader.datasets.contact_sheets [OUT_DIR]`` writes nist36.png (upright, one column per class),
mnist.png, emnist.png (shown upright), flowers17.png (one row per class) and page.png (a generated page
with its ground-truth boxes)."""
from pathlib import Path

import numpy as np

from grader.paths import ROOT

OUT = ROOT / 'docs' / 'img'


def _figure():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _grid(images, rows, cols, titles=None, cmap='gray', scale=0.42):
    plt = _figure()
    fig, axes = plt.subplots(rows, cols, figsize=(cols * scale, rows * scale + (0.25 if titles else 0)))
    for k, ax in enumerate(np.ravel(axes)):
        ax.axis('off')
        if k < len(images):
            ax.imshow(images[k], cmap=cmap, vmin=0, vmax=255 if images[k].dtype == np.uint8 else 1,
                      interpolation='nearest')
        if titles and k < cols:
            ax.set_title(titles[k], fontsize=7, pad=2)
    fig.subplots_adjust(0.005, 0.005, 0.995, 0.995 - (0.25 / (rows * scale) if titles else 0), 0.04, 0.04)
    return fig


def _by_class(labels, n_classes, per_class):
    """Indices: per_class rows, one column per class."""
    idx = [np.flatnonzero(labels == c)[:per_class] for c in range(n_classes)]
    return [idx[c][r] for r in range(per_class) for c in range(n_classes)]


def nist36_sheet(out):
    from grader.datasets import nist36
    x, y = nist36.load('train')
    order = _by_class(y.argmax(1), 36, 8)
    images = [x[i].reshape(32, 32).T for i in order]     # stored transposed: .T shows it upright
    return _save(_grid(images, 8, 36, titles=list(nist36.CLASSES)), out / 'nist36.png', dpi=64)


def _torch_images(name, n_classes, per_class, transpose, classes):
    import torchvision
    from grader.datasets import torchvision_sets
    root = torchvision_sets.root(name)
    if name == 'MNIST':
        ds = torchvision.datasets.MNIST(root, train=True, download=False)
    else:
        ds = torchvision.datasets.EMNIST(root, split='balanced', train=True, download=False)
    data, targets = ds.data.numpy(), ds.targets.numpy()
    order = _by_class(targets, n_classes, per_class)
    return [data[i].T if transpose else data[i] for i in order]


def mnist_sheet(out):
    return _save(_grid(_torch_images('MNIST', 10, 6, False, None), 6, 10, titles=list('0123456789')),
                 out / 'mnist.png')


def emnist_sheet(out):
    from grader.datasets.torchvision_sets import EMNIST_CLASSES
    images = _torch_images('EMNIST', 47, 4, True, EMNIST_CLASSES)
    return _save(_grid(images, 4, 47, titles=list(EMNIST_CLASSES)), out / 'emnist.png')


def flowers_sheet(out):
    import torchvision
    from grader.datasets import torchvision_sets
    ds = torchvision.datasets.ImageFolder(torchvision_sets.root('flowers17') / 'train')
    targets = np.array(ds.targets)
    per = 6
    images = [np.asarray(ds[i][0]) for c in range(17) for i in np.flatnonzero(targets == c)[:per]]
    fig = _grid(images, 17, per, scale=0.6)
    for c, name in enumerate(ds.classes):
        fig.axes[c * per].text(-4, 32, name, fontsize=6, ha='right', va='center')
    fig.subplots_adjust(left=0.2)
    return _save(fig, out / 'flowers17.png', dpi=66)


def page_sheet(out, index=0):
    from grader.datasets import pages
    page = pages.generated_pages()[index]
    plt = _figure()
    h, w = page.image.shape[:2]
    fig, ax = plt.subplots(figsize=(8, 8 * h / w))
    ax.imshow(page.image)
    for y1, x1, y2, x2 in page.boxes:
        ax.add_patch(plt.Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, color='red', lw=0.8))
    ax.axis('off')
    fig.subplots_adjust(0, 0, 1, 1)
    return _save(fig, out / 'page.png', dpi=90)


def _save(fig, path, dpi=90):
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


def write_all(out=OUT):
    out = Path(out)
    return [f(out) for f in (nist36_sheet, mnist_sheet, emnist_sheet, flowers_sheet, page_sheet)]


if __name__ == '__main__':
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out', nargs='?', default=OUT, metavar='OUT_DIR', help=f'where to write (default {OUT})')
    for p in write_all(parser.parse_args().out):
        print(f'wrote {p} ({p.stat().st_size // 1024} KB)')
