"""The student release holds no code that solves a graded part (issue 13): not the grader's own oracles
(grader/oracles.py: central differences, the evaluation forward passes, the top principal directions),
and no such code anywhere else either, found by its fingerprints. Yet the release still gives exact
feedback: its tests compare with stored fixtures, and where a test needs an oracle it is 'not gradable
here' (the autograder, whose bundle has everything, runs it) or uses the student's own earlier pieces.
The reference solution, dropped into the release from outside, keeps every point it can be given there."""
import ast
import os
import re
import shutil
import subprocess
import sys

import pytest

from grader import paths
from grader.commands import release
from grader.evaluate import NOT_IN_RELEASE
from grader.run import read_outcomes

pytestmark = pytest.mark.skipif(not paths.REFERENCE.is_dir(), reason='needs the reference solution')
ORACLES = paths.ROOT / 'grader' / 'oracles.py'


def _code_lines(path):
    """The code lines of a module (no comments, no docstrings), stripped, long enough to be telling."""
    tree = ast.parse(path.read_text())
    docs = {n.body[0].lineno for n in ast.walk(tree) if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef))
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    lines = path.read_text().splitlines()
    return {lines[i].strip() for i in range(len(lines)) if i + 1 not in docs and len(lines[i].strip()) >= 25
            and not lines[i].strip().startswith(('#', '"""', "'''"))}


def _contains(node, kind):
    return any(isinstance(n, kind) for n in ast.walk(node))


def fingerprints(source):
    """(line, what) of code that solves a graded part: a central-difference quotient (... / (2 * eps)),
    an SVD or eigendecomposition (PCA), a forward pass through two layers (an activation of a matrix
    product, multiplied by another matrix)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.BinOp) \
                and isinstance(node.right.op, ast.Mult) and any(isinstance(v, ast.Constant) and v.value == 2
                                                                 for v in (node.right.left, node.right.right)):
            found.append((node.lineno, 'central differences'))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ('svd', 'eigh'):
            found.append((node.lineno, 'principal directions'))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) and any(
                isinstance(c, ast.Call) and any(_contains(a, ast.MatMult) for a in c.args)
                for c in ast.walk(node.left)):
            found.append((node.lineno, 'a two-layer forward pass'))
    return found


def solution_code(folder):
    """Every place in ``folder`` holding solution code: the oracles module, its lines, or a fingerprint."""
    secret = _code_lines(ORACLES)
    found = [(str(p), 'the grader\'s oracles') for p in folder.rglob('oracles.py')]
    for path in sorted(folder.rglob('*.py')):
        text = path.read_text(errors='ignore')
        found += [(str(path), f'oracle line {line!r}') for line in secret if line in text]
        found += [(f'{path}:{line}', what) for line, what in fingerprints(text)]
    return found


@pytest.fixture(scope='module')
def kit(tmp_path_factory):
    return release.build(tmp_path_factory.mktemp('release') / 'kit')


def test_the_release_holds_no_solution_code(kit):
    assert solution_code(kit) == []


def test_the_checks_find_solution_code(kit, tmp_path):
    """Each fingerprint fires on the grader's own oracles, and a release with them copied back is caught."""
    kinds = {what for _, what in fingerprints(ORACLES.read_text())}
    assert kinds == {'central differences', 'principal directions', 'a two-layer forward pass'}, kinds
    bad = tmp_path / 'bad'
    shutil.copytree(kit, bad)
    shutil.copy(ORACLES, bad / 'grader' / 'helpers.py')
    found = solution_code(bad)
    assert any('helpers.py' in where and what.startswith('oracle line') for where, what in found), found
    (bad / 'grader' / 'helpers.py').unlink()
    (bad / 'tests' / 'numeric.py').write_text('def d(f, x, h):\n    return (f(x + h) - f(x - h)) / (2 * h)\n')
    assert solution_code(bad) == [(str(bad / 'tests' / 'numeric.py') + ':2', 'central differences')]


def test_the_release_still_grades_exactly(kit, tmp_path):
    """The reference solution, put beside the release (not in it), keeps full marks on every Q2 question
    there; the tests that need an oracle say they are checked by the autograder only, and the others ran."""
    solution = shutil.copytree(paths.REFERENCE, tmp_path / 'solution')
    out = tmp_path / 'results.json'
    proc = subprocess.run([sys.executable, '-m', 'pytest', '-m', 'q2', '-q', '-p', 'no:cacheprovider',
                           f'--impl={solution}', '--results-json', str(out)], cwd=kit, capture_output=True,
                          text=True, timeout=900, env={**os.environ, 'PYTHONPATH': str(kit)})
    assert proc.returncode == 0, proc.stdout[-3000:]
    outcomes = read_outcomes(out)
    skipped = {o['function'].split('::')[-1] for o in outcomes if o['outcome'] == 'not gradable'}
    assert skipped == {'test_backwards_matches_finite_differences', 'test_sigmoid_derivative_identity'}, skipped
    assert all(NOT_IN_RELEASE in o['message'] for o in outcomes if o['outcome'] == 'not gradable')
    assert all(o['outcome'] in ('passed', 'not gradable') for o in outcomes)
    assert re.search(r'^total +28.00 / 28$', proc.stdout, re.M), proc.stdout[-1500:]
