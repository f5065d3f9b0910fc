"""Calibrate the bars of the grader's training tests (Q3.1.1, Q5.2 and the Q7 models): train the
reference with the grader's settings over several seeds on the data in use, and once each broken
variant of the question (grader/variants), and print what the grader measures and the CPU seconds of
each run; then, per figure, the reference's min / mean / sd / max beside the bar the tests hold: how
many sd it lies below the reference's mean, and which variants fall on the wrong side of it. The
calibration notes beside each bar quote these lines (the seeds, the figures, the margin).

  python benchmarks/calibrate.py                          # every task, 10 seeds
  python benchmarks/calibrate.py --nist36                 # the bars that rest on NIST36 (re-derive them
                                                          # whenever the NIST36 data changes)
  python benchmarks/calibrate.py q5 mlp --seeds 20
  python benchmarks/calibrate.py q5 --set max_iters=12    # try other settings than the tests use

Every run computes single-threaded, as grading does (grader.run.ONE_THREAD), in a process of its own
(one implementation per process), so its CPU seconds are what one grading pays for it. A variant runs on
its own pieces throughout (grading may swap in the reference's where an earlier question failed), which is
what a variant whose bug lies in the training loop itself gets when graded too."""
import argparse
import contextlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import paths, variants  # noqa: E402
from grader.run import ONE_THREAD  # noqa: E402


@dataclass(frozen=True)
class Task:
    question: str
    dataset: str        # the data set its bars rest on, as grader.torch_data.kind names it
    call: str           # what is called, for the header


TASKS = {
    'q3': Task('3.1.1', 'NIST36', 'q3.train_mlp'),
    'q5': Task('5.2', 'NIST36', 'q5.train_autoencoder'),
    'mlp': Task('7.1.1', 'NIST36', 'q7.train_model(build_mlp())'),
    'mnist_cnn': Task('7.1.2', 'MNIST', 'q7.train_model(build_mnist_cnn())'),
    'nist36_cnn': Task('7.1.3', 'NIST36', 'q7.train_model(build_nist36_cnn())'),
    'emnist_cnn': Task('7.1.4', 'EMNIST', 'q7.train_model(build_emnist_cnn())'),
    'flower_net': Task('7.2.1', 'flowers17', 'q7.train_model(build_flower_net())'),
}


# ---------------------------------------------------------------- what the tests use

def settings(name):
    """The grader's settings for a task: the keyword arguments its test passes to the training call."""
    if name == 'q3':
        from tests.test_q3_train import GRADED
        return dict(GRADED)
    if name == 'q5':
        from tests.test_q5_train import GRADED
        return dict(GRADED)
    from grader import torch_data
    return dict(torch_data.TASKS[name].settings)


# The graded test that trains each Q7 task with its seed (tests/q7_support.seed_of its node id);
# 7.1.4's module fixture has a seed of its own.
TRAINING_TESTS = {'mlp': 'tests/test_q7_1_1_mlp.py::test_mlp_trains_to_threshold',
                  'mnist_cnn': 'tests/test_q7_1_2_mnist_cnn.py::test_mnist_cnn_trains_to_threshold',
                  'nist36_cnn': 'tests/test_q7_1_3_nist36_cnn.py::test_nist36_cnn_beats_the_mlp',
                  'flower_net': 'tests/test_q7_2_1_squeezenet.py::test_flower_net_trains_from_scratch'}


def test_seed(name):
    """The seed the task's test trains with, calibrated first (then 1000, 1001, ...): the grader's own run
    of the reference is always among the figures."""
    if name == 'q3':
        from tests.test_q3_train import SEED
        return SEED
    if name == 'q5':
        from tests.test_q5_train import SEED
        return SEED
    if name == 'emnist_cnn':
        from tests.test_q7_1_4_emnist import SEED
        return SEED
    from tests.q7_support import seed_of
    training_test(name)   # the node id must still name a test: its seed is derived from the id
    return seed_of(TRAINING_TESTS[name])


def training_test(name):
    """The test function that trains the Q7 task ``name`` (TRAINING_TESTS); stops with a sentence if renamed."""
    file, function = TRAINING_TESTS[name].split('::')
    test = getattr(importlib.import_module(file[:-3].replace('/', '.')), function, None)
    if test is None:
        raise SystemExit(f'calibrate.py: {TRAINING_TESTS[name]} is gone; name the test that trains {name}')
    return test


def bars(name, kind):
    """{figure: (bar, 'min' or 'max')} as the task's tests hold them for data of ``kind``."""
    if name == 'q3':
        from tests.test_q3_train import MIN_ACCURACY
        return {f'{s}_accuracy': (MIN_ACCURACY[kind][s], 'min') for s in ('valid', 'test')}
    if name == 'q5':
        from tests.test_q5_train import LOSS_RATIO_MAX, PSNR_MIN
        return {'psnr': (PSNR_MIN[kind], 'min'), 'loss_ratio': (LOSS_RATIO_MAX, 'max')}
    if name == 'mlp':
        from tests.test_q7_1_1_mlp import LOSS_AGREEMENT, MIN_ACCURACY
        return {'accuracy': (MIN_ACCURACY[kind], 'min'), 'loss_gap': (LOSS_AGREEMENT, 'max')}
    if name == 'mnist_cnn':
        from tests.test_q7_1_2_mnist_cnn import MIN_ACCURACY
        return {'accuracy': (MIN_ACCURACY[kind], 'min')}
    if name == 'nist36_cnn':
        from tests.test_q7_1_3_nist36_cnn import MIN_ACCURACY
        return {'accuracy': (MIN_ACCURACY[kind], 'min')}
    if name == 'emnist_cnn':
        from tests.test_q7_1_4_emnist import MIN_ACCURACY, PAGES_MIN
        return {'accuracy': (MIN_ACCURACY[kind], 'min'), 'pages_min': (PAGES_MIN, 'min')}
    from tests.test_q7_2_1_squeezenet import FLOWER_NET_MIN
    return {'accuracy': (FLOWER_NET_MIN[kind], 'min')}


# ---------------------------------------------------------------- one implementation, in its own process

_CPU = []


@contextlib.contextmanager
def timed():
    """CPU seconds of the training call alone (not the data loading or the measuring), kept in _CPU."""
    start = time.process_time()
    try:
        yield
    finally:
        _CPU.append(time.process_time() - start)


def run_q3(impl, seed, kwargs):
    from grader import evaluate
    from tests.shared_data import nist36_split
    (tx, ty), (vx, vy), (sx, sy) = (nist36_split(s) for s in ('train', 'valid', 'test'))
    impl.seed(seed)
    with timed():
        params, history = impl.module('q3').train_mlp(tx.copy(), ty.copy(), vx.copy(), vy.copy(), **kwargs)
    w = evaluate.weights(params, evaluate.MLP_SHAPES, 'params')
    return {'valid_accuracy': evaluate.mlp_accuracy(w, vx, vy, impl),
            'test_accuracy': evaluate.mlp_accuracy(w, sx, sy, impl),
            'train_acc_rise': history[-1]['train_acc'] - history[0]['train_acc']}


def run_q5(impl, seed, kwargs):
    from grader import evaluate
    from tests.shared_data import nist36_split
    train_x, valid_x = nist36_split('train')[0], nist36_split('valid')[0]
    impl.seed(seed)
    with timed():
        params, losses = impl.module('q5').train_autoencoder(train_x.copy(), **kwargs)
    weights = {k: v for k, v in params.items() if k[:1] in 'Wb'}
    recon = evaluate.autoencoder_output(weights, valid_x, impl)
    return {'psnr': evaluate.psnr(valid_x, recon), 'loss_ratio': float(losses[-1] / losses[0])}


def run_q7(name):
    def run(impl, seed, kwargs):
        from grader import torch_data, torch_eval
        q7 = impl.module('q7')
        task = torch_data.TASKS[name]
        (x, y), (vx, vy) = task.data()
        torch_eval.setup(seed)
        model = getattr(q7, task.build)()
        with timed():
            history = q7.train_model(model, x, y, **kwargs)
        figures = {'accuracy': torch_eval.accuracy(torch_eval.logits(model, vx), vy)}
        if name == 'mlp':   # the reported last-epoch loss against the grader's cross-entropy (test_q7_1_1_mlp)
            measured = torch_eval.cross_entropy(torch_eval.logits(model, x), y)
            figures['loss_gap'] = (abs(history[-1][0] - measured) - 0.05) / measured
        if name == 'emnist_cnn':   # the worst generated page read with this model (test_q7_1_4_emnist)
            from grader import evaluate
            from tests.shared_data import generated_page, generated_page_names
            from tests.test_q7_1_4_emnist import _q4_pieces, read_page
            pages = [generated_page(p) for p in generated_page_names()]
            figures['pages_min'] = min(evaluate.char_accuracy(read_page(_q4_pieces(impl), q7, model, p.image.copy()),
                                                              p.lines) for p in pages)
        return figures
    return run


RUNS = {'q3': run_q3, 'q5': run_q5, **{n: run_q7(n) for n in TASKS if n not in ('q3', 'q5')}}


def child(args):
    """One implementation, several seeds: one JSON line per seed on stdout."""
    from grader.impl import DirectImplementation
    impl = DirectImplementation(args.impl)
    kwargs = json.loads(args.kwargs)
    for seed in (int(s) for s in args.seed_list.split(',')):
        _CPU.clear()
        try:
            figures = RUNS[args.run](impl, seed, kwargs)
            line = {'seed': seed, 'figures': figures}
        except Exception as exc:   # a broken variant may crash; that is a figure too
            line = {'seed': seed, 'error': f'{type(exc).__name__}: {str(exc)[:160]}'}
        line['cpu'] = sum(_CPU)
        print(json.dumps(line), flush=True)


def spawn(name, impl, seeds, kwargs):
    cmd = [sys.executable, __file__, '--run', name, '--impl', str(impl), '--seed-list', ','.join(map(str, seeds)),
           '--kwargs', json.dumps(kwargs)]
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **ONE_THREAD, 'PYTHONHASHSEED': '0'},
                          capture_output=True, text=True)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{')]
    if proc.returncode != 0 or not lines:
        return [{'seed': s, 'error': f'the run failed: {proc.stderr.strip()[-300:]}', 'cpu': 0.0} for s in seeds]
    return lines


# ---------------------------------------------------------------- the report

def data_identity(dataset):
    """'generated fixtures/data/nist36 (nist36.npz sha256 cdbb5e934223)' or 'real /path'."""
    from grader.datasets import info
    name = {'NIST36': 'nist36'}.get(dataset, dataset)
    row = next(r for r in info.sets() if r['name'] == name)
    digests = ', '.join(f'{f} sha256 {d[:12]}' for f, d in sorted(row['files'].items())[:2]) or \
        f"tree sha256 {row.get('tree_sha256', '')[:12]}"
    return f"{row['kind']} {row['path']} ({digests})"


def fmt(x):
    return f'{x:.4f}' if abs(x) < 10 else f'{x:.2f}'


def report(name, seeds, kwargs, with_variants):
    from grader import torch_data
    task = TASKS[name]
    kind = torch_data.kind(task.dataset)
    held = bars(name, kind)
    print(f"== {name} ({task.question}): {task.call} with {', '.join(f'{k}={v}' for k, v in kwargs.items())}")
    print(f'   data: {task.dataset} {data_identity(task.dataset)}', flush=True)
    _summary('reference', spawn(name, paths.REFERENCE, seeds, kwargs), held, kind)
    if not with_variants:
        return
    for v in (v for v in variants.CATALOGUE if task.question in v.loses):
        with tempfile.TemporaryDirectory(prefix='nn-calibrate-') as tmp:
            run = spawn(name, variants.materialize(v, Path(tmp) / v.name), seeds[:1], kwargs)[0]
        if 'error' in run:
            print(f'variant {v.name}: {run["error"]} (stopped before any bar)', flush=True)
            continue
        missed = [f for f, (bar, side) in held.items()
                  if (run['figures'][f] < bar if side == 'min' else run['figures'][f] > bar)]
        verdict = (f" -> fails the bar on {', '.join(missed)}" if missed
                   else ' -> passes these bars (other checks must catch it)')
        print(f'variant {v.name}: ' + ', '.join(f'{k} {fmt(val)}' for k, val in run['figures'].items()) + verdict,
              flush=True)
    # A correct alternative (the course template's loop, say) must clear the bars over the seeds, as the
    # reference does.
    for v in (v for v in variants.CATALOGUE if v.correct and task.question in v.keeps):
        with tempfile.TemporaryDirectory(prefix='nn-calibrate-') as tmp:
            _summary(f'correct variant {v.name}', spawn(name, variants.materialize(v, Path(tmp) / v.name), seeds,
                                                        kwargs), held, kind)


def _summary(label, runs, held, kind):
    """Each run's figures, then per figure min / mean / sd / max over the runs beside its bar."""
    for r in runs:
        figures = r.get('error') or ', '.join(f'{k} {fmt(v)}' for k, v in r['figures'].items())
        print(f"{label} seed {r['seed']}: {figures} ({r['cpu']:.1f} s CPU)", flush=True)
    good = [r['figures'] for r in runs if 'figures' in r]
    if not good:
        return
    cpu = [r['cpu'] for r in runs]
    print(f'   CPU seconds per {label} run: min {min(cpu):.1f}, mean {statistics.mean(cpu):.1f}, max {max(cpu):.1f}')
    for figure, (bar, side) in held.items():
        values = [g[figure] for g in good]
        mean, sd = statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0
        worst = min(values) if side == 'min' else max(values)
        margin = (mean - bar if side == 'min' else bar - mean) / sd if sd else float('inf')
        holds = all(v >= bar for v in values) if side == 'min' else all(v <= bar for v in values)
        print(f'   {figure}: min {fmt(min(values))} mean {fmt(mean)} sd {fmt(sd)} max {fmt(max(values))} over '
              f"{len(values)} seeds; bar {'>=' if side == 'min' else '<='} {bar:g} ({kind}): {margin:.1f} sd "
              f"{'below' if side == 'min' else 'above'} the mean, worst run {fmt(worst)}"
              + ('' if holds else '  << A RUN MISSES THE BAR'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('tasks', nargs='*', help=f"any of {', '.join(TASKS)} (default: all)")
    parser.add_argument('--nist36', action='store_true', help='the tasks whose bars rest on NIST36')
    parser.add_argument('--seeds', type=int, default=10, help='reference runs per task (default 10)')
    parser.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                        help='override a training setting (to explore; the tests keep theirs)')
    parser.add_argument('--no-variants', action='store_true', help='train only the reference')
    parser.add_argument('--run', help=argparse.SUPPRESS)
    parser.add_argument('--impl', help=argparse.SUPPRESS)
    parser.add_argument('--seed-list', help=argparse.SUPPRESS)
    parser.add_argument('--kwargs', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        return child(args)
    unknown = [t for t in args.tasks if t not in TASKS]
    if unknown:
        parser.error(f"unknown task {', '.join(unknown)}; choose from {', '.join(TASKS)}")
    chosen = args.tasks or [n for n in TASKS if not args.nist36 or TASKS[n].dataset == 'NIST36']
    for name in chosen:
        kwargs = settings(name)
        for item in args.set:
            key, _, value = item.partition('=')
            kwargs[key] = json.loads(value)
        first = test_seed(name)
        seeds = ([first] if first is not None else []) + list(range(1000, 1000 + args.seeds - (first is not None)))
        report(name, seeds, kwargs, not args.no_variants)


if __name__ == '__main__':
    sys.exit(main())
