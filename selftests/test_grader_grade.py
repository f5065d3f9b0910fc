"""The grader end to end: `grade` on real implementations (reference, broken variants, rule breakers),
its output formats, hidden-test secrecy, crash safety, determinism, agreement with a student's local
pytest, `batch` and `selfcheck`. Runs are limited to a few Q2 questions to stay fast."""
import csv
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace

import pytest

from grader import grading, paths, report, results, rubric, scoring, variants
from grader.commands import selfcheck
from grader.run import read_outcomes, run_tests
from selftests import handins
from selftests.workers import survivors, worker_log

BROKEN = ('softmax-no-shift', 'backwards-bias-axis', 'batches-with-replacement')
FEW = ['2.2.2', '2.3.1', '2.4.1']


def variant(name):
    return next(v for v in variants.CATALOGUE if v.name == name)


def make(tmp_path, name, files=None):
    """A hand-in folder: the reference with a catalogue variant's bug (or a plain copy), then ``files``
    ({name: text or None to delete}) applied on top."""
    dest = tmp_path / name
    if name in {v.name for v in variants.CATALOGUE}:
        variants.materialize(variant(name), dest)
    else:
        dest.mkdir(parents=True, exist_ok=True)
        for p in paths.REFERENCE.glob('*.py'):
            (dest / p.name).write_text(p.read_text())
    for fname, text in (files or {}).items():
        if text is None:
            (dest / fname).unlink()
        else:
            (dest / fname).write_text(text)
    return dest


def cli(*args, cwd=paths.ROOT):
    return subprocess.run([sys.executable, '-m', 'grader', *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def load(out):
    return json.loads((out / 'results.json').read_text())


def test_grade_reference_full_marks_and_every_format(tmp_path):
    out = tmp_path / 'out'
    proc = cli('grade', 'reference', '--out', out, '--only', '2.2.2,2.2.3', '--format',
               'gradescope,prairielearn,junit')
    assert proc.returncode == 0, proc.stderr
    assert '2.2.2' in proc.stdout and 'total' in proc.stdout, proc.stdout
    gs = load(out)
    assert (gs['score'], gs['max_score']) == (6.0, 6), gs['output']
    assert {'score', 'max_score', 'execution_time', 'output', 'tests'} <= set(gs)
    for t in gs['tests']:
        assert {'name', 'number', 'score', 'max_score', 'status', 'output', 'visibility'} <= set(t)
        assert t['status'] == 'passed'
    pl = json.loads((out / 'results-prairielearn.json').read_text())
    assert pl['gradable'] is True and pl['score'] == 1.0
    assert sum(t['max_points'] for t in pl['tests']) == pytest.approx(6)
    suites = ET.fromstring((out / 'junit.xml').read_text())
    assert suites.tag == 'testsuites' and not suites.findall('.//failure')
    counted = sum(int(re.match(r'(\d+) of (\d+)', t['output']).group(2)) for t in gs['tests'])
    assert len(suites.findall('.//testcase')) == counted > 10
    for name in ('report.md', 'report.html'):
        text = (out / name).read_text()
        assert '2.2.2' in text and 'softmax' in text


def test_max_score_always_adds_up_to_the_rubric():
    """Questions without tests, with hidden tests, with rule violations or after a crash: the entries'
    max_score adds up to the rubric's points for the questions asked."""
    outcomes = [
        {'nodeid': 't::a', 'question': '2.2.2', 'function': 'f::a', 'weight': 1.0, 'outcome': 'passed',
         'message': '', 'hidden': False},
        {'nodeid': 't::b[case0]', 'question': '2.2.2', 'function': 'f::b', 'weight': 2.0, 'outcome': 'failed',
         'message': 'expected 0.2010', 'hidden': False},
        {'nodeid': 't::b[hidden0]', 'question': '2.2.2', 'function': 'f::b', 'weight': 2.0, 'outcome': 'passed',
         'message': '', 'hidden': True},
        {'nodeid': 't::c', 'question': '2.4.1', 'function': 'f::c', 'weight': 1.0, 'outcome': 'passed',
         'message': '', 'hidden': False},
    ]
    everything = [q.id for q in rubric.QUESTIONS]
    for result in (results.build('x', everything, outcomes, violations={'2.4.1': ['no sklearn']}),
                   results.build('x', everything, outcomes, crashed_run='pytest died'),
                   results.failed('x', everything, 'internal')):
        assert sum(e.max_score for e in result.entries) == pytest.approx(90) == result.max_score
        assert result.score == pytest.approx(sum(r.score for r in result.rows.values()))
    r = results.build('x', everything, outcomes, violations={'2.4.1': ['no sklearn']})
    # 2.2.2: f::a (weight 1) passed; f::b (weight 2) half passed -> 3 * (1 + 1) / 3 = 2 points,
    # of which the hidden case is worth 3 * 1 / 3 = 1 point.
    vis, hid = [e for e in r.entries if e.qid == '2.2.2']
    assert (vis.score, vis.max_score, hid.score, hid.max_score) == (1.0, 2.0, 1.0, 1.0)
    assert hid.visibility == 'after_published' and vis.visibility == 'visible'
    assert r.rows['2.4.1'].score == 0 and 'no sklearn' in [e for e in r.entries if e.qid == '2.4.1'][0].output
    assert r.status['3.1.1'] == 'no tests yet'
    crashed = results.build('x', everything, outcomes, crashed_run='pytest died')
    assert crashed.status['3.1.1'] == 'not graded', 'the reason is said once, not in every row'


def test_a_row_run_only_on_optional_data_says_why_it_did_not_run(tmp_path):
    """4.3 runs only where the course's photos are: without them its row says so (in the results, the
    pytest table and the report), not 'no tests yet' as if the harness lacked them; a crashed run still
    says 'not graded'."""
    everything = [q.id for q in rubric.QUESTIONS]
    r = results.build('x', everything, [])
    assert r.status['4.3'] == 'not run: no photos' and r.status['4.2'] == 'no tests yet'
    assert results.build('x', everything, [], crashed_run='pytest died').status['4.3'] == 'not graded'
    assert 'not run: no photos' in scoring.table(scoring.score([], ['4.3', '4.2']))
    report.write(r, tmp_path)
    section = (tmp_path / 'report.md').read_text().split('## 4.3 ', 1)[1].split('## 4.4 ', 1)[0]
    assert 'Not run: no photos.' in section and 'Run only where the real photos are' in section, section


def test_hidden_feedback_reveals_no_expected_values(tmp_path):
    sub = make(tmp_path, 'softmax-wrong-axis')
    run = run_tests(sub, ['2.2.2'])
    hidden_failures = [o['message'] for o in run.outcomes if o['hidden'] and o['outcome'] == 'failed']
    assert hidden_failures, 'this variant must fail some hidden tests for the check to mean anything'
    # a hidden test may fail on the same explicit example as a visible one: that line is public anyway
    public = {line for o in run.outcomes if not o['hidden'] for line in o['message'].splitlines()}
    grading.grade(sub, tmp_path / 'out', ['2.2.2'], formats=list(results.FORMATS))
    written = ''.join((tmp_path / 'out' / f).read_text() for f in
                      ('results.json', 'results-prairielearn.json', 'junit.xml', 'report.md', 'report.html'))
    assert any(len(line) > 20 and line not in public for m in hidden_failures for line in m.splitlines())
    for message in hidden_failures:
        for line in message.splitlines():
            if len(line) > 20 and line not in public:
                assert line not in written and json.dumps(line)[1:-1] not in written, line
    hidden = [t for t in load(tmp_path / 'out')['tests'] if t['visibility'] == 'after_published']
    assert hidden and all(results.HIDDEN_ADVICE in t['output'] for t in hidden if t['status'] == 'failed')
    visible = [t for t in load(tmp_path / 'out')['tests'] if t['visibility'] == 'visible']
    assert any('Reproduce: pytest' in t['output'] for t in visible), 'visible tests teach'


def test_rule_breakers_lose_only_the_affected_questions(tmp_path):
    sub = make(tmp_path, 'rules', {'q2.py': 'import sklearn\n' + (paths.REFERENCE / 'q2.py').read_text()})
    out = tmp_path / 'out'
    proc = cli('grade', sub, '--out', out, '--only', '2.2.2,2.4.1,2.5.1')
    assert proc.returncode == 0, proc.stderr
    gs = load(out)
    points = gs['extra_data']['questions']
    assert points == {'2.2.2': 3.0, '2.4.1': 0.0, '2.5.1': 0.0}, points
    msg = next(t['output'] for t in gs['tests'] if t['number'] == '2.4.1')
    assert "q2.py line 1 imports 'sklearn'" in msg and 'does not allow' in msg


def test_missing_file_and_syntax_error_cost_only_their_questions(tmp_path):
    missing = make(tmp_path, 'missing', {'q2.py': None, 'util.py': None})
    r = grading.grade(missing, tmp_path / 'o1', FEW)
    # nn.py's questions keep full marks; 2.4.1 keeps only its get_random_batches tests (nn.py).
    assert [r.rows[q].score for q in FEW[:2]] == [3.0, 7.0] and 0 < r.rows['2.4.1'].score < 5
    assert 'q2.py is missing' in next(e.output for e in r.entries if e.qid == '2.4.1')
    assert any('util.py' in n for n in r.notes), 'the course-given util.py is supplied, and the report says so'
    broken = make(tmp_path, 'syntax', {'nn.py': (paths.REFERENCE / 'nn.py').read_text() + '\ndef f(:\n'})
    r = grading.grade(broken, tmp_path / 'o2', ['2.2.2'])
    assert r.rows['2.2.2'].score == 0
    assert any(n.startswith('nn.py: SyntaxError') and '(line ' in n for n in r.notes), r.notes


def test_a_crash_still_writes_a_valid_result(tmp_path, monkeypatch):
    def explode(*a, **k):
        raise RuntimeError('disk on fire')
    monkeypatch.setattr(grading, 'run_tests', explode)
    r = grading.grade(paths.REFERENCE, tmp_path / 'out', None)
    gs = load(tmp_path / 'out')
    assert gs['score'] == 0 and gs['max_score'] == 90 and 'disk on fire' in gs['output']
    assert sum(t['max_score'] for t in gs['tests']) == pytest.approx(90)
    assert r.error.startswith('internal grader error')


def test_a_run_stopped_at_its_time_limit_keeps_what_it_finished(tmp_path, monkeypatch):
    """softmax never returns: grading with a 25 s limit for the whole run stops it, yet writes a valid
    result that keeps the questions finished before the stop, and grades no question on a part of it. (It
    sleeps rather than spins: the run's limit is the same either way, and the CPU goes to the other tests;
    hostile/infinite_loop spins.)"""
    log, env = worker_log(tmp_path)
    monkeypatch.setenv(*next(iter(env.items())))
    sub = make(tmp_path, 'handin', {'nn.py': (paths.REFERENCE / 'nn.py').read_text() +
                                    '\n\ndef softmax(x):\n    import time\n    time.sleep(3600)\n'})
    r = grading.grade(sub, tmp_path / 'out', ['2.2.1', '2.2.2', '2.2.3'], timeout=25)
    data = load(tmp_path / 'out')
    assert data['max_score'] == 10 and data['score'] == r.score
    # test files run in name order: forward (2.2.1) and loss (2.2.3) finish before softmax (2.2.2) hangs
    assert (r.rows['2.2.1'].score, r.rows['2.2.3'].score) == (4, 3), r.status
    assert r.status['2.2.2'] == results.NOT_GRADED and any('exceeded its 25 s limit' in n for n in r.notes), \
        (r.status, r.notes)
    assert not r.rows['2.2.2'].tests, 'a question the run did not finish must not be graded on part of it'
    assert not survivors(log), 'the worker must die with the stopped test run'


def test_refused_handin_gives_a_result_and_its_own_exit_code(tmp_path):
    """A refused hand-in (here: zip-slip, at a path that is not UTF-8) is graded 0 with the reason, in a
    results.json that strict parsers read, and `grade` exits with EXIT_REFUSED."""
    z = os.fsdecode(os.path.join(os.fsencode(tmp_path), b'caf\xe9.zip'))
    with zipfile.ZipFile(z, 'w') as zf:
        zf.writestr('../nn.py', 'x')
    proc = cli('grade', z, '--out', tmp_path / 'out', '--only', '2')
    assert proc.returncode == grading.EXIT_REFUSED == 3, proc.stderr
    gs = json.loads((tmp_path / 'out' / 'results.json').read_bytes().decode('utf-8'))
    assert gs['score'] == 0 and gs['max_score'] == 28 and 'refused' in gs['output']
    assert 'caf\\xe9.zip' in (tmp_path / 'out' / 'report.html').read_text()


def test_an_unreadable_handin_is_a_refusal(tmp_path, monkeypatch):
    sub = make(tmp_path, 'handin')
    handins.unreadable(monkeypatch, 'q2.py')
    r = grading.grade(sub, tmp_path / 'out', ['2.2.2'])
    assert r.error == 'the hand-in was refused: q2.py cannot be read (Permission denied)'
    assert grading.exit_code(r) == grading.EXIT_REFUSED and load(tmp_path / 'out')['score'] == 0


def test_usage_errors_are_one_line(tmp_path):
    proc = cli('grade', '--only', '9.9', '--out', tmp_path)
    assert proc.returncode == 2 and 'unknown question' in proc.stderr and 'Traceback' not in proc.stderr
    proc = cli('grade', '--format', 'pdf', '--out', tmp_path)
    assert proc.returncode == 2 and 'unknown --format pdf' in proc.stderr
    proc = cli('grade', '--jobs', '0', '--out', tmp_path)
    assert proc.returncode == 2 and proc.stderr == 'grade: --jobs 0: give 1 (one part after the other) or 2 (side by side)\n'


@pytest.mark.parametrize('name', ['reference', *BROKEN])
def test_same_submission_same_score(tmp_path, name):
    impl = 'reference' if name == 'reference' else make(tmp_path, name)
    runs = [run_tests(impl, FEW) for _ in range(3)]
    assert len({r.total for r in runs}) == 1, [r.total for r in runs]
    assert len({tuple((o['nodeid'], o['outcome']) for o in r.outcomes) for r in runs}) == 1
    if name != 'reference':
        assert runs[0].total < sum(rubric.BY_ID[q].points for q in FEW)


def test_local_pytest_and_grader_agree_on_visible_tests(tmp_path):
    sub = make(tmp_path, 'softmax-no-shift')
    local = tmp_path / 'local.json'
    env = {k: v for k, v in os.environ.items() if k not in ('HYPOTHESIS_PROFILE', 'PYTHONHASHSEED')}
    subprocess.run([sys.executable, '-m', 'pytest', 'tests', f'--impl={sub}', '-m', 'q2', '-q',
                    '--results-json', str(local), '-p', 'no:cacheprovider'], cwd=paths.ROOT, env=env,
                   capture_output=True, timeout=600)
    mine = {o['nodeid']: o['outcome'] for o in read_outcomes(local) if not o['hidden']}
    r = grading.grade(sub, tmp_path / 'out', rubric.select('2'))
    graded = {o['nodeid']: o['outcome'] for e in r.entries for o in e.tests if not o['hidden']}
    assert mine == graded
    assert 'failed' in mine.values() and 'passed' in mine.values()


def test_batch_gradebook_keeps_every_run(tmp_path):
    folder = tmp_path / 'handins'
    folder.mkdir()
    make(folder, 'alice')
    make(folder, 'carol', {'q2.py': 'import sklearn\n' + (paths.REFERENCE / 'q2.py').read_text()})
    bob = make(tmp_path, 'softmax-no-shift')
    with zipfile.ZipFile(folder / 'bob.zip', 'w') as zf:
        for p in bob.glob('*.py'):
            zf.write(p, f'bob-hw/{p.name}')
    out = tmp_path / 'out'
    said = []   # what both runs printed: a hand-in not graded is named there with the reason
    for _ in range(2):
        proc = cli('batch', folder, '--jobs', 2, '--out', out, '--only', '2.2.2,2.4.1')
        assert proc.returncode == 0, proc.stderr
        said.append(proc.stdout)
    assert '3/3' in proc.stderr, 'a progress bar on stderr'
    with open(out / 'gradebook.csv') as f:
        rows = {r['submission']: r for r in csv.DictReader(f)}
    assert {n: float(r['score']) for n, r in rows.items()} == {'alice': 8.0, 'bob': 5.0 + float(rows['bob']['2.2.2']),
                                                               'carol': 3.0}
    assert float(rows['bob']['2.2.2']) < 3
    with sqlite3.connect(out / 'gradebook.sqlite') as db:
        runs = db.execute('SELECT submission, harness, checksum, graded_at, error FROM runs').fetchall()
    assert len(runs) == 6 and all(h and len(c) == 64 and t and not e for _, h, c, t, e in runs), (runs, said)
    assert (out / 'histogram.png').stat().st_size > 1000
    with open(out / 'pass_rates.csv') as f:
        rates = {r['question']: float(r['all_passed_share']) for r in csv.DictReader(f)}
    assert rates == {'2.2.2': pytest.approx(2 / 3, abs=1e-3), '2.4.1': pytest.approx(2 / 3, abs=1e-3)}
    assert (out / 'bob' / 'results.json').is_file()


def test_selfcheck_verdicts(tmp_path):
    wrong_claim = variants.Variant('claims-wrong-question', 'softmax bug declared as a sigmoid bug',
                                   patches=variant('softmax-no-shift').patches, loses=('2.2.1',))
    catalogue = [variant('softmax-no-shift'), variant('sigmoid-expit'), wrong_claim]
    rows = selfcheck.checks(['2.2.1', '2.2.2'], catalogue, jobs=2)
    verdicts = {r[0]: r[3] for r in rows}
    assert verdicts == {'rubric total': True, 'reference': True, 'stubs (student/)': True,
                        'variant softmax-no-shift': True, 'variant sigmoid-expit': True,
                        'variant claims-wrong-question': False}, selfcheck.render(rows)
    assert 'FAIL' in selfcheck.render(rows)


def test_a_mistyped_handin_path_is_a_usage_error_that_writes_nothing(tmp_path):
    out = tmp_path / 'out'
    proc = cli('grade', tmp_path / 'handin.zp', '--out', out, '--only', '2.2.2')
    assert proc.returncode == 2 and 'handin.zp: no such file or folder' in proc.stderr, proc.stderr
    assert 'Traceback' not in proc.stderr and not out.exists(), 'nothing graded, nothing written'


def test_grade_data_dir_reaches_the_tests(tmp_path):
    """--data-dir points the test run at the real data: photos there are what 4.3 measures."""
    from grader.datasets import location, pages
    images = tmp_path / 'data' / 'images'
    images.mkdir(parents=True)
    shipped = location.generated(pages.NAME)
    (images / 'page_06.jpg').write_bytes((shipped / 'page_06.jpg').read_bytes())
    lines = json.loads((shipped / 'truth.json').read_text())['page_06.jpg']['lines']
    (images / 'truth.json').write_text(json.dumps({'page_06.jpg': lines}))
    proc = cli('grade', 'reference', '--out', tmp_path / 'out', '--only', '4.3', '--data-dir', tmp_path / 'data')
    assert proc.returncode == 0, proc.stderr
    (entry,) = load(tmp_path / 'out')['tests']
    assert entry['status'] == 'passed' and 'page_06.jpg]: char_accuracy' in entry['output'], entry['output'][:800]
    proc = cli('grade', 'reference', '--out', tmp_path / 'o2', '--data-dir', tmp_path / 'nowhere')
    assert proc.returncode == 2 and '--data-dir' in proc.stderr and not (tmp_path / 'o2').exists()


def test_damaged_course_data_is_the_staffs_error_not_the_students(tmp_path, monkeypatch):
    """A damaged file in the data folder: grading a question that reads it runs no test (its failures would
    read as the hand-in's), exits 1 and writes a valid result naming the file; a question that does not read
    it is graded as usual. Tests run directly on damaged MNIST / EMNIST say which file, not torchvision's
    reshape error."""
    import gzip

    from grader import torch_data
    from grader.datasets import info, location, torchvision_sets
    data = tmp_path / 'data'
    data.mkdir()
    for split in ('train', 'valid', 'test'):
        (data / f'nist36_{split}.mat').write_bytes(b'not a mat file')
    raw = data / 'EMNIST' / 'raw'
    raw.mkdir(parents=True)
    for gz in (location.generated('EMNIST') / 'raw').glob('*.gz'):
        (raw / gz.stem).write_bytes(gzip.decompress(gz.read_bytes())[:1000])   # cut short
    proc = cli('grade', 'reference', '--out', tmp_path / 'out', '--only', '3.1.1,7.1.4', '--data-dir', data)
    assert proc.returncode == grading.EXIT_INTERNAL and 'Traceback' not in proc.stderr, proc.stderr
    result = load(tmp_path / 'out')
    assert result['score'] == 0 and "the grader's data is damaged, so no test was run" in result['output']
    for name in ('nist36_train.mat', 'not a readable .mat file', 'emnist-balanced-train-images-idx3-ubyte'):
        assert name in result['output'], result['output'][:800]
    assert all(t['status'] != 'passed' for t in result['tests'])
    proc = cli('grade', 'reference', '--out', tmp_path / 'o2', '--only', '2.2.2', '--data-dir', data)
    assert proc.returncode == 0 and load(tmp_path / 'o2')['score'] == 3, proc.stderr
    handins = tmp_path / 'handins'
    make(handins, 'one')
    proc = cli('batch', handins, '--out', tmp_path / 'b', '--only', '7.1.4', '--data-dir', data)
    assert proc.returncode == grading.EXIT_INTERNAL and 'nothing was graded' in proc.stderr, proc.stderr
    assert 'emnist-balanced-train-images-idx3-ubyte' in proc.stderr and not (tmp_path / 'b').exists()
    proc = subprocess.run([sys.executable, '-m', 'grader', 'selfcheck', '--only', '7.1.4'], cwd=paths.ROOT,
                          capture_output=True, text=True, timeout=600, env={**os.environ, location.ENV_DATA: str(data)})
    assert proc.returncode == 1 and 'nothing was checked' in proc.stderr and 'emnist-balanced' in proc.stderr, proc.stderr
    # every set a question names is one the check knows
    assert {d for q in rubric.QUESTIONS for d in q.data} <= set(info.SETS) | {info.REAL_PAGES}
    monkeypatch.setenv(location.ENV_DATA, str(data))
    with pytest.raises(torchvision_sets.DataError, match='emnist-balanced-train-images-idx3-ubyte: header says'):
        torch_data.mnist_like.__wrapped__('EMNIST', True)


def test_a_damaged_fixture_stops_grading_before_any_test(tmp_path, monkeypatch):
    """A stored fixture that no longer matches its manifest (a damaged bundle) would fail every hand-in on
    the tests that read it: grading runs none and says which file."""
    import shutil
    copy = tmp_path / 'fixtures'
    shutil.copytree(paths.FIXTURES, copy, ignore=shutil.ignore_patterns('data'))
    with open(copy / 'q2' / 'softmax.npz', 'ab') as f:
        f.write(b'\0')
    monkeypatch.setattr(paths, 'FIXTURES', copy)
    monkeypatch.setattr(paths, 'HIDDEN_FIXTURES', copy / 'hidden')
    result = grading.grade('reference', tmp_path / 'out', ['2.2.2'])
    assert grading.exit_code(result) == grading.EXIT_INTERNAL and result.score == 0
    assert "the grader's data is damaged" in result.error and 'softmax.npz: checksum differs' in result.error
    assert load(tmp_path / 'out')['score'] == 0


def test_fail_under_sets_the_exit_code_not_the_grade(tmp_path):
    """tox -e grade asks for --fail-under full, so tox reports a partial grade as a failure instead of
    'congratulations'; the result files are the same either way."""
    sub = make(tmp_path, 'softmax-no-shift')
    proc = cli('grade', sub, '--out', f'{tmp_path}/out/', '--only', '2.2.2', '--fail-under', 'full')
    assert proc.returncode == 4 and 'below --fail-under 3' in proc.stderr, (proc.returncode, proc.stderr)
    assert f'results and reports in {tmp_path}/out/ (' in proc.stdout and '//' not in proc.stdout
    assert load(tmp_path / 'out')['score'] < 3
    proc = cli('grade', 'reference', '--out', tmp_path / 'o2', '--only', '2.2.2', '--fail-under', 'full')
    assert proc.returncode == 0, proc.stderr
    proc = cli('grade', 'reference', '--out', tmp_path / 'o3', '--only', '2.2.2', '--fail-under', 'most')
    assert proc.returncode == 2 and "'full'" in proc.stderr


def test_help_summaries_are_whole_sentences():
    proc = cli('--help')
    assert proc.returncode == 0
    listing = proc.stdout.split('COMMAND', 2)[-1]
    summaries = re.findall(r'^    (\S+)\s+(.+?)(?=^    \S|\Z)', listing.split('options:')[0], re.M | re.S)
    assert len(summaries) >= 8, listing
    for name, text in summaries:
        text = ' '.join(text.split())
        assert text.endswith('.'), f'{name}: {text!r} is cut mid-sentence'
    from grader.__main__ import first_sentence
    assert first_sentence('Grade a hand-in (a .zip,\nor a folder) and\nwrite it. More.') == \
        'Grade a hand-in (a .zip, or a folder) and write it.'


def test_readme_commands_leave_nothing_untracked():
    """What the README's commands write (grading-output/, autograder.zip, release/, batch-output/, the
    PrairieLearn folder, tox's environments) is ignored by git."""
    for path in ('grading-output/results.json', 'autograder.zip', 'release/README.md', 'rel/README.md',
                 'batch-output/gradebook.csv', 'prairielearn/image/Dockerfile', '.tox/harness/bin/python',
                 '.tox/harness.lock'):
        proc = subprocess.run(['git', 'check-ignore', '-q', '--no-index', path], cwd=paths.ROOT)
        assert proc.returncode == 0, f'{path} would be left untracked'


def test_data_info_counts_files_and_gives_every_set_a_checksum():
    proc = cli('data', '--info')
    assert proc.returncode == 0, proc.stderr
    assert '(1 files' not in proc.stdout and re.search(r'^nist36 .*\(1 file, ', proc.stdout, re.M), proc.stdout
    block = proc.stdout.split('\nflowers17', 1)[1].split('\n')
    shown = re.search(r'sha256 ([0-9a-f]{64})  \(all (\d+) files', block[1])
    assert shown, block[:2]
    # the same digest `sha256sum` gives, computed here independently from the files
    folder = paths.FIXTURES / 'data' / 'flowers17'
    listed = json.loads((folder / 'manifest.json').read_text())['files']
    lines = ''.join(f"{hashlib.sha256((folder / rel).read_bytes()).hexdigest()}  {rel}\n" for rel in sorted(listed))
    assert shown.group(1) == hashlib.sha256(lines.encode()).hexdigest() and int(shown.group(2)) == len(listed)


def test_notes_of_a_crashed_run_name_no_hidden_case(tmp_path, monkeypatch):
    """pytest's last lines, shown when a run ends abnormally, go into the text every student sees at once."""
    from grader.run import RunResult
    output = ('FAILED tests/test_q2_2_softmax.py::test_softmax_fixture[hidden0-4x2] - expected 0.1234\n'
              'FAILED tests/test_q2_2_softmax.py::test_softmax_values - softmax raised\nINTERNALERROR> boom')
    monkeypatch.setattr(grading, 'run_tests', lambda *a, **k: RunResult('x', ['2.2.2'], [], {}, 3, output))
    r = grading.grade(paths.REFERENCE, tmp_path / 'out', ['2.2.2'])
    shown = load(tmp_path / 'out')['output']
    assert 'INTERNALERROR> boom' in shown and 'test_softmax_values' in shown, shown
    assert 'hidden0' not in shown and '0.1234' not in shown and r.rows['2.2.2'].score == 0


def test_the_parts_side_by_side_grade_as_one_run(tmp_path):
    """--jobs 2 runs the NumPy and the PyTorch part in two pytest processes at once: the same tests, the
    same verdicts and the same result files as one run (here with a failing and a passing question)."""
    sub = make(tmp_path, 'softmax-no-shift')
    asked = ['2.2.2', '7.1.1']
    files = {}
    for jobs in (1, 2):
        r = grading.grade(sub, tmp_path / f'out{jobs}', asked, jobs=jobs)
        assert r.rows['2.2.2'].score < 3 and r.rows['7.1.1'].score == 5, (jobs, r.status)
        files[jobs] = load(tmp_path / f'out{jobs}')
        for data in files[jobs]['tests']:   # what a test measured about time differs from run to run
            data['output'] = re.sub(r'training_seconds [\d.]+', '', data['output'])
        files[jobs].pop('execution_time')
    assert files[1] == files[2]


def test_a_merged_run_keeps_an_abnormal_exit_and_ends_with_its_output():
    from grader.run import RunResult, _merged
    passed = {'question': '2.2.2', 'nodeid': 'a', 'function': 'a', 'weight': 1, 'outcome': 'passed'}
    numpy_part = RunResult('x', ['2.2.2'], [passed], {}, 1, 'numpy part', collected={'2.2.2': 1})
    torch_part = RunResult('x', ['7.1.1'], [], {}, 3, 'torch part\nINTERNALERROR', collected={'7.1.1': 2},
                           violations=[{'file': 'q7.py'}])
    run = _merged('x', ['2.2.2', '7.1.1'], [torch_part, numpy_part])
    assert run.returncode == 3 and run.output.endswith('INTERNALERROR') and not run.timed_out
    assert run.collected == {'2.2.2': 1, '7.1.1': 2} and run.violations == [{'file': 'q7.py'}]
    assert [o['nodeid'] for o in run.outcomes] == ['a'] and run.rows['2.2.2'].score == 3
    codes = [_merged('x', [], [replace(numpy_part, returncode=a), replace(torch_part, returncode=b)]).returncode
             for a, b in ((0, 5), (5, 5), (0, 1), (None, 0))]
    assert codes == [0, 5, 1, None]
    assert _merged('x', [], [numpy_part, replace(torch_part, timed_out=True)]).timed_out


def test_only_parts_that_share_no_piece_run_side_by_side(monkeypatch):
    from grader import run
    asked = ['1', '2.3.1', '7.1.2', '3.1.1', '7.1.1']
    assert rubric.independent_parts(asked) == [['1', '2.3.1', '3.1.1'], ['7.1.2', '7.1.1']]
    assert rubric.independent_parts(['7.1.1']) == [['7.1.1']]
    crossing = rubric.Question('7.9', 1, 'a CNN on the NumPy backwards', uses=('backwards',))
    assert rubric._crossing([*rubric.QUESTIONS, crossing]) == [('7.9', 'backwards')]
    monkeypatch.setattr(run, 'available_mb', lambda: 64_000)
    monkeypatch.setattr(run, 'available_cpus', lambda: 2)
    assert run.side_by_side_jobs() == 2
    monkeypatch.setattr(run, 'available_cpus', lambda: 1)
    assert run.side_by_side_jobs() == 1, 'one CPU: the parts take turns'
    monkeypatch.setattr(run, 'available_cpus', lambda: 2)
    monkeypatch.setattr(run, 'available_mb', lambda: 6_000)
    assert run.side_by_side_jobs() == 1, 'memory for one run at its limits only: the parts take turns'


def test_side_by_side_counts_the_worker_memory_the_run_will_use(monkeypatch):
    """An instructor who raises the worker's memory cap (--worker-limits or NN_WORKER_LIMITS) needs room
    for two runs at that cap before the parts run side by side."""
    from grader import run
    monkeypatch.setattr(run, 'available_cpus', lambda: 2)
    monkeypatch.setattr(run, 'available_mb', lambda: 20_000)   # two runs at the default 4000 MB fit
    monkeypatch.delenv('NN_WORKER_LIMITS', raising=False)
    assert run.side_by_side_jobs() == 2
    assert run.side_by_side_jobs(['--worker-limits=wall=90,memory_mb=9000']) == 1
    assert run.side_by_side_jobs(['--worker-limits', 'memory_mb=9000']) == 1
    monkeypatch.setenv('NN_WORKER_LIMITS', 'memory_mb=9000')
    assert run.side_by_side_jobs() == 1, 'the environment sets the cap when no argument does'
    assert run.side_by_side_jobs(['--worker-limits=memory_mb=3000']) == 2, 'an argument overrides the environment'
    assert run.side_by_side_jobs(['--worker-limits=memory_mb=lots']) == 1, 'malformed: one run, pytest says why'


@pytest.mark.parametrize('cpu_max, cpus', [('max 100000\n', 4), ('150000 100000\n', 1), ('200000 100000\n', 2),
                                           (None, 4)])
def test_a_cpu_quota_caps_the_cpus_a_grading_counts_on(monkeypatch, cpu_max, cpus):
    from grader import run
    monkeypatch.setattr(run.os, 'sched_getaffinity', lambda pid: {0, 1, 2, 3})
    real = run.Path.read_text

    def read_text(path, *args, **kwargs):
        if str(path) != '/sys/fs/cgroup/cpu.max':
            return real(path, *args, **kwargs)
        if cpu_max is None:
            raise FileNotFoundError(path)
        return cpu_max
    monkeypatch.setattr(run.Path, 'read_text', read_text)
    assert run.available_cpus() == cpus
