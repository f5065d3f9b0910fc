"""Unpacking and scanning hand-ins (grader/submission.py): layouts, junk, unsafe archives, links and
special files, damaged and lying archives, odd names, syntax errors and forbidden imports, without
running any submitted code."""
import dataclasses
import json
import os
import signal
import socket
import stat
import tracemalloc
import types
import zipfile

import pytest

from grader import paths, submission
from grader.submission import SubmissionRefused, prepare
from selftests import handins

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


# ---- folders: lstat, follow nothing ----------------------------------------------------------------

def folder(tmp_path, files, name='handin'):
    dest = tmp_path / name
    dest.mkdir()
    for fname, text in files.items():
        (dest / fname).parent.mkdir(parents=True, exist_ok=True)
        (dest / fname).write_text(text)
    return dest


def test_links_in_a_folder_are_named_and_never_followed(tmp_path, graded):
    """A linked course file is not read (it would be read as root, before any sandbox), a linked folder
    is not entered, and the report names both."""
    secret = tmp_path / 'secret.py'
    secret.write_text('SECRET = 1\n')
    d = folder(tmp_path, {'hw5/q2.py': Q2})
    (d / 'hw5' / 'nn.py').symlink_to(paths.REFERENCE / 'nn.py')
    (d / 'hw5' / 'q3.py').symlink_to(secret)
    (d / 'hw5' / 'q4.py').symlink_to('q2.py')            # relative, inside the hand-in: still a link
    (d / 'old').symlink_to(paths.REFERENCE)              # walked, it would add a second folder of course files
    (d / 'hw5' / 'loop').symlink_to('..')
    sub = graded(d)
    assert sub.files == ['q2.py'] and sorted(p.name for p in sub.root.iterdir()) == ['q2.py', 'util.py']
    assert sub.skipped == ['hw5/loop (a symbolic link)', 'hw5/nn.py (a symbolic link)',
                           'hw5/q3.py (a symbolic link)', 'hw5/q4.py (a symbolic link)', 'old (a symbolic link)']
    assert any(n.startswith('Not read (links and special files are never followed): hw5/loop') for n in sub.notes())


def test_a_folder_of_links_only_is_refused_with_the_links_named(tmp_path):
    d = tmp_path / 'handin'
    d.mkdir()
    (d / 'hw5').symlink_to(paths.REFERENCE)
    with pytest.raises(SubmissionRefused, match=r'no course files found .*; not read: hw5 \(a symbolic link\)'):
        prepare(d)


def test_special_files_are_named_and_never_opened(tmp_path, graded):
    """A fifo would block the grader forever if opened; a device (root only: /dev/zero's numbers) would
    pour bytes. Both are listed by lstat and never opened."""
    d = folder(tmp_path, {'nn.py': NN})
    os.mkfifo(d / 'q2.py')
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(d / 'q3.py'))
    if os.geteuid() == 0:
        os.mknod(d / 'q4.py', stat.S_IFCHR | 0o600, os.makedev(1, 5))
    signal.signal(signal.SIGALRM, lambda *a: pytest.fail('the intake blocked on a special file'))
    signal.alarm(20)
    try:
        sub = graded(d)
    finally:
        signal.alarm(0)
    assert sub.files == ['nn.py']
    assert sub.skipped[:2] == ['q2.py (a fifo)', 'q3.py (a socket)']
    assert sub.skipped[2:] == (['q4.py (a device)'] if os.geteuid() == 0 else [])


@pytest.mark.parametrize('swap', ['link', 'fifo', 'folder-link'])
def test_a_file_swapped_after_the_listing_is_not_read(tmp_path, graded, monkeypatch, swap):
    """Between the listing and the read, nn.py (or the folder it is in) becomes a link or a fifo: the read
    opens without following links and checks what it opened, so nothing outside the hand-in is read."""
    d = folder(tmp_path, {'hw5/nn.py': NN, 'hw5/q2.py': Q2})
    listed = submission._folder

    def listing_then_swap(source, stack):
        entries = listed(source, stack)
        if swap == 'folder-link':
            (d / 'hw5').rename(d / 'hw5-real')
            (d / 'hw5').symlink_to(paths.REFERENCE)
        else:
            (d / 'hw5' / 'nn.py').unlink()
            if swap == 'link':
                (d / 'hw5' / 'nn.py').symlink_to(paths.REFERENCE / 'nn.py')
            else:
                os.mkfifo(d / 'hw5' / 'nn.py')
        return entries
    monkeypatch.setattr(submission, '_folder', listing_then_swap)
    sub = graded(d)
    if swap == 'folder-link':
        assert sub.skipped == ['hw5 (a symbolic link)'] and sub.files == []
    else:
        assert sub.skipped == [f"hw5/nn.py ({'a fifo' if swap == 'fifo' else 'a symbolic link'})"]
        assert sub.files == ['q2.py']
    assert (paths.REFERENCE / 'nn.py').read_bytes() not in [p.read_bytes() for p in sub.root.iterdir()]


def test_an_unreadable_course_file_refuses_the_handin(tmp_path, monkeypatch):
    d = folder(tmp_path, {'nn.py': NN, 'q2.py': Q2})
    handins.unreadable(monkeypatch, 'nn.py')
    with pytest.raises(SubmissionRefused, match=r'^nn\.py cannot be read \(Permission denied\)$'):
        prepare(d)


def test_a_course_file_over_the_size_limit_is_refused_by_its_real_size(tmp_path, monkeypatch):
    d = folder(tmp_path, {'nn.py': NN + '#' * 3_000_000})
    monkeypatch.setattr(submission, 'MAX_FILE_BYTES', 1_000_000)
    with pytest.raises(SubmissionRefused, match='nn.py is 2.9 MB'):
        prepare(d)


def test_names_of_any_kind_are_shown_escaped_and_refuse_nothing(tmp_path, graded):
    d = folder(tmp_path, {'nn.py': NN, 'Screenshot 10:30:00.png': 'png', 'C:/x.txt': 'drive?'})
    for raw in (b'caf\xe9.txt', b'a\nb.txt', b'\x1b[31mred.txt'):
        with open(os.path.join(os.fsencode(d), raw), 'wb') as f:
            f.write(b'x')
    sub = graded(d)
    assert sub.files == ['nn.py']
    assert sub.ignored == ['\\x1b[31mred.txt', 'C:/x.txt', 'Screenshot 10:30:00.png', 'a\\nb.txt', 'caf\\xe9.txt']
    json.dumps(sub.notes(), ensure_ascii=False).encode('utf-8')   # valid text: no lone surrogates


def test_shown():
    assert submission.shown('plain name.py') == 'plain name.py'
    assert submission.shown(os.fsdecode(b'caf\xe9')) == submission.shown(b'caf\xe9') == 'caf\\xe9'
    assert submission.shown('café\u2028\t') == 'café\\u2028\\t'
    assert submission.shown('\ud800') == '\\ud800'   # a lone surrogate that is no escaped byte


# ---- zips: inflate as a stream, trust no header -----------------------------------------------------

def test_a_zip_member_inflating_past_its_header_is_stopped_at_the_claim(tmp_path):
    """nn.py's headers claim 60 bytes (with their CRC); its data inflates to 256 MB. zipfile.read would
    inflate all of it before checking; the intake stops a chunk past the claim."""
    z = handins.write_zip(tmp_path / 'liar.zip', [handins.lying('nn.py', NN, inflates_to=2 ** 28)])
    tracemalloc.start()
    try:
        with pytest.raises(SubmissionRefused, match=f'nn.py inflates to more than the {len(NN)} bytes its header'):
            prepare(z)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2 ** 20, f'{peak / 2 ** 20:.0f} MB were allocated reading a 60-byte member'


@pytest.mark.parametrize('member, why', [
    (handins.encrypted('nn.py', NN), r'password-protected \(nn.py is encrypted\)'),
    (dataclasses.replace(handins.honest('nn.py', NN), crc=1), 'nn.py fails its CRC check'),
    (dataclasses.replace(handins.honest('nn.py', NN), size=len(NN) + 5),
     f'nn.py inflates to {len(NN)} bytes where its header declares {len(NN) + 5}'),
    (dataclasses.replace(handins.honest('nn.py', NN), data=handins.honest('nn.py', NN).data[:-6]),
     'nn.py cannot be inflated'),
    (dataclasses.replace(handins.honest('nn.py', NN), method=14), 'compressed with a method the grader does not'),
], ids=['encrypted', 'bad-crc', 'short', 'cut-stream', 'lzma'])
def test_damaged_and_encrypted_zips_get_a_specific_refusal(tmp_path, member, why):
    z = handins.write_zip(tmp_path / 'bad.zip', [handins.honest('q2.py', Q2), member])
    with pytest.raises(SubmissionRefused, match=why):
        prepare(z)


def test_zip_reads_stored_deflated_and_bzip2_members(tmp_path, graded):
    z = tmp_path / 'methods.zip'
    with zipfile.ZipFile(z, 'w') as zf:
        zf.writestr('nn.py', NN, zipfile.ZIP_STORED)
        zf.writestr('q2.py', Q2 * 2000, zipfile.ZIP_BZIP2)    # several chunks inflated
        zf.writestr('q3.py', Q2 * 2000, zipfile.ZIP_DEFLATED)
    sub = graded(z)
    assert [(sub.root / f).read_text() for f in ('nn.py', 'q2.py', 'q3.py')] == [NN, Q2 * 2000, Q2 * 2000]


def test_a_truncated_archive_and_a_duplicate_entry_are_refused(tmp_path):
    z = make_zip(tmp_path / 'cut.zip', {'nn.py': NN, 'q2.py': Q2})
    z.write_bytes(z.read_bytes()[:150])
    with pytest.raises(SubmissionRefused, match='damaged or cut short'):
        prepare(z)
    z = handins.write_zip(tmp_path / 'dup.zip', [handins.honest('hw/nn.py', NN), handins.honest('hw/q2.py', Q2),
                                                  handins.honest('hw/./nn.py', 'def softmax(x):\n    return 0\n')])
    with pytest.raises(SubmissionRefused, match='the archive holds hw/nn.py twice'):
        prepare(z)


def test_zip_links_and_odd_names(tmp_path, graded):
    """A symlink entry (as `zip -y` stores it) is named and not written; a colon or a cp437 byte in an
    ignored name costs nothing; a name flagged UTF-8 that is not is a damaged archive."""
    link = dataclasses.replace(handins.honest('q3.py', '../reference/q3.py'), mode=0o120777)
    z = handins.write_zip(tmp_path / 'z.zip', [handins.honest('nn.py', NN), link,
                                                handins.honest('Screenshot 10:30:00.png', 'png'),
                                                handins.honest(b'caf\xe9.txt', 'x')])
    sub = graded(z)
    assert sub.files == ['nn.py'] and sub.skipped == ['q3.py (a symbolic link)']
    assert sub.ignored == ['Screenshot 10:30:00.png', 'caf\u0398.txt']
    bad = dataclasses.replace(handins.honest(b'caf\xe9.txt', 'x'), flags=handins.UTF8)
    with pytest.raises(SubmissionRefused, match='marked as UTF-8 but is not'):
        prepare(handins.write_zip(tmp_path / 'bad.zip', [handins.honest('nn.py', NN), bad]))


# ---- hand-ins made for the course's original scripts ------------------------------------------------

def test_a_handin_for_the_course_scripts_gets_one_note(tmp_path, graded):
    d = folder(tmp_path, {'nn.py': NN, 'q4.py': 'def findLetters(image):\n    return [], image\n',
                          'run_q2.py': 'from nn import *\n', 'run_q4.py': 'from q4 import *\n',
                          'run_q7_1_1.py': 'import torch\n'})
    notes = graded(d).notes()
    course = [n for n in notes if 'original run scripts' in n]
    assert len(course) == 1 and 'nn.py, q2.py' in course[0] and "only nn.py (Q2.1-2.3) and q4.py's findLetters" \
        in course[0], notes
    assert not any(n.startswith('Not handed in: ') for n in notes), 'one note, not two'


def test_a_missing_function_says_whose_api_it_is():
    """The course never had q4.group_lines: its absence is not 'expected by the course API'."""
    from grader.worker.loader import ModuleView
    q4 = ModuleView('q4', types.SimpleNamespace(), None)
    nn = ModuleView('nn', types.SimpleNamespace(), None)
    assert "added to the course's files by this harness" in q4.group_lines.missing
    assert 'course API' not in q4.group_lines.missing
    assert 'expected by the course API' in q4.findLetters.missing and 'student/q4.py' in q4.findLetters.missing
    assert 'expected by the course API' in nn.softmax.missing
