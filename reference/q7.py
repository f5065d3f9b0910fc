"""Q7 of the course (run_q7_1.py, run_q7_2.py) in PyTorch, as graded functions.

The grader gives each model data it holds (NIST36, MNIST, EMNIST Balanced, Flowers-17 as NumPy arrays),
calls ``train_model`` with its own settings, then measures accuracy itself on held-out examples. Every
model returns raw class scores (logits): CrossEntropyLoss applies the softmax.

Run ``python q7.py [--data-dir DIR] [--out DIR]`` to train every model and save the report's figures
(training curves, a confusion matrix, SqueezeNet against the small net)."""
import numpy as np
import torch
from torch import nn

# Given: EMNIST Balanced's 47 classes, in label order (some lower-case letters are merged into
# upper case, so they are absent).
EMNIST_CLASSES = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt'


# Q 7.1.1
class MLP(nn.Module):
    """The Q3 network: 1024 -> 64 (sigmoid) -> 36 scores, layers named as in the NumPy version."""

    def __init__(self, in_size=1024, hidden=64, classes=36):
        super().__init__()
        self.layer1 = nn.Linear(in_size, hidden)
        self.output = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.output(torch.sigmoid(self.layer1(x)))


def build_mlp():
    return MLP()


# Q 7.1.1 (used by every other question)
def train_model(model, x, y, epochs, learning_rate, batch_size):
    """Adam on the parameters that require gradients, cross-entropy on logits, a fresh random order
    of the examples every epoch. x: float32 array, y: int64 class indices. Trains ``model`` in place
    and returns one (mean loss, training accuracy) pair per epoch."""
    x, y = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=learning_rate)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    model.train()
    for _ in range(epochs):
        total, correct = 0.0, 0
        for idx in torch.randperm(len(x)).split(batch_size):
            scores = model(x[idx])
            loss = loss_fn(scores, y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            correct += (scores.argmax(1) == y[idx]).sum().item()
        history.append((total / len(x), correct / len(x)))
    return history


class SmallCNN(nn.Module):
    """conv(3x3) -> ReLU -> maxpool, twice, then one hidden fully connected layer."""

    def __init__(self, side, classes, channels=(16, 32), hidden=128):
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * (side // 4) ** 2, hidden), nn.ReLU(), nn.Linear(hidden, classes))

    def forward(self, x):
        return self.classifier(self.features(x))


# Q 7.1.2
def build_mnist_cnn():
    """For (N, 1, 28, 28) MNIST digits in [0, 1] -> 10 scores."""
    return SmallCNN(28, 10, channels=(8, 16), hidden=64)


# Q 7.1.3
def build_nist36_cnn():
    """For (N, 1, 32, 32) NIST36 crops (the flat 1024 rows reshaped) -> 36 scores."""
    return SmallCNN(32, 36)


# Q 7.1.4
def build_emnist_cnn():
    """For (N, 1, 28, 28) EMNIST Balanced images as stored (transposed, white on black) -> 47 scores."""
    return SmallCNN(28, 47)


# Q 7.1.4
def crops_to_emnist(rows):
    """Page characters -> the EMNIST network's input. rows: (n, 1024) as Q4's crop_letters returns them
    (NIST36's format: 32x32 crops stored transposed, dark ink on white). EMNIST stores its 28x28 images
    transposed too, but white ink on black: invert and resize, and keep the transposition. Returns
    float32 (n, 1, 28, 28) in [0, 1]."""
    import skimage.transform
    crops = 1.0 - np.asarray(rows, dtype=float).reshape(-1, 32, 32)
    small = [skimage.transform.resize(c, (28, 28), anti_aliasing=True) for c in crops]
    return np.asarray(small, dtype=np.float32).reshape(-1, 1, 28, 28)


# Q 7.2.1
def build_squeezenet(num_classes=17, pretrained=True):
    """SqueezeNet 1.1 (torchvision), ImageNet weights when ``pretrained`` (read from the local torch cache,
    torch.hub.get_dir()/checkpoints), with its last 1x1 convolution replaced by a new ``num_classes``
    one; only that new layer trains."""
    from torchvision.models import SqueezeNet1_1_Weights, squeezenet1_1
    model = squeezenet1_1(weights=SqueezeNet1_1_Weights.IMAGENET1K_V1 if pretrained else None)
    for p in model.parameters():
        p.requires_grad = False
    model.classifier[1] = nn.Conv2d(512, num_classes, kernel_size=1)
    model.num_classes = num_classes
    return model


# Q 7.2.1
class FlowerNet(nn.Module):
    """Three conv layers and two fully connected ones, trained from scratch on (N, 3, 64, 64) images."""

    def __init__(self, classes=17):
        super().__init__()
        layers = []
        for cin, cout in ((3, 16), (16, 32), (32, 64)):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(4))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(), nn.Linear(128, classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def build_flower_net(num_classes=17):
    return FlowerNet(num_classes)


def _figures(out, data_dir=None):
    """Train each model on the data in use (as the grader does) and save the report's figures."""
    import os
    import time

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from grader import torch_data, torch_eval

    os.makedirs(out, exist_ok=True)
    if data_dir:
        os.environ['NN_DATA_DIR'] = data_dir
    curves, results = {}, {}
    for name, task in torch_data.TASKS.items():
        torch_eval.setup(0)
        (xtr, ytr), (xte, yte) = task.data()
        model = globals()[task.build]()
        t = time.time()
        curves[name] = train_model(model, xtr, ytr, **task.settings)
        scores = torch_eval.logits(model, xte)
        results[name] = torch_eval.accuracy(scores, yte)
        print(f'{name}: held-out accuracy {results[name]:.1%} ({time.time() - t:.0f} s)')
        if name == 'nist36_cnn':
            m = torch_eval.confusion(scores, yte, 36)
            fig, ax = plt.subplots(figsize=(7, 7))
            ax.imshow(m, cmap='Blues')
            labels = torch_data.NIST36_CLASSES
            ax.set_xticks(range(36), labels, fontsize=6)
            ax.set_yticks(range(36), labels, fontsize=6)
            ax.set_xlabel('predicted')
            ax.set_ylabel('true')
            off = m - np.diag(np.diag(m))
            worst = np.dstack(np.unravel_index(np.argsort(-off, axis=None)[:4], off.shape))[0]
            ax.set_title('NIST36 CNN; most confused: ' + ', '.join(f'{labels[i]}->{labels[j]}' for i, j in worst))
            fig.savefig(os.path.join(out, 'q7_1_3_confusion.png'), dpi=100, bbox_inches='tight')
            plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, hist in curves.items():
        h = np.asarray(hist)
        axes[0].plot(range(1, len(h) + 1), h[:, 0], marker='o', label=name)
        axes[1].plot(range(1, len(h) + 1), h[:, 1], marker='o', label=f'{name} (held out {results[name]:.0%})')
    axes[0].set(xlabel='epoch', ylabel='mean training loss', yscale='log')
    axes[1].set(xlabel='epoch', ylabel='training accuracy')
    axes[1].legend(fontsize=7)
    fig.savefig(os.path.join(out, 'q7_training_curves.png'), dpi=100, bbox_inches='tight')
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 4))
    names = [n for n in ('squeezenet', 'flower_net') if n in results]
    ax.bar(names, [results[n] for n in names])
    ax.set(ylabel='held-out accuracy', ylim=(0, 1),
           title='Flowers-17' + ('' if torch_eval.squeezenet_weights() else ' (no pretrained weights here)'))
    fig.savefig(os.path.join(out, 'q7_2_1_squeezenet_vs_scratch.png'), dpi=100, bbox_inches='tight')
    plt.close(fig)


if __name__ == '__main__':
    import argparse
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the harness, for its data and helpers
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data-dir', default=None)
    parser.add_argument('--out', default='q7_figures')
    args = parser.parse_args()
    _figures(args.out, args.data_dir)
