"""The gradebook of a batch: a SQLite database that keeps every grading run (so a regrade can be
compared with the run before), a CSV of each submission's latest run, per-question pass rates and a
score histogram."""
import csv
import sqlite3
import time
from pathlib import Path

from grader.results import printable

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission TEXT NOT NULL,      -- the hand-in's name in the batch folder
    graded_at TEXT NOT NULL,       -- UTC, ISO 8601
    harness TEXT NOT NULL,         -- harness version + git hash
    checksum TEXT NOT NULL,        -- sha256 of the course files graded
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    execution_time REAL NOT NULL,
    error TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS question_scores (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    question TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (run_id, question)
);
"""


def record(db_path, name, result):
    """Add one grading run to the database; returns its run id. Text is stored as it is shown: a name
    that was not UTF-8 (a folder from another system) with its odd bytes escaped, as SQLite needs."""
    name, result = printable(name), printable(result)
    with sqlite3.connect(db_path) as db:
        db.executescript(SCHEMA)
        cur = db.execute('INSERT INTO runs (submission, graded_at, harness, checksum, score, max_score, '
                         'execution_time, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                         (name, time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), result.harness,
                          result.checksum, result.score, result.max_score, result.execution_time, result.error))
        run_id = cur.lastrowid
        db.executemany('INSERT INTO question_scores VALUES (?, ?, ?, ?, ?)',
                       [(run_id, q, result.points(q), r.max_score, result.status[q]) for q, r in result.rows.items()])
    return run_id


def latest(db_path):
    """{submission: (run row as dict, {question: score})} for each submission's newest run."""
    with sqlite3.connect(db_path) as db:
        db.row_factory = sqlite3.Row
        runs = db.execute('SELECT * FROM runs WHERE id IN (SELECT MAX(id) FROM runs GROUP BY submission) '
                          'ORDER BY submission').fetchall()
        out = {}
        for run in runs:
            scores = db.execute('SELECT question, score FROM question_scores WHERE run_id = ?', (run['id'],))
            out[run['submission']] = (dict(run), dict(scores.fetchall()))
    return out


def changes(db_path):
    """Submissions whose newest run scored differently from the run before: [(name, old, new)]."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute('SELECT submission, score FROM runs ORDER BY submission, id').fetchall()
    history = {}
    for name, score in rows:
        history.setdefault(name, []).append(score)
    return [(name, s[-2], s[-1]) for name, s in history.items() if len(s) > 1 and s[-2] != s[-1]]


def write_csv(db_path, csv_path, questions):
    book = latest(db_path)
    with open(csv_path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['submission', 'score', 'max_score', *questions, 'graded_at', 'harness', 'checksum', 'error'])
        for name, (run, scores) in book.items():
            w.writerow([name, run['score'], run['max_score'], *(scores.get(q, '') for q in questions),
                        run['graded_at'], run['harness'], run['checksum'], run['error']])
    return book


def pass_rates(results, questions):
    """{question: (share of submissions that passed every test it could judge, mean score, max)} over a
    batch's results. Counted by tests, not points: a question worth no points (the theory facts) is not
    'passed' by a submission that scores its 0 of 0 by failing every test."""
    rates = {}
    for q in questions:
        rows = [r.rows[q] for r in results]
        passed = sum(row.graded and row.passed > 0 and row.failed == 0 for row in rows)
        rates[q] = (passed / len(rows) if rows else 0.0,
                    sum(r.points(q) for r in results) / max(1, len(results)), rows[0].max_score if rows else 0)
    return rates


def histogram(scores, max_score, path):
    """Save a histogram of the scores to ``path``; returns the count axis's tick values."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(scores, bins=min(30, max(5, int(max_score) // 3)), range=(0, max_score), color='#4472c4')
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))   # counts of submissions: whole numbers
    ax.set_xlabel(f'score (out of {max_score:g})')
    ax.set_ylabel('submissions')
    ax.set_title(f'{len(scores)} submissions, mean {sum(scores) / max(1, len(scores)):.1f}')
    fig.savefig(Path(path), dpi=90, bbox_inches='tight')
    ticks = [float(t) for t in ax.get_yticks()]
    plt.close(fig)
    return ticks
