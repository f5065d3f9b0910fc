"""grader.warm_starts, which the kill table's gradings are forked from: a forked run decides exactly what a
fresh pytest process decides, runs with its own environment, and one that hangs is stopped at its time
limit while the server goes on serving."""
import os
import shutil
import signal

import pytest

from grader import paths, variants
from grader.run import run_tests, warm_server

QUESTIONS = ['2.2.2']
ONE_TEST = {'PYTEST_ADDOPTS': '-k rows_are_distributions'}   # a run of one test of QUESTIONS


@pytest.fixture(scope='module')
def server():
    with warm_server() as warm:
        yield warm


def _decided(run):
    """What a run decided, test by test: everything the plugin records but the seconds it took."""
    return [{k: v for k, v in o.items() if k != 'duration'} for o in run.outcomes]


@pytest.mark.parametrize('name,questions', [('softmax-no-shift', None), ('reference', ['7.1.2'])])
def test_a_forked_run_decides_what_a_fresh_one_does(server, tmp_path, name, questions):
    """A broken softmax on the questions it loses and keeps (Hypothesis's searches, failure messages,
    the training's measured figures), and the reference's MNIST CNN (torch imported before the fork;
    trained, its accuracy measured): the same records, test by test, and the same rows."""
    impl = name
    if name != 'reference':
        variant = variants.by_name(name)
        impl, questions = str(variants.materialize(variant, tmp_path / name)), variants.questions(variant)
    fresh, forked = run_tests(impl, questions), run_tests(impl, questions, server=server)
    assert fresh.returncode == forked.returncode == (0 if name == 'reference' else 1), forked.output[-3000:]
    assert forked.outcomes and _decided(forked) == _decided(fresh)
    rows = [{q: (r.score, r.tally) for q, r in run.rows.items()} for run in (forked, fresh)]
    assert rows[0] == rows[1]


def test_a_forked_run_has_its_own_environment(server):
    """Variables the run is given reach it (PYTEST_ADDOPTS is read by pytest as it starts), and the
    next run, given none, does not inherit them."""
    narrowed = run_tests('reference', QUESTIONS, env=ONE_TEST, server=server)
    whole = run_tests('reference', QUESTIONS, server=server)
    assert narrowed.returncode == whole.returncode == 0, narrowed.output[-3000:]
    assert [o['function'].split('::')[1] for o in narrowed.outcomes] == ['test_softmax_rows_are_distributions']
    assert len(whole.outcomes) > len(narrowed.outcomes)


def test_a_hanging_run_is_stopped_and_the_server_goes_on(server, tmp_path):
    handin = shutil.copytree(paths.REFERENCE, tmp_path / 'hangs')
    with open(handin / 'nn.py', 'a') as nn:
        nn.write('\n\ndef softmax(x):\n    import time\n    time.sleep(3600)\n')
    stopped = run_tests(str(handin), QUESTIONS, timeout=8, server=server)
    assert stopped.timed_out and stopped.returncode is None
    after = run_tests('reference', QUESTIONS, env=ONE_TEST, server=server)
    assert after.returncode == 0 and [o['outcome'] for o in after.outcomes] == ['passed'], after.output[-3000:]


def test_runs_start_afresh_once_the_server_is_gone():
    """A server killed (by the kernel's OOM killer, say) costs the runs after it their warm start, not
    their grading."""
    with warm_server(QUESTIONS) as doomed:
        os.kill(doomed.pid, signal.SIGKILL)
        run = run_tests('reference', QUESTIONS, env=ONE_TEST, server=doomed)
    assert run.returncode == 0 and [o['outcome'] for o in run.outcomes] == ['passed'], run.output[-3000:]


def test_a_run_that_needs_another_start_up_environment_is_refused(server):
    """The hash seed, BLAS threads and Hypothesis profile are fixed when the server starts; a run asking
    for others must not run with the server's."""
    with pytest.raises(ValueError, match='HYPOTHESIS_PROFILE'):
        run_tests('reference', QUESTIONS, env={'HYPOTHESIS_PROFILE': 'dev'}, server=server)
