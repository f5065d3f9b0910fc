"""Build the student release: stubs, public tests and fixtures, data stand-ins, the grader (minus the
instructor-only parts) and a student README. No reference code, no hidden tests or fixtures.

  python -m grader release --out release/"""
import shutil
import sys
from pathlib import Path

from grader import packaging, paths

README = """# Neural Networks for Recognition: your starter kit

Write your code in `student/`: every function there raises `NotImplementedError` with a sentence saying
what to implement. The tests in `tests/` are the autograder's visible tests; the autograder also runs
hidden tests (the same checks on other inputs).

```sh
pip install -r requirements.txt          # NumPy parts (add requirements-torch.txt for Q7)
pytest -m q2                             # all of Q2
pytest -m q2_2_2                         # one question (2.2.2, softmax)
pytest -m "q2 and not slow"              # skip the training runs
python -m grader grade                   # your score for the visible tests, with report.html
python -m grader grade --only 2          # just Q2
```

Every failure says which call, what came out, what should have, and ends with a command that reproduces
it. Tests are deterministic: the same code gets the same result every run, here and on the autograder.

Hand in the course files (`nn.py`, `q2.py`, ...) flat or in one folder, or as a .zip of them. Use only
numpy, scipy, scikit-image, matplotlib, torch, torchvision and the standard library: importing anything
else costs the questions whose files import it.

Where a question builds on earlier ones, the autograder grades it with the course's own earlier pieces,
so one bug is not charged twice. This kit has no solution code, so locally those tests run on your own
earlier pieces: fix the earlier question first.
"""


def add_arguments(parser):
    parser.add_argument('--out', required=True, help='folder to create (must not exist or be empty)')


def build(out):
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f'{out} exists and is not empty; choose a new folder')
    packaging.copy_harness(out, reference=False, hidden=False)
    shutil.copytree(paths.STUDENT, out / 'student', ignore=packaging.JUNK)
    (out / 'README.md').write_text(README)
    return out


def run(args):
    try:
        out = build(args.out)
    except FileExistsError as exc:
        print(f'release: {exc}', file=sys.stderr)
        return 2
    print(f'student release in {out}/ (no reference/, no fixtures/hidden)')
    return 0
