"""Through the grader's scoring path (grader.run.run_tests): the reference earns every Q2 point, and the
untouched stubs fail every Q2 test with the sentence their NotImplementedError carries."""
import ast
import re

import pytest

from grader import paths
from grader.rubric import QUESTIONS
from grader.run import run_tests

Q2 = [q.id for q in QUESTIONS if q.id.startswith('2.')]
STUB_FILES = ('nn.py', 'q2.py')


def stub_sentences():
    """{function name: the sentence its ``raise NotImplementedError(...)`` carries} in student/."""
    found = {}
    for file in STUB_FILES:
        for node in ast.walk(ast.parse((paths.STUDENT / file).read_text())):
            if isinstance(node, ast.FunctionDef):
                for raise_ in (n for n in ast.walk(node) if isinstance(n, ast.Raise)):
                    call = raise_.exc
                    if isinstance(call, ast.Call) and getattr(call.func, 'id', '') == 'NotImplementedError':
                        found[node.name] = ast.literal_eval(call.args[0])
    return found


@pytest.mark.skipif(not paths.REFERENCE.is_dir(), reason='needs the reference solution')
def test_reference_scores_full_marks_on_q2():
    result = run_tests('reference', questions=Q2)
    assert result.returncode == 0, result.output[-3000:]
    for qid in Q2:
        row = result.rows[qid]
        assert row.graded, f'no test of question {qid} ran'
        assert row.score == row.max_score, f'reference lost points on {qid}: {row.score}/{row.max_score}'
    assert result.total == sum(q.points for q in QUESTIONS if q.id in Q2)


def test_stubs_fail_every_q2_test_with_their_sentence():
    sentences = stub_sentences()
    assert len(sentences) >= 11, f'expected a NotImplementedError sentence in every graded stub: {sorted(sentences)}'
    result = run_tests('student', questions=Q2)
    assert result.returncode == 1, result.output[-3000:]   # tests failed (2 would be a collection error)
    assert {o['question'] for o in result.outcomes} == set(Q2), 'some Q2 question ran no test'
    reached = set()
    for o in result.outcomes:
        assert o['outcome'] == 'failed', f"{o['nodeid']} {o['outcome']} on the stubs"
        first = o['message'].splitlines()[0] if o['message'] else ''
        matches = [name for name, s in sentences.items() if first == f'NotImplementedError: {s}']
        assert matches, f"{o['nodeid']} failed without a stub's sentence: {first!r}"
        tag = re.search(r'\(Q([\d.]+)\)', sentences[matches[0]]).group(1)
        assert tag == o['question'], f"{o['nodeid']} (question {o['question']}) failed on the stub of Q{tag}"
        reached.add(matches[0])
    graded = {name for name, s in sentences.items() if re.search(r'\(Q2\.', s)}
    assert graded <= reached, f'stubs no Q2 test reaches: {sorted(graded - reached)}'
    assert result.total == 0
