"""Q7 variants: PyTorch bugs students really make, and correct code written another way.

Questions after 7.1.1 train with the reference's train_model (rubric ``uses``), so a broken training
loop costs 7.1.1 only (``AFTER``)."""
from grader.variants import Variant

# Questions a broken train_model keeps, graded with the reference's train_model: the cheapest one for each
# such bug (7.1.2, 1.5 s), and 7.1.3 as well for one of them (11 s a run: the stand-in is the same code
# whichever bug it replaces, so one run shows that 7.1.3 uses it).
AFTER = ('7.1.2',)


def q7(old, new):
    return (('q7.py', old, new),)


def _flatten_by_view(follows):
    """The forward that comes just before ``follows`` in q7.py, flattening with view instead."""
    head = '    def forward(self, x):\n'
    by_view = '        h = self.features(x)\n        return self.classifier(h.view(h.size(0), -1))\n\n\n'
    return q7(head + '        return self.classifier(self.features(x))\n\n\n' + follows, head + by_view + follows)


BROKEN = (
    # 7.1.1 the MLP and the training loop
    Variant('q7-mlp-26-classes', 'the MLP ends in 26 outputs (letters only)',
            q7('        self.output = nn.Linear(hidden, classes)', '        self.output = nn.Linear(hidden, 26)'),
            loses=('7.1.1',)),
    Variant('q7-mlp-relu', 'the MLP uses ReLU where the Q3 net has a sigmoid',
            q7('return self.output(torch.sigmoid(self.layer1(x)))', 'return self.output(torch.relu(self.layer1(x)))'),
            loses=('7.1.1',)),
    Variant('q7-mlp-softmax-output', 'the MLP ends in a softmax, then CrossEntropyLoss applies another',
            q7('return self.output(torch.sigmoid(self.layer1(x)))',
               'return torch.softmax(self.output(torch.sigmoid(self.layer1(x))), dim=1)'),
            loses=('7.1.1',)),
    Variant('q7-loss-on-softmax', 'train_model feeds softmax probabilities to CrossEntropyLoss (double softmax)',
            q7('loss = loss_fn(scores, y[idx])', 'loss = loss_fn(torch.softmax(scores, dim=1), y[idx])'),
            loses=('7.1.1',), keeps=AFTER),
    Variant('q7-never-steps', 'train_model computes gradients but never calls optimizer.step()',
            q7('            optimizer.step()\n', ''), loses=('7.1.1',), keeps=AFTER + ('7.1.3',)),
    Variant('q7-never-zero-grad', 'train_model never zeroes the gradients, so they pile up across batches',
            q7('            optimizer.zero_grad()\n', ''), loses=('7.1.1',), keeps=AFTER),
    Variant('q7-one-epoch', 'train_model ignores epochs and runs one',
            q7('    for _ in range(epochs):', '    for _ in range(1):'), loses=('7.1.1',), keeps=AFTER),
    # 7.1.3
    Variant('q7-nist36-cnn-26-classes', 'the NIST36 CNN outputs 26 classes',
            q7('    return SmallCNN(32, 36)', '    return SmallCNN(32, 26)'), loses=('7.1.3',)),
    # 7.1.4
    Variant('q7-emnist-extra-transpose', 'crops_to_emnist transposes the crops, which are already stored '
            'transposed like EMNIST',
            q7("    return np.asarray(small, dtype=np.float32).reshape(-1, 1, 28, 28)",
               "    return np.asarray(small, dtype=np.float32).transpose(0, 2, 1).reshape(-1, 1, 28, 28)"),
            loses=('7.1.4',)),
    Variant('q7-emnist-not-inverted', 'crops_to_emnist keeps dark ink on white (EMNIST is white on black)',
            q7("    crops = 1.0 - np.asarray(rows, dtype=float).reshape(-1, 32, 32)",
               "    crops = np.asarray(rows, dtype=float).reshape(-1, 32, 32)"),
            loses=('7.1.4',)),
    Variant('q7-emnist-46-classes', 'the EMNIST CNN has 46 outputs',
            q7('    return SmallCNN(28, 47)', '    return SmallCNN(28, 46)'), loses=('7.1.4',)),
    # 7.2.1
    Variant('q7-features-still-train', 'build_squeezenet replaces the classifier but never freezes the features',
            q7('        p.requires_grad = False\n', '        pass\n'), loses=('7.2.1',)),
    Variant('q7-squeezenet-1000-classes', 'build_squeezenet keeps ImageNet\'s 1000-class classifier',
            q7('    model.classifier[1] = nn.Conv2d(512, num_classes, kernel_size=1)\n',
               '    model.classifier[1].weight.requires_grad = True\n    model.classifier[1].bias.requires_grad = True\n'),
            loses=('7.2.1',)),
    Variant('q7-squeezenet-never-pretrained', 'build_squeezenet ignores pretrained and starts from random weights',
            q7('weights=SqueezeNet1_1_Weights.IMAGENET1K_V1 if pretrained else None', 'weights=None'),
            loses=('7.2.1',)),
    Variant('q7-flower-net-two-convs', 'the scratch net has two conv layers, not three',
            q7('for cin, cout in ((3, 16), (16, 32), (32, 64)):', 'for cin, cout in ((3, 32), (32, 64)):'),
            loses=('7.2.1',)),
)

CORRECT = (
    Variant('q7-mlp-sequential', 'the MLP as nn.Sequential(Linear, Sigmoid, Linear) (other parameter names)',
            q7('def build_mlp():\n    return MLP()',
               'def build_mlp():\n    return nn.Sequential(nn.Linear(1024, 64), nn.Sigmoid(), nn.Linear(64, 36))'),
            loses=(), keeps=('7.1.1',)),
    # The classic tutorial idiom. It needs the activations C-contiguous: the grader's data must reach the
    # models in plain NCHW order (grader.torch_data), whatever layout might train faster.
    Variant('q7-cnn-flatten-view', 'the CNNs flatten with x.view(x.size(0), -1) instead of nn.Flatten',
            _flatten_by_view('# Q 7.1.2') + _flatten_by_view('def build_flower'),   # SmallCNN's forward, FlowerNet's
            loses=(), keeps=('7.1.2', '7.2.1')),
    # A common way to report each epoch's accuracy: one forward pass over the whole training set. For
    # 7.1.3's CNN that is a 700 MB activation; selftests/test_torch_isolation grades it isolated on 7.1.3
    # too, where it once lost the points because torch's own libraries counted against the worker's memory.
    Variant('q7-epoch-accuracy-full-pass', "train_model measures each epoch's accuracy with one forward pass "
            'over the whole training set',
            q7('        history.append((total / len(x), correct / len(x)))\n',
               '        with torch.no_grad():\n'
               '            correct = (model(x).argmax(1) == y).sum().item()\n'
               '        history.append((total / len(x), correct / len(x)))\n'),
            loses=(), keeps=('7.1.1',)),
    Variant('q7-emnist-torch-resize', 'crops_to_emnist resizes with torch (bilinear) instead of skimage',
            q7("    small = [skimage.transform.resize(c, (28, 28), anti_aliasing=True) for c in crops]\n",
               "    small = torch.nn.functional.interpolate(torch.as_tensor(crops, dtype=torch.float32)[:, None],\n"
               "                                            size=(28, 28), mode='bilinear').numpy()\n"),
            loses=(), keeps=('7.1.4',)),
)

VARIANTS = BROKEN + CORRECT
