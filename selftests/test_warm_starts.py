"""grader.warm_starts, which the kill table's gradings are forked from: a forked run decides exactly what a
fresh pytest process decides, runs with its own environment, and one that hangs is stopped at its time
limit while the server goes on serving."""
import shutil

import pytest

from grader import paths, variants
from grader.run import environment, run_tests
from grader.warm_starts import Server

QUESTIONS = ['2.2.2']


@pytest.fixture(scope='module')
def server():
    with Server(environment(), paths.ROOT) as warm:
        yield warm


def _decided(run):
    """What a run decided, test by test: everything the plugin records but the seconds it took."""
    return [{k: v for k, v in o.items() if k != 'duration'} for o in run.outcomes]


def test_a_forked_run_decides_what_a_fresh_one_does(server, tmp_path):
    """A broken softmax on the questions it loses and keeps (Hypothesis's searches, failure messages,
    the training's measured figures): the same records, test by test, and the same rows."""
    variant = variants.by_name('softmax-no-shift')
    impl, qids = str(variants.materialize(variant, tmp_path / variant.name)), variants.questions(variant)
    fresh, forked = run_tests(impl, qids), run_tests(impl, qids, server=server)
    assert fresh.returncode == forked.returncode == 1, forked.output[-3000:]
    assert len(forked.outcomes) > 20 and any(o['outcome'] == 'failed' for o in forked.outcomes)
    assert _decided(forked) == _decided(fresh)
    assert {q: (r.score, r.tally) for q, r in forked.rows.items()} == {q: (r.score, r.tally) for q, r in fresh.rows.items()}


def test_a_forked_run_has_its_own_environment(server):
    """Variables the run is given reach it (PYTEST_ADDOPTS is read by pytest as it starts), and the
    next run, given none, does not inherit them."""
    narrowed = run_tests('reference', QUESTIONS, env={'PYTEST_ADDOPTS': '-k rows_are_distributions'}, server=server)
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
    after = run_tests('reference', QUESTIONS, env={'PYTEST_ADDOPTS': '-k rows_are_distributions'}, server=server)
    assert after.returncode == 0 and [o['outcome'] for o in after.outcomes] == ['passed'], after.output[-3000:]


def test_a_run_that_needs_another_start_up_environment_is_refused(server):
    """The hash seed, BLAS threads and Hypothesis profile are fixed when the server starts; a run asking
    for others must not run with the server's."""
    with pytest.raises(ValueError, match='HYPOTHESIS_PROFILE'):
        run_tests('reference', QUESTIONS, env={'HYPOTHESIS_PROFILE': 'dev'}, server=server)
