"""Data the Q3-Q6 tests share, loaded once per test session (the data layer decides whether it is the
course's real files or the generated stand-ins; see grader/datasets). Page names for parametrizing
come from the truth.json files alone, so collecting the tests never decodes a photo."""
import functools
import json
from pathlib import Path


@functools.lru_cache(maxsize=None)
def nist36_split(split):
    """(x, y) of NIST36 'train', 'valid' or 'test'; read-only, so a submission cannot alter it."""
    from grader.datasets import nist36
    x, y = nist36.load(split)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def nist36_kind():
    """'real' when the instructor's course files are in use, else 'generated' (the shipped stand-in):
    thresholds calibrated on one do not carry over to the other."""
    from grader.datasets import nist36
    return nist36.source().kind


def _names(folder):
    """Sorted names of the photos listed in folder/truth.json that exist (as pages.read_pages takes them)."""
    if folder is None or not (Path(folder) / 'truth.json').is_file():
        return []
    truth = json.loads((Path(folder) / 'truth.json').read_text())
    return sorted(n for n in truth if n != 'about' and (Path(folder) / n).is_file())


def generated_page_names():
    from grader.datasets import location, pages
    return _names(location.generated(pages.NAME))


def real_page_names():
    """The real photos when the data folder has them (NN_DATA_DIR), else []."""
    from grader.datasets import pages
    return _names(pages.real_folder())


@functools.lru_cache(maxsize=None)
def _pages(real):
    from grader.datasets import pages
    return {p.name: p for p in (pages.real_pages() if real else pages.generated_pages())}


def generated_page(name):
    return _pages(False)[name]


def real_page(name):
    return _pages(True)[name]
