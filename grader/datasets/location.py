"""Where data comes from: the one place that decides between the real course files and the shipped
stand-ins, and where materialized copies are cached."""
import os
import tempfile
from pathlib import Path

from grader.paths import FIXTURES, ROOT

ENV_DATA = 'NN_DATA_DIR'
ENV_CACHE = 'NN_CACHE_DIR'
GENERATED = FIXTURES / 'data'     # shipped stand-ins, one folder per set


def data_dir():
    """The real-data folder named by $NN_DATA_DIR (set by the test suite's --data-dir), or None."""
    value = os.environ.get(ENV_DATA, '').strip()
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    return path if path.is_dir() else None


def find_real(*relative):
    """The first of ``relative`` paths present in data_dir() or its data/ subfolder, else None."""
    base = data_dir()
    if base is None:
        return None
    for folder in (base, base / 'data'):
        for rel in relative:
            if (folder / rel).exists():
                return folder / rel
    return None


def generated(name):
    """Folder of the shipped stand-in ``name`` (fixtures/data/NAME)."""
    return GENERATED / name


def cache_dir():
    """A writable folder for materialized stand-ins: $NN_CACHE_DIR, else .cache/data in the checkout,
    else one in the system's temporary folder (a read-only install)."""
    value = os.environ.get(ENV_CACHE, '').strip()
    candidates = [Path(value)] if value else []
    candidates += [ROOT / '.cache' / 'data', Path(tempfile.gettempdir()) / 'nn-grader-cache' / 'data']
    for path in candidates:
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / '.writable'
            probe.touch()
            return path
        except OSError:
            continue
    raise OSError('no writable cache folder; set ' + ENV_CACHE)
