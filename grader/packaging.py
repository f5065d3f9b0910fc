"""What goes into a student release and into a Gradescope autograder bundle: one copy routine, two
selections. The release has no reference code, hidden tests or fixtures, nor the instructor-only
modules; the bundle has everything grading needs (the reference is needed where a question is graded
on the reference's earlier pieces) but not the student stubs, selftests or instructor tools."""
import shutil
from pathlib import Path

from grader import paths
from grader.results import harness_version

JUNK = shutil.ignore_patterns('__pycache__', '*.pyc', '.hypothesis', '.pytest_cache', '.DS_Store')
TOP_FILES = ('conftest.py', 'pyproject.toml', 'requirements.txt', 'requirements-torch.txt')
# Instructor-only parts of the grader package: broken variants (made from the reference), the commands
# that need the reference or the hidden fixtures, and the grader's own solutions of graded parts that some
# tests use as oracles (the release's tests use fixtures or the student's own pieces instead).
INSTRUCTOR_ONLY = ('variants', 'oracles.py', 'commands/bundle.py', 'commands/release.py', 'commands/selfcheck.py',
                   'packaging.py')


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
