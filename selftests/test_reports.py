"""The renderings of a grading result, on a result built from made-up outcomes (no grading run): the HTML
report parsed back (sections, order, escaping, figure links), the Markdown report, Gradescope's visible
text (never a word about hidden tests), parts that add up, the terminal table's width, the batch pass
rates and histogram. Each structural check is also shown to catch a broken rendering."""
import csv
import html
import html.parser
import json
import re
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from grader import gradebook, report, results, rubric
from grader.scoring import TABLE_WIDTH, add

NAME = 'hand:in <b>&"x"\udcff'            # a hand-in name with HTML metacharacters and a non-UTF-8 byte
SHOWN_NAME = 'hand:in <b>&"x"\\xff'        # how the reports must show it
PAYLOAD = '<script>alert(1)</script> & "quoted" \'too\''
CAPTION = 'loss curve" onerror="alert(1)'
HIDDEN_SECRET = 'expected 0.8413447460685429 at index (3, 1)'


def outcome(nodeid, qid, outcome='passed', message='', hidden=False, function=None, **extra):
    return dict(nodeid=nodeid, question=qid, function=function or nodeid.split('[')[0], weight=1.0,
                outcome=outcome, message=message, hidden=hidden, **extra)


@pytest.fixture
def made_up(tmp_path):
    """(result, out folder): 2.2.2 partly failing with hidden cases and a figure whose file name needs
    quoting in a URL, 2.2.1 full marks, 7.2.1 with a test this machine could not judge, the theory facts
    (0 points) failing, and a question with no tests."""
    out = tmp_path / 'out'
    figures = out / 'figures'
    figures.mkdir(parents=True)
    fig = figures / 'loss #1: a?b.png'
    fig.write_bytes(b'\x89PNG\r\n\x1a\n' + b'0' * 100)
    outcomes = [
        outcome('tests/test_q2_2_softmax.py::test_rows[case<1>]', '2.2.2', 'failed', f'CheckFailed: {PAYLOAD}\nsecond line',
                artifacts=[{'path': str(fig), 'name': 'loss', 'caption': CAPTION}]),
        outcome('tests/test_q2_2_softmax.py::test_rows[case2]', '2.2.2', 'failed', 'rows should sum to 1'),
        outcome('tests/test_q2_2_softmax.py::test_values', '2.2.2'),
        outcome('tests/test_q2_2_softmax.py::test_rows[hidden0]', '2.2.2', 'failed', HIDDEN_SECRET, hidden=True,
                function='tests/test_q2_2_softmax.py::test_rows'),
        outcome('tests/test_q2_2_softmax.py::test_rows[hidden1]', '2.2.2', hidden=True,
                function='tests/test_q2_2_softmax.py::test_rows'),
        outcome('tests/test_q2_2_forward.py::test_forward', '2.2.1'),
        outcome('tests/test_q2_2_forward.py::test_forward[hidden0]', '2.2.1', hidden=True,
                function='tests/test_q2_2_forward.py::test_forward'),
        outcome('tests/test_q7_2_1_squeezenet.py::test_fine_tuned', '7.2.1', 'not gradable',
                'not gradable here: the pretrained SqueezeNet 1.1 weights are not in the torch cache'),
        outcome('tests/test_q7_2_1_squeezenet.py::test_structure', '7.2.1'),
        outcome('tests/test_q1_theory.py::test_tanh', '1', 'failed', 'sigmoid raised NotImplementedError'),
    ]
    asked = ['1', '2.2.1', '2.2.2', '2.3.1', '7.2.1']
    return results.build(NAME, asked, outcomes, checksum='0' * 64), out


class Page(html.parser.HTMLParser):
    """The parts of report.html the checks need: elements with their attributes, sections and their
    text, links, images and collapsed details."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.sections, self.links, self.images, self.text = [], [], [], [], []
        self.h1 = ''
        self._in_h1 = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == 'section':
            self.sections.append({'id': attrs.get('id'), 'class': attrs.get('class'), 'details': [], 'text': []})
        elif tag == 'details' and self.sections:
            self.sections[-1]['details'].append(attrs)
        elif tag == 'a' and 'href' in attrs:
            self.links.append(attrs['href'])
        elif tag == 'img':
            self.images.append(attrs)
        self._in_h1 = tag == 'h1'

    def handle_endtag(self, tag):
        self._in_h1 = False if tag == 'h1' else self._in_h1

    def handle_data(self, data):
        self.text.append(data)
        if self._in_h1:
            self.h1 += data
        if self.sections:
            self.sections[-1]['text'].append(data)


def problems(page_text, out):
    """What is wrong with a report.html (empty when nothing is)."""
    page = Page(page_text)
    found = []
    if any(tag in ('script', 'b') for tag, _ in page.tags):
        found.append('markup from the hand-in became elements: not escaped')
    if page.h1 != SHOWN_NAME:
        found.append(f'the heading shows {page.h1!r}, not the hand-in name {SHOWN_NAME!r}')
    ids = [s['id'] for s in page.sections]
    if len(set(ids)) != len(ids) or len(ids) != 5:
        found.append(f'one section per question asked was expected, got {ids}')
    found += [f'the overview links to {h}, which no section has' for h in page.links
              if h.startswith('#') and h[1:] not in ids]
    for img in page.images:
        if set(img) != {'src', 'alt', 'loading'} or img['alt'] != CAPTION:
            found.append(f'a figure\'s attributes were not kept apart: {img}')
    for link in [img['src'] for img in page.images] + [h for h in page.links if not h.startswith('#')]:
        url = urllib.parse.urlsplit(link)   # as a browser reads it: '#' starts a fragment, '?' a query
        if url.scheme or url.query or url.fragment or not (out / urllib.parse.unquote(url.path)).is_file():
            found.append(f'figure link {link} does not lead to the figure file')
    return found


def test_html_report_sections_escaping_and_figures(made_up):
    result, out = made_up
    report.write(result, out)
    text = (out / 'report.html').read_text(encoding='utf-8')
    assert problems(text, out) == []
    page = Page(text)
    by_id = {s['id']: s for s in page.sections}
    assert [s['id'] for s in page.sections][0] == 'q2-2-2', 'the question that lost points comes first'
    assert page.sections[-1]['class'] == 'full' and by_id['q2-2-2']['class'] == 'partial'
    assert by_id['q2-3-1']['class'] == 'not-run' and by_id['q1']['class'] == 'ungraded'
    softmax = by_id['q2-2-2']
    assert len(softmax['details']) == 2 and not any('open' in d for d in softmax['details']), \
        'each failing visible test is collapsed under its name'
    assert PAYLOAD in ''.join(softmax['text']), 'the failure message is shown as text'
    assert 'Hidden tests: 1 of 2 passed' in ''.join(softmax['text'])
    assert 'the pretrained SqueezeNet 1.1 weights are not in the torch cache' in ''.join(by_id['q7-2-1']['text'])
    assert HIDDEN_SECRET not in text
    assert len(page.images) == 1
    # The checks catch a page that does not escape what the hand-in controls.
    unescaped = text.replace(html.escape(PAYLOAD), PAYLOAD).replace(html.escape(CAPTION), CAPTION)
    assert any('not escaped' in p for p in problems(unescaped, out))
    assert any('attributes' in p for p in problems(unescaped, out))
    broken_link = text.replace(urllib.parse.quote('figures/loss #1: a?b.png'), 'figures/loss #1: a?b.png')
    assert any('does not lead to the figure' in p for p in problems(broken_link, out))


def test_markdown_report_says_the_same(made_up):
    result, out = made_up
    report.write(result, out)
    md = (out / 'report.md').read_text(encoding='utf-8')
    assert md.startswith('# Grade for hand:in \\<b\\>&"x"\\\\xff'), md[:60]   # renders as the shown name
    link = re.search(r'!\[[^\]]*\]\(([^)\s]+)\)', md).group(1)
    assert (out / urllib.parse.unquote(link)).is_file()
    assert 'not gradable here: `test_fine_tuned`: the pretrained SqueezeNet' in md
    assert md.index('## 2.2.2') < md.index('## 2.2.1'), 'failures first'
    assert PAYLOAD in md and HIDDEN_SECRET not in md


def test_gradescope_visible_text_never_summarises_hidden_tests(made_up):
    result, _ = made_up
    gs = json.loads(results.FORMATS['gradescope'][1](result))
    visible = [t for t in gs['tests'] if t['visibility'] == 'visible']
    hidden = [t for t in gs['tests'] if t['visibility'] == 'after_published']
    assert hidden, 'the check needs hidden tests'
    # The total (Gradescope hides it from students while tests are hidden) is the whole grade ...
    assert gs['score'] == pytest.approx(sum(t['score'] for t in gs['tests']))
    # ... but the text every student sees counts, and adds up, the visible tests alone.
    shown = add(*(t['score'] for t in visible))
    assert gs['score'] != shown, 'the hidden tests must change the total for the check to mean anything'
    output = gs['output']
    assert f'Visible tests: {shown:g} / {add(*(t["max_score"] for t in visible)):g} points' in output
    assert re.search(rf'^total\s+{shown:.2f} / ', output, re.M), output
    assert f'{gs["score"]:.2f}' not in output and f'{gs["score"]:g} /' not in output
    softmax_row = next(line for line in output.splitlines() if line.startswith('2.2.2'))
    assert ' 1/3 ' in softmax_row, f'visible tally only (1 of 3 visible passed): {softmax_row}'
    assert HIDDEN_SECRET not in json.dumps(gs)
    # The same rendering with the hidden tests counted would have been caught:
    leaky = results.text_table(result)
    assert not re.search(rf'^total\s+{shown:.2f} / ', leaky, re.M)


def test_parts_add_up_to_the_total(made_up):
    result, _ = made_up
    for qid in result.questions:
        parts = [e for e in result.entries if e.qid == qid]
        assert add(*(e.max_score for e in parts)) == rubric.BY_ID[qid].points
        assert all(round(e.score, 2) == e.score and round(e.max_score, 2) == e.max_score for e in parts)
    assert result.score == add(*(result.points(q) for q in result.questions))
    table = results.text_table(result)
    shown = [float(m) for m in re.findall(r'^\S+\s+(\d+\.\d\d) /', table, re.M)]
    assert add(*shown[:-1]) == shown[-1], table
    assert add(1.12, 0.13) == 1.25 and add(83.875) == 83.88


def test_terminal_table_is_narrow_and_says_a_refusal_once():
    reason = 'the hand-in was refused: handin.zip: not a .zip archive (it starts with bytes 50 44 46 2d)'
    everything = [q.id for q in rubric.QUESTIONS]
    refused = results.failed('handin.zip', everything, reason)
    text = results.text_table(refused) + '\n' + results.summary(refused)
    lines = results.text_table(refused).splitlines()
    assert max(len(line) for line in lines) <= TABLE_WIDTH
    head, first = lines[0], lines[2]
    end = head.index('score') + len('score')   # the right-aligned header ends where its numbers end
    assert first[end - 4:end] == '0.00' and first[end:end + 3] == ' / ', (head, first)
    assert text.count('not a .zip archive') == 1, text
    assert set(refused.status.values()) == {results.NOT_GRADED}
    gs = json.loads(results.FORMATS['gradescope'][1](refused))
    assert gs['output'].count('not a .zip archive') == 1


def test_not_gradable_is_explained_wherever_it_is_shown(made_up):
    result, out = made_up
    table = results.text_table(result)
    assert '+1 not gradable' in table and results.NOT_GRADABLE_LEGEND in table
    assert 'n/g' not in table
    report.write(result, out)
    assert results.NOT_GRADABLE_LEGEND in html.unescape((out / 'report.html').read_text(encoding='utf-8'))


def test_results_files_are_strict_utf8(made_up, tmp_path):
    result, out = made_up
    with pytest.raises(UnicodeEncodeError):   # what a name that was not UTF-8 does to a plain write
        (tmp_path / 'plain.txt').write_text(NAME, encoding='utf-8')
    written = results.write(result, out, list(results.FORMATS)) + report.write(result, out)
    for path in written:
        path.read_bytes().decode('utf-8')   # strict: a lone surrogate would not decode
    for name in ('results.json', 'results-prairielearn.json'):
        json.loads((out / name).read_text(encoding='utf-8'))
    suites = ET.parse(out / 'junit.xml').getroot()
    assert suites.get('name') == f'grade {SHOWN_NAME}'
    assert results.printable('a\udcffb') == 'a\\xffb' and results.printable('\ud800') == '\\ud800'


def test_pass_rates_count_tests_not_zero_point_scores(made_up):
    result, _ = made_up
    rates = gradebook.pass_rates([result], result.questions)
    assert rates['1'][0] == 0.0, 'failing every theory test is not "full marks" just because it is worth 0'
    assert rates['2.2.1'][0] == 1.0 and rates['2.2.2'][0] == 0.0
    assert rates['2.3.1'][0] == 0.0, 'a question without tests is not passed'


def test_histogram_counts_whole_submissions(tmp_path):
    ticks = gradebook.histogram([10.0, 12.5, 90.0], 90, tmp_path / 'h.png')
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert (tmp_path / 'h.png').stat().st_size > 1000


def test_gradebook_keeps_a_name_that_was_not_utf8(made_up, tmp_path):
    import sqlite3
    result, _ = made_up
    with pytest.raises(UnicodeEncodeError):   # what SQLite does with such a name as it is
        sqlite3.connect(':memory:').execute('SELECT ?', (NAME,))
    db = tmp_path / 'g.sqlite'
    gradebook.record(db, NAME, result)
    book = gradebook.write_csv(db, tmp_path / 'g.csv', result.questions)
    assert list(book) == [SHOWN_NAME] and book[SHOWN_NAME][1]['2.2.2'] == result.points('2.2.2')
    with open(tmp_path / 'g.csv', encoding='utf-8', newline='') as f:
        assert [row['submission'] for row in csv.DictReader(f)] == [SHOWN_NAME]
