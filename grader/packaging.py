"""What goes into a student release and into a Gradescope autograder bundle: one copy routine, two
selections. The release has no reference code, hidden tests or fixtures, nor the instructor-only
modules; the bundle has everything grading needs (the reference is needed where a question is graded
on the reference's earlier pieces) but not the student stubs, selftests or instructor tools.

The release's stubs are the committed ones (git HEAD), never whatever lies in student/: an instructor who
tried the student steps inside the checkout may have a solution there. A student/ that differs from the
commit is refused, and so is a release in which any file holds a line of the reference that no public
file has."""
import shutil
import subprocess
from pathlib import Path

from grader import paths
from grader.results import harness_version

JUNK = shutil.ignore_patterns('__pycache__', '*.pyc', '.hypothesis', '.pytest_cache', '.DS_Store')
TOP_FILES = ('conftest.py', 'pyproject.toml', 'requirements.txt', 'requirements-torch.txt')
# Instructor-only parts of the grader package: broken variants (made from the reference), the commands
# that need the reference or the hidden fixtures, and the grader's own solutions of graded parts that some
# tests use as oracles (the release's tests use fixtures or the student's own pieces instead).
INSTRUCTOR_ONLY = ('variants', 'oracles.py', 'commands/bundle.py', 'commands/prairielearn.py', 'commands/release.py',
                   'commands/selfcheck.py', 'packaging.py')
TEXT_SUFFIXES = ('.py', '.md', '.txt', '.json', '.toml', '.cfg', '.ini', '.sh', '.html', '.xml', '')


class ReleaseRefused(Exception):
    """The release cannot be built safely; the message says why and what to do."""


def copy_harness(dest, *, reference, hidden):
    """Copy tests/, fixtures/ and grader/ (plus the top-level files) into ``dest``. ``reference``: also
    reference/ and the instructor-only modules; ``hidden``: also fixtures/hidden."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in TOP_FILES:
        if (paths.ROOT / name).is_file():
            shutil.copy2(paths.ROOT / name, dest / name)
    shutil.copytree(paths.TESTS, dest / 'tests', ignore=JUNK)
    fixture_junk = JUNK if hidden else shutil.ignore_patterns('hidden', '__pycache__', '*.pyc')
    shutil.copytree(paths.FIXTURES, dest / 'fixtures', ignore=fixture_junk)
    shutil.copytree(paths.ROOT / 'grader', dest / 'grader', ignore=JUNK)
    if reference:
        shutil.copytree(paths.REFERENCE, dest / 'reference', ignore=JUNK)
    else:
        for rel in INSTRUCTOR_ONLY:
            target = dest / 'grader' / rel
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    (dest / 'HARNESS_VERSION').write_text(harness_version() + '\n')
    return dest


def _git(root, *args):
    try:
        proc = subprocess.run(['git', '-C', str(root), *args], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ReleaseRefused(f'git is needed to find the committed stubs, and it could not run: {exc}') from None
    if proc.returncode:
        raise ReleaseRefused('the release is built from the stubs committed in git, and this is not a git '
                             f"checkout with a commit (git {args[0]}: {proc.stderr.decode(errors='replace').strip()})")
    return proc.stdout


def committed_stubs(root=paths.ROOT):
    """{path relative to student/: bytes} of student/ as committed at HEAD. Refused when student/ in the
    working tree differs from it (a changed, deleted or new file that git does not ignore)."""
    changed = _git(root, 'status', '--porcelain', '--untracked-files=all', '--', 'student').decode(errors='replace')
    if changed.strip():
        names = ', '.join(line[3:] for line in changed.splitlines())
        raise ReleaseRefused(f'student/ differs from the committed stubs ({names}); a release must not ship '
                             'work done in the checkout. Commit the stubs you mean to hand out, or restore '
                             'them with `git checkout -- student/` (and remove new files), then try again')
    listed = _git(root, 'ls-tree', '-r', '-z', '--name-only', 'HEAD', '--', 'student').decode().split('\0')
    stubs = {name[len('student/'):]: _git(root, 'cat-file', 'blob', f'HEAD:{name}') for name in listed if name}
    if not stubs:
        raise ReleaseRefused('no stubs are committed under student/')
    return stubs


def reference_only_lines(public_texts):
    """Code lines of reference/ (30 characters or more) that appear in none of ``public_texts`` (the text
    of the files meant to be public), even inside a longer line."""
    public = '\n'.join(public_texts)
    lines = {line.strip() for p in paths.REFERENCE.glob('*.py') for line in p.read_text().splitlines()}
    return {s for s in lines if len(s) >= 30 and not s.startswith('#') and s not in public}


def leaks(folder, secret):
    """(file, what) for every line of ``secret`` found in a text file under ``folder`` (anywhere in it:
    code quoted in a string leaks as much as code does), and for any reference/ or hidden folder."""
    folder = Path(folder)
    found = [(str(p), 'a folder that must not ship') for p in folder.rglob('*')
             if p.is_dir() and p.name in ('reference', 'hidden')]
    for p in folder.rglob('*'):
        if p.is_file() and p.suffix in TEXT_SUFFIXES:
            text = p.read_text(errors='ignore')
            found += [(str(p), line) for line in secret if line in text]
    return found


def check_release(folder):
    """Raise ReleaseRefused if the release in ``folder`` holds reference code or hidden material."""
    folder = Path(folder)
    public = [p.read_text(errors='ignore') for sub in ('student', 'tests') for p in (folder / sub).rglob('*.py')]
    found = leaks(folder, reference_only_lines(public))
    if found:
        shown = '; '.join(f'{Path(f).relative_to(folder)}: {what[:60]}' for f, what in found[:5])
        raise ReleaseRefused(f'the release would ship reference material ({len(found)} finding(s): {shown})')
