"""grader.worker.compat, the table of old library spellings: each row makes the old spelling do what the new one
does, each row is exercised by a small hand-in of ours (a variant of the reference spelled the old way,
graded by selftests/test_variants.py beside its twin spelled today), the shims work in the isolated
worker, and the report says what was renamed.

The old spellings were found in public past solutions of this homework (2018-2024); see the report of
issue 11 for the list of calls and where they appeared. No code of theirs is used here."""
import contextlib
import importlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

from grader import paths, variants
from grader.worker import compat
from grader.run import run_tests

pytestmark = pytest.mark.skipif(not paths.REFERENCE.is_dir(), reason='needs the reference solution')

# Each row's hand-ins: (old spelling, the same code spelled today). Rows that no past solution used in
# nn.py or findLetters have None; their shim is still checked below.
ROW_VARIANTS = {
    ('numpy', 'float'): ('util-np-float', None),
    ('numpy', 'int'): ('nn-np-int', None),
    ('numpy', 'bool'): ('q4-old-np-bool', None),
    ('numpy', 'object'): None,
    ('numpy', 'complex'): None,
    ('numpy', 'str'): None,
    ('skimage.color', 'rgb2grey'): ('q4-old-rgb2grey', None),
    ('skimage.measure', 'neighbors='): ('q4-old-neighbors', None),
    ('skimage.morphology', 'neighbors='): None,
    ('skimage.filters', 'multichannel='): ('q4-old-multichannel', 'q4-new-channel-axis'),
    ('skimage.restoration', 'multichannel='): ('q4-old-wavelet', 'q4-new-wavelet'),
    ('skimage.morphology', 'selem='): ('q4-old-selem', 'q4-new-footprint'),
    ('skimage.filters', 'selem='): None,
    ('skimage.morphology', 'square'): ('q4-old-square', None),
    ('skimage.morphology', 'min_size='): ('q4-old-min-size', 'q4-new-max-size'),
}


def test_every_row_is_accounted_for():
    """Each row is in the list above, and its hand-ins exist, keep full marks where the reference does
    (a twin of None: the reference itself is the code spelled today) and hold the old spelling."""
    keys = [(r.module, r.old) for r in compat.RENAMES]
    assert sorted(keys) == sorted(ROW_VARIANTS), 'a row was added or removed: list its hand-ins here'
    for row in compat.RENAMES:
        pair = ROW_VARIANTS[(row.module, row.old)]
        if pair is None:
            continue
        old = variants.by_name(pair[0])
        assert old.correct and old.keeps, f'{old.name} must keep its marks'
        if pair[1] is not None:
            assert variants.by_name(pair[1]).keeps == old.keeps
        text = ''.join(new for _, _, new in old.patches)
        assert (row.old if row.keyword else row.spelled) in text, f'{old.name} does not use {row.spelled}'


def _image(shape=(24, 30, 3), seed=0):
    return np.random.default_rng(seed).uniform(size=shape)


def _same(a, b):
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b)) if np.ndim(a) else np.isclose(a, b, rtol=0, atol=0)


# Each keyword row: the arguments of one call per function, beside which the old keyword and its value,
# and the new keyword and its value, are put.
def _keyword_calls():
    rgb, gray = _image(), _image((24, 30))
    mask = gray > 0.5
    disk = np.ones((3, 3), bool)
    calls = []
    for row in compat.RENAMES:
        if not row.keyword:
            continue
        for name in row.functions:
            if row.old == 'multichannel=':
                calls.append((row, name, (rgb,), {'multichannel': True}, {'channel_axis': -1}))
                calls.append((row, name, (gray,), {'multichannel': False}, {'channel_axis': None}))
            elif row.old == 'selem=':
                image = (gray * 255).astype(np.uint8) if name == 'median' else (mask if 'binary' in name else gray)
                calls.append((row, name, (image,), {'selem': disk}, {'footprint': disk}))
            elif row.old == 'neighbors=':
                calls.append((row, name, (mask,), {'neighbors': 8}, {'connectivity': 2}))
                calls.append((row, name, (mask,), {'neighbors': 4}, {'connectivity': 1}))
            elif row.old == 'min_size=':   # (its own test below checks the old meaning itself)
                calls.append((row, name, (mask,), {'min_size': 4}, {'max_size': 3}))
    return calls


@pytest.mark.parametrize('row,name,args,old,new', _keyword_calls(),
                         ids=lambda v: v if isinstance(v, str) else (f'{v.module}.{v.old}' if isinstance(v, compat.Rename)
                                                                     else None))
def test_old_keyword_does_what_the_new_one_does(row, name, args, old, new):
    compat.install()
    fn = getattr(importlib.import_module(row.module), name)
    with _quiet():
        assert _same(fn(*args, **old), fn(*args, **new)), f'{row.module}.{name}({old}) differs from ({new})'


@contextlib.contextmanager
def _quiet():
    """Without the deprecation warnings of functions that are still there but on their way out."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        yield


def test_old_names_do_what_the_new_ones_do():
    compat.install()
    import skimage.color
    import skimage.morphology
    rgb = _image()
    with _quiet():
        assert np.array_equal(skimage.color.rgb2grey(rgb), skimage.color.rgb2gray(rgb))
        for n in (1, 2, 5, 10):   # the stand-in for square, checked against the real one while it exists
            real = skimage.morphology.square(n)
            assert np.array_equal(compat._square(skimage.morphology)(n), real) and \
                compat._square(skimage.morphology)(n).dtype == real.dtype
    for row in (r for r in compat.RENAMES if r.module == 'numpy'):
        assert getattr(np, row.old) in (row.convert(np), np.bool_), row.old


def test_min_size_keeps_its_old_meaning():
    """remove_small_objects(min_size=n) removed objects smaller than n (course code of 2024 relied on it);
    scikit-image 0.26 still takes min_size= but reads it as max_size=n, which also removes objects of
    exactly n pixels. With the shim it means what it meant, checked here by counting pixels directly."""
    from scipy import ndimage
    compat.install()
    import skimage.morphology
    mask = _image((40, 40)) > 0.6
    labels, _ = ndimage.label(mask)
    sizes = np.bincount(labels.ravel())
    for n in (2, 3, 5, 9):
        old_meaning = mask & (sizes[labels] >= n)
        with _quiet():
            assert np.array_equal(skimage.morphology.remove_small_objects(mask, min_size=n), old_meaning), n


def test_a_shim_is_there_exactly_where_the_library_lacks_the_old_spelling():
    """needed() says which rows stand in today; their shims run, and the others are left alone (a row
    whose library still has the old spelling must not change it)."""
    compat.install()
    for row in compat.RENAMES:
        module = importlib.import_module(row.module)
        if row.keyword:
            for name in row.functions:
                fn = getattr(module, name)
                wrapped = (row.module, row.old) in getattr(fn, 'compat_rows', ())
                assert wrapped == row.needed(), f'{row.module}.{name}: shim for {row.old} is {wrapped}'
        elif not row.needed():
            assert (row.module, row.old) not in compat._STANDINS


def test_install_is_idempotent_and_hooks_later_imports():
    """A fresh process: installing twice wraps once, and a scikit-image module imported afterwards (as a
    hand-in's q4.py imports it) gets its rows."""
    code = ('from grader.worker import compat; compat.install(); compat.install(); import skimage.morphology as m; '
            'import numpy as np; m.closing(np.eye(4), selem=np.ones((3, 3))); '
            'assert len([1 for f in __import__("sys").meta_path if type(f).__name__ == "_PatchOnImport"]) == 1; '
            'print(sorted(compat.used()))')
    proc = subprocess.run([sys.executable, '-c', code], cwd=paths.ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "('skimage.morphology', 'selem=')" in proc.stdout


def test_scan_reads_old_spellings_and_not_lookalikes():
    source = '\n'.join([
        'import numpy as numpy_', 'import skimage.restoration as R', 'from skimage.color import rgb2grey',
        '# skimage.morphology.closing(x, selem=y) in a comment does not count',
        'def f(image, float=float):',
        '    a = R.denoise_bilateral(image, multichannel=True)',
        '    b = my_own_helper(image, neighbors=8, selem=3)',     # not a scikit-image function
        '    c = numpy_.float(3) + float(2)',                      # np.float (aliased) yes; builtin no
        '    return skimage.measure.label(a > 0, neighbors=8)'])
    found = {(r.module, r.old): lines for r, lines in compat.scan(source).items()}
    assert found == {('skimage.color', 'rgb2grey'): [3], ('skimage.restoration', 'multichannel='): [6],
                     ('numpy', 'float'): [8], ('skimage.measure', 'neighbors='): [9],
                     ('skimage.morphology', 'neighbors='): [9]}, found
    assert compat.scan('def broken(:') == {}


def test_notes_say_what_was_renamed_and_where(tmp_path):
    folder = variants.materialize(variants.by_name('q4-old-everything'), tmp_path / 'old')
    notes = compat.notes(folder)
    text = '\n'.join(notes)
    for phrase in ('`selem=` (q4.py line', 'scikit-image 0.20 no longer accepts; it is `footprint=` now',
                   '`neighbors=`', 'neighbors=8 means connectivity=2', '`skimage.color.rgb2grey`',
                   'scikit-image 0.19 no longer has', '`multichannel=`', 'multichannel=True means channel_axis=-1',
                   '`np.float`', 'NumPy 1.24', 'Graded as if renamed.'):
        assert phrase in text, (phrase, notes)
    assert len(notes) == 5, notes
    assert compat.notes(paths.REFERENCE) == []
    # only rows the installed libraries lack: square is still there, so no note for it
    assert compat.notes(variants.materialize(variants.by_name('q4-old-square'), tmp_path / 'square')) == []


@pytest.mark.slow
def test_old_spellings_score_like_new_ones_in_the_isolated_worker(tmp_path):
    """The grader's own path (isolated worker): the hand-in with every old spelling at once keeps 4.2's
    full marks, as the reference does."""
    folder = variants.materialize(variants.by_name('q4-old-everything'), tmp_path / 'old')
    result = run_tests(str(folder), questions=['4.2'], extra_args=['--isolate', '-k', 'find_letters'], timeout=900)
    row = result.rows['4.2']
    assert row.graded and row.score == row.max_score, [t['message'][:300] for t in row.tests if t['outcome'] != 'passed']
