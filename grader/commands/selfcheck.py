"""Check the grader itself: the reference scores full marks, the stubs score zero, every broken variant
in grader/variants loses the points it should (and keeps the rest), and the rubric totals 90.

Prints one line per check and exits 1 if any fails. Questions that have no tests yet are listed, not
counted as full marks.

  python -m grader selfcheck --jobs 2
  python -m grader selfcheck --only 2        # the checks about Q2"""
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from grader import paths, rubric
from grader.run import NORMAL_EXIT, run_tests, warm_server


def add_arguments(parser):
    parser.add_argument('--jobs', type=int, default=2, help='test runs at once (default 2)')
    parser.add_argument('--only', default=None, help="restrict to questions: '2' or '2.2.2,3.1.1'")


def _broken(run):
    """Why a test run cannot be trusted ('' if it can): pytest itself failed, or no test ran."""
    if run.returncode not in NORMAL_EXIT:
        return f'the test run failed (pytest exit code {run.returncode}): ' + run.output.strip()[-300:]
    return '' if run.outcomes else 'no test ran'


def _full(run, qid):
    row = run.rows[qid]
    return row.graded and row.score >= row.max_score


def check_variant(variant, questions, server=None):
    """(expected, got, ok) for one broken or alternative variant, graded on its own questions (forked
    from ``server``, a grader.run.warm_server(), if given)."""
    from grader import variants
    asked = [q for q in variants.questions(variant) if q in questions]
    if not asked:
        return 'outside --only', '', True
    with tempfile.TemporaryDirectory(prefix='nn-variant-') as tmp:
        variants.materialize(variant, tmp)
        run = run_tests(tmp, asked, server=server)
    problems = [p for p in variants.problems(variant, run.rows) if p.split(':')[0] in asked]
    if _broken(run):
        problems.insert(0, _broken(run))
    loses = [q for q in variant.loses if q in asked]
    keeps = [q for q in variant.keeps if q in asked]
    expected = (f"loses {','.join(loses)}" + (f"; keeps {','.join(keeps)}" if keeps else '') if loses
                else f"full marks on {','.join(keeps)}")
    got = ' '.join(f'{q}={run.points(q):g}/{run.rows[q].max_score:g}' for q in asked)
    return expected, got + ('  (' + '; '.join(problems) + ')' if problems else ''), not problems


def checks(questions, catalogue, jobs=2):
    """[(check, expected, got, ok)] for the rubric, the reference, the stubs and every variant."""
    out = [('rubric total', '90', f'{rubric.TOTAL:g}', rubric.TOTAL == 90)]
    graded_points = [q for q in questions if rubric.BY_ID[q].points]
    with warm_server(questions) as server, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        ref = pool.submit(run_tests, 'reference', questions, server=server)
        stub = pool.submit(run_tests, paths.STUDENT, questions, server=server)
        variants = [(v, pool.submit(check_variant, v, questions, server)) for v in catalogue]
        ref, stub = ref.result(), stub.result()
        short = [q for q in graded_points if ref.rows[q].graded and not _full(ref, q)]
        untested = [q for q in graded_points if not ref.rows[q].graded]
        out.append(('reference', 'full marks on every tested question',
                    f'{ref.total:g}/{sum(ref.rows[q].max_score for q in questions):g}' +
                    (f"; short on {','.join(short)}" if short else '') +
                    (f"; no tests yet: {','.join(untested)}" if untested else '') +
                    (f'; {_broken(ref)}' if _broken(ref) else ''), not short and not _broken(ref)))
        scored = [q for q in questions if stub.rows[q].score > 0]
        out.append(('stubs (student/)', '0', f'{stub.total:g}' + (f" on {','.join(scored)}" if scored else '') +
                    (f'; {_broken(stub)}' if _broken(stub) else ''), stub.total == 0 and not _broken(stub)))
        for v, fut in variants:
            try:
                expected, got, ok = fut.result()
            except Exception as exc:   # a broken catalogue entry is a failed check, not a crash
                expected, got, ok = 'materialize and run', f'{type(exc).__name__}: {exc}', False
            out.append((f'variant {v.name}', expected, got, ok))
    return out


def render(rows):
    width = max(len(r[0]) for r in rows)
    exp = max(len(r[1]) for r in rows)
    lines = [f"{'check':<{width}}  {'expected':<{exp}}  verdict  got", '-' * (width + exp + 40)]
    lines += [f"{c:<{width}}  {e:<{exp}}  {'ok' if ok else 'FAIL':<7}  {g}" for c, e, g, ok in rows]
    failed = sum(not r[3] for r in rows)
    lines.append('-' * (width + exp + 40))
    lines.append(f'{len(rows) - failed} of {len(rows)} checks ok' + (f', {failed} FAILED' if failed else ''))
    return '\n'.join(lines)


def run(args):
    try:
        questions = rubric.select(args.only) if args.only else [q.id for q in rubric.QUESTIONS]
    except ValueError as exc:
        print(f'selfcheck: {exc}', file=sys.stderr)
        return 2
    try:
        from grader import variants
    except ImportError as exc:
        print(f'selfcheck: the catalogue of broken variants (grader/variants) is not available: {exc}',
              file=sys.stderr)
        return 2
    from grader.datasets import DataError
    from grader.grading import check_data
    try:   # on damaged data the reference itself would lose points, and the table would blame the tests
        check_data(questions)
    except DataError as exc:
        print(f'selfcheck: {exc}; nothing was checked', file=sys.stderr)
        return 1
    rows = checks(questions, variants.CATALOGUE, args.jobs)
    shown = [r for r in rows if r[1] != 'outside --only']
    print(render(shown))
    if len(shown) < len(rows):
        print(f'({len(rows) - len(shown)} variants are about other questions than --only {args.only})')
    return 0 if all(r[3] for r in rows) else 1
