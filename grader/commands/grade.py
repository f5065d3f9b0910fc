"""Grade a hand-in (a folder or a .zip of the course files; default: student/) and write its results.

Writes OUT/results.json (Gradescope's format), OUT/report.md and OUT/report.html (with the figures the
tests drew) and prints the per-question table.

Exit codes: 0 grading completed, whatever the score; 1 the harness itself failed (results.json then
says why); 2 a usage error (nothing is graded or written: e.g. no such hand-in path); 3 the hand-in was
refused (unreadable, unsafe or damaged: results.json gives 0 and the reason); 4 with --fail-under, the
score is below the bar (tox -e grade uses it, so a 0/90 is not a success).

  python -m grader grade                          # the stubs in student/
  python -m grader grade handin.zip --out out/    # a hand-in
  python -m grader grade --only 2.2.2,3.1.1       # some questions (--only 2: all of Q2)
  python -m grader grade --data-dir DIR           # the real course data instead of the stand-ins
  python -m grader grade --format gradescope,prairielearn,junit"""
import os
import sys
from pathlib import Path

from grader import paths, rubric
from grader.grading import DEFAULT_DEADLINE, exit_code, grade
from grader.results import FORMATS, text_table
from grader.run import side_by_side_jobs

EXIT_BELOW = 4   # --fail-under: graded, and the score is below the bar


def add_shared_arguments(parser):
    """The options ``grade`` and ``batch`` share."""
    parser.add_argument('--only', default=None, help="questions to grade: '2' (a part) or '2.2.2,3.1.1'")
    parser.add_argument('--format', default='gradescope',
                        help=f"result files to write, comma-separated: {', '.join(FORMATS)} (default gradescope)")
    parser.add_argument('--data-dir', metavar='DIR', default=None,
                        help='folder with the real course data (like NN_DATA_DIR); generated stand-ins otherwise')
    parser.add_argument('--timeout', type=float, default=None,
                        help='seconds after which the test run is stopped from outside (default: the grading '
                             'deadline plus a margin)')
    parser.add_argument('--pytest-arg', action='append', default=[], metavar='ARG',
                        help='pass ARG on to pytest (repeatable), e.g. --pytest-arg=--worker-limits=wall=120')


def add_arguments(parser):
    parser.add_argument('submission', nargs='?', default=str(paths.STUDENT),
                        help='folder or .zip holding nn.py, q2.py ... (default: student/)')
    parser.add_argument('--out', default='grading-output', help='folder for results and reports '
                                                                '(default: ./grading-output)')
    add_shared_arguments(parser)
    parser.add_argument('--no-hidden', action='store_true', help='skip hidden tests even where present')
    parser.add_argument('--deadline', type=float, default=DEFAULT_DEADLINE,
                        help=f'seconds the whole grading may take (default {DEFAULT_DEADLINE:g}); questions not '
                             'reached by then are recorded as not graded for time, and the results are written')
    parser.add_argument('--jobs', type=int, default=None,
                        help='parts of the suite (NumPy, PyTorch) run side by side (default: 2 where two CPUs '
                             'and the memory for two runs at their limits are free, else 1); the verdicts are '
                             'the same either way')
    parser.add_argument('--fail-under', metavar='POINTS', default=None,
                        help=f"exit {EXIT_BELOW} when the score is below POINTS ('full': the most the "
                             'questions asked can give)')


def parse_common(args):
    """(questions, formats, pytest arguments) from the shared options; raises ValueError with a one-line
    message for a usage error."""
    questions = rubric.select(args.only) if args.only else None
    formats = [f.strip() for f in args.format.split(',') if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown --format {', '.join(unknown) or '(empty)'}; choose from {', '.join(FORMATS)}")
    extra = list(args.pytest_arg)
    if args.data_dir is not None:
        if not os.path.isdir(args.data_dir):
            raise ValueError(f'--data-dir {args.data_dir}: no such folder')
        extra.insert(0, f'--data-dir={os.path.abspath(args.data_dir)}')
    return questions, formats, extra


def _bar(text, questions):
    if text is None:
        return None
    if text == 'full':
        return sum(rubric.BY_ID[q].points for q in questions or [q.id for q in rubric.QUESTIONS])
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--fail-under {text}: give a number of points or 'full'") from None


def run(args):
    try:
        questions, formats, extra = parse_common(args)
        bar = _bar(args.fail_under, questions)
        if args.jobs is not None and args.jobs < 1:
            raise ValueError(f'--jobs {args.jobs}: give 1 (one part after the other) or 2 (side by side)')
        if not os.path.exists(args.submission):   # a typo, not a student's fault: grade nothing, write nothing
            raise ValueError(f'{args.submission}: no such file or folder (nothing was graded or written)')
    except ValueError as exc:
        print(f'grade: {exc}', file=sys.stderr)
        return 2
    result = grade(args.submission, args.out, questions, formats, hidden=not args.no_hidden,
                   extra_args=extra, timeout=args.timeout, deadline=args.deadline,
                   jobs=args.jobs or side_by_side_jobs(extra))
    print(text_table(result))
    for note in result.notes:
        print(note)
    if result.error:
        print(f'grade: {result.error}', file=sys.stderr)
    print(f'results and reports in {Path(args.out)}{os.sep} (report.html, report.md, results.json)')
    code = exit_code(result)
    if code == 0 and bar is not None and result.score < bar:
        print(f'grade: {result.score:g} / {result.max_score:g} is below --fail-under {bar:g}: exit {EXIT_BELOW}',
              file=sys.stderr)
        return EXIT_BELOW
    return code
