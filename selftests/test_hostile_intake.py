"""Hostile hand-ins against the intake (grader/submission.py), graded through the whole `grade` command:
links and special files in folder hand-ins, lying, encrypted, damaged and duplicate-entry zips, and
honest hand-ins with awkward ignored names. The cases are selftests/hostile/intake/*/expected.json.

Links, fifos and sockets are made here, at test time: git keeps no fifos, and the links point at
absolute paths of this machine (the checkout's reference/ and fixtures/hidden/, a root-only file,
/proc/self/environ)."""
import html
import json
import os
import re
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from grader import paths, report
from grader.grading import EXIT_REFUSED
from selftests import handins

INTAKE = Path(__file__).parent / 'hostile' / 'intake'
CASES = sorted(p.name for p in INTAKE.iterdir() if (p / 'expected.json').is_file())
BASE = ('util.py', 'nn.py', 'q2.py')
CANARY = f'intake-canary-{secrets.token_hex(8)}'   # in the grader's environment and the root-only file
PEAK_RSS_MB = 400   # `grade` refusing a zip stays far below this; the lying header took it to 2.1 GB
OUTPUTS = ('results.json', 'report.md', 'report.html')


def base_files():
    """The honest hand-in: the reference's util.py, nn.py and q2.py; nn.py with the leak of leak_nn.py."""
    files = {name: (paths.REFERENCE / name).read_bytes() for name in BASE}
    files['nn.py'] += (INTAKE / 'leak_nn.py').read_bytes()
    return files


def build(spec, dest, attack=True):
    """The hand-in ``spec`` describes, at ``dest`` (a folder, or dest.zip); with attack=False its honest
    twin: the same hand-in without the links, special files and extra names (a file a link replaced is
    left out)."""
    files = base_files() if spec.get('base', True) else {}
    for name in spec.get('links', {}):
        files.pop(name, None)
    extra = {n.encode('latin-1'): t.encode() for n, t in spec.get('extra', {}).items()} if attack else {}
    if spec['handin'] == 'zip':
        return build_zip(spec['zip'] if attack else 'honest', files, extra, dest.with_suffix('.zip'))
    folder = dest / spec['folder'] if 'folder' in spec else dest
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    if attack:
        for name, data in extra.items():
            path = os.path.join(os.fsencode(dest), name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(data)
        for name, target in spec.get('links', {}).items():
            os.symlink(target.format(checkout=paths.ROOT, root_only=root_only(dest.parent)), dest / name)
        for name in spec.get('fifos', ()):
            os.mkfifo(dest / name)
        for name in spec.get('sockets', ()):
            with socket.socket(socket.AF_UNIX) as s:
                s.bind(str(dest / name))
    return dest


def root_only(where):
    path = where / 'root-only.txt'
    if not path.exists():
        path.write_text(f'secret of root: {CANARY}\n')
        path.chmod(0o400)
    return path


def build_zip(kind, files, extra, dest):
    members = {name: handins.honest(name, data) for name, data in files.items()}
    if kind == 'lying-header':
        members['nn.py'] = handins.lying('nn.py', files['nn.py'].decode(), inflates_to=2 ** 30)
    elif kind == 'encrypted':
        members['nn.py'] = handins.encrypted('nn.py', files['nn.py'].decode())
    elif kind == 'bad-crc':
        members['nn.py'].crc ^= 0x5A5A5A5A
    order = list(members.values()) + [handins.honest(name, data) for name, data in extra.items()]
    if kind == 'duplicate':
        order.append(handins.honest('nn.py', (paths.STUDENT / 'nn.py').read_bytes()))
    handins.write_zip(dest, order)
    if kind == 'truncated':
        data = dest.read_bytes()
        dest.write_bytes(data[:len(data) // 2])
    return dest


def grade(handin, out, questions):
    """`python -m grader grade` on ``handin``, with CANARY in its environment: (exit code, stdout + stderr,
    the grade process's peak RSS in MB). A wrapper process runs it, so the peak is this run's alone."""
    wrapper = ('import resource, subprocess, sys\n'
               'code = subprocess.run(sys.argv[1:]).returncode\n'
               'print("peak-rss-kb", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n'
               'sys.exit(code)\n')
    proc = subprocess.run([sys.executable, '-c', wrapper, sys.executable, '-m', 'grader', 'grade', handin,
                           '--out', out, '--only', ','.join(questions)], cwd=paths.ROOT, capture_output=True,
                          timeout=600, env={**os.environ, 'NN_INTAKE_CANARY': CANARY})
    output = proc.stdout.decode('utf-8', 'replace') + proc.stderr.decode('utf-8', 'replace')
    peak = int(re.search(r'peak-rss-kb (\d+)', output).group(1)) / 1024
    return proc.returncode, output, peak


def strict_json(path):
    """results.json parsed from strict UTF-8, with every string checked to be valid Unicode text (no lone
    surrogates, which json.dumps writes as escapes and strict parsers reject)."""
    data = json.loads(path.read_bytes().decode('utf-8'))

    def strings(value):
        if isinstance(value, dict):
            for k, v in value.items():
                yield k
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
        elif isinstance(value, str):
            yield value
    for s in strings(data):
        s.encode('utf-8')
    return data


_twins = {}


@pytest.mark.parametrize('case', CASES)
def test_hostile_intake(case, tmp_path):
    expected = json.loads((INTAKE / case / 'expected.json').read_text())
    spec, questions = expected['build'], expected['questions']
    out = tmp_path / 'out'
    code, output, peak = grade(build(spec, tmp_path / 'handin'), out, questions)
    assert code == expected['exit'], (case, code, output[-3000:])
    data = strict_json(out / 'results.json')
    assert data['max_score'] == sum(t['max_score'] for t in data['tests']), data
    scores = data['extra_data']['questions']
    assert scores == pytest.approx(expected['scores'], abs=1e-3), (case, data['output'])
    assert re.search(expected['output'], data['output']), (case, data['output'])
    written = {name: (out / name).read_bytes().decode('utf-8') for name in OUTPUTS}
    assert '<h1>' in written['report.html'] and 'Traceback' not in output, (case, output[-3000:])
    for text in [output, *written.values()]:
        assert 'LEAKED' not in text and CANARY not in text, f'{case}: a linked file reached the feedback'
    if 'extra' in spec:   # the names are shown escaped in the reports too
        shown = re.search(r'Ignored \(not course files\): (.*)\.', data['output']).group(1)
        # as Markdown shows the text: its backslashes escaped (report._md_inline)
        assert report._md_inline(shown) in written['report.md'], written['report.md']
        assert html.escape(shown) in written['report.html']
    if spec['handin'] == 'zip':
        assert peak < PEAK_RSS_MB, f'{case}: grade peaked at {peak:.0f} MB'
    if expected.get('honest'):   # the same hand-in without the attack scores exactly the same
        key = (spec['handin'], spec.get('folder'), sorted(set(spec.get('links', {})) & set(BASE)))
        key = json.dumps(key)   # cases with the same twin grade it once
        if key not in _twins:
            honest_out = tmp_path / 'honest-out'
            code, output, _ = grade(build(spec, tmp_path / 'honest', attack=False), honest_out, questions)
            assert code == 0, output[-3000:]
            _twins[key] = strict_json(honest_out / 'results.json')['extra_data']['questions']
        assert scores == _twins[key], (case, scores, _twins[key])
    print(f"\n| {expected['attack']} | {scores} | exit {code} | grade peak RSS {peak:.0f} MB |")


def test_cases_cover_every_intake_class():
    """The corpus keeps one case per class the intake defends against (issue 10's list)."""
    specs = [json.loads((INTAKE / c / 'expected.json').read_text())['build'] for c in CASES]
    targets = {t for s in specs for t in s.get('links', {}).values()}
    assert {'{checkout}/reference/nn.py', '{root_only}', '/proc/self/environ', '{checkout}/reference'} <= targets
    assert any(t.startswith('{checkout}/fixtures/hidden/') for t in targets)
    assert {'lying-header', 'encrypted', 'bad-crc', 'duplicate'} <= {s.get('zip') for s in specs}
    assert any(s.get('fifos') for s in specs) and any(s.get('extra') and s['handin'] == 'zip' for s in specs)
    assert EXIT_REFUSED in {json.loads((INTAKE / c / 'expected.json').read_text())['exit'] for c in CASES}


def test_twin_builder_drops_only_the_attack(tmp_path):
    """The honest twin of a case is its hand-in minus the attack, so comparing scores means something."""
    spec = json.loads((INTAKE / 'special_files' / 'expected.json').read_text())['build']
    attack, twin = build(spec, tmp_path / 'a'), build(spec, tmp_path / 'b', attack=False)
    assert sorted(p.name for p in twin.iterdir()) == sorted(BASE)
    assert sorted(p.name for p in attack.iterdir()) == sorted(BASE + ('q6.py', 'q7.py'))
