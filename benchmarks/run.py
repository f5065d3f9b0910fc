"""Benchmarks that print figures (never timed tests): how long grading takes here, what isolation costs
(for a correct hand-in, and for one whose later questions run on the course's pieces), batch throughput,
and whether the same submission gets the same score every time.

  python benchmarks/run.py                       # everything (about 35 minutes on 2 cores)
  python benchmarks/run.py isolation pieces
  python benchmarks/run.py determinism --repeat 20

Each benchmark prints one block; the numbers are wall-clock seconds on this machine, measured once
(grading is deterministic, but the machine's load is not)."""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader import paths, rubric, variants  # noqa: E402
from grader.grading import grade  # noqa: E402
from grader.run import available_cpus, run_tests  # noqa: E402

NUMPY_PART, TORCH_PART = rubric.independent_parts([q.id for q in rubric.QUESTIONS if q.id != '1'])
BROKEN = ('softmax-no-shift', 'backwards-bias-axis', 'batches-with-replacement')
FEW = ['2.2.2', '2.3.1', '2.4.1']
# broken forward / backwards: Q3-Q5 then train on the course's pieces, called across the boundary
BROKEN_PIECES = ('forward-no-bias', 'backwards-no-deriv')


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def student_tier(args):
    """What a student waits for: `pytest -m q2` (all of Q2) on a correct implementation."""
    cmd = [sys.executable, '-m', 'pytest', 'tests', '--impl=reference', '-m', 'q2', '-q', '-p', 'no:cacheprovider']
    proc, seconds = timed(subprocess.run, cmd, cwd=paths.ROOT, capture_output=True, text=True)
    print(f'student tier (pytest -m q2, reference): {seconds:.1f} s, exit {proc.returncode}; '
          f'{proc.stdout.strip().splitlines()[-1]}')


def isolation(args):
    """Grading the reference with the submission imported into pytest (direct) and in the isolated
    worker, on every question: the cost of isolation, where it goes, and each test's measured figures."""
    durations = ['--durations=0', '--durations-min=0.5']
    direct, t_direct = timed(run_tests, 'reference', extra_args=durations)
    isolated, t_isolated = timed(run_tests, 'reference', extra_args=['--isolate', *durations])
    print(f'reference, all questions: direct {t_direct:.1f} s ({direct.total:g}/90), isolated {t_isolated:.1f} s '
          f'({isolated.total:g}/90): isolated / direct = {t_isolated / t_direct:.2f}')
    steps = [_steps(run.output) for run in (direct, isolated)]
    print('per test file: seconds in its tests and fixtures (steps of 0.5 s or more), direct / isolated')
    for file in dict.fromkeys(o['nodeid'].split('::')[0] for o in isolated.outcomes):
        questions = ','.join(dict.fromkeys(o['question'] for o in isolated.outcomes if o['nodeid'].startswith(file)))
        d, i = (sum(t for node, t in found.items() if node.split('::')[0] == file) for found in steps)
        print(f'  {file.split("/")[-1]:<34} {questions:<12} {d:7.1f} s  {i:7.1f} s')
    print('per test (isolated run): question, seconds, what the grader measured')
    for o in isolated.outcomes:
        metrics = ', '.join(f'{k} {v:.4g}' for k, v in o.get('metrics', {}).items())
        print(f"  {o['question']:<6} {o['duration']:7.2f} s  {o['outcome']:<12} {o['nodeid'].split('/')[-1]:<70} {metrics}")


def _steps(output):
    """pytest's --durations lines: {node id: seconds of its setup, call and teardown}."""
    found = {}
    for seconds, node in re.findall(r'^\s*([\d.]+)s (?:setup|call|teardown)\s+(\S+)', output, re.MULTILINE):
        found[node] = found.get(node, 0.0) + float(seconds)
    return found


def parts(args):
    """`grade` (isolated, every format) of the reference on the NumPy part, the PyTorch part and
    everything (the two parts one after the other, then side by side as `grade` runs them with two CPUs
    free), and of the untouched stubs on everything."""
    with tempfile.TemporaryDirectory() as tmp:
        for label, source, questions, jobs in (('reference, Q2-Q6', paths.REFERENCE, NUMPY_PART, 1),
                                               ('reference, Q7', paths.REFERENCE, TORCH_PART, 1),
                                               ('reference, all, one part after the other', paths.REFERENCE, None, 1),
                                               ('reference, all, side by side', paths.REFERENCE, None, 2),
                                               ('stubs, all, side by side', paths.STUDENT, None, 2)):
            result, seconds = timed(grade, source, Path(tmp) / f'{len(label)}', questions, jobs=jobs)
            print(f'grade {label}: {seconds:.1f} s, {result.score:g}/{result.max_score:g}', flush=True)


def pieces(args):
    """Isolated grading of every question for the reference and for hand-ins whose Q2 pieces are broken,
    so that Q3-Q5 run on the course's pieces across the worker boundary: what that boundary costs."""
    with tempfile.TemporaryDirectory() as tmp:
        impls = {'reference': 'reference'}
        impls.update({n: str(variants.materialize(variants.by_name(n), Path(tmp) / n)) for n in BROKEN_PIECES})
        base = None
        for name, impl in impls.items():
            result, seconds = timed(run_tests, impl, extra_args=['--isolate'])
            base = base or seconds
            print(f'{name:<22} all questions, isolated: {seconds:6.1f} s, {result.total:g}/90, {seconds / base:.2f}x '
                  'the reference', flush=True)


def batch(args):
    """`batch --jobs 2` on the reference and broken variants, on the NumPy part, then on every question:
    hand-ins per minute."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / 'handins'
        shutil.copytree(paths.REFERENCE, folder / 'reference')
        for name in BROKEN[:args.batch - 1]:
            variants.materialize(variants.by_name(name), folder / name)
        n = len(list(folder.iterdir()))
        for label, only in (('Q2-Q6', ['--only', ','.join(NUMPY_PART)]), ('all questions', [])):
            cmd = [sys.executable, '-m', 'grader', 'batch', str(folder), '--jobs', '2', '--out',
                   str(Path(tmp) / f'out{len(only)}'), *only]
            proc, seconds = timed(subprocess.run, cmd, cwd=paths.ROOT, capture_output=True, text=True)
            print(f'batch --jobs 2, {n} hand-ins, {label}: {seconds:.1f} s, {n / seconds * 60:.2f} hand-ins per '
                  f'minute (exit {proc.returncode})', flush=True)
        # The ceiling: one grading computes on one CPU at a time (the trusted side waits while its worker
        # computes), so a batch of correct hand-ins cannot beat cores x 60 / (the reference's own time).
        _, alone = timed(grade, paths.REFERENCE, Path(tmp) / 'alone', jobs=1)
        cpus = available_cpus()
        print(f'the reference alone, one part after the other: {alone:.1f} s, so on {cpus} CPUs at most '
              f'{cpus * 60 / alone:.2f} correct hand-ins per minute', flush=True)


def determinism(args):
    """The reference and three broken variants graded --repeat times each on a few Q2 questions."""
    with tempfile.TemporaryDirectory() as tmp:
        impls = {'reference': 'reference'}
        impls.update({n: str(variants.materialize(variants.by_name(n), Path(tmp) / n)) for n in BROKEN})
        for name, impl in impls.items():
            start = time.perf_counter()
            runs = [run_tests(impl, FEW, extra_args=['--isolate']) for _ in range(args.repeat)]
            totals = sorted({r.total for r in runs})
            verdicts = {tuple((o['nodeid'], o['outcome']) for o in r.outcomes) for r in runs}
            print(f'{name:<26} {args.repeat} isolated runs of {",".join(FEW)}: scores {totals}, '
                  f'{len(verdicts)} distinct verdict list(s), {time.perf_counter() - start:.0f} s')


BENCHMARKS = {'student-tier': student_tier, 'isolation': isolation, 'parts': parts, 'pieces': pieces,
              'batch': batch, 'determinism': determinism}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('which', nargs='*', metavar='BENCHMARK', help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument('--repeat', type=int, default=20, help='runs per submission for determinism')
    parser.add_argument('--batch', type=int, default=4, help='hand-ins in the batch benchmark (at most 4)')
    args = parser.parse_args()
    unknown = [w for w in args.which if w not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    for name in args.which or BENCHMARKS:
        print(f'== {name}: {BENCHMARKS[name].__doc__.split(chr(10))[0]}', flush=True)
        BENCHMARKS[name](args)


if __name__ == '__main__':
    main()
