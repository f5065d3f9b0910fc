"""Grade a hand-in (a folder or a .zip of the course files; default: student/).

Writes OUT/results.json (Gradescope's format), OUT/report.md and OUT/report.html (with the figures the
tests drew) and prints the per-question table. Exit code 0 whenever grading completed, whatever the
score; 1 if the harness itself failed (results.json then says why); 2 for a usage error; 3 if the
hand-in was refused (unreadable, unsafe or damaged: results.json gives 0 and the reason).

  python -m grader grade                          # the stubs in student/
  python -m grader grade handin.zip --out out/    # a hand-in
  python -m grader grade --only 2.2.2,3.1.1       # some questions (--only 2: all of Q2)
  python -m grader grade --format gradescope,prairielearn,junit"""
import sys

from grader import paths, rubric
from grader.grading import DEFAULT_DEADLINE, exit_code, grade
from grader.results import FORMATS, text_table


def add_arguments(parser):
    parser.add_argument('submission', nargs='?', default=str(paths.STUDENT),
                        help='folder or .zip holding nn.py, q2.py ... (default: student/)')
    parser.add_argument('--out', default='grading-output', help='folder for results and reports '
                                                                '(default: ./grading-output)')
    parser.add_argument('--only', default=None, help="questions to grade: '2' (a part) or '2.2.2,3.1.1'")
    parser.add_argument('--format', default='gradescope',
                        help=f"result files to write, comma-separated: {', '.join(FORMATS)} (default gradescope)")
    parser.add_argument('--no-hidden', action='store_true', help='skip hidden tests even where present')
    parser.add_argument('--deadline', type=float, default=DEFAULT_DEADLINE,
                        help=f'seconds the whole grading may take (default {DEFAULT_DEADLINE:g}); questions not '
                             'reached by then are recorded as not graded for time, and the results are written')
    parser.add_argument('--timeout', type=float, default=None,
                        help='seconds after which the test run is stopped from outside (default: the deadline '
                             'plus a margin)')
    parser.add_argument('--pytest-arg', action='append', default=[], metavar='ARG',
                        help='pass ARG on to pytest (repeatable), e.g. --pytest-arg=--worker-limits=wall=120')


def parse_common(args):
    """(questions, formats) from --only and --format; raises ValueError with a one-line message."""
    questions = rubric.select(args.only) if args.only else None
    formats = [f.strip() for f in args.format.split(',') if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown --format {', '.join(unknown) or '(empty)'}; choose from {', '.join(FORMATS)}")
    return questions, formats


def run(args):
    try:
        questions, formats = parse_common(args)
    except ValueError as exc:
        print(f'grade: {exc}', file=sys.stderr)
        return 2
    result = grade(args.submission, args.out, questions, formats, hidden=not args.no_hidden,
                   extra_args=args.pytest_arg, timeout=args.timeout, deadline=args.deadline)
    print(text_table(result))
    for note in result.notes:
        print(note)
    if result.error:
        print(f'grade: {result.error}', file=sys.stderr)
    print(f'results and reports in {args.out}/ (report.html, report.md, results.json)')
    return exit_code(result)
