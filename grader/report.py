"""report.md and report.html for a student or an instructor: the score, a per-question overview, then one
section per question (the ones that lost points first) with each failing test's feedback collapsed
under its name, why a test could not be judged here, what the grader measured, and the figures the tests
drew from the submission's outputs (the ``artifacts`` fixture), shown inline.

Both files are rendered from one list of ``Section``s, so they always say the same thing. Everything
that comes from the hand-in or the run (names, messages, captions, paths) is escaped."""
import html
import os
import re
import urllib.parse
from dataclasses import dataclass, field

from grader.results import (HIDDEN_ADVICE, NOT_GRADABLE_LEGEND, NOT_GRADED, not_gradable_reason,
                            printable, summary, table_rows, short_name)
from grader.rubric import BY_ID
from grader.scoring import NOT_GRADABLE, add, untested

MAX_MESSAGE = 4000   # characters of one failure message in the reports

# state -> (label, what it means); the order is the order of the sections (failures first)
STATES = {
    'failed': ('no points', 'lost all its points'),
    'partial': ('partial', 'lost some of its points'),
    'not-run': ('not graded', 'could not be graded'),
    'ungraded': ('0 points', "worth no points (Q1's written answers are graded by people; 4.3 measures the "
                            "course's photos), tests shown for information"),
    'full': ('full marks', 'every test that could be judged passed'),
}


@dataclass
class Failure:
    name: str          # the test's name, e.g. test_softmax_rows[case3]
    nodeid: str
    message: str


@dataclass
class Section:
    qid: str
    title: str
    points: float
    max_points: float
    state: str                                       # a key of STATES
    lines: list = field(default_factory=list)        # sentences: tallies, rule violations, notes
    failures: list = field(default_factory=list)     # Failure per failing visible test
    unjudged: list = field(default_factory=list)     # (test name, why this machine could not judge it)
    measured: list = field(default_factory=list)     # (test name, 'accuracy 0.82, ...')
    figures: list = field(default_factory=list)      # (path relative to the report, caption)
    hidden: str = ''                                 # what may be said of the hidden tests

    @property
    def anchor(self):
        return 'q' + self.qid.replace('.', '-')


def sections(result, out):
    """One Section per question asked, the questions that lost points first (then rubric order)."""
    made = [_section(result, qid, out) for qid in result.questions]
    return sorted(made, key=lambda s: list(STATES).index(s.state))


def _section(result, qid, out):
    entries = [e for e in result.entries if e.qid == qid]
    visible = [e for e in entries if not e.hidden]
    points, top = result.points(qid), add(*(e.max_score for e in entries))
    status = result.status[qid]
    tests = [o for e in visible for o in e.tests]
    not_run = status in (NOT_GRADED, untested(qid))
    failing = [o for o in tests if o['outcome'] not in ('passed', NOT_GRADABLE)]
    if not_run:
        state = 'not-run'
    elif not top:
        state = 'ungraded'
    else:
        state = 'full' if points >= top else 'partial' if points > 0 else 'failed'
    sec = Section(qid, result.rows[qid].title, points, top, state)
    if not_run:
        sec.lines.append(f'{status.capitalize()}.' + (' The reason is at the top of this report.'
                                                      if status == NOT_GRADED else ''))
    if status == 'rule violation':
        sec.lines.append(visible[0].output.split('\n')[0] if visible else 'Rule violation.')
    if tests:
        judged = [o for o in tests if o['outcome'] != NOT_GRADABLE]
        part = f' ({add(*(e.score for e in visible)):.2f} of {add(*(e.max_score for e in visible)):g} points)' \
            if len(entries) > 1 else ''
        sec.lines.append(f"{sum(o['outcome'] == 'passed' for o in judged)} of {len(judged)} visible tests "
                         f'passed{part}.')
    sec.failures = [Failure(short_name(o), o['nodeid'], o['message'][:MAX_MESSAGE]) for o in failing
                    if status != 'rule violation']
    sec.unjudged = [(short_name(o), not_gradable_reason(o)) for o in tests if o['outcome'] == NOT_GRADABLE]
    sec.measured = [(short_name(o), ', '.join(f'{k} {v:.4g}' for k, v in o['metrics'].items()))
                    for o in tests if o.get('metrics')]
    sec.figures = [(_relative(a['path'], out), a.get('caption') or a['name']) for o in tests
                   for a in o.get('artifacts', []) if os.path.isfile(a['path'])]   # hidden cases draw none here
    for e in entries:
        if e.hidden:
            n_pass = sum(o['outcome'] == 'passed' for o in e.tests)
            sec.hidden = (f'Hidden tests: {n_pass} of {len(e.tests)} passed ({e.score:.2f} of {e.max_score:g} '
                          'points).' + (f' {HIDDEN_ADVICE}' if n_pass < len(e.tests) else ''))
    if BY_ID[qid].note:
        sec.lines.append(f'Note: {BY_ID[qid].note}')
    return sec


def _sentence(text):
    text = text.strip()
    return text if text.endswith(('.', '!', '?')) else text + '.'


def _relative(path, out):
    return os.path.relpath(path, out) if os.path.isabs(path) else path


def _href(path):
    """A relative URL for a file path: every character that means something in a URL is quoted, so a
    name with ':', '#', '?' or spaces still links to the file (and never reads as a scheme)."""
    return urllib.parse.quote(path.replace(os.sep, '/'), safe='/')


def _name(result):
    return os.path.basename(result.submission.rstrip('/')) or result.submission


# ---- Markdown --------------------------------------------------------------------------------------

def _fence(text):
    """A code fence longer than any run of backticks in ``text``."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == '`' else 0
        longest = max(longest, run)
    return '`' * max(3, longest + 1)


def _md_inline(text):
    return ''.join('\\' + ch if ch in '\\`*_[]<>|#' else ch for ch in text.replace('\n', ' '))


def markdown(result, out):
    lines = [f'# Grade for {_md_inline(_name(result))}', '']
    lines += [line for s in summary(result).split('\n') for line in (_md_inline(s), '')]
    lines += [f'Graded in {result.execution_time:.1f} s by harness {_md_inline(result.harness)}.', '',
              '| question | score | of | tests | title |', '| --- | ---: | ---: | --- | --- |']
    for qid, pts, top, status, title in table_rows(result):
        lines.append(f'| [{qid}](#{"q" + qid.replace(".", "-")}) | {pts:.2f} | {top:g} | {_md_inline(status)} | '
                     f'{_md_inline(title)} |')
    lines.append(f'| **total** | **{result.score:.2f}** | **{result.max_score:g}** | | |')
    if any('not gradable' in s for s in result.status.values()):
        lines += ['', f'*{_md_inline(NOT_GRADABLE_LEGEND)}*']
    lines.append('')
    for sec in sections(result, out):
        label = STATES[sec.state][0]
        lines += [f'<a id="{sec.anchor}"></a>', '',
                  f'## {sec.qid} {_md_inline(sec.title)}: {sec.points:.2f} / {sec.max_points:g} ({label})', '']
        lines += [line for s in sec.lines for line in (_md_inline(s), '')]
        for name, why in sec.unjudged:
            lines += [f'- not gradable here: `{name}`: {_md_inline(why)}', '']
        if sec.measured:
            lines += ['Measured by the grader: ' + '; '.join(f'`{n}`: {_md_inline(m)}' for n, m in sec.measured), '']
        for f in sec.failures:
            body = f"{f.message}\n\nReproduce: pytest '{f.nodeid}'"
            lines += [f'### FAILED `{f.name}`', '', _fence(body), body, _fence(body), '']
        for path, caption in sec.figures:
            lines += [f'![{_md_inline(caption)}]({_href(path)})', '', f'*{_md_inline(caption)}*', '']
        if sec.hidden:
            lines += [_md_inline(sec.hidden), '']
    return '\n'.join(lines)


# ---- HTML ------------------------------------------------------------------------------------------

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;max-width:62em;margin:1.5em auto;
 padding:0 1em}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.15em;margin:0;display:flex;gap:.6em;align-items:baseline}
.score{font-size:2.4em;font-weight:700}.muted{color:#59636e;font-size:.9em}
table{border-collapse:collapse;width:100%;margin:1em 0}td,th{padding:.3em .6em;text-align:left;
 border-bottom:1px solid #d1d9e0}.num{text-align:right;font-variant-numeric:tabular-nums}.nowrap,.num{white-space:nowrap}
ul.measured{margin:.3em 0;padding-left:1.4em;font-size:.9em}ul.measured code{font-size:.95em}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
section{border:1px solid #d1d9e0;border-left:6px solid var(--edge);border-radius:6px;padding:.8em 1em;
 margin:1em 0;background:#fff}
.badge{display:inline-block;padding:.05em .55em;border-radius:1em;font-size:.8em;font-weight:600;
 background:var(--bg);color:var(--fg);white-space:nowrap}
.pts{margin-left:auto;font-variant-numeric:tabular-nums;white-space:nowrap}
.failed{--edge:#cf222e;--bg:#ffebe9;--fg:#a40e26}.partial{--edge:#bf8700;--bg:#fff8c5;--fg:#7d4e00}
.not-run{--edge:#6e7781;--bg:#eaeef2;--fg:#424a53}.ungraded{--edge:#8c959f;--bg:#f6f8fa;--fg:#59636e}
.full{--edge:#1a7f37;--bg:#dafbe1;--fg:#116329}
details{border:1px solid #d1d9e0;border-radius:6px;margin:.5em 0;background:#fff}
summary{cursor:pointer;padding:.4em .7em;font-family:ui-monospace,monospace;font-size:.9em}
summary .msg{font-family:system-ui,sans-serif;color:#a40e26}
pre{background:#f6f8fa;margin:0;padding:.8em;white-space:pre-wrap;word-break:break-word;font-size:.85em;
 border-top:1px solid #d1d9e0}
.unjudged{background:#eaeef2;border-radius:6px;padding:.5em .8em;margin:.5em 0}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(24em,1fr));gap:.8em}
figure{margin:.4em 0}figure img{max-width:100%;border:1px solid #d1d9e0;border-radius:4px}
figcaption{color:#59636e;font-size:.9em}.hidden-tests{color:#59636e}
"""


def to_html(result, out):
    e = html.escape   # quote=True: safe in text and in attribute values alike
    secs = sections(result, out)
    by_id = {s.qid: s for s in secs}
    p = [f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
         f'<meta name="viewport" content="width=device-width, initial-scale=1">'
         f'<title>Grade for {e(_name(result))}</title><style>{STYLE}</style></head><body>',
         f'<header><p class="muted">Grade for</p><h1>{e(_name(result))}</h1>'
         f'<div class="score" id="total">{result.score:.2f} <span class="muted">/ {result.max_score:g}</span></div>']
    said = summary(result).split('\n')[0 if result.error else 1:]   # the score itself is shown above
    p += [f'<p class="summary">{e(line)}</p>' for line in said if line]
    p.append(f'<p class="muted">Graded in {result.execution_time:.1f} s by harness {e(result.harness)}.</p></header>')
    p.append('<table id="overview"><thead><tr><th>question</th><th>status</th><th class="num">score</th>'
             '<th>tests</th><th>title</th></tr></thead><tbody>')
    for qid, pts, top, status, title in table_rows(result):
        sec = by_id[qid]
        p.append(f'<tr class="{sec.state}"><td><a href="#{sec.anchor}">{e(qid)}</a></td>'
                 f'<td><span class="badge">{e(STATES[sec.state][0])}</span></td>'
                 f'<td class="num">{pts:.2f} / {top:g}</td><td class="nowrap">{e(status)}</td><td>{e(title)}</td></tr>')
    p.append(f'</tbody><tfoot><tr><th>total</th><th></th><th class="num">{result.score:.2f} / '
             f'{result.max_score:g}</th><th></th><th></th></tr></tfoot></table>')
    if any('not gradable' in s for s in result.status.values()):
        p.append(f'<p class="muted">{e(NOT_GRADABLE_LEGEND)}</p>')
    for sec in secs:
        p.append(f'<section id="{sec.anchor}" class="{sec.state}"><h2><span>{e(sec.qid)}</span>'
                 f'<span>{e(sec.title)}</span><span class="badge">{e(STATES[sec.state][0])}</span>'
                 f'<span class="pts">{sec.points:.2f} / {sec.max_points:g}</span></h2>')
        p += [f'<p>{e(line)}</p>' for line in sec.lines]
        for name, why in sec.unjudged:
            p.append(f'<p class="unjudged"><strong>Not gradable here:</strong> <code>{e(name)}</code>: '
                     f'{e(_sentence(why))} It costs nothing: its points went to the tests that could be judged.</p>')
        if sec.measured:
            p.append('<p>Measured by the grader:</p><ul class="measured">' + ''.join(
                f'<li><code>{e(n)}</code>: {e(m)}</li>' for n, m in sec.measured) + '</ul>')
        for f in sec.failures:
            first = re.sub(r'^grader\.[\w.]+: ', '', f.message.strip().split('\n')[0])[:160]
            p.append(f'<details class="failure"><summary>{e(f.name)} <span class="msg">{e(first)}</span>'
                     f'</summary><pre>{e(f.message)}\n\nReproduce: pytest {e(repr(f.nodeid))}</pre></details>')
        if sec.figures:   # side by side; each opens full size
            p.append('<div class="figures">' + ''.join(
                f'<figure><a href="{e(_href(path))}"><img src="{e(_href(path))}" alt="{e(caption)}" '
                f'loading="lazy"></a><figcaption>{e(caption)}</figcaption></figure>'
                for path, caption in sec.figures) + '</div>')
        if sec.hidden:
            p.append(f'<p class="hidden-tests">{e(sec.hidden)}</p>')
        p.append('</section>')
    p.append('</body></html>')
    return '\n'.join(p)


def write(result, out):
    result = printable(result)   # file names that were not UTF-8, shown escaped instead of breaking the write
    (out / 'report.md').write_text(printable(markdown(result, out)), encoding='utf-8')
    (out / 'report.html').write_text(printable(to_html(result, out)), encoding='utf-8')
    return [out / 'report.md', out / 'report.html']
