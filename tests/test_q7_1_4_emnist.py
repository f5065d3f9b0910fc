"""Q7.1.4 a CNN on EMNIST Balanced (47 classes), then reading the Q4 pages with it.

EMNIST stores its images transposed and white on black; the pages' characters, cut out by Q4's
crop_letters, are NIST36 rows (transposed, dark on white). crops_to_emnist bridges the two. The pages are
read with the reference's findLetters, group_lines and crop_letters (graded in Q4), so only the CNN and
the conversion are graded here."""
import numpy as np
import pytest

from grader import checks, evaluate, torch_data, torch_eval
from grader.impl import reference_module
from tests.shared_data import generated_page, generated_page_names
from tests.q7_support import build, check_cnn, data_kind, held_out_accuracy, q7, train  # noqa: F401

# Training calls take 1-12 s here when quiet; a busy grading machine may be many times slower.
pytestmark = [pytest.mark.question('7.1.4'), pytest.mark.limits(wall=300)]

# Held-out accuracy after TASKS['emnist_cnn'] (4 epochs, Adam lr 2e-3, batch 64, 200 images per class).
# Generated stand-in (glyph recipe 4): the reference CNN over 11 seeds, this module's SEED first
# (benchmarks/calibrate.py emnist_cnn --seeds 11), reached 75.1-79.8% (mean 77.8%, sd 1.49 points; 6 CPU
# seconds per run); SEED reads 75.1%, and 70% lies 5.2 sd below the mean. The worst page read 0.67-0.80 over
# the 11 (SEED: 0.67), PAGES_MIN 6.8 sd below (0.66-0.80 and 6.3 sd on the darker pages of before). On the earlier stand-in (recipe 1) the reference reached
# 80.1-84.2% under a bar of 74% (6.7 sd): recipe 4's bolder strokes make the set harder, nearer the 74.7%
# reported for the real EMNIST (below), and read the course's photos better (grader/datasets/torchvision_sets.py).
# Shorter runs were tried for speed on recipe 1 (issue 12), 11 seeds each, and rejected: 3 epochs (accuracy
# 77.7-81.5%, but the worst page 0.55-0.72, PAGES_MIN only 3.1 sd below) and 2 epochs at batch 32
# (73.7-80.4%, a run under the bar). Real EMNIST Balanced: 74.7% after 5 full epochs is reported (SPEC.md
# section 5); with 8% of the data a small CNN gets less: 0.65, not measured here.
MIN_ACCURACY = {'generated': 0.70, 'real': 0.65}
# Characters read correctly per generated page (grader.evaluate.char_accuracy, case ignored). The reference
# CNN (SEED) reads 93.9, 73.3, 74.8, 80.0, 78.7, 86.3, 66.7 and 85.9% of the 8 pages of issue 14 (mean
# 80.0%, in the grader's isolated run; trained on glyph recipe 1 it read 62.7-94.1%, mean 82.2%);
# students report 56-91% on the real pages with theirs. 50% leaves room for other sound CNNs and
# conversions; an upright (not transposed) or uninverted crop reads far less (grader/variants/q7.py).
PAGES_MIN = 0.5
SEED = 714   # the training's, for both tests (benchmarks/calibrate.py covers it)
# EMNIST Balanced's labels, the grader's own copy (the same as q7.EMNIST_CLASSES).
EMNIST_CLASSES = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt'


def test_emnist_cnn_architecture(q7):
    check_cnn(q7, 'emnist_cnn', (1, 28, 28))


def _nist_rows(images):
    """EMNIST-format images (n, 1, 28, 28) -> the NIST36 rows Q4's crop_letters would cut for the same
    characters: dark on white, 32x32 with a margin, still transposed (both formats store it so)."""
    padded = np.pad(1.0 - images[:, 0], ((0, 0), (2, 2), (2, 2)), constant_values=1.0)
    return padded.reshape(len(images), 1024)


@pytest.mark.question('7.1.4', weight=2)
def test_crops_to_emnist_matches_emnist_format(q7):
    """Characters taken from EMNIST itself and turned into page rows must come back as EMNIST shows
    them: white ink on black, in EMNIST's orientation. Compared by correlation, averaged over 40
    characters (a few, like O and X, look alike transposed), so any sensible resizing passes."""
    (x, _), _ = torch_data.TASKS['emnist_cnn'].data()
    images = x[:40, 0].astype(float)
    call = 'crops_to_emnist(rows (40, 1024))'
    out = checks.array(torch_eval.as_numpy(q7.crops_to_emnist(_nist_rows(images[:, None]))), call,
                       shape=(40, 1, 28, 28))[:, 0]
    checks.that(out.min() >= -1e-6 and out.max() <= 1 + 1e-6,
                f'{call} holds values in [{out.min():.3g}, {out.max():.3g}]; EMNIST images lie in [0, 1]')
    corr = lambda a, b: float(np.mean([np.corrcoef(p.ravel(), q.ravel())[0, 1] for p, q in zip(a, b)]))
    same, flipped = corr(out, images), corr(out, images.transpose(0, 2, 1))
    checks.that(same > 0, f'{call} looks like the inverse of the EMNIST images it came from (mean correlation '
                f'{same:.2f}): EMNIST is white ink on black, the rows are dark ink on white')
    checks.that(same >= 0.4 and same > flipped + 0.15,
                f'{call}: mean correlation with the EMNIST images they came from is {same:.2f}, with those images '
                f'transposed {flipped:.2f}; EMNIST stores its images transposed, as the NIST36 rows are, so '
                f'keep the orientation the rows have (no extra transpose)')


@pytest.fixture(scope='module')
def emnist_model(impl):
    """build_emnist_cnn() trained once with the reference train_model, for the two tests below."""
    pytest.importorskip('torch', reason='Q7 needs torch and torchvision (pip install -r requirements-torch.txt)')
    torch_eval.setup(SEED, impl)
    with impl.earlier_pieces('7.1.4'):
        q7 = impl.module('q7')
        model = build(q7, 'emnist_cnn')
        _, call = train(q7, model, 'emnist_cnn')
    return model, call


@pytest.mark.slow
@pytest.mark.question('7.1.4', weight=3)
def test_emnist_cnn_trains_to_threshold(q7, emnist_model, data_kind, measure):
    model, call = emnist_model
    acc = measure('accuracy', held_out_accuracy(model, 'emnist_cnn')[0])
    bar = MIN_ACCURACY[data_kind('EMNIST')]
    checks.that(acc >= bar, f'after {call} the CNN classifies {acc:.1%} of {47 * 40} held-out EMNIST '
                f'images correctly (measured by the grader); it should reach {bar:.0%}')


def _q4_pieces(impl):
    """The reference's findLetters, group_lines and crop_letters (the submission's own in a student
    release, which has no reference)."""
    return reference_module('q4') or impl.module('q4')


def read_page(q4, q7, model, image):
    """The grader's page reading with the submission's EMNIST CNN and crops_to_emnist."""
    bboxes, bw = q4.findLetters(image)
    text = []
    for line in q4.group_lines(bboxes):
        x = checks.array(torch_eval.as_numpy(q7.crops_to_emnist(q4.crop_letters(bw, line))),
                         f'crops_to_emnist(rows ({len(line)}, 1024))', shape=(len(line), 1, 28, 28))
        scores = torch_eval.logits(model, x.astype(np.float32))
        text.append(''.join(EMNIST_CLASSES[i] for i in np.argmax(scores, axis=1)))
    return text


@pytest.mark.slow
@pytest.mark.question('7.1.4', weight=3)
@pytest.mark.parametrize('name', generated_page_names())
def test_emnist_cnn_reads_pages(impl, q7, emnist_model, name, measure):
    page = generated_page(name)
    model, call = emnist_model
    lines = read_page(_q4_pieces(impl), q7, model, page.image.copy())
    acc = measure('char_accuracy', evaluate.char_accuracy(lines, page.lines))
    checks.that(acc >= PAGES_MIN, f'the EMNIST CNN (after {call}), fed page {page.name} through crops_to_emnist, '
                f'read {acc:.1%} of its characters correctly (should be >= {PAGES_MIN:.0%}; case ignored); '
                f'it read {lines!r:.300}, the page says {page.lines!r:.300}')
