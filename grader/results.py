"""One grading result, and its renderings: Gradescope's results.json, PrairieLearn's external-grader
result, JUnit XML, and the per-question table (terminal, report.md and report.html share its rows).

A ``Result`` holds one ``Entry`` per question for its visible tests and, where hidden tests ran, one
more for the hidden ones (shown 'after_published'), so the entries' max_score always adds up to the
rubric's points for the questions asked. Hidden entries say only how many tests passed, never what
they expected."""
import json
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from grader import paths
from grader.rubric import BY_ID
from grader.scoring import NOT_GRADABLE, score

HIDDEN_VISIBILITY = 'after_published'
HIDDEN_ADVICE = ('Hidden tests run the same checks as the visible ones on other inputs; their expected values '
                 'are not shown. If only they fail, try your code on other shapes and values.')
NO_TESTS = 'no tests yet'
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
        return round(sum(e.score for e in self.entries), 4)

    @property
    def max_score(self):
        return round(sum(BY_ID[q].points for q in self.questions), 4)


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
    ended abnormally, so questions without outcomes say 'not graded' instead of 'no tests yet'."""
    violations = violations or {}
    outcomes = [dict(o, outcome='failed', message=' '.join(violations[o['question']]))
                if o['question'] in violations else o for o in outcomes]
    rows = score(outcomes, questions)
    entries, status = [], {}
    for qid in questions:
        row = rows[qid]
        if not row.graded:
            status[qid] = f'not graded: {crashed_run}' if crashed_run else NO_TESTS
            entries.append(Entry(qid, row.title, 0.0, row.max_score, 'failed' if row.max_score else 'passed',
                                 status[qid] + '.'))
            continue
        late = sum(o['outcome'] == 'out of time' for o in row.tests)
        status[qid] = ('rule violation' if qid in violations else
                       f'{row.tally} tests passed' + (f', {late} not graded for time' if late else ''))
        visible = [o for o in row.tests if not o['hidden']]
        hidden = [o for o in row.tests if o['hidden']]
        if not hidden:
            entries.append(_entry(row, visible, row.score, row.max_score, violations.get(qid)))
            continue
        # Points of the visible part: the same scorer, with every hidden case counted as failed.
        vis_score = _part(row.tests, qid, lambda o: not o['hidden'] and o['outcome'] == 'passed')
        vis_max = _part(row.tests, qid, lambda o: not o['hidden'])
        entries.append(_entry(row, visible, vis_score, vis_max, violations.get(qid)))
        entries.append(_entry(row, hidden, round(row.score - vis_score, 4), round(row.max_score - vis_max, 4),
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
        lines.append(f"{o['nodeid'].split('::')[-1]}: {o['message']} (its points were shared among the "
                     "tests that could be judged)")
    if violation:
        lines.insert(0, ' '.join(violation))
    elif hidden:
        if n_pass < len(tests):
            lines.append(HIDDEN_ADVICE)
    else:
        failing = [o for o in tests if o['outcome'] not in ('passed', NOT_GRADABLE)]
        measured = [f"{o['nodeid'].split('::')[-1]}: " + ', '.join(f'{k} {v:.4g}' for k, v in o['metrics'].items())
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

def table_rows(result):
    """(question, score, max, status, title) per question: the table every rendering shows."""
    return [(qid, result.rows[qid].score, result.rows[qid].max_score, result.status[qid], result.rows[qid].title)
            for qid in result.questions]


def text_table(result):
    width = max(22, *(len(s) for s in result.status.values()))
    lines = [f"{'question':<9} {'score':>13}  {'status':<{width}} title", '-' * (66 + width)]
    for qid, pts, top, status, title in table_rows(result):
        lines.append(f'{qid:<9} {pts:>6.2f} / {top:<4g}  {status:<{width}} {title}')
    lines += ['-' * (66 + width), f"{'total':<9} {result.score:>6.2f} / {result.max_score:<4g}"]
    return '\n'.join(lines)


def summary(result):
    head = (f'Grading could not complete: {result.error}' if result.error else
            f'Score {result.score:g} / {result.max_score:g} for {len(result.questions)} question(s).')
    return '\n'.join([head, *result.notes])


def gradescope(result):
    return {
        'score': result.score,
        'max_score': result.max_score,
        'execution_time': result.execution_time,
        'output': summary(result) + '\n\n' + text_table(result),
        'visibility': 'visible',
        'stdout_visibility': 'hidden',
        'tests': [{'name': e.name, 'number': e.qid, 'score': e.score, 'max_score': e.max_score,
                   'status': e.status, 'output': e.output, 'visibility': e.visibility} for e in result.entries],
        'extra_data': {'harness': result.harness, 'checksum': result.checksum, 'error': result.error,
                       'questions': {qid: pts for qid, pts, *_ in table_rows(result)}},
    }


def prairielearn(result):
    return {
        'gradable': not result.error,
        'score': round(result.score / result.max_score, 6) if result.max_score else 0.0,
        'message': summary(result),
        'output': text_table(result),
        'tests': [{'name': e.name, 'description': e.title, 'points': e.score, 'max_points': e.max_score,
                   'message': e.output.split('\n')[0], 'output': e.output} for e in result.entries],
    }


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
    'gradescope': ('results.json', lambda r: json.dumps(gradescope(r), indent=1)),
    'prairielearn': ('results-prairielearn.json', lambda r: json.dumps(prairielearn(r), indent=1)),
    'junit': ('junit.xml', junit),
}


def write(result, out, formats=('gradescope',)):
    """Write the asked formats into folder ``out``; returns the written paths. results.json is always
    Gradescope's, except when only prairielearn is asked (PrairieLearn reads results.json too)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in formats:
        filename, render = FORMATS[name]
        if name == 'prairielearn' and 'gradescope' not in formats:
            filename = 'results.json'
        (out / filename).write_text(render(result))
        written.append(out / filename)
    return written
