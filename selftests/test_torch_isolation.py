"""Students who have not reached Q7 do not pay for PyTorch: running the NumPy questions, with the Q7 test
files collected alongside, never imports torch. A control run of one Q7 test shows the probe does see
torch when it is imported."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from grader import paths

PROBE = textwrap.dedent('''
    import json, os, sys
    COLLECTED = []
    def pytest_collectreport(report):
        COLLECTED.append(report.nodeid)
    def pytest_sessionfinish(session):
        loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision'))
        with open(os.environ['TORCH_PROBE_OUT'], 'w') as f:
            json.dump({'torch_modules': loaded, 'collected': COLLECTED}, f)
''')


def _run(tmp_path, *args):
    (tmp_path / 'torch_probe.py').write_text(PROBE)
    out = tmp_path / 'probe.json'
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(tmp_path), str(paths.ROOT)]),
           'TORCH_PROBE_OUT': str(out), 'HYPOTHESIS_PROFILE': 'grading'}
    proc = subprocess.run([sys.executable, '-m', 'pytest', '-p', 'torch_probe', '-p', 'no:cacheprovider',
                           '--impl=reference', '-q', '--no-score', *args],
                          cwd=paths.ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.is_file(), f'the probe wrote nothing; pytest said:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}'
    return json.loads(out.read_text()), proc


def test_numpy_questions_never_import_torch(tmp_path):
    probe, proc = _run(tmp_path, str(paths.TESTS), '-m', 'q2')
    q7_files = [n for n in probe['collected'] if os.path.basename(n).startswith('test_q7_')]
    assert q7_files, f'the Q7 test files were not collected, so this proves nothing: {probe["collected"]}'
    assert proc.returncode == 0, f'pytest -m q2 --impl reference failed:\n{proc.stdout[-3000:]}'
    assert not probe['torch_modules'], (
        f'pytest -m q2 imported {probe["torch_modules"][:5]}: a module collected with the NumPy questions '
        f'imports torch at module level (import it inside Q7 fixtures or tests instead)')


@pytest.mark.slow
def test_probe_sees_torch_when_q7_runs(tmp_path):
    probe, proc = _run(tmp_path, str(paths.TESTS / 'test_q7_1_1_mlp.py'), '-k', 'architecture')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'torch' in probe['torch_modules'], f'the probe missed torch: {probe["torch_modules"][:5]}'


@pytest.mark.slow
def test_q7_graded_in_the_worker_matches_direct_mode():
    """When grading, a Q7 model lives in the isolated worker and the grader reads it through probes
    (grader/worker/probes.PROBES); the worker is seeded like direct mode, so the scores and every measured
    accuracy are the same in both modes. 7.2.1 also stages a checkpoint into the worker's torch cache."""
    from grader.run import run_tests
    questions = ['7.1.2', '7.2.1']
    direct = run_tests('reference', questions)
    isolated = run_tests('reference', questions, extra_args=['--isolate'])
    assert isolated.total == direct.total == 7, (isolated.output[-3000:], direct.output[-3000:])
    metrics = lambda run: {o['nodeid']: o['metrics'] for o in run.outcomes}
    assert metrics(isolated) == metrics(direct)
    assert any(m for m in metrics(isolated).values()), 'no accuracy was measured, so this proves nothing'
