"""Calibrate the Q7 accuracy bars: train each reference model with the grader's settings over several
seeds, on the data in use (the stand-ins, or the real sets with NN_DATA_DIR), and print each run's
held-out accuracy, its reported last-epoch loss beside the grader's own cross-entropy, and min / mean /
sd / max per task. The bars and their derivation are written beside each test (tests/test_q7_*.py).

  python benchmarks/calibrate_q7.py                        # every task, 10 seeds
  python benchmarks/calibrate_q7.py mlp nist36_cnn --seeds 20"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader import torch_data, torch_eval  # noqa: E402
from grader.impl import reference_module  # noqa: E402

FROM_SCRATCH = [name for name in torch_data.TASKS if name != 'squeezenet']   # no pretrained weights here


def calibrate(name, seeds):
    q7 = reference_module('q7')
    task = torch_data.TASKS[name]
    (x, y), (vx, vy) = task.data()
    accs = []
    for seed in seeds:
        torch_eval.setup(seed)
        model = getattr(q7, task.build)()
        start = time.perf_counter()
        history = q7.train_model(model, x, y, **task.settings)
        seconds = time.perf_counter() - start
        acc = torch_eval.accuracy(torch_eval.logits(model, vx), vy)
        ce = torch_eval.cross_entropy(torch_eval.logits(model, x), y)
        accs.append(acc)
        print(f'{name} seed {seed}: held-out accuracy {acc:.4f}, reported last loss {history[-1][0]:.4f}, '
              f'grader cross-entropy {ce:.4f}, {seconds:.1f} s', flush=True)
    a = np.array(accs)
    print(f'== {name} ({torch_data.kind(torch_data.DATASET_OF[task.source])}): min {a.min():.4f} '
          f'mean {a.mean():.4f} sd {a.std(ddof=1) if len(a) > 1 else 0:.4f} max {a.max():.4f} over {len(a)} seeds', flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('tasks', nargs='*', default=FROM_SCRATCH, help=f"any of {', '.join(FROM_SCRATCH)}")
    parser.add_argument('--seeds', type=int, default=10, help='runs per task (seeds 1000, 1001, ...)')
    args = parser.parse_args()
    unknown = [t for t in args.tasks if t not in FROM_SCRATCH]
    if unknown:
        parser.error(f"unknown task {', '.join(unknown)}; choose from {', '.join(FROM_SCRATCH)}")
    for name in args.tasks:
        calibrate(name, range(1000, 1000 + args.seeds))


if __name__ == '__main__':
    main()
