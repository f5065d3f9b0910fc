"""The student release holds no reference code and no hidden tests, is built from the committed stubs
only, and works on its own; the Gradescope bundle, unpacked into a root laid out like Gradescope's, sets
up (fetching and checking the pretrained weights from a loopback server) and grades a submission; the
PrairieLearn grader, laid out like a PrairieLearn grading job, grades one too."""
import contextlib
import functools
import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile

import pytest

from grader import packaging, paths
from grader.commands import bundle, prairielearn, release, weights
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
    with pytest.raises(packaging.ReleaseRefused, match='reference material'):
        packaging.check_release(bad)   # what release.build runs on every release before it is kept
    shutil.rmtree(bad / 'grader' / 'variants')
    shutil.copytree(paths.REFERENCE, bad / 'reference')
    assert leaks(bad)
    shutil.rmtree(bad / 'reference')
    packaging.check_release(bad)
    (bad / 'grader' / 'helpers.py').write_text((paths.REFERENCE / 'nn.py').read_text())
    with pytest.raises(packaging.ReleaseRefused, match='helpers.py'):
        packaging.check_release(bad)


def test_release_ships_the_committed_stubs(student_release):
    committed = packaging.committed_stubs()
    shipped = {p.relative_to(student_release / 'student').as_posix(): p.read_bytes()
               for p in (student_release / 'student').rglob('*') if p.is_file()}
    assert shipped == committed and 'nn.py' in shipped


def git(repo, *args):
    subprocess.run(['git', '-C', str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, 'GIT_AUTHOR_NAME': 't', 'GIT_AUTHOR_EMAIL': 't@x', 'GIT_COMMITTER_NAME': 't',
                        'GIT_COMMITTER_EMAIL': 't@x'})


def test_a_student_folder_that_differs_from_the_commit_is_refused(tmp_path):
    """An instructor tried the student steps in the checkout: a solution in student/, a new file, or a
    deleted stub each refuse the release, naming the file; files git ignores are neither refused nor
    shipped."""
    repo = tmp_path / 'repo'
    (repo / 'student').mkdir(parents=True)
    stub = 'def softmax(x):\n    raise NotImplementedError\n'
    (repo / 'student' / 'nn.py').write_text(stub)
    (repo / 'student' / 'q2.py').write_text('# stub\n')
    (repo / '.gitignore').write_text('__pycache__/\n*.npz\n')
    git(repo, 'init', '-q')
    git(repo, 'add', '.')
    git(repo, 'commit', '-qm', 'stubs')
    (repo / 'student' / '__pycache__').mkdir()
    (repo / 'student' / '__pycache__' / 'nn.pyc').write_bytes(b'x')
    (repo / 'student' / 'q3_params.npz').write_bytes(b'weights of a run')
    assert packaging.committed_stubs(repo) == {'nn.py': stub.encode(), 'q2.py': b'# stub\n'}
    (repo / 'student' / 'nn.py').write_text((paths.REFERENCE / 'nn.py').read_text())
    with pytest.raises(packaging.ReleaseRefused, match=r'student/nn\.py.*git checkout -- student/'):
        packaging.committed_stubs(repo)
    git(repo, 'checkout', '--', 'student/')
    (repo / 'student' / 'extra.py').write_text('x = 1\n')
    with pytest.raises(packaging.ReleaseRefused, match='student/extra.py'):
        packaging.committed_stubs(repo)
    (repo / 'student' / 'extra.py').unlink()
    (repo / 'student' / 'q2.py').unlink()
    with pytest.raises(packaging.ReleaseRefused, match='student/q2.py'):
        packaging.committed_stubs(repo)
    with pytest.raises(packaging.ReleaseRefused, match='not a git checkout'):
        packaging.committed_stubs(tmp_path / 'not-a-repo')


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
    visible = sum(t['score'] for t in gs['tests'] if t['visibility'] == 'visible')
    assert f'Visible tests: {visible:g} / ' in gs['output'] and 'hidden tests passed' not in gs['output']


@contextlib.contextmanager
def serving(folder):
    """An HTTP server on the loopback interface serving ``folder``; yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def unpack_bundle(zip_path, root):
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / 'source')
    for name in ('setup.sh', 'run_autograder'):
        (root / 'source' / name).chmod(0o755)
    return root


def setup_sh(root, url, sha256):
    return subprocess.run(['bash', str(root / 'source' / 'setup.sh')], capture_output=True, text=True, timeout=600,
                          cwd=root, env={**os.environ, 'AUTOGRADER_ROOT': str(root), 'AUTOGRADER_PYTHON': sys.executable,
                                         'SQUEEZENET_URL': url, 'SQUEEZENET_SHA256': sha256})


def test_bundle_setup_fetches_the_pretrained_weights_and_grading_uses_them(tmp_path):
    """setup.sh then run_autograder, as Gradescope runs them, in an emulated /autograder. The weights
    come from a loopback server: a valid SqueezeNet 1.1 checkpoint whose checksum this test controls (the
    real file is not on this machine), so Q7.2.1's fine-tuned accuracy is judged instead of being 'not
    gradable here'; a corrupted copy fails setup loudly and is not kept."""
    import torch
    import torchvision
    torch.manual_seed(0)
    served = tmp_path / 'served'
    served.mkdir()
    buffer = io.BytesIO()
    torch.save(torchvision.models.squeezenet1_1().state_dict(), buffer)
    good = buffer.getvalue()
    (served / 'good.pth').write_bytes(good)
    (served / 'corrupt.pth').write_bytes(good[:-1000] + bytes(1000))
    good_sha = hashlib.sha256(good).hexdigest()
    zip_path = bundle.build(tmp_path / 'autograder.zip', ['--only=7.2.1', '--pytest-arg=-kfine_tuned'])
    with zipfile.ZipFile(zip_path) as zf:
        script = zf.read('setup.sh').decode()
    assert weights.SQUEEZENET_URL in script and weights.SQUEEZENET_SHA256 in script, 'the real file by default'
    assert weights.SQUEEZENET_URL.endswith('/squeezenet1_1-b8a52dc0.pth')
    assert weights.SQUEEZENET_SHA256.startswith('b8a52dc0'), 'the prefix torchvision publishes'

    with serving(served) as base:
        bad_root = unpack_bundle(zip_path, tmp_path / 'bad')
        proc = setup_sh(bad_root, f'{base}/corrupt.pth', good_sha)
        assert proc.returncode != 0, proc.stdout
        assert 'weights: FAILED' in proc.stderr and good_sha in proc.stderr and 'setup.sh: FAILED' in proc.stderr
        cache = bad_root / 'torch' / 'hub' / 'checkpoints'
        assert not cache.exists() or not any(cache.iterdir()), 'nothing of a corrupted download is kept'

        root = unpack_bundle(zip_path, tmp_path / 'autograder')
        proc = setup_sh(root, f'{base}/good.pth', good_sha)
        assert proc.returncode == 0, proc.stderr[-3000:]
    cached = root / 'torch' / 'hub' / 'checkpoints' / 'squeezenet1_1-b8a52dc0.pth'
    assert cached.read_bytes() == good
    shutil.copytree(paths.REFERENCE, root / 'submission')
    proc = subprocess.run(['bash', str(root / 'source' / 'run_autograder')], capture_output=True, text=True,
                          timeout=900, env={**os.environ, 'AUTOGRADER_ROOT': str(root),
                                            'AUTOGRADER_PYTHON': sys.executable})
    assert proc.returncode == 0, proc.stderr[-3000:]
    gs = json.loads((root / 'results' / 'results.json').read_text())
    (entry,) = [t for t in gs['tests'] if t['number'] == '7.2.1']
    assert entry['output'].startswith('0 of 1 tests passed') or entry['output'].startswith('1 of 1 tests passed'), \
        entry['output'][:500]
    assert 'not gradable' not in entry['output'], 'the fine-tuned accuracy was judged with the fetched weights'


def test_prairielearn_layout_grades_like_prairielearn(tmp_path):
    """The course files and entrypoint, copied into a /grade laid out as PrairieLearn lays out a job
    (student/, serverFilesCourse/, data/; the results/ folder is not made for it), write a valid
    results.json in PrairieLearn's format."""
    course = prairielearn.build(tmp_path / 'course', 'myorg/nn-grader:test', ['--only=2.2.2,2.2.3'])
    info = json.loads((course / 'questions' / 'nn_recognition' / 'info.json').read_text())
    options = info['externalGradingOptions']
    assert info['gradingMethod'] == 'External' and options['image'] == 'myorg/nn-grader:test'
    assert options['timeout'] <= 600 and options['serverFilesCourse'] == ['nn_grader/']
    assert 'optional-file-names="util.py, nn.py, q2.py' in (course / 'questions' / 'nn_recognition' /
                                                             'question.html').read_text()
    dockerfile = (course / 'image' / 'Dockerfile').read_text()
    assert dockerfile.startswith('#') and 'FROM prairielearn/grader-python' in dockerfile
    assert weights.SQUEEZENET_URL in dockerfile and weights.SQUEEZENET_SHA256 in dockerfile
    assert (course / 'image' / 'requirements-torch.txt').is_file()

    def grade(files):
        job = tmp_path / f'grade-{len(list(tmp_path.iterdir()))}'
        shutil.copytree(course / 'serverFilesCourse', job / 'serverFilesCourse')
        (job / 'student').mkdir()
        for name, text in files.items():
            (job / 'student' / name).write_text(text)
        (job / 'data').mkdir()
        (job / 'data' / 'data.json').write_text(json.dumps({'params': {}, 'submitted_answers': {}}))
        entry = job / options['entrypoint'].removeprefix('/grade/')
        proc = subprocess.run([str(entry)], capture_output=True, text=True, timeout=900,
                              env={**os.environ, 'PL_JOB_DIR': str(job), 'PL_PYTHON': sys.executable})
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads((job / 'results' / 'results.json').read_text())

    reference = {n: (paths.REFERENCE / n).read_text() for n in ('nn.py', 'util.py')}
    pl = grade(reference)
    assert pl['gradable'] is True and pl['score'] == 1.0, pl['message']
    assert sum(t['max_points'] for t in pl['tests']) == pytest.approx(6)
    assert all({'name', 'points', 'max_points', 'message', 'output'} <= set(t) for t in pl['tests'])
    broken = dict(reference, **{'nn.py': reference['nn.py'] + '\n\ndef softmax(x):\n    return x\n'})
    pl = grade(broken)
    assert pl['gradable'] is True and 0 <= pl['score'] < 0.6, pl['score']
