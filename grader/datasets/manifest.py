"""manifest.json of a shipped stand-in: how it was made (seed, recipe version, library and font
versions, sizes) and the sha256 of every file, so ``python -m grader data --check`` can verify it."""
import json
import platform
from pathlib import Path

from grader.npzio import sha256

NAME = 'manifest.json'


def library_versions():
    import importlib.metadata as md
    out = {'python': platform.python_version()}
    for dist in ('numpy', 'scipy', 'scikit-image', 'pillow', 'matplotlib'):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = None
    return out


def write(folder, info, files):
    """Write folder/manifest.json: ``info`` (dict) plus sizes and checksums of ``files`` (paths)."""
    folder = Path(folder)
    listing = {}
    for path in sorted(Path(p) for p in files):
        rel = path.relative_to(folder).as_posix()
        listing[rel] = {'bytes': path.stat().st_size, 'sha256': sha256(path)}
    doc = dict(info)
    doc['libraries'] = library_versions()
    doc['files'] = listing
    (folder / NAME).write_text(json.dumps(doc, indent=1, sort_keys=True) + '\n')
    return folder / NAME


def read(folder):
    from grader.datasets import DataError
    path = Path(folder) / NAME
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f'{path}: missing (the stand-in has no manifest; run python -m grader data '
                        f'--regenerate)') from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f'{path}: not valid JSON ({exc})') from None


def problems(folder):
    """Sentences naming each file of the folder's manifest that is missing or has a wrong checksum."""
    from grader.datasets import DataError
    folder = Path(folder)
    try:
        doc = read(folder)
    except DataError as exc:
        return [str(exc)]
    out = []
    for rel, meta in sorted(doc.get('files', {}).items()):
        path = folder / rel
        if not path.is_file():
            out.append(f'{path}: missing')
            continue
        digest = sha256(path)
        if digest != meta['sha256']:
            out.append(f'{path}: bad checksum (sha256 {digest[:12]}..., manifest says {meta["sha256"][:12]}...)')
    return out
