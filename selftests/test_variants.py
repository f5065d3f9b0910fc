"""The graded tests against the catalogue in grader/variants/: each broken variant (a real student bug)
loses points on every question in its ``loses`` and keeps full marks on its ``keeps`` (the rubric's
reference swap charges a bug once); each correct alternative keeps full marks where it is graded.

Every variant is graded once, through the grader's own path (grader.run.run_tests, on only the questions
the variant names, with other parts' test files left out), two at a time, each in a pytest process of its
own forked from a warm one (grader.warm_starts); the kill table (variant, questions, points) is written to
the terminal at the end of the run."""
import ast
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader import paths, variants
from grader.datasets import pages
from grader.rubric import BY_ID
from grader.run import run_tests, warm_server
from grader.scoring import score
from grader.variants import PatchError, Variant
from selftests.ci import requires

pytestmark = pytest.mark.skipif(not paths.REFERENCE.is_dir(), reason='needs the reference solution')
TIMEOUT = 300   # seconds per variant: a variant that hangs fails its own test, not the whole run


def _parts(qids):
    return {q.split('.')[0] for q in qids}


def _only_parts(qids):
    """pytest arguments leaving out the test files of other parts (test_q<part>_*.py): less to import,
    and a work-in-progress file of another part cannot break these runs."""
    keep = _parts(qids)
    return tuple(f'--ignore={p}' for p in sorted(paths.TESTS.glob('test_q*.py'))
                 if re.match(r'test_q(\d+)', p.name).group(1) not in keep)


BASELINE = tuple(q for q in BY_ID if q.startswith('2.'))   # cheap to grade the reference on


def _grade(job):
    variant, root, server = job
    impl = 'reference' if variant is None else str(variants.materialize(variant, root / variant.name))
    qids = BASELINE if variant is None else variants.questions(variant)
    return run_tests(impl, questions=qids, extra_args=_only_parts(qids), timeout=TIMEOUT, server=server)


@pytest.fixture(scope='module')
def graded(tmp_path_factory, request):
    """{variant name: RunResult} for the variants whose tests were selected (``-k``), plus the
    reference's run on the Q2 questions under the key None."""
    root = tmp_path_factory.mktemp('variants')
    wanted = {item.callspec.params['name'] for item in request.session.items
              if getattr(item, 'callspec', None) and 'name' in item.callspec.params}
    chosen = [None] + [v for v in variants.CATALOGUE if v.name in wanted]
    start = time.perf_counter()
    asked = [q for v in chosen[1:] for q in variants.questions(v)]
    with warm_server(asked) as server, ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip([v and v.name for v in chosen], pool.map(_grade, [(v, root, server) for v in chosen])))
    reporter = request.config.pluginmanager.get_plugin('terminalreporter')
    if reporter is not None:
        _write_table(reporter, results, time.perf_counter() - start)
    return results


def _write_table(reporter, results, seconds):
    reporter.write_sep('-', f'kill table (variant: points per graded question); {len(results)} runs graded in '
                            f'{seconds:.0f} s, two at a time')
    for v in (v for v in variants.CATALOGUE if v.name in results):
        rows = results[v.name].rows
        cells = '  '.join(f"{q}{'*' if q in v.loses else ''} "
                          + (f'{rows[q].score:g}/{rows[q].max_score:g}' if rows[q].max_score else
                             f'{rows[q].tally} tests passed')
                          for q in variants.questions(v) if q in rows and rows[q].graded)
        reporter.write_line(f"{'broken ' if v.loses else 'correct'} {v.name:<30} {cells}")
    reporter.write_line('(* = a question the variant must lose points on; all others must keep full marks)')


@pytest.mark.parametrize('name', [v.name for v in variants.CATALOGUE])
def test_variant_scores_as_declared(graded, name):
    variant, result = variants.by_name(name), graded[name]
    assert result.returncode in (0, 1), f'{name}: pytest did not finish normally:\n{result.output[-3000:]}'
    reference = graded[None].rows
    for qid in (q for q in variants.questions(variant) if q in reference):
        ran, expected = len(result.rows[qid].tests), len(reference[qid].tests)
        assert ran == expected, f'{name}: {ran} tests of {qid} ran, the reference ran {expected}'
    problems = variants.problems(variant, result.rows)
    assert not problems, f'{name} ({variant.description}):\n' + '\n'.join(problems)


def test_reference_run_scores_full_marks(graded):
    """The baseline the counts above are compared with."""
    for qid, row in graded[None].rows.items():
        assert row.graded and row.score == row.max_score, f'reference: {qid} {row.score}/{row.max_score}'


def test_real_photo_claims_are_checked_in_ci():
    """Variants that must fail the measured row 4.3 are held to it only where the course's photos are
    (problems() passes over a row whose optional data is absent): CI has them, so there it must."""
    claims = [v.name for v in variants.CATALOGUE if '4.3' in variants.questions(v)]
    assert claims, 'no variant claims anything about the real photos (4.3)'
    requires(not pages.real_pages(), f"the course's photos are absent (NN_DATA_DIR): the 4.3 claims of "
             f"{', '.join(claims)} went unchecked")


def test_a_measured_row_is_lost_when_one_of_its_tests_fails():
    """4.3 is worth no points, so 'lost' there means a test of it failed; without the photos it ran
    nothing and is passed over, while a graded row that ran nothing is still a problem."""
    def rows(q44, q43):
        """The rows scoring.score makes of runs whose 4.4 and 4.3 tests ended as given."""
        outcomes = [dict(question=qid, function=f't{i}', weight=1, outcome=o, nodeid=f'{qid}::t{i}', message='m')
                    for qid, ends in (('4.4', q44), ('4.3', q43)) for i, o in enumerate(ends)]
        return score(outcomes, ['4.4', '4.3'])
    bug = variants.by_name('q4-crop-inverted')
    assert variants.questions(bug) == ('4.4', '4.3')
    assert variants.problems(bug, rows(['failed'], ['passed', 'failed'])) == []
    unnoticed = variants.problems(bug, rows(['failed'], ['passed', 'passed']))
    assert unnoticed == ['4.3: every test passed (a measured row); the bug went unnoticed'], unnoticed
    assert variants.problems(bug, rows(['failed'], [])) == []
    assert variants.problems(bug, rows([], [])) == ['4.4: no test of this question ran']


def test_catalogue_covers_issue_2():
    """At least 20 broken Q2 variants, every graded Q2 question loses to at least one of them, and the
    ways of handling the remainder that SPEC.md allows are all there as correct alternatives."""
    q2 = [v for v in variants.CATALOGUE if any(q.startswith('2.') for q in v.loses + v.keeps)]
    broken = [v for v in q2 if not v.correct]
    assert len(broken) >= 20, len(broken)
    lost = {q for v in broken for q in v.loses}
    assert lost >= {q for q in BY_ID if q.startswith('2.') and BY_ID[q].points}, sorted(lost)
    names = {v.name for v in q2 if v.correct}
    assert {'batches-drop-remainder', 'batches-array-split-floor', 'batches-array-split-ceil'} <= names


def _property_tests():
    """Names of the graded tests that Hypothesis drives (decorated with @given), by file."""
    found = []
    for path in sorted(paths.TESTS.glob('test_q*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                    isinstance(d, ast.Call) and getattr(d.func, 'id', None) == 'given' for d in node.decorator_list):
                found.append((path.name, node.name))
    return found


def test_every_property_test_is_shown_to_give_a_trivial_function_nothing():
    """Each property test is in the earns_nothing of a constant or zero variant (Q1's theory checks are
    worth no points)."""
    shown = {t for v in variants.CATALOGUE for t in v.earns_nothing}
    tests = [(f, t) for f, t in _property_tests() if not f.startswith('test_q1_')]
    assert len(tests) >= 10, tests
    assert [t for t in tests if t[1] not in shown] == []


def test_every_variant_changes_the_reference(tmp_path):
    for v in variants.CATALOGUE:
        dest = variants.materialize(v, tmp_path / v.name)
        changed = [f for f in {p[0] for p in v.patches}
                   if (dest / f).read_text() != (paths.REFERENCE / f).read_text()]
        assert changed, f'{v.name}: the patched files equal the reference'
        for f in changed:
            compile((dest / f).read_text(), f'{v.name}/{f}', 'exec')


def test_materialize_refuses_a_patch_that_does_not_match_once(tmp_path):
    missing = Variant('x', 'old text gone', (('nn.py', 'no such text in nn.py', 'y'),), ('2.2.2',))
    with pytest.raises(PatchError, match='occurs 0 times'):
        variants.materialize(missing, tmp_path / 'a')
    twice = Variant('x', 'ambiguous', (('nn.py', 'def ', 'def  '),), ('2.2.2',))
    with pytest.raises(PatchError, match='occurs [2-9][0-9]* times'):
        variants.materialize(twice, tmp_path / 'b')
    with pytest.raises(ValueError, match='must say which questions'):
        Variant('x', 'neither lost nor kept', (('nn.py', 'a', 'b'),), ())


def test_old_course_util_runs_only_with_the_compat_shim(tmp_path):
    """The 'util-np-float' variant really exercises the shim: its relu_deriv fails on plain NumPy 2 and
    works when loaded the way the grader loads a submission."""
    dest = variants.materialize(variants.by_name('util-np-float'), tmp_path / 'old')
    call = 'import numpy as np; print(list(util.relu_deriv(np.array([-1.0, 2.0]))))'
    plain = subprocess.run([sys.executable, '-c', f'import util; {call}'], cwd=dest, capture_output=True, text=True)
    assert plain.returncode != 0 and 'float' in plain.stderr, plain.stdout + plain.stderr
    shimmed = subprocess.run(
        [sys.executable, '-c', f"from grader.impl import DirectImplementation; util = DirectImplementation({str(dest)!r})"
                               f".module('util'); {call}"],
        cwd=paths.ROOT, capture_output=True, text=True, env={**os.environ, 'PYTHONPATH': str(paths.ROOT)})
    assert shimmed.returncode == 0 and shimmed.stdout.strip() == '[np.float64(0.0), np.float64(1.0)]', \
        shimmed.stdout + shimmed.stderr
