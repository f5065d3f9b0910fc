"""Q7 (the course's run_q7_1.py and run_q7_2.py) in PyTorch.

The grader gives your models its own data as NumPy arrays (NIST36, MNIST, EMNIST Balanced, Flowers-17),
trains them with ``train_model`` and its own settings (epochs, learning rate, batch size), then measures
accuracy itself on examples you never see. Every model must return raw class scores (logits), one row
per input: nn.CrossEntropyLoss applies the softmax itself.

Run ``python q7.py [--data-dir DIR] [--out DIR]`` to train every model and save the report's figures;
``pytest -m q7`` grades this file (``pytest -m "q7 and not slow"`` skips the training runs)."""
import numpy as np
import torch
from torch import nn

# Given: EMNIST Balanced's 47 classes, in label order (some lower-case letters are merged into
# upper case, so they are absent).
EMNIST_CLASSES = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt'


# Q 7.1.1
def build_mlp():
    """The Q3 network as an nn.Module: 1024 inputs -> 64 hidden units (sigmoid) -> 36 scores, two
    nn.Linear layers (name them layer1 and output, as in the NumPy version)."""
    raise NotImplementedError("build_mlp (Q7.1.1): nn.Linear(1024, 64), sigmoid, nn.Linear(64, 36)")


# Q 7.1.1 (the grader trains every Q7 model with it)
def train_model(model, x, y, epochs, learning_rate, batch_size):
    """Train ``model`` in place: x is a float32 NumPy array (N, ...), y int64 class indices (N,).
    Use torch.optim.Adam over the parameters that require gradients, nn.CrossEntropyLoss on the
    model's raw scores, and a new random order of the examples every epoch (torch.randperm). For each
    batch: forward, loss, zero_grad, backward, step. Return one (mean loss, training accuracy) pair per
    epoch."""
    raise NotImplementedError("train_model (Q7.1.1): the training loop; return [(mean loss, accuracy)] per epoch")


# Q 7.1.2
def build_mnist_cnn():
    """A CNN (nn.Conv2d layers, then fully connected ones) for (N, 1, 28, 28) MNIST digits in [0, 1]
    -> 10 scores. The grader trains it for 3 epochs on 3,000 digits: keep it small."""
    raise NotImplementedError("build_mnist_cnn (Q7.1.2): a small CNN, (N, 1, 28, 28) -> (N, 10)")


# Q 7.1.3
def build_nist36_cnn():
    """A CNN for NIST36 crops reshaped to (N, 1, 32, 32) -> 36 scores; it should beat the MLP."""
    raise NotImplementedError("build_nist36_cnn (Q7.1.3): a small CNN, (N, 1, 32, 32) -> (N, 36)")


# Q 7.1.4
def build_emnist_cnn():
    """A CNN for EMNIST Balanced images as torchvision stores them ((N, 1, 28, 28), transposed, white on
    black) -> 47 scores, in the order of EMNIST_CLASSES."""
    raise NotImplementedError("build_emnist_cnn (Q7.1.4): a small CNN, (N, 1, 28, 28) -> (N, 47)")


# Q 7.1.4
def crops_to_emnist(rows):
    """Page characters -> the EMNIST network's input. rows: (n, 1024) as Q4's crop_letters returns them
    (NIST36's format: 32x32 crops stored transposed, dark ink on a white background). Return float32
    (n, 1, 28, 28) in [0, 1] laid out like EMNIST's images: mind the polarity and the orientation."""
    raise NotImplementedError("crops_to_emnist (Q7.1.4): NIST36 rows -> EMNIST-format (n, 1, 28, 28) images")


# Q 7.2.1
def build_squeezenet(num_classes=17, pretrained=True):
    """torchvision.models.squeezenet1_1, with the ImageNet weights when ``pretrained``
    (weights=SqueezeNet1_1_Weights.IMAGENET1K_V1 reads them from the local torch cache,
    torch.hub.get_dir()/checkpoints), every parameter frozen (requires_grad = False), and the last 1x1
    convolution (classifier[1]) replaced by a new nn.Conv2d(512, num_classes, kernel_size=1) that
    trains. Input: (N, 3, 64, 64) images normalised with ImageNet's mean and std."""
    raise NotImplementedError("build_squeezenet (Q7.2.1): squeezenet1_1, frozen, new 17-class classifier[1]")


# Q 7.2.1
def build_flower_net(num_classes=17):
    """A net trained from scratch for (N, 3, 64, 64) flower images: three nn.Conv2d layers and two
    nn.Linear layers -> num_classes scores."""
    raise NotImplementedError("build_flower_net (Q7.2.1): 3 conv + 2 fully connected layers -> 17 scores")
