"""Grade one hand-in: unpack it safely, run the test suite on it (grader.run.run_tests), apply the
course's rules, and write results.json (and the other formats) plus report.md / report.html.

Whatever happens, a valid results file is written: a refused hand-in, damaged fixtures or course data
(checked before any test runs) or a crash of the harness itself gives a score of 0 with the reason, never
a missing file. ``exit_code`` tells the two apart for the
commands. Used by ``grade``, ``batch`` and the autograder bundle's run_autograder."""
import contextlib
import os
import shutil
import threading
import time
import traceback
from pathlib import Path

from grader import report, results
from grader.datasets import DataError, location
from grader.rubric import BY_ID, QUESTIONS
from grader.run import NORMAL_EXIT, pytest_option, run_tests
from grader.submission import SubmissionRefused, prepare, shown
from grader.worker import compat

# `grade`'s exit codes, besides 0 (graded, whatever the score) and 2 (usage error): the harness failed;
# the hand-in was refused (unreadable, unsafe or damaged: graded 0 and results.json says why).
EXIT_INTERNAL = 1
EXIT_REFUSED = 3
REFUSED = 'the hand-in was refused: '
INTERNAL = 'internal grader error'


def exit_code(result):
    """The exit code for a grading ``result``: 0, EXIT_INTERNAL or EXIT_REFUSED."""
    if result.error.startswith(INTERNAL):
        return EXIT_INTERNAL
    return EXIT_REFUSED if result.error.startswith(REFUSED) else 0


# The whole test run's deadline when none is given: far above a full grade of a correct hand-in (under two
# minutes on 2 cores), so only a hand-in that hangs or crawls meets it. Tests not started by then, and
# calls still running then, are recorded as not graded for time; the results file is written anyway.
DEFAULT_DEADLINE = 1800.0
# pytest gets this much longer before it is stopped from outside, should the deadline itself not hold.
DEADLINE_MARGIN = 120.0


def grade(source, out, questions=None, formats=('gradescope',), hidden=True, extra_args=(), timeout=None,
          deadline=DEFAULT_DEADLINE, server=None, jobs=1):
    """Grade ``source`` (folder or .zip) on ``questions`` (rubric ids; all by default) and write the
    results into folder ``out``. Returns the grader.results.Result. ``jobs``: parts run side by side
    (grader.run.run_tests). ``server``: a grader.run.warm_server()
    to fork the test run from (``batch``)."""
    questions = list(questions or [q.id for q in QUESTIONS])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = out / 'figures'
    shutil.rmtree(figures, ignore_errors=True)   # figures of an earlier run would be misleading
    start = time.monotonic()
    sub = None
    name = shown(source)   # as the results show it: a path that is not UTF-8 is escaped
    try:
        check_data(questions, extra_args)
        sub = prepare(source)
        # The submission runs only in the isolated worker, never in the pytest process that decides the
        # verdicts; the worker cannot see the output folder (where results.json is written).
        if timeout is None and deadline:
            timeout = deadline + DEADLINE_MARGIN
        run = run_tests(sub.root, questions, hidden=hidden, timeout=timeout, server=server, jobs=jobs,
                        extra_args=['--isolate', '--continue-on-collection-errors', f'--deadline={deadline or 0:g}',
                                    f'--artifacts-dir={figures.resolve()}', *extra_args])
        notes = sub.notes() + compat.notes(sub.root, sub.files)   # old library spellings, graded as renamed
        crashed = ''
        if run.timed_out:
            crashed = f'the whole test run exceeded its {timeout:g} s limit and was stopped'
            notes.append(f'{crashed}; the questions it had not reached score 0.')
        elif run.returncode not in NORMAL_EXIT:
            crashed = f'the test run ended abnormally (pytest exit code {run.returncode})'
            # the notes are shown to the student at once: no line about a hidden case (its id starts 'hidden')
            lines = [line for line in run.output.strip().splitlines() if '[hidden' not in line]
            notes.append(f'{crashed}; its last lines:\n' + '\n'.join(lines[-15:]))
        sub.add_run_time_violations(run.violations or [])
        violations = {}
        for qid in questions:
            for v in sub.affected(qid):
                violations.setdefault(qid, []).append(f'Rule violation, so this question scores 0: {v}.')
        # a question the stopped run did not finish is not graded on the part it reached
        outcomes = [o for o in run.outcomes if run.complete(o['question'])]
        result = results.build(name, questions, outcomes, crashed, violations, notes,
                               time.monotonic() - start, sub.checksum)
    except SubmissionRefused as exc:
        result = results.failed(name, questions, f'{REFUSED}{exc}', execution_time=time.monotonic() - start)
    except DataError as exc:   # the course data is damaged: the staff's to mend, not the student's to pay for
        result = results.failed(name, questions, f'{INTERNAL}: {exc}; please tell the course staff',
                                execution_time=time.monotonic() - start)
    except Exception as exc:   # the harness failed, not the student: say so in a valid result
        detail = ''.join(traceback.format_exception_only(type(exc), exc)).strip()
        detail = detail.encode('utf-8', 'backslashreplace').decode()   # no lone surrogates in results.json
        result = results.failed(name, questions, f'{INTERNAL} ({detail}); please tell the course staff',
                                execution_time=time.monotonic() - start)
    finally:
        if sub is not None:
            sub.cleanup()
    results.write(result, out, formats)
    try:
        report.write(result, out)
    except Exception as exc:   # a report problem must not cost the results file
        (out / 'report.md').write_text(f'The report could not be written: {exc!r}\n')
    return result


_DATA_DIR_LOCK = threading.Lock()


def check_data(questions, extra_args=()):
    """Raise DataError, naming each damaged file, when the grader's fixtures or the data the ``questions``
    are graded on (the real files of the run's --data-dir or NN_DATA_DIR where present, else the shipped
    stand-ins) cannot be read as shipped: no test runs then, rather than tests that fail as if the hand-in
    were wrong."""
    from grader import fixtures
    from grader.datasets import info
    problems = fixtures.intact()[0]
    needed = sorted({name for q in questions for name in BY_ID[q].data})
    if needed:
        with _data_dir(pytest_option(extra_args, 'data-dir')):
            problems += info.check(needed)
    if problems:
        raise DataError(f"the grader's data is damaged, so no test was run ({'; '.join(problems)})")


@contextlib.contextmanager
def _data_dir(folder):
    """NN_DATA_DIR as the test run will see it, for this block (the data modules read it from there)."""
    if folder is None:
        yield
        return
    with _DATA_DIR_LOCK:
        before = os.environ.get(location.ENV_DATA)
        os.environ[location.ENV_DATA] = os.path.abspath(folder)
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(location.ENV_DATA, None)
            else:
                os.environ[location.ENV_DATA] = before
