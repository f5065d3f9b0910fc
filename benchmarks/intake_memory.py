"""The trusted side's memory while it reads a hand-in: peak RSS of `python -m grader grade` on the
hostile corpus's lying-header zip (nn.py's headers claim 2.4 kB, its data inflates to 1 GB) and on
the same hand-in zipped honestly. Prints figures; asserts nothing.

  python benchmarks/intake_memory.py

The peak is that of the largest process of the run (grade itself; with an honest hand-in also the
pytest process and the worker it starts), measured with getrusage in a wrapper process."""
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selftests.test_hostile_intake import INTAKE, build, grade  # noqa: E402


def main():
    spec = json.loads((INTAKE / 'zip_lying_header' / 'expected.json').read_text())['build']
    with tempfile.TemporaryDirectory(prefix='nn-intake-bench-') as tmp:
        tmp = Path(tmp)
        for label, attack in (('lying-header zip (1 GB behind a 2.4 kB header)', True),
                              ('the same hand-in zipped honestly', False)):
            handin = build(spec, tmp / label[:5], attack=attack)
            code, output, peak = grade(handin, tmp / f'{label[:5]}-out', ['2.2.2'])
            verdict = json.loads((tmp / f'{label[:5]}-out' / 'results.json').read_text())['output'].split('\n')[0]
            print(f'{label}: grade peak RSS {peak:.0f} MB, exit {code}: {verdict[:110]}')


if __name__ == '__main__':
    main()
