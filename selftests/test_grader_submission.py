"""Unpacking and scanning hand-ins (grader/submission.py): layouts, junk, unsafe archives, syntax errors
and forbidden imports, without running any submitted code."""
import zipfile

import pytest

from grader import submission
from grader.submission import SubmissionRefused, prepare

NN = 'import numpy as np\nfrom util import *\n\ndef softmax(x):\n    return x\n'
Q2 = 'import numpy as np\nfrom nn import *\n\ndef sgd_step(params, lr):\n    pass\n'


def make_zip(path, members):
    with zipfile.ZipFile(path, 'w') as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


@pytest.fixture
def graded(tmp_path):
    made = []

    def _prepare(source):
        sub = prepare(source)
        made.append(sub)
        return sub
    yield _prepare
    for sub in made:
        sub.cleanup()


def test_zip_inside_one_folder_keeps_only_course_files(tmp_path, graded):
    z = make_zip(tmp_path / 'handin.zip', {
        'hw5/nn.py': NN, 'hw5/q2.py': Q2, 'hw5/conftest.py': 'raise SystemExit', 'hw5/pytest.ini': '[pytest]',
        'hw5/sitecustomize.py': 'x', 'hw5/evil.pth': 'import os', 'hw5/tests/test_x.py': 'x',
        '__MACOSX/hw5/._nn.py': 'junk', 'hw5/.DS_Store': 'junk'})
    sub = graded(z)
    assert sorted(sub.files) == ['nn.py', 'q2.py'], sub.files
    assert sorted(p.name for p in sub.root.iterdir()) == ['nn.py', 'q2.py', 'util.py'], \
        'only course files (and the course-given util.py) may reach the test run'
    assert sub.supplied == ['util.py']
    assert {'hw5/conftest.py', 'hw5/pytest.ini', 'hw5/sitecustomize.py', 'hw5/evil.pth'} <= set(sub.ignored)
    assert not any('__MACOSX' in name or 'DS_Store' in name for name in sub.ignored)
    assert (sub.root / 'nn.py').read_text() == NN


def test_flat_folder_and_same_checksum_as_zip(tmp_path, graded):
    folder = tmp_path / 'flat'
    folder.mkdir()
    (folder / 'nn.py').write_text(NN)
    (folder / 'q2.py').write_text(Q2)
    z = make_zip(tmp_path / 'flat.zip', {'nn.py': NN, 'q2.py': Q2})
    a, b = graded(folder), graded(z)
    assert a.files == b.files == ['nn.py', 'q2.py']
    assert a.checksum == b.checksum and len(a.checksum) == 64
    (folder / 'q2.py').write_text(Q2 + '# changed\n')
    assert graded(folder).checksum != a.checksum, 'the checksum must follow the content'


@pytest.mark.parametrize('entry', ['../nn.py', '/etc/nn.py', 'a/../../nn.py'])
def test_zip_slip_is_refused(tmp_path, entry):
    z = make_zip(tmp_path / 'slip.zip', {'nn.py': NN, entry: 'x'})
    with pytest.raises(SubmissionRefused, match='outside the archive'):
        prepare(z)


def test_size_bombs_are_refused(tmp_path, monkeypatch):
    z = tmp_path / 'bomb.zip'
    with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as zf:
        zf.writestr('nn.py', '#' * 3_000_000)          # compresses to a few kB
    monkeypatch.setattr(submission, 'MAX_TOTAL_BYTES', 1_000_000)
    with pytest.raises(SubmissionRefused, match='inflates to'):
        prepare(z)
    monkeypatch.setattr(submission, 'MAX_TOTAL_BYTES', 10_000_000)
    monkeypatch.setattr(submission, 'MAX_FILE_BYTES', 1_000_000)
    with pytest.raises(SubmissionRefused, match='nn.py is 2.9 MB'):
        prepare(z)


@pytest.mark.parametrize('members, why', [
    ({'readme.txt': 'hi'}, 'no course files found'),
    ({'a/nn.py': NN, 'b/q2.py': Q2}, 'several folders'),
])
def test_unusable_layouts_are_refused(tmp_path, members, why):
    with pytest.raises(SubmissionRefused, match=why):
        prepare(make_zip(tmp_path / 'x.zip', members))


def test_not_a_zip_and_missing_path(tmp_path):
    (tmp_path / 'x.zip').write_text('not a zip')
    with pytest.raises(SubmissionRefused, match='neither a folder nor a .zip'):
        prepare(tmp_path / 'x.zip')
    with pytest.raises(SubmissionRefused, match='no such file'):
        prepare(tmp_path / 'absent')


def test_syntax_error_is_reported_with_file_and_line(tmp_path, graded):
    sub = graded(make_zip(tmp_path / 's.zip', {'nn.py': NN, 'q2.py': Q2 + '\ndef broken(:\n    pass\n'}))
    assert sub.syntax_errors == {'q2.py': 'SyntaxError: invalid syntax (line 7); the file cannot be imported'}
    assert any(n.startswith('q2.py: SyntaxError') for n in sub.notes())


@pytest.mark.parametrize('code', ['import sklearn.svm', 'from cv2 import imread', 'import numpy, tqdm',
                                  "__import__('pandas')", "importlib.import_module('sklearn')",
                                  'from grader import impl', 'from grader.impl import reference_module'])
def test_forbidden_import_costs_the_questions_whose_files_import_it(tmp_path, graded, code):
    sub = graded(make_zip(tmp_path / 'f.zip', {'nn.py': NN, 'q2.py': f'{code}\n' + Q2}))
    assert [(v.file, v.line) for v in sub.violations] == [('q2.py', 1)], sub.violations
    assert 'does not allow' in str(sub.violations[0])
    assert sub.affected('2.4.1') and sub.affected('2.5.1'), 'q2.py holds Q2.4.1 and Q2.5.1'
    assert not sub.affected('2.2.2') and not sub.affected('2.3.1'), 'nn.py does not import q2.py'


def test_forbidden_import_in_nn_reaches_the_files_that_import_nn(tmp_path, graded):
    sub = graded(make_zip(tmp_path / 'f.zip', {'nn.py': 'import sklearn\n' + NN, 'q2.py': Q2}))
    assert sub.affected('2.2.2') and sub.affected('2.4.1'), 'q2.py imports nn.py, so both are affected'


@pytest.mark.parametrize('code', ['import numpy as np', 'from scipy.special import expit', 'import skimage.io',
                                  'import matplotlib.pyplot as plt', 'from mpl_toolkits.mplot3d import Axes3D',
                                  'import torch.nn as tnn', 'import torchvision', 'import os, sys, math',
                                  'from collections import defaultdict', 'from grader.datasets import nist36',
                                  'from grader import torch_data', 'from nn import *', 'import util'])
def test_allowed_imports_are_not_violations(tmp_path, graded, code):
    sub = graded(make_zip(tmp_path / 'ok.zip', {'nn.py': NN, 'q2.py': f'{code}\n' + Q2}))
    assert sub.violations == []


def test_module_of_question():
    assert [submission.module_of(q) for q in ('2.1.2', '2.2.2', '2.3.1', '2.4.1', '2.5.1', '4.2', '7.1.4')] == \
        ['nn', 'nn', 'nn', 'q2', 'q2', 'q4', 'q7']
