"""Q4.4 reading a page: group the boxes into lines, order them, crop, pad, resize to 32x32, transpose,
classify. Graded by the fraction of each page's characters read correctly (spaces ignored; see
grader.evaluate.char_accuracy), with the weights of the REFERENCE Q3 MLP (shipped in fixtures/q4) and
the reference findLetters and nn.py pieces (see grader/rubric.py), so a weak Q3 or Q4.2 costs nothing
here."""
import numpy as np
import pytest

from grader import checks, evaluate, fixtures
from tests.shared_data import generated_page, generated_page_names, real_page, real_page_names

# Thresholds: see the calibration note at the end of this module.
GENERATED_MIN = 0.60
REAL_MIN = 0.55


@pytest.fixture(scope='module')
def mlp():
    return {k: v.astype(float) for k, v in fixtures.cases('q4/mlp_params')[0].items()}


@pytest.fixture
def q4(impl):
    with impl.earlier_pieces('4.4'):
        yield impl.module('q4')


def _read(q4, page, params):
    __tracebackhide__ = True
    call = f'read_page({page.name}, params)'
    lines = q4.read_page(page.image.copy(), {k: v.copy() for k, v in params.items()})
    checks.that(isinstance(lines, (list, tuple)) and all(isinstance(s, str) for s in lines),
                f'{call} should return a list of strings (one per line of text), not {type(lines).__name__}')
    return lines, call


@pytest.mark.question('4.4')
@pytest.mark.parametrize('name', generated_page_names())
def test_group_lines_true_boxes(impl, name):
    """Given a page's true boxes in random order, the lines come out top to bottom, left to right."""
    page = generated_page(name)
    order = np.random.default_rng(sorted(generated_page_names()).index(name)).permutation(len(page.boxes))
    call = f'group_lines(the {len(page.boxes)} true boxes of {page.name}, shuffled)'
    lines = impl.module('q4').group_lines([list(map(int, b)) for b in page.boxes[order]])
    checks.that(isinstance(lines, (list, tuple)), f'{call} should return a list of lines, not {type(lines).__name__}')
    sizes = [len(line.replace(' ', '')) for line in page.lines]
    got = [len(line) for line in lines]
    checks.that(got == sizes, f'{call} made lines of {got} boxes; the page has lines of {sizes} characters')
    flat = np.array([list(map(int, b)) for line in lines for b in line]).reshape(-1, 4)
    wrong = np.flatnonzero(np.any(flat != page.boxes, axis=1))
    checks.that(wrong.size == 0, f'{call}: box {wrong[0] if wrong.size else ""} in reading order is '
                f'{flat[wrong[0]].tolist() if wrong.size else ""}, but should be '
                f'{page.boxes[wrong[0]].tolist() if wrong.size else ""} (sort each line left to right by x1)')


@pytest.mark.question('4.4', weight=3)
@pytest.mark.parametrize('name', generated_page_names())
def test_read_page_generated(q4, mlp, name, measure):
    _check_reading(q4, mlp, generated_page(name), GENERATED_MIN, measure)


# Run only where the real photos are present (NN_DATA_DIR), under 4.3, which earns no points: measured and
# reported, never graded, so the scale of 4.4 does not depend on which data a grader has.
@pytest.mark.parametrize('name', [pytest.param(n, id=n, marks=pytest.mark.question('4.3')) for n in real_page_names()])
def test_read_page_real_photo(q4, mlp, name, measure):
    _check_reading(q4, mlp, real_page(name), REAL_MIN, measure)


def _check_reading(q4, mlp, page, bar, measure):
    """The page read with the shipped weights: at least ``bar`` of its characters right (measured here)."""
    __tracebackhide__ = True
    lines, call = _read(q4, page, mlp)
    acc = measure('char_accuracy', evaluate.char_accuracy(lines, page.lines))
    checks.that(acc >= bar, f'{call} read {acc:.1%} of the characters correctly (should be >= {bar:.0%}); it '
                f'read {lines!r:.300}, the page says {page.lines!r:.300}')

# Calibration: the reference read_page with the shipped weights (fixtures/q4/mlp_params.npz: the
# reference train_mlp, seed 4, course settings, on the NIST36 stand-in of glyph recipe 3; 77.75% validation
# accuracy) reads 85.4, 75.2, 77.9, 73.6, 85.4, 86.3, 69.6 and 85.9% of the characters of the 8 generated
# pages (mean 79.9%), and 76.5% (01_list) and 88.9% (03_haiku) of the real photos (course staff expect about
# 80%, students reported 58-92% with their own weights on the real NIST36). It is deterministic given the
# weights, so the bars only leave room for other sound crop pipelines. Measured on the real photos with the
# shipped weights: a margin of 5-25% instead of 15% (1.1-1.5 times the box), no anti-aliasing, a nearest-
# neighbour or boolean resize, a blur of 0.8 pixels or strokes a pixel bolder read 69.6-76.5% of 01_list and
# 75.9-90.7% of 03_haiku; strokes a pixel thinner 53.9% and 46.3%. Broken pipelines read far less: crops fed
# upright (not transposed) 8.7% and 5.6%, inverted 2.6% and 0%, the boxes of a line unsorted 18.3% and
# 33.3%. Bars: >= 60% per generated page, >= 55% per real photo (4.3, measured, not graded). The broken
# pipelines fail both (the kill table, grader/variants/q4.py, holds them to 4.3 where the photos are).
