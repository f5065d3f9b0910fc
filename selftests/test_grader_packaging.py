"""The student release holds no reference code and no hidden tests, and works on its own; the Gradescope
bundle, unpacked into a root laid out like Gradescope's, grades a submission and writes results.json."""
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from grader import packaging, paths
from grader.commands import bundle, release
from grader.run import read_outcomes


def reference_only_lines():
    """Code lines of reference/ that no committed public file has: not in the stubs, not in the tests."""
    return packaging.reference_only_lines(p.read_text() for folder in (paths.STUDENT, paths.TESTS)
                                          for p in folder.rglob('*.py'))


def leaks(folder):
    return packaging.leaks(folder, reference_only_lines())


@pytest.fixture(scope='module')
def student_release(tmp_path_factory):
    return release.build(tmp_path_factory.mktemp('release') / 'kit')


def test_release_has_no_reference_code_or_hidden_material(student_release, tmp_path):
    assert len(reference_only_lines()) > 50, 'the check needs reference-only lines to look for'
    assert leaks(student_release) == []
    assert not (student_release / 'grader' / 'variants').exists()
    assert (student_release / 'student' / 'nn.py').is_file() and (student_release / 'README.md').is_file()
    # The check catches a leak: the variants (made from reference lines) or a copied reference/.
    bad = tmp_path / 'bad'
    shutil.copytree(student_release, bad)
    shutil.copytree(paths.ROOT / 'grader' / 'variants', bad / 'grader' / 'variants')
    assert leaks(bad)
    shutil.rmtree(bad / 'grader' / 'variants')
    shutil.copytree(paths.REFERENCE, bad / 'reference')
    assert leaks(bad)


def run_in(folder, *args):
    return subprocess.run([sys.executable, *args], cwd=folder, capture_output=True, text=True, timeout=900,
                          env={**os.environ, 'PYTHONPATH': str(folder)})


def test_release_pytest_fails_on_the_stubs_with_their_messages(student_release, tmp_path):
    out = tmp_path / 'local.json'
    proc = run_in(student_release, '-m', 'pytest', '-m', 'q2', '-q', '-p', 'no:cacheprovider',
                  '--results-json', str(out))
    assert proc.returncode == 1, proc.stdout[-3000:]
    outcomes = read_outcomes(out)
    assert outcomes and all(o['outcome'] == 'failed' for o in outcomes)
    assert all('NotImplementedError' in o['message'] and '(Q2.' in o['message'] for o in outcomes), \
        [o['message'][:200] for o in outcomes if 'NotImplementedError' not in o['message']][:3]
    assert not any(o['hidden'] for o in outcomes)


def test_release_grade_works_and_regenerating_fixtures_says_why_not(student_release, tmp_path):
    proc = run_in(student_release, '-m', 'grader', 'grade', '--out', str(tmp_path / 'out'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    gs = json.loads((tmp_path / 'out' / 'results.json').read_text())
    assert gs['score'] == 0 and gs['max_score'] == 90
    assert not any(t['visibility'] != 'visible' for t in gs['tests']), 'no hidden tests in a release'
    proc = run_in(student_release, '-m', 'grader', 'fixtures', '--regenerate')
    assert proc.returncode == 2 and 'needs the reference' in proc.stdout and 'Traceback' not in proc.stderr
    proc = run_in(student_release, '-m', 'grader', 'bundle', '--out', 'x.zip')
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr, 'instructor commands are not in the kit'


def test_bundle_runs_like_gradescope(tmp_path):
    zip_path = bundle.build(tmp_path / 'autograder.zip')
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        root = tmp_path / 'autograder'
        zf.extractall(root / 'source')
    assert {'setup.sh', 'run_autograder', 'grader/__main__.py', 'reference/nn.py'} <= set(names)
    assert any(n.startswith('fixtures/hidden/') for n in names), 'hidden fixtures ship in the bundle'
    assert not any(n.startswith(('student/', 'selftests/')) for n in names)
    assert modes['run_autograder'] & 0o111 and modes['setup.sh'] & 0o111
    (root / 'submission').mkdir()
    for name in ('nn.py', 'q2.py'):   # a hand-in without util.py, as students often do
        shutil.copy(paths.REFERENCE / name, root / 'submission' / name)
    proc = subprocess.run(['bash', str(root / 'source' / 'run_autograder')], capture_output=True, text=True,
                          timeout=900, env={**os.environ, 'AUTOGRADER_ROOT': str(root),
                                            'AUTOGRADER_PYTHON': sys.executable})
    assert proc.returncode == 0, proc.stderr[-3000:]
    gs = json.loads((root / 'results' / 'results.json').read_text())
    assert gs['max_score'] == 90 and sum(t['max_score'] for t in gs['tests']) == pytest.approx(90)
    q2 = [t for t in gs['tests'] if t['number'].startswith('2.')]
    assert sum(t['score'] for t in q2) == pytest.approx(28), [(t['name'], t['score']) for t in q2]
    assert any(t['visibility'] == 'after_published' for t in q2), 'hidden tests ran in the bundle'
