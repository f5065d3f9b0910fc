"""NIST36: 32x32 handwritten characters A..Z0..9 in the course's format (SPEC.md section 3).

``load(split)`` gives ``(x, y)``: x float64 (N, 1024) in [0, 1], white background (1), dark ink (0),
each crop stored TRANSPOSED (``x[i].reshape(32, 32).T`` is upright); y one-hot float64 (N, 36) in the
order of CLASSES. The real course files (nist36_train.mat, ...) are read when data_dir() holds them;
otherwise the stand-in shipped in fixtures/data/nist36 (generated from handwriting fonts, SPEC.md
section 4), stored compactly as uint8 crops and class indices."""
import functools
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from grader.datasets import DataError, glyphs, location

CLASSES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
SPLITS = {'train': 10800, 'valid': 3600, 'test': 1800}
SIDE = 32
SEED = 3636
STRENGTH = 0.5           # elastic distortion strength s (SPEC.md section 4; calibrated, see README)
RECIPE = glyphs.RECIPES[3]   # the shipped set's recipe; a new one: regenerate and re-derive (README, Data)
FILE = 'nist36.npz'
NAME = 'nist36'
_SPLIT_ID = {'train': 0, 'valid': 1, 'test': 2}


class Source(NamedTuple):
    kind: str        # 'real' or 'generated'
    path: Path       # the folder (real) or the .npz (generated)


def _real_files():
    found = {s: location.find_real(f'nist36_{s}.mat') for s in SPLITS}
    present = {s: p for s, p in found.items() if p is not None}
    if present and len(present) < len(SPLITS):
        missing = ', '.join(f'nist36_{s}.mat' for s in SPLITS if s not in present)
        raise DataError(f'{location.data_dir()}: has some NIST36 files but not {missing}')
    return present or None


def source():
    """Source(kind, path): the real course files when data_dir() has them, else the shipped stand-in."""
    real = _real_files()
    if real:
        return Source('real', real['train'].parent)
    return Source('generated', location.generated(NAME) / FILE)


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f'split must be one of {", ".join(SPLITS)}, not {split!r}')


def load(split):
    """(x, y) of one split ('train', 'valid' or 'test'); fresh copies of an in-process cache."""
    _check_split(split)
    real = _real_files()
    path = real[split] if real else location.generated(NAME) / FILE
    x, y = _read_cached(str(path), _mtime(path), split)
    return x.copy(), y.copy()


def _mtime(path):
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return None


@functools.lru_cache(maxsize=8)
def _read_cached(path, mtime, split):
    x, y = read(path, split)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def read(path, split):
    """Read and validate one split from a course .mat file or a stand-in .npz; DataError if wrong."""
    _check_split(split)
    path = Path(path)
    if not path.is_file():
        raise DataError(f'{path}: missing')
    if path.suffix == '.mat':
        return _read_mat(path, split)
    return _read_npz(path, split)


def _read_mat(path, split):
    import scipy.io
    try:
        mat = scipy.io.loadmat(str(path))
    except Exception as exc:   # scipy raises many kinds for a damaged file
        raise DataError(f'{path}: not a readable .mat file ({type(exc).__name__}: {exc})') from None
    xk, yk = f'{split}_data', f'{split}_labels'
    for key in (xk, yk):
        if key not in mat:
            keys = ', '.join(k for k in mat if not k.startswith('__'))
            raise DataError(f'{path}: missing key {key!r} (has {keys or "none"})')
    x, y = np.asarray(mat[xk]), np.asarray(mat[yk])
    validate(x, y, path, split, exact_size=False)
    return x.astype(np.float64), y.astype(np.float64)


def validate(x, y, path, split, exact_size=True):
    """DataError naming ``path`` unless (x, y) is a split in the course's format."""
    if x.ndim != 2 or x.shape[1] != SIDE * SIDE:
        raise DataError(f'{path}: {split}_data has shape {x.shape}, expected (N, {SIDE * SIDE})')
    if y.ndim != 2 or y.shape[1] != len(CLASSES):
        raise DataError(f'{path}: {split}_labels has shape {y.shape}, expected (N, {len(CLASSES)})')
    if x.shape[0] != y.shape[0]:
        raise DataError(f'{path}: {split}_data has {x.shape[0]} rows but {split}_labels has {y.shape[0]}')
    if exact_size and x.shape[0] != SPLITS[split]:
        raise DataError(f'{path}: {split} has {x.shape[0]} examples, expected {SPLITS[split]}')
    for name, a in ((f'{split}_data', x), (f'{split}_labels', y)):
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)
                or a.dtype == bool):
            raise DataError(f'{path}: {name} has dtype {a.dtype}, expected numbers')
    if x.size and not np.all(np.isfinite(x)):
        raise DataError(f'{path}: {split}_data has NaN or infinite values')
    if x.size and (x.min() < 0 or x.max() > 1):
        raise DataError(f'{path}: {split}_data values span [{x.min():g}, {x.max():g}], expected [0, 1]')
    if x.size and x.mean() < 0.5:   # the paper sets the mean (0.83 in the stand-in, whose ink covers a sixth)
        raise DataError(f'{path}: {split}_data has mean value {x.mean():.2f}, so it is light ink on a dark '
                        'background; NIST36 is dark ink (0) on white (1)')
    if y.size and not (np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1)):
        raise DataError(f'{path}: {split}_labels is not one-hot (each row one 1, the rest 0)')


def _read_npz(path, split):
    from grader.npzio import load_npz
    try:
        arrays = load_npz(path)
    except Exception as exc:
        raise DataError(f'{path}: not a readable .npz file ({type(exc).__name__}: {exc})') from None
    xk, yk = f'{split}_data', f'{split}_labels'
    for key in (xk, yk):
        if key not in arrays:
            raise DataError(f'{path}: missing key {key!r} (has {", ".join(sorted(arrays)) or "none"})')
    x8, labels = arrays[xk], arrays[yk]
    if x8.dtype != np.uint8:
        raise DataError(f'{path}: {xk} has dtype {x8.dtype}, expected uint8 (0-255 grey levels)')
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f'{path}: {yk} has shape {labels.shape} and dtype {labels.dtype}, '
                        f'expected 1-D integer class indices')
    if labels.size and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise DataError(f'{path}: {yk} values span [{labels.min()}, {labels.max()}], '
                        f'expected class indices 0-{len(CLASSES) - 1}')
    x = x8.astype(np.float64) / 255.0
    y = np.eye(len(CLASSES))[labels] if labels.size else np.zeros((0, len(CLASSES)))
    validate(x, y, path, split)
    return x, y


# ---------------------------------------------------------------- generation

def plan(split, seed=SEED):
    """Class index of every example of a split: valid sorted by class, train and test shuffled."""
    per_class = SPLITS[split] // len(CLASSES)
    labels = np.repeat(np.arange(len(CLASSES)), per_class)
    if split != 'valid':
        labels = np.random.default_rng((seed, _SPLIT_ID[split], 99)).permutation(labels)
    return labels


def samples(split, indices, seed=SEED, strength=STRENGTH, face_list=None, processes=1):
    """uint8 rows (len(indices), 1024) exactly as stored: 255 white, transposed crops."""
    from grader.datasets import fonts
    face_list = face_list or fonts.require(CLASSES)
    labels = plan(split, seed)
    out = np.empty((len(indices), SIDE * SIDE), np.uint8)
    for k, i in enumerate(indices):   # per-index seeds, so any subset matches the full set
        ink = glyphs.render_set(labels[[i]], CLASSES, face_list, (seed, _SPLIT_ID[split], i), 'nist',
                                SIDE, strength, processes=1, recipe=RECIPE)[0]
        out[k] = (255 - ink).T.reshape(-1)
    return out


def generate(folder=None, seed=SEED, strength=STRENGTH, processes=None, face_list=None):
    """Render the stand-in into folder (default fixtures/data/nist36): nist36.npz, manifest.json.
    ``face_list``: other faces than the shipped set's (a trial, benchmarks/photos.py --add-faces)."""
    from grader.datasets import fonts, manifest
    from grader.npzio import save_npz
    folder = Path(folder or location.generated(NAME))
    face_list = face_list or fonts.require(CLASSES)
    arrays, start = {}, time.perf_counter()
    for split in SPLITS:
        labels = plan(split, seed)
        ink = _render_split(split, labels, face_list, seed, strength, processes)
        arrays[f'{split}_data'] = (255 - ink).transpose(0, 2, 1).reshape(len(labels), -1)
        arrays[f'{split}_labels'] = labels.astype(np.uint8)
    path = save_npz(folder / FILE, arrays)
    seconds = time.perf_counter() - start
    manifest.write(folder, {
        'set': NAME, 'seed': seed, 'recipe_version': RECIPE.version, 'strength': strength,
        'generator': 'grader.datasets.nist36.generate', 'classes': CLASSES,
        'sizes': {s: SPLITS[s] for s in SPLITS}, 'fonts': fonts.fingerprint(face_list),
        'format': 'uint8 (N, 1024) grey levels (255 white), crops transposed; labels uint8 class '
                  'indices; load() turns them into the course format'}, [path])
    return [path, folder / 'manifest.json'], seconds


def _render_split(split, labels, face_list, seed, strength, processes):
    """All samples of a split, each from its own seed (seed, split id, index), as ``samples`` does."""
    import multiprocessing
    import os
    jobs = [(split, i, labels[i], seed, strength) for i in range(len(labels))]
    processes = processes or min(2, os.cpu_count() or 1)
    if processes > 1:
        with multiprocessing.get_context('fork').Pool(processes) as pool:
            return np.stack(pool.map(functools.partial(_one, face_list=face_list), jobs, chunksize=200))
    return np.stack([_one(job, face_list) for job in jobs])


def _one(job, face_list):
    split, i, label, seed, strength = job
    return glyphs.render_set(np.array([label]), CLASSES, face_list, (seed, _SPLIT_ID[split], i), 'nist',
                             SIDE, strength, processes=1, recipe=RECIPE)[0]
