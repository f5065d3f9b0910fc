"""What ``python -m grader data`` reports: which data is in use for each set, checks, regeneration."""
import hashlib
import time
from pathlib import Path

from grader.datasets import DataError, location, manifest
from grader.npzio import sha256

SETS = ('nist36', 'pages', 'MNIST', 'EMNIST', 'flowers17')


def _size(paths):
    return sum(p.stat().st_size for p in paths if p.is_file())


def _files(folder):
    return sorted(p for p in Path(folder).rglob('*') if p.is_file())


def sets():
    """One dict per set: name, kind ('real' or 'generated'), path, sizes, bytes, files {name: sha256}."""
    from grader.datasets import nist36, pages, torchvision_sets
    rows = []
    src = nist36.source()
    if src.kind == 'real':
        files = [src.path / f'nist36_{s}.mat' for s in nist36.SPLITS]
        sizes = {s: int(nist36.load(s)[0].shape[0]) for s in nist36.SPLITS}
    else:
        files = [src.path]
        sizes = dict(manifest.read(src.path.parent).get('sizes', {}))
    rows.append(_row('nist36', src.kind, src.path, sizes, files))
    folder = location.generated(pages.NAME)
    rows.append(_row('pages', 'generated', folder, manifest.read(folder).get('sizes', {}),
                     [p for p in _files(folder) if p.suffix in ('.jpg', '.json') and p.name != 'manifest.json']))
    real = pages.real_folder()
    if real is not None:
        photos = [p for p in _files(real) if p.suffix.lower() in ('.jpg', '.jpeg', '.png')]
        rows.append(_row('real pages', 'real', real, {'pages': len(pages.real_pages())},
                         photos + [real / pages.TRUTH]))
    for name in ('MNIST', 'EMNIST', 'flowers17'):
        kind, folder = torchvision_sets.source(name)
        if kind == 'generated':
            sizes = manifest.read(folder).get('sizes', {})
            files = [folder / rel for rel in manifest.read(folder).get('files', {})]
            rows.append(_row(name, kind, folder, sizes, files, listed=name != 'flowers17'))
        else:
            counts = {split: n for split, (n, _) in torchvision_sets.validate(name).items()}
            rows.append(_row(name, kind, folder, counts, _files(folder), listed=name != 'flowers17'))
    return rows


def _row(name, kind, path, sizes, files, listed=True):
    """``listed``: a checksum per file; otherwise (hundreds of images) one over them all, in 'tree_sha256'."""
    files = [Path(f) for f in files]
    digests = {f: sha256(f) for f in files if f.is_file()}
    row = {'name': name, 'kind': kind, 'path': str(path), 'sizes': sizes, 'bytes': _size(files),
           'n_files': len(files), 'files': {f.name: d for f, d in digests.items()} if listed else {}}
    if not listed:
        row['tree_sha256'] = tree_digest(path, digests)
    return row


def tree_digest(folder, digests):
    """One sha256 for many files: over the sorted lines '<sha256>  <path relative to folder>' (what
    ``sha256sum`` prints for them, run in ``folder`` and sorted by path)."""
    lines = sorted((Path(f).relative_to(folder).as_posix(), d) for f, d in digests.items())
    return hashlib.sha256(''.join(f'{d}  {rel}\n' for rel, d in lines).encode()).hexdigest()


REAL_PAGES = 'real pages'   # the course's photos in the data folder, where it has them (not a shipped set)


def check(names=None):
    """Problems (sentences naming the file) with the data of the sets ``names`` (default: every set of
    SETS and the real photos): each shipped stand-in against its manifest, and the files grading would
    read, the real ones where the data folder has them."""
    problems = []
    for name in names or SETS + (REAL_PAGES,):
        if name in SETS:
            problems += manifest.problems(location.generated(name))
        try:
            _read_in_use(name)
        except DataError as exc:
            problems.append(str(exc))
    return sorted(set(problems))


def _read_in_use(name):
    """Read and validate set ``name`` as the tests will find it (DataError if they could not), keeping
    nothing in memory (the in-process caches are for the tests)."""
    from grader.datasets import nist36, pages, torchvision_sets
    if name == 'nist36':
        src = nist36.source()
        for split in nist36.SPLITS:
            nist36.read(src.path / f'nist36_{split}.mat' if src.kind == 'real' else src.path, split)
    elif name == 'pages':
        pages.read_pages(location.generated(pages.NAME), True)
    elif name == REAL_PAGES:
        folder = pages.real_folder()
        if folder is not None:
            pages.read_pages(folder, False)
    else:
        torchvision_sets.validate(name)


def generators():
    from grader.datasets import nist36, pages, torchvision_sets
    return {'nist36': nist36.generate, 'pages': pages.generate,
            'MNIST': lambda: torchvision_sets.generate('MNIST'),
            'EMNIST': lambda: torchvision_sets.generate('EMNIST'),
            'flowers17': lambda: torchvision_sets.generate('flowers17')}


def regenerate(names=None, report=print):
    """Remake the shipped stand-ins ``names`` (default all); reports time and size of each."""
    gens = generators()
    names = list(names or SETS)
    unknown = [n for n in names if n not in gens]
    if unknown:
        raise DataError(f'unknown data set(s) {", ".join(unknown)}; choose from {", ".join(SETS)}')
    results = {}
    for name in names:
        start = time.perf_counter()
        files, _ = gens[name]()
        seconds = time.perf_counter() - start
        results[name] = (seconds, _size(files), files)
        report(f'{name}: {len(files)} files, {_size(files) / 1e6:.2f} MB in {seconds:.1f} s '
               f'-> {location.generated(name)}')
    return results
