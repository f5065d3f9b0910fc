"""Grade every hand-in in a folder (each a subfolder or a .zip), N at a time.

Writes OUT/<name>/ (results.json, reports) per hand-in, OUT/gradebook.sqlite (every run is kept, so a
regrade can be compared with the run before), OUT/gradebook.csv (each hand-in's latest run),
OUT/pass_rates.csv (per question: the share of hand-ins that passed every test, and the mean score) and
OUT/histogram.png, and shows progress on stderr.

  python -m grader batch handins/ --jobs 2 --out batch-output/"""
import csv
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from grader import gradebook
from grader.commands.grade import add_shared_arguments, parse_common
from grader.datasets import DataError
from grader.grading import check_data, grade
from grader.rubric import QUESTIONS
from grader.run import warm_server


def add_arguments(parser):
    parser.add_argument('folder', help='folder holding one subfolder or .zip per hand-in')
    parser.add_argument('--jobs', type=int, default=2, help='hand-ins graded at once (default 2)')
    parser.add_argument('--out', default='batch-output', help='output folder (default ./batch-output)')
    add_shared_arguments(parser)   # --only, --format, --data-dir, --timeout (per hand-in), --pytest-arg


def handins(folder):
    """(name, path) of each hand-in in ``folder``: subfolders and .zip files, hidden entries skipped."""
    return [(p.stem if p.suffix == '.zip' else p.name, p) for p in sorted(Path(folder).iterdir())
            if not p.name.startswith(('.', '__')) and (p.is_dir() or p.suffix.lower() == '.zip')]


def progress(done, total, started, last=''):
    width = 30
    filled = width * done // max(1, total)
    rate = done / max(1e-9, time.monotonic() - started) * 60
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {rate:.1f}/min  {last[:30]:<30}")
    sys.stderr.flush()


def run(args):
    try:
        questions, formats, extra = parse_common(args)
    except ValueError as exc:
        print(f'batch: {exc}', file=sys.stderr)
        return 2
    if not Path(args.folder).is_dir():
        print(f'batch: {args.folder}: no such folder', file=sys.stderr)
        return 2
    todo = handins(args.folder)
    if not todo:
        print(f'batch: no subfolders or .zip files in {args.folder}', file=sys.stderr)
        return 2
    names = [n for n, _ in todo]
    if len(set(names)) != len(names):
        print('batch: two hand-ins share a name (a folder and a .zip?); rename one', file=sys.stderr)
        return 2
    try:   # once for the batch: damaged data would give every hand-in a 0 in the gradebook's history
        check_data(questions or [q.id for q in QUESTIONS], extra)
    except DataError as exc:
        print(f'batch: {exc}; nothing was graded or written', file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / 'gradebook.sqlite'
    started, results = time.monotonic(), {}
    progress(0, len(todo), started)
    # Each grade runs its own pytest process, forked from one that has imported the libraries already.
    with warm_server(questions) as server, ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(grade, path, out / name, questions, formats, extra_args=extra,
                               timeout=args.timeout, server=server): name for name, path in todo}
        for future in as_completed(futures):
            name = futures[future]
            results[name] = future.result()
            gradebook.record(db, name, results[name])
            progress(len(results), len(todo), started, name)
    elapsed = time.monotonic() - started
    sys.stderr.write('\n')
    asked = results[names[0]].questions
    gradebook.write_csv(db, out / 'gradebook.csv', asked)
    rates = gradebook.pass_rates(list(results.values()), asked)
    with open(out / 'pass_rates.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['question', 'all_passed_share', 'mean_score', 'max_score'])
        w.writerows([q, f'{share:.3f}', f'{mean:.3f}', top] for q, (share, mean, top) in rates.items())
    scores = [r.score for r in results.values()]
    gradebook.histogram(scores, results[names[0]].max_score, out / 'histogram.png')
    print(f"{'question':<9} {'all passed':>10}  {'mean':>6}   {'of':<4}  (all passed: the share of hand-ins that "
          'passed every test)')
    for q, (share, mean, top) in rates.items():
        print(f'{q:<9} {share:>10.0%}  {mean:>6.2f} / {top:<4g}' + ('  (worth no points)' if not top else ''))
    for name, old, new in gradebook.changes(db):
        print(f'regrade changed {name}: {old:g} -> {new:g}')
    failed = [n for n, r in results.items() if r.error]
    if failed:
        print(f"not graded ({len(failed)}): " + ', '.join(f'{n} ({results[n].error})' for n in failed))
    print(f'{len(todo)} hand-ins in {elapsed:.1f} s ({len(todo) / elapsed * 60:.1f} per minute, --jobs {args.jobs}); '
          f'gradebook in {out}{os.sep}')
    return 0
