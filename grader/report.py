"""report.md and report.html for a student or an instructor: the per-question table, feedback for each
failing test, and the figures the tests drew from the submission's outputs (the ``artifacts`` fixture).

Both files are rendered from one list of blocks, so they always say the same thing."""
import html
import os

from grader.results import summary, table_rows


def blocks(result, out):
    """('h1'|'h2'|'p'|'pre'|'table'|'img', ...) describing the report; image paths relative to ``out``."""
    yield 'h1', f'Grade for {os.path.basename(result.submission.rstrip("/")) or result.submission}'
    for line in summary(result).split('\n'):
        yield 'p', line
    yield 'p', f'Graded in {result.execution_time:.1f} s by harness {result.harness}.'
    yield 'table', ('question', 'score', 'max', 'status', 'title'), [
        (q, f'{s:.2f}', f'{m:g}', st, t) for q, s, m, st, t in table_rows(result)] + [
        ('total', f'{result.score:.2f}', f'{result.max_score:g}', '', '')]
    for entry in result.entries:
        if not entry.tests or (entry.status == 'passed' and not _figures(entry)):
            continue
        yield 'h2', f'{entry.name}: {entry.score:.2f} / {entry.max_score:g}'
        if entry.status != 'passed':
            yield 'pre', entry.output
        for fig in _figures(entry):
            path = os.path.relpath(fig['path'], out) if os.path.isabs(fig['path']) else fig['path']
            yield 'img', path, fig.get('caption') or fig['name']


def _figures(entry):
    if entry.hidden:      # figures of hidden cases could show hidden inputs
        return []
    return [a for o in entry.tests for a in o.get('artifacts', []) if os.path.isfile(a['path'])]


def markdown(result, out):
    lines = []
    for kind, *args in blocks(result, out):
        if kind == 'h1':
            lines += [f'# {args[0]}', '']
        elif kind == 'h2':
            lines += [f'## {args[0]}', '']
        elif kind == 'p':
            lines += [args[0], '']
        elif kind == 'pre':
            lines += ['```', args[0], '```', '']
        elif kind == 'table':
            head, rows = args
            lines += ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
            lines += ['| ' + ' | '.join(str(c).replace('|', '\\|') for c in row) + ' |' for row in rows] + ['']
        elif kind == 'img':
            lines += [f'![{args[1]}]({args[0]})', '', f'*{args[1]}*', '']
    return '\n'.join(lines)


STYLE = ('body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}'
         'table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}'
         'pre{background:#f6f6f6;padding:.8em;white-space:pre-wrap}img{max-width:100%}')


def to_html(result, out):
    e = html.escape
    parts = [f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{e(result.submission)}</title>'
             f'<style>{STYLE}</style></head><body>']
    for kind, *args in blocks(result, out):
        if kind in ('h1', 'h2', 'p', 'pre'):
            parts.append(f'<{kind}>{e(args[0])}</{kind}>')
        elif kind == 'table':
            head, rows = args
            parts.append('<table><tr>' + ''.join(f'<th>{e(h)}</th>' for h in head) + '</tr>' +
                         ''.join('<tr>' + ''.join(f'<td>{e(str(c))}</td>' for c in row) + '</tr>' for row in rows)
                         + '</table>')
        elif kind == 'img':
            parts.append(f'<figure><img src="{e(args[0])}" alt="{e(args[1])}"><figcaption>{e(args[1])}'
                         '</figcaption></figure>')
    parts.append('</body></html>')
    return '\n'.join(parts)


def write(result, out):
    (out / 'report.md').write_text(markdown(result, out))
    (out / 'report.html').write_text(to_html(result, out))
    return [out / 'report.md', out / 'report.html']
