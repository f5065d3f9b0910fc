"""Grade one hand-in: unpack it safely, run the test suite on it (grader.run.run_tests), apply the
course's rules, and write results.json (and the other formats) plus report.md / report.html.

Whatever happens, a valid results file is written: a refused hand-in or a crash of the harness itself
gives a score of 0 with the reason, never a missing file. Used by ``grade``, ``batch`` and the
autograder bundle's run_autograder."""
import shutil
import time
import traceback
from pathlib import Path

from grader import compat, report, results
from grader.isolation import HIDE_ENV
from grader.rubric import QUESTIONS
from grader.run import run_tests
from grader.submission import SubmissionRefused, prepare

# pytest exit codes after which every reported outcome is trustworthy: all passed, some failed, none selected.
NORMAL_EXIT = (0, 1, 5)


def grade(source, out, questions=None, formats=('gradescope',), hidden=True, extra_args=(), timeout=None):
    """Grade ``source`` (folder or .zip) on ``questions`` (rubric ids; all by default) and write the
    results into folder ``out``. Returns the grader.results.Result."""
    questions = list(questions or [q.id for q in QUESTIONS])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = out / 'figures'
    shutil.rmtree(figures, ignore_errors=True)   # figures of an earlier run would be misleading
    start = time.monotonic()
    sub = None
    try:
        sub = prepare(source)
        # The submission runs only in the isolated worker, never in the pytest process that decides the
        # verdicts; the worker cannot see the output folder (where results.json is written).
        run = run_tests(sub.root, questions, hidden=hidden, timeout=timeout,
                        extra_args=['--isolate', '--continue-on-collection-errors',
                                    f'--artifacts-dir={figures.resolve()}', *extra_args],
                        env={HIDE_ENV: str(out.resolve())})
        notes = sub.notes() + compat.notes(sub.root, sub.files)   # old library spellings, graded as renamed
        crashed = ''
        if run.timed_out:
            crashed = f'the whole test run exceeded its {timeout:g} s limit and was stopped'
            notes.append(f'{crashed}; the questions it had not reached score 0.')
        elif run.returncode not in NORMAL_EXIT:
            crashed = f'the test run ended abnormally (pytest exit code {run.returncode})'
            notes.append(f'{crashed}; its last lines:\n' + '\n'.join(run.output.strip().splitlines()[-15:]))
        violations = {}
        for qid in questions:
            for v in sub.affected(qid):
                violations.setdefault(qid, []).append(f'Rule violation, so this question scores 0: {v}.')
        # a question the stopped run did not finish is not graded on the part it reached
        outcomes = [o for o in run.outcomes if run.complete(o['question'])]
        result = results.build(source, questions, outcomes, crashed, violations, notes,
                               time.monotonic() - start, sub.checksum)
    except SubmissionRefused as exc:
        result = results.failed(source, questions, f'the hand-in was refused: {exc}',
                                execution_time=time.monotonic() - start)
    except Exception as exc:   # the harness failed, not the student: say so in a valid result
        detail = ''.join(traceback.format_exception_only(type(exc), exc)).strip()
        result = results.failed(source, questions, f'internal grader error ({detail}); please tell the course '
                                                    'staff', execution_time=time.monotonic() - start)
    finally:
        if sub is not None:
            sub.cleanup()
    results.write(result, out, formats)
    try:
        report.write(result, out)
    except Exception as exc:   # a report problem must not cost the results file
        (out / 'report.md').write_text(f'The report could not be written: {exc!r}\n')
    return result
