"""The data every question is graded on: the real course files when an instructor provides them, else
generated stand-ins shipped in fixtures/data (see each set's README.md there).

Real data comes from one folder, ``data_dir()``: the environment variable NN_DATA_DIR, which the test
suite's ``--data-dir DIR`` option sets. It may hold (directly or in a data/ subfolder)
``nist36_train.mat``, ``nist36_valid.mat``, ``nist36_test.mat``; ``images/`` with page photos and their
``truth.json``; torchvision roots ``MNIST/raw/``, ``EMNIST/raw/`` (balanced split) and
``flowers17/{train,test}/``. Whatever is missing there comes from the stand-ins.

API (other modules code against these names):
- ``DataError``: wrong or corrupt data; its message names the file and what is wrong.
- ``data_dir()`` -> Path or None.
- ``nist36.load(split)`` -> (x, y): split 'train' | 'valid' | 'test'; x float64 (N, 1024) in [0, 1],
  white background 1, ink 0, each 32x32 crop transposed (``x[i].reshape(32, 32).T`` is upright);
  y one-hot float64 (N, 36), classes ``nist36.CLASSES`` = A..Z then 0..9; sizes 10800 / 3600 / 1800;
  valid sorted by class. Fresh copies of an in-process cache. ``nist36.source()`` -> Source(kind, path)
  with kind 'real' or 'generated'. ``nist36.read(path, split)`` reads and validates one file.
- ``pages.generated_pages()``, ``pages.real_pages()`` -> [Page(name, image, lines, boxes)]: image RGB
  float64 in [0, 1] as ``img_as_float(imread(path))``; lines top to bottom; boxes int (n_chars, 4)
  [y1, x1, y2, x2] (bottom-right exclusive, like regionprops bbox) in reading order matching the
  non-space characters of the lines (``Page.text``), or None for real photos. real_pages() is [] when
  data_dir() has no images.
- ``torchvision_sets.root(name)`` for 'MNIST' | 'EMNIST' | 'flowers17' -> a folder that
  ``torchvision.datasets.MNIST(root, train=..., download=False)``, ``EMNIST(root, split='balanced', ...)``
  and ``ImageFolder(root / 'train')`` / ``root / 'test'`` read directly.
- ``info.sets()`` / ``info.check()`` / ``info.regenerate(names)``: what ``python -m grader data`` prints.

Generation (fonts needed, see fonts.INSTALL_HINT): ``glyphs`` is the one distortion pipeline shared by
NIST36, MNIST, EMNIST and the pages; every sample is a pure function of its seed, so regeneration gives
the same bytes."""
from grader.datasets.location import data_dir  # noqa: F401


class DataError(Exception):
    """A data file is missing, unreadable or not in the expected format; the message says which."""
