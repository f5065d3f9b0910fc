"""Old course code on today's libraries: hand-ins from 2018-2024 drop in unchanged.

The course's util.py used ``np.float`` and hand-ins of those years call scikit-image with keywords and
names it has since renamed (``multichannel=``, ``selem=``, ``neighbors=``, ``rgb2grey``). ``RENAMES`` is
the one table of them: where the old spelling lived, the new one, and the library version that removed
the old one. ``install()`` makes every old spelling that the installed libraries no longer accept mean
what it meant, and nothing else: numpy's names at once, scikit-image's when its module is first imported
(importing them all up front would cost a second on every run, and Q2 never needs them). ``notes(folder)``
reads a hand-in's files (without running them) and says, per old spelling used, how it was graded.

Rows whose ``removed`` version is later than the installed library change nothing today; they take over
the day it is upgraded. One row is for a keyword the library still takes but reads differently now. This module imports only the standard library, numpy and scikit-image, so that the
isolated worker can load it as it is."""
import ast
import functools
import importlib
import importlib.abc
import inspect
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

LIBRARIES = {'numpy': 'NumPy', 'skimage': 'scikit-image'}


@dataclass(frozen=True)
class Rename:
    module: str           # where the old spelling lived: 'numpy', 'skimage.color', ...
    old: str              # an attribute name, or a keyword written 'selem='
    new: str              # what it is called now (shown to the student)
    removed: str          # the first version of the library without the old spelling (or, with
    #                       ``changed``, the first that reads it differently)
    functions: tuple = ()     # keyword rows: the module's functions that took the old keyword
    # keyword rows: old value -> new value (given the call's arguments); attribute rows: module -> stand-in
    convert: object = field(default=None, compare=False)
    example: str = ''     # how old values map to new ones, where that is not the identity
    changed: bool = False     # the library still takes the old keyword but gives it another meaning

    @property
    def keyword(self):
        return self.old.endswith('=')

    @property
    def library(self):
        return self.module.split('.')[0]

    @property
    def spelled(self):
        """The old spelling as a student reads it: 'np.float', 'skimage.color.rgb2grey', 'selem='."""
        if self.keyword:
            return self.old
        return ('np.' if self.module == 'numpy' else self.module + '.') + self.old

    def needed(self):
        """Does the installed library lack the old spelling (so that a shim stands in for it)? Imports the
        row's module to look."""
        try:
            module = importlib.import_module(self.module)
        except ImportError:
            return False
        if not self.keyword:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                return (self.module, self.old) in _STANDINS or not hasattr(module, self.old)
        for name in self.functions:
            try:   # (a shim's signature is the original's: inspect follows __wrapped__)
                params = inspect.signature(getattr(module, name)).parameters
            except (AttributeError, TypeError, ValueError):
                continue
            if self.new[:-1] in params and (self.changed or self.old[:-1] not in params):
                return True
        return False

    def sentence(self):
        """'which scikit-image 0.20 no longer accepts; it is `footprint=` now'."""
        verb = 'reads differently' if self.changed else 'no longer ' + ('accepts' if self.keyword else 'has')
        return (f'which {LIBRARIES[self.library]} {self.removed} {verb}; it is `{self.new}` now'
                + (f' ({self.example})' if self.example else ''))


def _same(value, args, kwargs):
    return value


def _channel_axis(value, args, kwargs):
    return -1 if value else None


def _connectivity(value, args, kwargs):
    """neighbors=4 joined pixels sharing an edge (connectivity 1); neighbors=8 also those sharing a corner
    (full connectivity: the image's number of dimensions)."""
    image = args[0] if args else kwargs.get('label_image')
    return 1 if value == 4 else max(1, np.ndim(image))


def _max_size(value, args, kwargs):
    return value - 1   # min_size removed objects smaller than it; max_size removes those up to it


def _square(module):
    def square(width, dtype=np.uint8, *, decomposition=None):
        return module.footprint_rectangle((width, width), dtype=dtype, decomposition=decomposition)
    return square


def _alias(new):
    return lambda module: getattr(module, new)


# Morphology functions that took selem= (0.19 renamed it footprint=).
MORPHOLOGY = ('closing', 'opening', 'dilation', 'erosion', 'binary_closing', 'binary_opening',
              'binary_dilation', 'binary_erosion', 'white_tophat', 'black_tophat')
# Functions course code called with multichannel= (0.19 replaced it by channel_axis=).
RESTORATION = ('denoise_bilateral', 'denoise_tv_chambolle', 'denoise_nl_means', 'denoise_wavelet', 'estimate_sigma')

RENAMES = (
    # NumPy 1.20 deprecated the aliases of Python's own types; 1.24 removed them (2.0 brought np.bool back
    # as NumPy's bool type, which course code uses the same way).
    *(Rename('numpy', name, name, '1.24', convert=lambda module, value=value: value)
      for name, value in (('float', float), ('int', int), ('bool', bool), ('object', object),
                          ('complex', complex), ('str', str))),
    Rename('skimage.color', 'rgb2grey', 'skimage.color.rgb2gray', '0.19', convert=_alias('rgb2gray')),
    Rename('skimage.measure', 'neighbors=', 'connectivity=', '0.18', ('label',), _connectivity,
           example='neighbors=8 means connectivity=2'),
    Rename('skimage.morphology', 'neighbors=', 'connectivity=', '0.18', ('label',), _connectivity,
           example='neighbors=8 means connectivity=2'),
    Rename('skimage.filters', 'multichannel=', 'channel_axis=', '0.20', ('gaussian',), _channel_axis,
           example='multichannel=True means channel_axis=-1'),
    Rename('skimage.restoration', 'multichannel=', 'channel_axis=', '0.20', RESTORATION, _channel_axis,
           example='multichannel=True means channel_axis=-1'),
    Rename('skimage.morphology', 'selem=', 'footprint=', '0.20', MORPHOLOGY, _same),
    Rename('skimage.filters', 'selem=', 'footprint=', '0.20', ('median',), _same),
    # 0.26 still takes min_size= but reads it as max_size=, which also removes objects of exactly that size
    Rename('skimage.morphology', 'min_size=', 'max_size=', '0.26', ('remove_small_objects',), _max_size,
           example='min_size=n means max_size=n - 1', changed=True),
    # Deprecated, still there in scikit-image 0.26: this row takes over when the old name goes.
    Rename('skimage.morphology', 'square', 'skimage.morphology.footprint_rectangle((n, n))', '0.27',
           convert=_square),
)


# ---------------------------------------------------------------- installing

_USED = set()      # (module, old) of the rows a shim stood in for, in this process (for the selftests)
_STANDINS = set()  # (module, old) of the attributes install() added


def used():
    return set(_USED)


def install():
    """Install every row: NumPy's now, scikit-image's as each of its modules is imported."""
    for row in RENAMES:
        if row.module == 'numpy':
            _install_attribute(row, np)
    pending = {r.module for r in RENAMES if r.library == 'skimage'}
    for name in sorted(pending):
        if name in sys.modules:
            patch_module(sys.modules[name])
    if not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport(pending))


def patch_module(module):
    """Apply the rows of ``module`` (an imported scikit-image module) to it; safe to repeat."""
    for row in RENAMES:
        if row.module != module.__name__:
            continue
        if row.keyword:
            for name in row.functions:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')   # deprecated functions warn on lookup in some versions
                    fn = getattr(module, name, None)
                if fn is not None:
                    setattr(module, name, _accepting(fn, row))
        else:
            _install_attribute(row, module)


def _install_attribute(row, module):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # NumPy 2 warns about some of these names before failing
        present = hasattr(module, row.old)
    if not present:
        stand_in = row.convert(module)
        if callable(stand_in) and not isinstance(stand_in, type):
            stand_in = _counted(stand_in, row)
        setattr(module, row.old, stand_in)
        _STANDINS.add((row.module, row.old))


def _counted(fn, row):
    @functools.wraps(fn)
    def stand_in(*args, **kwargs):
        _USED.add((row.module, row.old))
        return fn(*args, **kwargs)
    return stand_in


def _accepting(fn, row):
    """``fn``, also taking the row's old keyword where the installed version no longer does."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn
    old, new = row.old[:-1], row.new[:-1]
    done = getattr(fn, 'compat_rows', frozenset())
    if (old in params and not row.changed) or new not in params or (row.module, row.old) in done:
        return fn      # still accepted as it was, nothing to map it to, or already wrapped for this row

    @functools.wraps(fn)   # (inspect.signature follows __wrapped__ to the original's parameters)
    def accepting(*args, **kwargs):
        if old in kwargs:
            value = kwargs.pop(old)
            if new not in kwargs:   # both given (some code did, during the transition): today's wins
                kwargs[new] = row.convert(value, args, kwargs)
            _USED.add((row.module, row.old))
        return fn(*args, **kwargs)
    accepting.compat_rows = done | {(row.module, row.old)}
    return accepting


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Runs patch_module on a watched module right after it is first imported."""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path, target=None):
        if name not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):   # get_resource_reader, is_package ... from the real loader
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        patch_module(module)


# ---------------------------------------------------------------- reading a hand-in

def scan(source):
    """{row: [line numbers]} of the old spellings that Python ``source`` uses (comments do not count)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    numpy_names = {'numpy'}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            numpy_names.update(a.asname or a.name for a in node.names if a.name == 'numpy')
    found = {}
    for node in ast.walk(tree):
        for row in RENAMES:
            if _uses(node, row, numpy_names):
                found.setdefault(row, []).append(node.lineno)
    return {row: sorted(set(lines)) for row, lines in found.items()}


def _uses(node, row, numpy_names):
    if row.keyword:
        return (isinstance(node, ast.Call) and _called_name(node.func) in row.functions
                and any(k.arg == row.old[:-1] for k in node.keywords))
    if row.module == 'numpy':   # np.float, not the builtin float
        return (isinstance(node, ast.Attribute) and node.attr == row.old and isinstance(node.value, ast.Name)
                and node.value.id in numpy_names)
    if isinstance(node, ast.Attribute):
        return node.attr == row.old
    if isinstance(node, ast.ImportFrom):
        return node.module == row.module and any(a.name == row.old for a in node.names)
    return False


def _called_name(func):
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, 'id', None)


def notes(folder, files=None):
    """One sentence per old spelling that the hand-in in ``folder`` uses and the installed libraries no
    longer accept, saying where and how it was graded."""
    folder = Path(folder)
    paths = [folder / f for f in files] if files is not None else sorted(folder.glob('*.py'))
    where = {}
    for path in paths:
        try:
            source = path.read_text(errors='replace')
        except OSError:
            continue
        for row, lines in scan(source).items():
            if row.needed():
                place = f'{path.name} line{"s" if len(lines) > 1 else ""} ' + ', '.join(map(str, lines[:5]))
                places = where.setdefault((row.spelled, row.new), (row, []))[1]
                if place not in places:   # (label's neighbors= is one row per module that had label)
                    places.append(place)
    return [f'Your code used `{row.spelled}` ({"; ".join(places)}), {row.sentence()}. Graded as if renamed.'
            for row, places in where.values()]
