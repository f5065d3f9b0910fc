"""Failure messages a student can act on (issue 11): no advice addressed to the author of a Hypothesis
test, no harness objects, folders or traceback frames of the harness's libraries, indices that read
unambiguously, no meaningless relative errors, and a hint where a backwards ignores the activation's
derivative. Checked on made-up text, on the checks themselves, and on a real grading run in the worker."""
import subprocess
import sys

import pytest

from grader import checks, paths, variants
from grader.pytest_plugin import student_facing
from grader.run import run_tests

HYPOTHESIS_TEXT = '''grader.checks.CheckFailed: softmax(x) has values outside [0, 1]
(note: 2 other explicit examples also failed with this error; use Verbosity.verbose to view)
Failing test case: test_softmax_values(
    impl=WorkerImplementation('/tmp/nn-submission-5an_8e6r'),
    x=array([[0.5]]),
)
  + Exception Group Traceback (most recent call last):
  |   File "/work/venv/lib/python3.11/site-packages/hypothesis/core.py", line 1850, in wrapped_test
  |   File "/work/venv/lib/python3.11/site-packages/_pytest/python.py", line 159, in pytest_pyfunc_call
You can reproduce this test case by temporarily adding @reproduce_failure('6.170.17', b'AEEB') as a decorator on your test function'''


def test_student_facing_drops_advice_objects_and_frames():
    text = student_facing(HYPOTHESIS_TEXT)
    for gone in ('reproduce_failure', 'Verbosity', 'WorkerImplementation', '/tmp/', 'hypothesis/core.py',
                 '_pytest', 'Traceback', 'your test function'):
        assert gone not in text, (gone, text)
    assert '(2 other fixed example(s) of this test failed the same way)' in text
    assert 'x=array([[0.5]]),' in text and text.startswith('grader.checks.CheckFailed: softmax(x)')


def _failure(actual, expected, what='W (1, 1)', **tolerance):
    with pytest.raises(checks.CheckFailed) as info:
        checks.close(actual, expected, what, **tolerance)
    return str(info.value)


def test_close_reads_an_index_apart_from_the_name():
    message = _failure([[0.5]], [[0.25]])
    assert message.startswith('W (1, 1): entry [0, 0] is 0.5, but should be 0.25'), message


def test_close_gives_no_relative_error_where_the_expected_value_is_zero():
    message = _failure([0.0, 2.75], [0.0, 0.0], 'grad_b', atol=1e-6)
    assert 'rel error' not in message and 'e+300' not in message and 'max abs error 2.75' in message, message
    message = _failure([1.0, 3.0], [0.0, 2.0], 'grad_b', atol=1e-6)
    assert 'max rel error 0.5' in message, message   # only over the entries expected to be non-zero


@pytest.mark.skipif(not paths.REFERENCE.is_dir(), reason='needs the reference solution')
def test_grading_messages_in_the_worker(tmp_path):
    """backwards-no-deriv graded as the grader grades (isolated): it passes only the linear cases and is told
    why; no message names the worker, a folder, or Hypothesis's advice."""
    folder = variants.materialize(variants.by_name('backwards-no-deriv'), tmp_path / 'handin')
    result = run_tests(str(folder), questions=['2.3.1'], extra_args=['--isolate'], timeout=900)
    failed = [t for t in result.rows['2.3.1'].tests if t['outcome'] == 'failed']
    passed = [t for t in result.rows['2.3.1'].tests if t['outcome'] == 'passed']
    assert failed and passed and all('linear' in t['nodeid'] for t in passed), [t['nodeid'] for t in passed]
    assert all("the activation's derivative looks missing" in t['message'] for t in failed), \
        [t['message'][:300] for t in failed if 'derivative looks missing' not in t['message']]
    for t in failed:
        for gone in ('WorkerImplementation', str(folder), '/tmp/', 'reproduce_failure', 'Verbosity', 'Traceback'):
            assert gone not in t['message'], (gone, t['message'])


@pytest.mark.skipif(not paths.REFERENCE.is_dir(), reason='needs the reference solution')
def test_the_traceback_style_of_a_grading_run_changes_no_message(tmp_path):
    """Grading runs print native tracebacks (grader.run: pytest's own style re-parses every frame's source);
    the verdicts and the messages must be those of pytest's default style, Hypothesis's failures included."""
    folder = variants.materialize(variants.by_name('softmax-no-shift'), tmp_path / 'handin')
    asked = ['2.2.2', '2.3.1']
    native, default = (run_tests(str(folder), asked, extra_args=['--isolate', *style], timeout=900)
                       for style in ([], ['--tb=auto']))
    seen = [[(o['nodeid'], o['outcome'], o['message']) for o in run.outcomes] for run in (native, default)]
    assert any(outcome == 'failed' for _, outcome, _ in seen[0]), 'the variant should fail some softmax tests'
    assert seen[0] == seen[1]


@pytest.mark.skipif(not paths.REFERENCE.is_dir(), reason='needs the reference solution')
def test_the_score_table_is_the_same_with_pytest_xdist(tmp_path):
    """A student (and CI, on the reference) may spread the tests over processes with ``-n``: the score
    table pytest prints at the end then gathers every process's outcomes, and reads as it does in one
    process; a results file, which only one process can write, is refused with a usage error."""
    folder = variants.materialize(variants.by_name('softmax-no-shift'), tmp_path / 'handin')

    def pytest_run(*args):
        return subprocess.run([sys.executable, '-m', 'pytest', 'tests', f'--impl={folder}', '-m', 'q2_2_2 or q2_2_3',
                               '-p', 'no:cacheprovider', *args], cwd=paths.ROOT, capture_output=True, text=True,
                              timeout=600)

    def table(*args):
        proc = pytest_run(*args)
        assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]   # some tests failed
        lines = proc.stdout[proc.stdout.index('score for'):].splitlines()
        return lines[:next(i for i, line in enumerate(lines) if line.startswith('total')) + 1]
    one = table()
    total = one[-1].split()   # total  <score> / 6
    assert total[0] == 'total' and 3 <= float(total[1]) < 6 and total[3] == '6', one
    assert table('-n', '2') == one
    refused = pytest_run('-n', '2', '--results-json', str(tmp_path / 'r'))
    assert refused.returncode == 4 and '--results-json needs one pytest process' in refused.stderr, refused.stderr
