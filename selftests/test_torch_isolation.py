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


ROOM = '''
import resource

def room(mb_each=16):
    """MB this process can still allocate: chunks of address space (calloc'd, never touched) until refused."""
    hoard = []
    try:
        while True:
            hoard.append(bytearray(mb_each << 20))
    except MemoryError:
        return len(hoard) * mb_each

def room_with_torch():
    __import__('torch')   # not an import statement: the grader does not see it coming
    return room()

def room_at_the_hard_cap():
    """A hostile hand-in's most: its soft limit raised to the hard one."""
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    return room()
'''


@pytest.mark.slow
def test_a_handins_memory_limit_leaves_out_the_libraries(tmp_path):
    """The worker's memory limit (address space) counts what the hand-in allocates, not torch's files and
    buffers, which take 3.6 GB in the CUDA build and far less in a CPU one: a hand-in gets the same room
    whether or not torch was loaded (grader.worker.limits.settle), and raising its own soft limit gets it
    no more. Before, a Q7 hand-in had 0.4 GB of 4 GB left here."""
    from grader import isolation
    from grader.limits import Limits
    handin = tmp_path / 'handin'
    handin.mkdir()
    (handin / 'nn.py').write_text(ROOM)
    importer = tmp_path / 'importer'   # its NumPy part imports torch: every worker loads torch first
    importer.mkdir()
    (importer / 'nn.py').write_text('import torch\n' + ROOM)
    limit = Limits(wall=120, memory_mb=1500)
    found = {}
    for root, questions in ((handin, ('2.2.2', '7.1.1')), (importer, ('2.2.2',))):
        impl = isolation.WorkerImplementation(root)
        try:
            for question in questions:   # the worker is replaced for the Q7 test: it loads torch first
                impl.begin_test(seed=0, question=question, limits=limit)
                nn = impl.module('nn')
                first = nn.room_with_torch() if question == '7.1.1' else nn.room()
                found[root.name, question] = first, nn.room_at_the_hard_cap()
        finally:
            impl.close()
    rooms = [room for room, _ in found.values()]
    assert all(1300 <= room <= 1500 for room in rooms), f'MB the hand-in could allocate: {found}'
    assert max(rooms) - min(rooms) <= 100, f'the room depends on whether torch was loaded: {found}'
    assert all(cap <= 1500 for _, cap in found.values()), f'a raised soft limit got more than the limit: {found}'


@pytest.mark.slow
def test_a_full_pass_over_the_training_set_fits_in_the_worker(tmp_path):
    """The correct variant q7-epoch-accuracy-full-pass, graded isolated on 7.1.3 (after 7.1.1, whose pass
    lets 7.1.3 train with the hand-in's own train_model): its one forward pass over the training set needs
    700 MB at once, which the worker had not left beside torch's CUDA build before its libraries stopped
    counting against the hand-in's memory."""
    from grader import variants
    from grader.run import run_tests
    variant = variants.BY_NAME['q7-epoch-accuracy-full-pass']
    handin = variants.materialize(variant, tmp_path / variant.name)
    run = run_tests(str(handin), ['7.1.1', '7.1.3'], extra_args=['--isolate'])
    assert run.rows['7.1.3'].score == run.rows['7.1.3'].max_score == 3, run.output[-3000:]
    assert run.total == 8, run.output[-3000:]
