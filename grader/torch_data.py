"""The grader's own copies of the Q7 data, as NumPy arrays, and the training settings of each Q7 task.

Data comes from the data layer (grader.datasets): NIST36 in the course's format, and MNIST, EMNIST
Balanced and Flowers-17 read through torchvision.datasets from their local roots (the generated stand-ins,
or the real sets when an instructor points NN_DATA_DIR at them). The held-out labels never leave this
side. Subsets are drawn per class with fixed seeds, so every submission sees the same examples; their
sizes keep the whole Q7 grade of one submission to a few minutes on 2 cores.

torch and torchvision are imported only when a set is read."""
import functools
from dataclasses import dataclass, field

import numpy as np

NIST36_CLASSES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
FLOWER_SIDE = 64                       # Flowers-17 images are resized to 64x64 (SqueezeNet accepts it)
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


@functools.lru_cache(maxsize=None)
def nist36(split):
    """(x float32 (N, 1024) as the course stores it, labels int64 (N,))."""
    from grader.datasets import nist36 as source
    x, y = source.load(split)
    return np.asarray(x, np.float32), np.asarray(y).argmax(1).astype(np.int64)


def _torchvision_root(name):
    from grader.datasets import torchvision_sets
    return str(torchvision_sets.root(name))


@functools.lru_cache(maxsize=None)
def mnist_like(name, train):
    """MNIST or EMNIST Balanced as torchvision stores them: (x float32 (N, 1, 28, 28) in [0, 1], white
    ink on black, EMNIST transposed; labels int64 (N,))."""
    import torchvision

    from grader.datasets import torchvision_sets
    torchvision_sets.validate(name)   # damaged files: a DataError naming the file, not torchvision's reshape error
    root = _torchvision_root(name)
    if name == 'MNIST':
        ds = torchvision.datasets.MNIST(root, train=train, download=False)
    else:
        ds = torchvision.datasets.EMNIST(root, split='balanced', train=train, download=False)
    x = ds.data.numpy().astype(np.float32)[:, None] / 255.0
    return x, ds.targets.numpy().astype(np.int64)


@functools.lru_cache(maxsize=None)
def flowers(split):
    """Flowers-17's 'train' or 'test' folder read with torchvision's ImageFolder, resized to 64x64 and
    normalised with ImageNet's mean and std (what SqueezeNet's pretrained weights expect):
    (x float32 (N, 3, 64, 64), labels int64 (N,))."""
    import torchvision
    from torchvision import transforms
    from pathlib import Path
    ds = torchvision.datasets.ImageFolder(Path(_torchvision_root('flowers17')) / split, transform=transforms.Compose([
        transforms.Resize((FLOWER_SIDE, FLOWER_SIDE)), transforms.ToTensor()]))
    x = np.stack([ds[i][0].numpy() for i in range(len(ds))])
    x = (x - IMAGENET_MEAN[:, None, None]) / IMAGENET_STD[:, None, None]
    return x.astype(np.float32), np.asarray(ds.targets, np.int64)


def kind(name):
    """'real' when the set comes from the instructor's data folder (NN_DATA_DIR), else 'generated':
    thresholds differ between them. name: NIST36, MNIST, EMNIST or flowers17."""
    from grader.datasets import nist36, torchvision_sets
    return nist36.source().kind if name == 'NIST36' else torchvision_sets.source(name)[0]


def _per_class(x, y, per_class, seed):
    from grader.torch_eval import subset
    idx = subset(y, per_class, seed)
    return x[idx], y[idx]


@dataclass(frozen=True)
class Task:
    """One Q7 model: which builder makes it, what it trains on, with what settings, and the held-out
    data the grader measures it on."""
    build: str                 # name of the builder function in q7.py
    classes: int
    settings: dict = field(default_factory=dict)   # train_model keyword arguments
    source: str = ''

    def data(self):
        # Plain C-order NCHW arrays. Giving the channel axis of the one-channel sets a stride of one element
        # (the same bytes) makes PyTorch train these CNNs 25-30% faster on one thread, but its activations
        # then come out channels-last, and the common x.view(x.size(0), -1) of a correct hand-in fails
        # (the correct variant q7-cnn-flatten-view holds this).
        return _DATA[self.source]()


_DATA = {
    # NIST36: the whole training set; held out: the validation set (100 per class).
    'nist36_flat': lambda: (nist36('train'), nist36('valid')),
    'nist36_image': lambda: tuple((x.reshape(-1, 1, 32, 32), y) for x, y in (nist36('train'), nist36('valid'))),
    # MNIST: 300 training and 100 test digits per class.
    'mnist': lambda: (_per_class(*mnist_like('MNIST', True), 300, 1), _per_class(*mnist_like('MNIST', False), 100, 2)),
    # EMNIST Balanced: 200 training and 40 test images per class (47 classes).
    'emnist': lambda: (_per_class(*mnist_like('EMNIST', True), 200, 3), _per_class(*mnist_like('EMNIST', False), 40, 4)),
    # Flowers-17: its own train / test folders (stand-in: 40 / 10 per class).
    'flowers': lambda: (flowers('train'), flowers('test')),
}
# The data set behind each source, as kind() names it.
DATASET_OF = {'nist36_flat': 'NIST36', 'nist36_image': 'NIST36', 'mnist': 'MNIST', 'emnist': 'EMNIST',
              'flowers': 'flowers17'}

TASKS = {
    'mlp': Task('build_mlp', 36, dict(epochs=15, learning_rate=1e-3, batch_size=64), 'nist36_flat'),
    'mnist_cnn': Task('build_mnist_cnn', 10, dict(epochs=3, learning_rate=2e-3, batch_size=32), 'mnist'),
    'nist36_cnn': Task('build_nist36_cnn', 36, dict(epochs=4, learning_rate=2e-3, batch_size=64), 'nist36_image'),
    'emnist_cnn': Task('build_emnist_cnn', 47, dict(epochs=4, learning_rate=2e-3, batch_size=64), 'emnist'),
    'squeezenet': Task('build_squeezenet', 17, dict(epochs=5, learning_rate=1e-3, batch_size=32), 'flowers'),
    'flower_net': Task('build_flower_net', 17, dict(epochs=5, learning_rate=1e-3, batch_size=32), 'flowers'),
}
