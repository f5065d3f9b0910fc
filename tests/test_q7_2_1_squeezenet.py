"""Q7.2.1 fine-tuning SqueezeNet 1.1 on Flowers-17 (new 17-class classifier, frozen features) against a
3-conv + 2-fc net trained from scratch.

Pretrained ImageNet weights are read from the local torch cache (torch.hub.get_dir()/checkpoints); grading
never downloads them (`python -m grader weights` fetches and checks them; the Gradescope bundle's setup.sh
and the PrairieLearn image run it). When they are absent the fine-tuned accuracy cannot be judged: that test says
so and is 'not gradable here' (its weight goes to the others, see grader/scoring.py); everything else is graded on a randomly initialised SqueezeNet: the structure,
which parameters train, the output shapes, the loss falling, and the loading path itself (on a weights
file the test writes)."""
import io

import numpy as np
import pytest

from grader import checks, torch_data, torch_eval
from tests.q7_support import (build, changed, check_scores, data_kind, held_out_accuracy, pretrained,  # noqa: F401
                               q7, torch_cache, train)

# Training calls take 1-12 s here when quiet; a busy grading machine may be many times slower.
pytestmark = [pytest.mark.question('7.2.1'), pytest.mark.limits(wall=300)]

# Held-out accuracy of the scratch net after TASKS['flower_net'] (5 epochs, Adam lr 1e-3, 64x64 images,
# 10 test images per class of the stand-in; the grader trains to see the net learn, not for the write-up's
# figure). Generated stand-in: the reference over 10 seeds (1000-1009, benchmarks/calibrate.py flower_net,
# one BLAS thread) reached 44.1-70.6% (mean 59.4%, sd 7.9 points; 7.5-8.7 CPU seconds per run; the former
# 10 epochs reached 66.5-78.8%, and their call took 14.8 s in a direct grade here). Measured again at stop 23
# with this test's own seed first (calibrate.py flower_net --seeds 11): the test's seed 60.0%, all 11
# 42.4-69.4% (mean 59.2%, sd 7.6; 1000-1009 no longer give exactly the figures above). 20% lies 5.1 sd
# below that mean and 22 points under the worst run, while a net that learns nothing stays near chance (5.9%; on
# 170 images its sd is 1.8 points, so 20% is 7.8 of those above chance). The architecture is checked by
# test_flower_net_structure. Real Flowers-17 (80 images per class): small nets from scratch reach 40-55%
# there after longer training; 0.20, not measured here.
FLOWER_NET_MIN = {'generated': 0.20, 'real': 0.20}
# Fine-tuned SqueezeNet (its own 4 epochs on a subset): no pretrained weights on this machine, so this bar is
# not calibrated; it asks that pretrained features do at least as well as the scratch net did with 10
# epochs (its former bar).
SQUEEZENET_MIN = {'generated': 0.45, 'real': 0.30}


def _x(n, side=torch_data.FLOWER_SIDE):
    return np.random.RandomState(0).randn(n, 3, side, side).astype(np.float32)


def _torchvision_shapes():
    import torchvision
    return [tuple(p.shape) for p in torchvision.models.squeezenet1_1(num_classes=17).parameters()]


def test_squeezenet_structure(q7):
    """SqueezeNet 1.1's layers with a new 17-output classifier; only that classifier trains."""
    model = build(q7, 'squeezenet', num_classes=17, pretrained=False)
    params = torch_eval.parameters(model)
    shapes = [v.shape for _, v in params.values()]
    want = _torchvision_shapes()
    checks.that(shapes == want, f'build_squeezenet(17) has {len(shapes)} parameter tensors, ending with shapes '
                f'{shapes[-2:]}; torchvision.models.squeezenet1_1 with a new 17-class classifier has {len(want)}, '
                f'ending with {want[-2:]} (replace classifier[1] by nn.Conv2d(512, 17, kernel_size=1))')
    trainable = [n for n, (g, _) in params.items() if g]
    last = list(params)[-2:]
    checks.that(sorted(trainable) == sorted(last),
                f'in build_squeezenet(17) the parameters that require gradients are {trainable}; only the new '
                f'classifier ({last}) should: set requires_grad = False on every other parameter')
    for n in (1, 4):
        check_scores(torch_eval.logits(model, _x(n)), n, 17, f'build_squeezenet(17)(x ({n}, 3, 64, 64))')
    check_scores(torch_eval.logits(model, _x(2, 224)), 2, 17, 'build_squeezenet(17)(x (2, 3, 224, 224))')


def test_squeezenet_loads_cached_weights(q7, torch_cache):
    """With pretrained=True the ImageNet weights come from torch.hub.get_dir()/checkpoints: here a file
    this test writes (random weights under the official name), so the loading path is graded even where
    the real weights are absent."""
    import torch
    import torchvision
    torch.manual_seed(12345)
    saved = torchvision.models.squeezenet1_1().state_dict()
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    torch_cache(buffer.getvalue())
    model = build(q7, 'squeezenet', num_classes=17, pretrained=True)
    got = [v for _, v in torch_eval.parameters(model).values()]
    want = [v.numpy() for k, v in saved.items() if k.startswith('features.')]
    checks.that(len(got) >= len(want), f'build_squeezenet(17, pretrained=True) has {len(got)} parameters')
    same = sum(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(got, want))
    checks.that(same == len(want), f'build_squeezenet(17, pretrained=True): {same} of the {len(want)} feature '
                f'tensors hold the weights of the cached {torch_eval.SQUEEZENET_FILE}; load them with '
                f'squeezenet1_1(weights=SqueezeNet1_1_Weights.IMAGENET1K_V1) (it reads that cache) before '
                f'replacing the classifier')


def test_squeezenet_fine_tuning_trains_only_the_classifier(q7, torch_cache):
    """A few epochs on a small subset: the loss falls, the features stay as they were, the classifier
    moves. Uses the pretrained weights when the cache has them."""
    model = build(q7, 'squeezenet', num_classes=17, pretrained=pretrained(torch_cache))
    (x, y), _ = torch_data.TASKS['squeezenet'].data()
    idx = torch_eval.subset(y, 10, 7)
    before = torch_eval.parameters(model)
    history, call = train(q7, model, 'squeezenet', x[idx], y[idx], epochs=4)
    moved = changed(before, torch_eval.parameters(model))
    last = list(before)[-2:]
    checks.that(moved == sorted(last), f'{call} changed parameters {moved[:6]}{"..." if len(moved) > 6 else ""}; '
                f'only the new classifier {last} should train (the features are frozen)')
    checks.that(history[-1, 0] < history[0, 0], f'{call}: the mean loss went from {history[0, 0]:.3f} to '
                f'{history[-1, 0]:.3f}; it should fall')


@pytest.mark.slow
def test_squeezenet_fine_tuned_accuracy(q7, data_kind, measure, torch_cache):
    if not pretrained(torch_cache):
        import torch
        checks.not_gradable(f'the pretrained SqueezeNet 1.1 weights are not in the torch cache '
                            f'({torch.hub.get_dir()}/checkpoints/{torch_eval.SQUEEZENET_FILE}) and grading never '
                            f'downloads them; the fine-tuned accuracy cannot be judged without them (an '
                            f'instructor fetches them with: python -m grader weights)')
    model = build(q7, 'squeezenet', num_classes=17, pretrained=True)
    _, call = train(q7, model, 'squeezenet')
    acc = measure('accuracy', held_out_accuracy(model, 'squeezenet')[0])
    bar = SQUEEZENET_MIN[data_kind('flowers17')]
    checks.that(acc >= bar, f'after {call} the fine-tuned SqueezeNet classifies {acc:.1%} of the held-out '
                f'flowers correctly (measured by the grader); it should reach {bar:.0%}')


def test_flower_net_structure(q7):
    model = build(q7, 'flower_net', num_classes=17)
    kinds = torch_eval.layer_types(model)
    convs, fcs = kinds.count('Conv2d'), kinds.count('Linear')
    checks.that((convs, fcs) == (3, 2), f'build_flower_net(17) has {convs} nn.Conv2d and {fcs} nn.Linear '
                f'layers ({kinds}); the course asks for 3 convolutional and 2 fully connected layers')
    check_scores(torch_eval.logits(model, _x(3)), 3, 17, 'build_flower_net(17)(x (3, 3, 64, 64))')


@pytest.mark.slow
@pytest.mark.question('7.2.1', weight=2)
def test_flower_net_trains_from_scratch(q7, data_kind, measure):
    model = build(q7, 'flower_net', num_classes=17)
    _, call = train(q7, model, 'flower_net')
    acc = measure('accuracy', held_out_accuracy(model, 'flower_net')[0])
    bar = FLOWER_NET_MIN[data_kind('flowers17')]
    checks.that(acc >= bar, f'after {call} the net trained from scratch classifies {acc:.1%} of the held-out '
                f'flowers correctly (measured by the grader); it should reach {bar:.0%}')
