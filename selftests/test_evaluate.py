"""The grader's own measure of page reading (grader.evaluate.char_accuracy and its edit distance), which
4.3, 4.4 and 7.1.4 grade with, and the misreads benchmarks/photos.py lists from the same table."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader import evaluate

TEXT = st.text(alphabet='ABC01 ', max_size=12)


def test_char_accuracy_counts_each_wrong_missing_or_extra_character_once():
    truth = ['TO DO', 'LIST']
    assert evaluate.char_accuracy(['TO DO', 'LIST'], truth) == 1.0
    assert evaluate.char_accuracy(['todo list'], truth) == 1.0            # spaces, case and line breaks are free
    assert evaluate.char_accuracy(['T0 DO', 'LIST'], truth) == 1 - 1 / 8  # one wrong
    assert evaluate.char_accuracy(['TODO', 'LST'], truth) == 1 - 1 / 8    # one missed
    assert evaluate.char_accuracy(['TODOX', 'LIST'], truth) == 1 - 1 / 8  # one extra
    assert evaluate.char_accuracy([], truth) == 0.0
    assert evaluate.misreads(['T0DO', 'LST'], truth) == [('O', '0'), ('I', '-')]


@given(TEXT, TEXT)
def test_the_misreads_are_as_many_as_the_distance(truth, read):
    distance = evaluate.edit_distance(evaluate.page_text([read]), evaluate.page_text([truth]))
    assert distance == evaluate.edit_distance(evaluate.page_text([truth]), evaluate.page_text([read]))
    assert len(evaluate.misreads([read], [truth])) == distance


@given(st.text(alphabet='AB', min_size=1, max_size=6), st.integers(1, 4))
def test_a_read_at_least_twice_as_long_as_the_page_scores_what_the_distance_gives(truth, times):
    read = truth * (times + 1)
    full = max(0.0, 1.0 - evaluate.edit_distance(read, truth) / len(truth))
    assert evaluate.char_accuracy([read], [truth]) == full == 0.0


def test_a_huge_read_is_scored_without_an_edit_distance(monkeypatch):
    """A read_page that returns a very long string (a hostile hand-in) must not cost the grader's process
    an edit distance of millions of cells: the difference in length already floors the score at 0."""
    def refuse(a, b):
        pytest.fail(f'edit distance computed between {len(a)} and {len(b)} characters')
    monkeypatch.setattr(evaluate, 'edit_distance', refuse)
    assert evaluate.char_accuracy(['A' * 10 ** 7], ['HAIKUS ARE EASY']) == 0.0
    assert evaluate.char_accuracy(['HAIKUS ARE EASY' * 2], ['HAIKUS ARE EASY']) == 0.0
