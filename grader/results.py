"""One grading result, and its renderings: Gradescope's results.json, PrairieLearn's external-grader
result, JUnit XML, and the per-question table (terminal, report.md and report.html share its rows).

A ``Result`` holds one ``Entry`` per question for its visible tests and, where hidden tests ran, one
more for the hidden ones (shown 'after_published'), so the entries' max_score always adds up to the
rubric's points for the questions asked. Hidden entries say only how many tests passed, never what
they expected. Points are kept in cents (grader.scoring.cents), so the parts shown add up to the total.

Gradescope shows a student the top-level ``output`` at once, but hides the total score while any test is
hidden ('after_published'; its documented contract: "If test cases are hidden, students will not be able
to see their total score"). So the top-level score is the whole grade, and the output text speaks of the
visible tests only."""
import base64
import dataclasses
import json
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from grader import paths
from grader.rubric import BY_ID
from grader.scoring import NOT_GRADABLE, add, cents, render_table, score, untested

HIDDEN_VISIBILITY = 'after_published'
HIDDEN_ADVICE = ('Hidden tests run the same checks as the visible ones on other inputs; their expected values '
                 'are not shown. If only they fail, try your code on other shapes and values.')
NOT_GRADED = 'not graded'
NOT_GRADABLE_LEGEND = ('not gradable: a test this machine could not judge (the report says why); it costs '
                       'nothing: its points went to the question\'s other tests.')
MAX_SHOWN = 8            # failing tests described per question; the rest are counted
MAX_MESSAGE = 1500       # characters of one failure message


@dataclass
class Entry:
    qid: str
    title: str
    score: float
    max_score: float
    status: str            # 'passed' (full marks) or 'failed'
    output: str            # feedback for the student
    hidden: bool = False
    tests: list = field(default_factory=list)   # the outcome records behind it

    @property
    def name(self):
        return f'{self.qid} {self.title}' + (' (hidden tests)' if self.hidden else '')

    @property
    def visibility(self):
        return HIDDEN_VISIBILITY if self.hidden else 'visible'


@dataclass
class Result:
    submission: str
    questions: list          # rubric ids asked for
    rows: dict               # qid -> grader.scoring.QuestionScore
    entries: list            # Entry per question (and per question's hidden tests)
    status: dict             # qid -> 'no tests yet' / 'rule violation' / 'n/m tests passed' ...
    notes: list = field(default_factory=list)     # sentences about the hand-in and the run
    execution_time: float = 0.0
    error: str = ''          # set when grading could not complete; the score is then 0
    checksum: str = ''
    harness: str = field(default_factory=lambda: harness_version())

    @property
    def score(self):
        return add(*(e.score for e in self.entries))

    @property
    def max_score(self):
        return add(*(BY_ID[q].points for q in self.questions))

    def points(self, qid):
        """Points of question ``qid``: its visible and hidden parts added up."""
        return add(*(e.score for e in self.entries if e.qid == qid))

    @property
    def has_hidden(self):
        return any(e.hidden for e in self.entries)


def harness_version():
    """'0.1.0+<git hash>' (or '+nogit' in a bundle without git), recorded with every grading run."""
    version = '0.0.0'
    pyproject = paths.ROOT / 'pyproject.toml'
    if pyproject.is_file():
        for line in pyproject.read_text().splitlines():
            if line.startswith('version'):
                version = line.split('=', 1)[1].strip().strip('"')
                break
    stamp = paths.ROOT / 'HARNESS_VERSION'   # written into bundles and releases
    if stamp.is_file():
        return stamp.read_text().strip()
    try:
        commit = subprocess.run(['git', 'rev-parse', '--short=12', 'HEAD'], cwd=paths.ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=paths.ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = '', ''
    return f"{version}+{commit or 'nogit'}{'.dirty' if dirty else ''}"


# ---- building ------------------------------------------------------------------------------------

def build(submission, questions, outcomes, crashed_run='', violations=None, notes=(), execution_time=0.0,
          checksum=''):
    """The result of one test run. ``violations``: {qid: [reasons]} for questions that lose their points
    by a rule (their tests are recorded as failed with the reason). ``crashed_run``: why the test run
    ended abnormally, so questions without outcomes say 'not graded' instead of 'no tests yet' (the
    reason itself is said once, by the notes or the error, not in every row)."""
    violations = violations or {}
    outcomes = [dict(o, outcome='failed', message=' '.join(violations[o['question']]))
                if o['question'] in violations else o for o in outcomes]
    rows = score(outcomes, questions)
    entries, status = [], {}
    for qid in questions:
        row = rows[qid]
        if not row.graded:
            status[qid] = NOT_GRADED if crashed_run else untested(qid)
            entries.append(Entry(qid, row.title, 0.0, row.max_score, 'failed' if row.max_score else 'passed',
                                 f'{status[qid].capitalize()}.'))
            continue
        late = sum(o['outcome'] == 'out of time' for o in row.tests)
        status[qid] = ('rule violation' if qid in violations else
                       row.tally + (f', {late} not graded for time' if late else ''))
        visible = [o for o in row.tests if not o['hidden']]
        hidden = [o for o in row.tests if o['hidden']]
        if not hidden:
            entries.append(_entry(row, visible, cents(row.score), row.max_score, violations.get(qid)))
            continue
        # Points of the visible part: the same scorer, with every hidden case counted as failed; the
        # hidden part is the rest, so the two add up to the question's points to the cent.
        vis_score = cents(_part(row.tests, qid, lambda o: not o['hidden'] and o['outcome'] == 'passed'))
        vis_max = cents(_part(row.tests, qid, lambda o: not o['hidden']))
        entries.append(_entry(row, visible, vis_score, vis_max, violations.get(qid)))
        entries.append(_entry(row, hidden, add(row.score, -vis_score), add(row.max_score, -vis_max),
                              violations.get(qid), hidden=True))
    return Result(str(submission), list(questions), rows, entries, status, list(notes),
                  round(execution_time, 2), checksum=checksum)


def failed(submission, questions, error, notes=(), execution_time=0.0):
    """A valid result when grading could not complete: every question 0, with the reason."""
    result = build(submission, questions, [], crashed_run=error, notes=notes, execution_time=execution_time)
    result.error = error
    return result


def _part(tests, qid, passes):
    return score([dict(o, outcome='passed' if passes(o) else 'failed') for o in tests], [qid])[qid].score


def _entry(row, tests, points, max_points, violation, hidden=False):
    n_pass = sum(o['outcome'] == 'passed' for o in tests)
    unjudged = [o for o in tests if o['outcome'] == NOT_GRADABLE]
    lines = [f'{n_pass} of {len(tests) - len(unjudged)} {"hidden " if hidden else ""}tests passed.']
    for o in unjudged:   # the machine's limitation, not the student's: say so, and that it cost nothing
        lines.append(f"{short_name(o)}: {not_gradable_reason(o)} (it costs nothing: its points were shared "
                     "among the tests that could be judged)")
    if violation:
        lines.insert(0, ' '.join(violation))
    elif hidden:
        if n_pass < len(tests):
            lines.append(HIDDEN_ADVICE)
    else:
        failing = [o for o in tests if o['outcome'] not in ('passed', NOT_GRADABLE)]
        measured = [f"{short_name(o)}: " + ', '.join(f'{k} {v:.4g}' for k, v in o['metrics'].items())
                    for o in tests if o.get('metrics')]
        if measured:   # what the grader measured from the submission's outputs (visible tests only)
            lines.append('Measured by the grader: ' + '; '.join(measured))
        for o in failing[:MAX_SHOWN]:
            lines.append(f"\nFAILED {o['nodeid']}\n{o['message'][:MAX_MESSAGE]}\nReproduce: pytest '{o['nodeid']}'")
        if len(failing) > MAX_SHOWN:
            lines.append(f'\n... and {len(failing) - MAX_SHOWN} more failing tests (run pytest -m '
                         f"q{row.id.replace('.', '_')} to see them all).")
    if row.id in BY_ID and BY_ID[row.id].note and not hidden:
        lines.append(f'\nNote: {BY_ID[row.id].note}')
    status = 'passed' if points >= max_points and n_pass + len(unjudged) == len(tests) else 'failed'
    return Entry(row.id, row.title, points, max_points, status, '\n'.join(lines), hidden, tests)


# ---- renderings --------------------------------------------------------------------------------

def short_name(outcome):
    """'test_softmax_rows[case3]': a test's name without its file."""
    return outcome['nodeid'].split('::')[-1]


def not_gradable_reason(outcome):
    """Why the machine could not judge a test, without the marker prefix of grader.checks.not_gradable."""
    return outcome['message'].strip().removeprefix('not gradable here: ')


def table_rows(result, visible_only=False):
    """(question, points, max, status, title) per question: the table every rendering shows. With
    ``visible_only``, what a student may see before grades are published: the visible tests alone."""
    rows = []
    for qid in result.questions:
        parts = [e for e in result.entries if e.qid == qid and not (visible_only and e.hidden)]
        status = result.status[qid]
        if visible_only and result.has_hidden and result.rows[qid].graded and status != 'rule violation':
            tests = [o for e in parts for o in e.tests]
            unjudged = sum(o['outcome'] == NOT_GRADABLE for o in tests)
            status = (f"{sum(o['outcome'] == 'passed' for o in tests)}/{len(tests) - unjudged}"
                      + (f' +{unjudged} not gradable' if unjudged else ''))
        rows.append((qid, add(*(e.score for e in parts)), add(*(e.max_score for e in parts)), status,
                     result.rows[qid].title))
    return rows


def text_table(result, visible_only=False):
    """The per-question table as text (at most grader.scoring.TABLE_WIDTH characters wide), with a legend
    for the words in it that need one."""
    rows = table_rows(result, visible_only)
    legend = [NOT_GRADABLE_LEGEND] if any('not gradable' in r[3] for r in rows) else []
    return '\n'.join([render_table(rows), *legend])


def summary(result, visible_only=False):
    """The sentences above the table: the score, or why grading could not complete, and the notes."""
    if result.error:
        head = f'Grading could not complete: {result.error}'
    elif visible_only and result.has_hidden:
        shown = [e for e in result.entries if not e.hidden]
        hidden_max = add(*(e.max_score for e in result.entries if e.hidden))
        head = (f'Visible tests: {add(*(e.score for e in shown)):g} / {add(*(e.max_score for e in shown)):g} '
                f'points. Hidden tests worth {hidden_max:g} more points ran too; their results and your total '
                'appear when grades are published.')
    else:
        head = f'Score {result.score:g} / {result.max_score:g} for {len(result.questions)} question(s).'
    return '\n'.join([head, *result.notes])


def gradescope(result):
    return {
        'score': result.score,
        'max_score': result.max_score,
        'execution_time': result.execution_time,
        'output': summary(result, visible_only=True) + '\n\n' + text_table(result, visible_only=True),
        'visibility': 'visible',
        'stdout_visibility': 'hidden',
        'tests': [{'name': e.name, 'number': e.qid, 'score': e.score, 'max_score': e.max_score,
                   'status': e.status, 'output': e.output, 'visibility': e.visibility} for e in result.entries],
        'extra_data': {'harness': result.harness, 'checksum': result.checksum, 'error': result.error,
                       'questions': {qid: result.points(qid) for qid in result.questions}},
    }


def prairielearn(result):
    """PrairieLearn's external-grader result: a score from 0 to 1, one test per entry, and the visible
    tests' figures inline (PrairieLearn shows everything at once and has no 'after published', so hidden
    entries say only how many of their tests passed, as everywhere). Not gradable when grading could not
    complete: PrairieLearn then charges the student no attempt."""
    data = {
        'gradable': not result.error,
        'score': round(result.score / result.max_score, 6) if result.max_score else 0.0,
        'message': summary(result),
        'output': text_table(result),
        'tests': [{'name': e.name, 'description': e.title, 'points': e.score, 'max_points': e.max_score,
                   'message': e.output.split('\n')[0], 'output': e.output, 'images': images}
                  for e, images in zip(result.entries, _images(result.entries))],
    }
    if result.error:
        data['format_errors'] = [result.error]
    return data


PL_IMAGE_BUDGET = 600_000   # bytes of base64 figures: PrairieLearn takes at most 1 MB of results


def _images(entries):
    """Per entry, its figures as PrairieLearn image objects (data URLs), while they fit the budget."""
    budget, out = PL_IMAGE_BUDGET, []
    for entry in entries:
        images = []
        for a in (a for o in entry.tests if not entry.hidden for a in o.get('artifacts', [])):
            path = Path(a['path'])
            if path.suffix.lower() in ('.png', '.jpg', '.jpeg') and path.is_file():
                data = base64.b64encode(path.read_bytes()).decode()
                if len(data) <= budget:
                    budget -= len(data)
                    kind = 'png' if path.suffix.lower() == '.png' else 'jpeg'
                    images.append({'label': a.get('caption') or a['name'], 'url': f'data:image/{kind};base64,{data}'})
        out.append(images)
    return out


def junit(result):
    """JUnit XML: a test suite per question, a test case per test (hidden ones without their message)."""
    suites = ET.Element('testsuites', name=f'grade {result.submission}', time=f'{result.execution_time:.2f}')
    for entry in result.entries:
        suite = ET.SubElement(suites, 'testsuite', name=entry.name, tests=str(max(1, len(entry.tests))),
                              failures=str(sum(o['outcome'] not in ('passed', NOT_GRADABLE) for o in entry.tests)),
                              skipped=str(sum(o['outcome'] == NOT_GRADABLE for o in entry.tests)))
        ET.SubElement(suite, 'properties').extend([
            ET.Element('property', name='score', value=f'{entry.score:g}'),
            ET.Element('property', name='max_score', value=f'{entry.max_score:g}')])
        if not entry.tests:
            case = ET.SubElement(suite, 'testcase', classname=f"q{entry.qid.replace('.', '_')}", name=entry.name)
            ET.SubElement(case, 'skipped', message=entry.output)
        for o in entry.tests:
            case = ET.SubElement(suite, 'testcase', classname=f"q{entry.qid.replace('.', '_')}",
                                 name=o['nodeid'], time=f"{o.get('duration', 0):.3f}")
            if o['outcome'] == NOT_GRADABLE:
                ET.SubElement(case, 'skipped', message=o['message'][:200])
            elif o['outcome'] != 'passed':
                text = HIDDEN_ADVICE if entry.hidden else o['message']
                ET.SubElement(case, 'failure', message=text.split('\n')[0][:200]).text = text
    ET.indent(suites)
    return ET.tostring(suites, encoding='unicode', xml_declaration=True)


FORMATS = {   # name -> (file name, renderer returning text)
    'gradescope': ('results.json', lambda r: json.dumps(printable(gradescope(r)), indent=1)),
    'prairielearn': ('results-prairielearn.json', lambda r: json.dumps(printable(prairielearn(r)), indent=1)),
    'junit': ('junit.xml', lambda r: junit(printable(r))),
}


def printable(value):
    """``value`` (text, or dicts, lists and Results holding text) with every character that cannot be
    written as UTF-8 shown escaped: a file name that was not UTF-8 (Python keeps its bytes as lone
    surrogates) becomes '\\xff', which strict JSON parsers and browsers accept."""
    if isinstance(value, str):
        try:
            value.encode('utf-8')
            return value
        except UnicodeEncodeError:
            try:   # the bytes the name had on disk, shown as \xNN
                return value.encode('utf-8', 'surrogateescape').decode('utf-8', 'backslashreplace')
            except UnicodeEncodeError:   # a surrogate that stands for no byte
                return value.encode('utf-8', 'backslashreplace').decode('utf-8')
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(printable(v) for v in value)
    if isinstance(value, Result):
        return dataclasses.replace(value, submission=printable(value.submission), notes=printable(value.notes),
                                   error=printable(value.error), status=printable(value.status),
                                   entries=[dataclasses.replace(e, output=printable(e.output),
                                                                tests=printable(e.tests))
                                            for e in value.entries])
    return value


def write(result, out, formats=('gradescope',)):
    """Write the asked formats into folder ``out``; returns the written paths. results.json is always
    Gradescope's, except when only prairielearn is asked (PrairieLearn reads results.json too)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in formats:
        filename, render = FORMATS[name]
        if name == 'prairielearn' and 'gradescope' not in formats:
            filename = 'results.json'
        (out / filename).write_text(render(result), encoding='utf-8')
        written.append(out / filename)
    return written
