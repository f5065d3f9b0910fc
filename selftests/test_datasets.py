"""The data layer (grader/datasets): every set in its course format, the real-vs-generated switch, the
torchvision loaders on the stand-ins, the pages' ground truth, regeneration, checks and clear errors."""
import gzip
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.io

from grader.datasets import DataError, data_dir, fonts, location, manifest, nist36, pages
from grader.datasets import torchvision_sets
from grader.paths import ROOT
from selftests.ci import requires

SHARED = ROOT.parent / 'shared' / 'data'
FONTS_MISSING = len(fonts.faces(nist36.CLASSES)) < len(fonts.FACES) - 1


@pytest.fixture
def no_real_data(monkeypatch):
    monkeypatch.delenv(location.ENV_DATA, raising=False)


def _ink_box(img, dark_ink):
    ink = img < 0.5 if dark_ink else img > 127
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# ---------------------------------------------------------------- NIST36

@pytest.mark.parametrize('split', ['train', 'valid', 'test'])
def test_nist36_course_format(no_real_data, split):
    x, y = nist36.load(split)
    assert nist36.source().kind == 'generated'
    assert x.dtype == np.float64 and y.dtype == np.float64
    assert x.shape == (nist36.SPLITS[split], 1024) and y.shape == (nist36.SPLITS[split], 36)
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert np.median(x) > 0.95, 'background must be white (1) and ink dark (0)'
    assert np.all((y == 0) | (y == 1)) and np.all(y.sum(1) == 1)
    assert np.all(np.bincount(y.argmax(1), minlength=36) == nist36.SPLITS[split] // 36)
    if split == 'valid':
        assert np.all(np.diff(y.argmax(1)) >= 0), 'the validation set is sorted by class'
    else:
        assert np.any(np.diff(y.argmax(1)) < 0), 'train and test are shuffled'


def test_nist36_classes_and_transposition(no_real_data):
    """A..Z then 0..9; crops stored transposed: a tall 'I' or '1' is tall only after .T."""
    assert nist36.CLASSES == 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
    x, y = nist36.load('valid')
    for ch in 'I1':
        rows = x[y.argmax(1) == nist36.CLASSES.index(ch)]
        upright = np.array([_ink_box(r.reshape(32, 32).T, True) for r in rows])
        stored = np.array([_ink_box(r.reshape(32, 32), True) for r in rows])
        assert np.mean(upright[:, 0] > upright[:, 1]) > 0.9, f'{ch!r} should be tall after .T'
        assert np.mean(stored[:, 0] < stored[:, 1]) > 0.9, f'{ch!r} should be wide as stored'


def test_nist36_returns_copies(no_real_data):
    x, _ = nist36.load('test')
    x[:] = 0.5
    assert nist36.load('test')[0].max() == 1.0


def test_the_release_pca_bar_is_the_graders_own_pca_on_the_shipped_stand_in(no_real_data):
    """A student release has no grader's PCA, so there 6.2's PSNR bar rests on a constant: it must be what
    the grader's own PCA reaches on the shipped NIST36 stand-in, so a regenerated stand-in must update it."""
    from grader import evaluate
    from tests import test_q6_pca
    measured = test_q6_pca.own_pca_psnr(evaluate.require_oracle(), nist36.load('train')[0], nist36.load('valid')[0])
    assert round(measured, 2) == test_q6_pca.STAND_IN_PSNR, (measured, test_q6_pca.STAND_IN_PSNR)


def _write_mat(folder, split, n=72, **overrides):
    rng = np.random.default_rng(0)
    arrays = {f'{split}_data': rng.uniform(0, 1, (n, 1024)),
              f'{split}_labels': np.eye(36)[np.arange(n) % 36]}
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    folder.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(folder / f'nist36_{split}.mat', arrays)
    return folder / f'nist36_{split}.mat'


@pytest.mark.parametrize('sub', ['', 'data'])
def test_nist36_real_files_are_preferred(tmp_path, monkeypatch, sub):
    for split in nist36.SPLITS:
        _write_mat(tmp_path / sub, split)
    monkeypatch.setenv(location.ENV_DATA, str(tmp_path))
    assert data_dir() == tmp_path.resolve()
    assert nist36.source() == ('real', (tmp_path / sub).resolve())
    x, y = nist36.load('train')
    assert x.shape == (72, 1024) and x.dtype == np.float64 and y.shape == (72, 36)


def test_nist36_incomplete_real_files(tmp_path, monkeypatch):
    _write_mat(tmp_path, 'train')
    monkeypatch.setenv(location.ENV_DATA, str(tmp_path))
    with pytest.raises(DataError, match='nist36_valid.mat'):
        nist36.load('train')


BROKEN_MAT = {
    'missing key': (dict(train_labels=None), "missing key 'train_labels'"),
    'wrong shape': (dict(train_data=np.zeros((72, 1000))), r'shape \(72, 1000\)'),
    'out of range': (dict(train_data=np.full((72, 1024), 255.0)), r'expected \[0, 1\]'),
    'not one-hot': (dict(train_labels=np.ones((72, 36))), 'not one-hot'),
    'row mismatch': (dict(train_labels=np.eye(36)[np.arange(70) % 36]), '72 rows'),
    'inverted': (dict(train_data=np.full((72, 1024), 0.1)), 'light ink on a dark background'),
}


@pytest.mark.parametrize('kind', sorted(BROKEN_MAT))
def test_nist36_broken_mat_names_the_file(tmp_path, kind):
    overrides, message = BROKEN_MAT[kind]
    path = _write_mat(tmp_path, 'train', **overrides)
    with pytest.raises(DataError, match=message) as err:
        nist36.read(path, 'train')
    assert str(path) in str(err.value)


def test_nist36_broken_npz_names_the_file(tmp_path):
    from grader.npzio import save_npz
    good = {f'{s}_{k}': np.zeros((nist36.SPLITS[s], 1024) if k == 'data' else nist36.SPLITS[s], np.uint8)
            for s in nist36.SPLITS for k in ('data', 'labels')}
    cases = {'missing key': ({'valid_labels': None}, "missing key 'valid_labels'"),
             'dtype': ({'valid_data': np.zeros((3600, 1024))}, 'dtype float64'),
             'labels out of range': ({'valid_labels': np.full(3600, 40, np.uint8)}, 'class indices'),
             'size': ({'valid_data': np.zeros((100, 1024), np.uint8),
                       'valid_labels': np.zeros(100, np.uint8)}, '100 examples')}
    for name, (change, message) in cases.items():
        arrays = {k: v for k, v in {**good, **change}.items() if v is not None}
        path = save_npz(tmp_path / f'{name}.npz', arrays)
        with pytest.raises(DataError, match=message) as err:
            nist36.read(path, 'valid')
        assert str(path) in str(err.value)
    (tmp_path / 'junk.npz').write_bytes(b'not a zip')
    with pytest.raises(DataError, match='junk.npz'):
        nist36.read(tmp_path / 'junk.npz', 'valid')


# ---------------------------------------------------------------- pages

def _plain_find_letters(image):
    """A plain skimage pipeline (measurement only, not the Q4 reference): blur, divide by the paper's
    brightness (the pages have uneven light and shadows), Otsu, closing, label, regionprops. Returns
    (all boxes, boxes without regions under a quarter of the median area)."""
    import skimage.color
    import skimage.filters
    import skimage.measure
    import skimage.morphology
    gray = skimage.filters.gaussian(skimage.color.rgb2gray(image), 2)
    gray = gray / skimage.filters.gaussian(skimage.morphology.closing(gray, np.ones((15, 15), bool)), 15)
    ink = skimage.morphology.closing(gray < skimage.filters.threshold_otsu(gray), np.ones((7, 7), bool))
    regions = skimage.measure.regionprops(skimage.measure.label(ink, connectivity=2))
    median = np.median([r.area for r in regions]) if regions else 0
    boxes = lambda rs: np.array([r.bbox for r in rs]).reshape(-1, 4)  # noqa: E731
    return boxes(regions), boxes([r for r in regions if r.area >= 0.25 * median])


def _iou(a, b):
    y1, x1 = np.maximum(a[:, None, 0], b[None, :, 0]), np.maximum(a[:, None, 1], b[None, :, 1])
    y2, x2 = np.minimum(a[:, None, 2], b[None, :, 2]), np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(y2 - y1, 0, None) * np.clip(x2 - x1, 0, None)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def test_generated_pages_format():
    found = pages.generated_pages()
    assert len(found) >= 6
    for page in found:
        h, w, c = page.image.shape
        assert c == 3 and page.image.dtype == np.float64 and 0 <= page.image.min() <= page.image.max() <= 1
        assert page.boxes.shape == (len(page.text), 4) and np.issubdtype(page.boxes.dtype, np.integer)
        y1, x1, y2, x2 = page.boxes.T
        assert (y1 >= 0).all() and (x1 >= 0).all() and (y2 <= h).all() and (x2 <= w).all()
        assert (y2 > y1).all() and (x2 > x1).all()
        # capitals and digits, and lowercase i and j (whose dots float free) on some pages
        assert set(page.text) <= set(pages.CHARS + pages.LOWER), page.text
        # reading order: within a line the boxes go left to right
        k = 0
        for line in page.lines:
            n = len(''.join(line.split()))
            assert np.all(np.diff(page.boxes[k:k + n, 1]) > 0), f'{page.name}: line {line!r} out of order'
            k += n


def test_generated_pages_tell_good_from_careless_find_letters():
    """The plain pipeline finds >= 95% of boxes (IoU >= 0.5); without small-blob filtering its precision
    falls clearly (specks, periods)."""
    stats = {True: [0, 0, 0, 0], False: [0, 0, 0, 0]}
    for page in pages.generated_pages():
        careless, filtered = _plain_find_letters(page.image)
        for drop, found in ((True, filtered), (False, careless)):
            match = _iou(page.boxes, found) >= 0.5
            s = stats[drop]
            s[0] += match.any(1).sum(); s[1] += len(page.boxes); s[2] += match.any(0).sum(); s[3] += len(found)
    recall, precision = stats[True][0] / stats[True][1], stats[True][2] / stats[True][3]
    careless_precision = stats[False][2] / stats[False][3]
    assert recall >= 0.95 and precision >= 0.95, (recall, precision)
    assert careless_precision < precision - 0.08, (careless_precision, precision)


def test_real_pages_absent_without_data_dir(no_real_data):
    assert pages.real_pages() == []


@pytest.mark.skipif(not (SHARED / 'images' / 'truth.json').is_file(), reason='no ../shared/data here')
def test_real_pages_from_data_dir(monkeypatch):
    monkeypatch.setenv(location.ENV_DATA, str(SHARED))
    truth = json.loads((SHARED / 'images' / 'truth.json').read_text())
    real = {p.name: p for p in pages.real_pages()}
    assert set(real) == {k for k in truth if k != 'about'}
    for name, page in real.items():
        assert page.boxes is None and page.lines == truth[name]
        assert page.image.ndim == 3 and page.image.dtype == np.float64 and page.image.max() <= 1


def test_broken_truth_names_the_file(tmp_path):
    folder = location.generated(pages.NAME)
    shutil.copy(folder / 'page_01.jpg', tmp_path)
    truth = json.loads((folder / 'truth.json').read_text())
    entry = truth['page_01.jpg']
    entry['boxes'] = entry['boxes'][:-1]
    (tmp_path / 'truth.json').write_text(json.dumps({'page_01.jpg': entry}))
    with pytest.raises(DataError, match='truth.json: boxes'):
        pages.read_pages(tmp_path, True)
    (tmp_path / 'truth.json').write_text('{nope')
    with pytest.raises(DataError, match='not valid JSON'):
        pages.read_pages(tmp_path, True)


# ---------------------------------------------------------------- torchvision formats

def test_mnist_through_torchvision(no_real_data):
    tv = pytest.importorskip('torchvision')
    for train, n in ((True, 10000), (False, 2000)):
        ds = tv.datasets.MNIST(torchvision_sets.root('MNIST'), train=train, download=False)
        assert len(ds) == n and tuple(ds.data.shape[1:]) == (28, 28)
        assert set(ds.targets.unique().tolist()) == set(range(10))
    img, label = ds[0]
    assert img.size == (28, 28) and isinstance(label, int)
    ones = ds.data[ds.targets == 1].numpy()
    assert np.median(ones) == 0, 'white ink on a black background'
    boxes = np.array([_ink_box(im, False) for im in ones])
    assert np.mean(boxes[:, 0] > boxes[:, 1]) > 0.9, "MNIST is stored upright: a '1' is tall"


def test_emnist_balanced_through_torchvision(no_real_data):
    tv = pytest.importorskip('torchvision')
    ds = tv.datasets.EMNIST(torchvision_sets.root('EMNIST'), split='balanced', train=True, download=False)
    test = tv.datasets.EMNIST(torchvision_sets.root('EMNIST'), split='balanced', train=False, download=False)
    assert (len(ds), len(test)) == (18800, 4700) and len(ds.classes) == 47
    assert ''.join(ds.classes) == torchvision_sets.EMNIST_CLASSES
    assert np.all(np.bincount(ds.targets.numpy(), minlength=47) == 400)
    letter_i = ds.data[ds.targets == ds.classes.index('I')].numpy()
    stored = np.array([_ink_box(im, False) for im in letter_i])
    upright = np.array([_ink_box(im.T, False) for im in letter_i])
    assert np.mean(stored[:, 1] > stored[:, 0]) > 0.9 and np.mean(upright[:, 0] > upright[:, 1]) > 0.9, \
        'EMNIST images are stored transposed'


def test_flowers17_through_image_folder(no_real_data):
    tv = pytest.importorskip('torchvision')
    base = torchvision_sets.root('flowers17')
    train = tv.datasets.ImageFolder(base / 'train')
    test = tv.datasets.ImageFolder(base / 'test')
    assert len(train.classes) == 17 and train.classes == test.classes
    assert (len(train), len(test)) == (680, 170)
    img, label = train[0]
    assert img.mode == 'RGB' and img.size == (64, 64) and label == 0


def test_real_torchvision_roots_are_preferred(tmp_path, monkeypatch):
    raw = tmp_path / 'MNIST' / 'raw'
    raw.mkdir(parents=True)
    for split in ('train', 'test'):
        images, labels = torchvision_sets.idx_files('MNIST', split)
        (raw / images).write_bytes(torchvision_sets.idx_bytes(np.zeros((3, 28, 28), np.uint8)))
        (raw / labels).write_bytes(torchvision_sets.idx_bytes(np.arange(3, dtype=np.uint8)))
    monkeypatch.setenv(location.ENV_DATA, str(tmp_path))
    assert torchvision_sets.root('MNIST') == tmp_path.resolve()
    assert torchvision_sets.validate('MNIST') == {'train': (3, 10), 'test': (3, 10)}
    (raw / 't10k-labels-idx1-ubyte').write_bytes(torchvision_sets.idx_bytes(np.arange(5, dtype=np.uint8)))
    with pytest.raises(DataError, match='t10k-labels-idx1-ubyte'):
        torchvision_sets.validate('MNIST')
    (raw / 't10k-labels-idx1-ubyte').write_bytes(torchvision_sets.idx_bytes(np.arange(3, dtype=np.uint8)))
    (raw / 'train-images-idx3-ubyte').write_bytes(torchvision_sets.idx_bytes(np.full((3, 28, 28), 200, np.uint8)))
    with pytest.raises(DataError, match='train-images-idx3-ubyte: mean grey level 0.78, so it is dark ink'):
        torchvision_sets.validate('MNIST')
    (raw / 't10k-labels-idx1-ubyte').unlink()
    with pytest.raises(DataError, match='incomplete'):
        torchvision_sets.root('MNIST')


# ---------------------------------------------------------------- manifests, checks, regeneration

def test_bad_checksum_is_named(tmp_path):
    folder = tmp_path / 'pages'
    shutil.copytree(location.generated(pages.NAME), folder)
    data = bytearray((folder / 'page_02.jpg').read_bytes())
    data[5000] ^= 0xFF
    (folder / 'page_02.jpg').write_bytes(bytes(data))
    (folder / 'page_03.jpg').unlink()
    problems = manifest.problems(folder)
    assert any('page_02.jpg: bad checksum' in p for p in problems), problems
    assert any('page_03.jpg: missing' in p for p in problems), problems


def test_shipped_sizes_are_modest():
    total = sum(p.stat().st_size for p in location.GENERATED.rglob('*') if p.is_file())
    assert total < 40e6, f'fixtures/data holds {total / 1e6:.1f} MB'


def test_regeneration_is_byte_identical(no_real_data):
    """Any subset regenerates alone to the shipped bytes (each sample has its own seed), twice."""
    requires(FONTS_MISSING, 'regeneration needs the font packages: ' + fonts.INSTALL_HINT)
    shipped = np.load(location.generated('nist36') / nist36.FILE)
    for split, idx in (('train', [0, 1, 2, 5000]), ('valid', [0, 3599])):
        first = nist36.samples(split, idx)
        assert np.array_equal(first, nist36.samples(split, idx))
        assert np.array_equal(first, shipped[f'{split}_data'][idx]), f'{split} rows {idx} differ'
    raw = gzip.decompress((location.generated('EMNIST') / 'raw' /
                           'emnist-balanced-test-images-idx3-ubyte.gz').read_bytes())
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)
    labels = np.random.default_rng((torchvision_sets.SEEDS['EMNIST'], 1, 99)).permutation(
        np.repeat(np.arange(47), 100))
    from grader.datasets import glyphs
    again = glyphs.render_set(labels[:3], torchvision_sets.EMNIST_CLASSES,
                              fonts.faces(torchvision_sets.EMNIST_CLASSES), (torchvision_sets.SEEDS['EMNIST'], 1),
                              'emnist', 28, torchvision_sets.STRENGTH, processes=1,
                              recipe=torchvision_sets.RECIPES['EMNIST'])
    assert np.array_equal(again.transpose(0, 2, 1), images[:3])
    # a generated page (the smallest): the same JPEG bytes, lines and boxes as shipped
    index = 5
    name = f'page_{index + 1:02d}.jpg'
    image, lines, boxes, _ = pages.render_page(index)
    folder = location.generated(pages.NAME)
    assert pages.jpeg(image, index) == (folder / name).read_bytes(), f'{name} differs'
    truth = json.loads((folder / pages.TRUTH).read_text())[name]
    assert lines == truth['lines'] and boxes.tolist() == truth['boxes']


# ---------------------------------------------------------------- the command

def test_cli_info_and_check():
    env = {k: v for k, v in os.environ.items() if k != location.ENV_DATA}
    out = subprocess.run([sys.executable, '-m', 'grader', 'data', '--info'], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for name in ('nist36', 'pages', 'MNIST', 'EMNIST', 'flowers17'):
        assert name in out.stdout and 'generated' in out.stdout
    out = subprocess.run([sys.executable, '-m', 'grader', 'data', '--check'], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and 'data OK' in out.stdout, out.stdout + out.stderr


def test_cli_names_a_corrupt_real_file(tmp_path):
    for split in nist36.SPLITS:
        _write_mat(tmp_path, split)
    _write_mat(tmp_path, 'valid', valid_data=np.full((72, 1024), 2.0))
    out = subprocess.run([sys.executable, '-m', 'grader', 'data', '--info', '--data-dir', str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert 'nist36_valid.mat' in out.stderr and 'expected [0, 1]' in out.stderr
    assert 'Traceback' not in out.stderr and len(out.stderr.strip().splitlines()) == 1
