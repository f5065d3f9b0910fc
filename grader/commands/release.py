"""Build the student release: the committed stubs, public tests and fixtures, data stand-ins, the grader
(minus the instructor-only parts) and a student README. No reference code, no hidden tests or fixtures.

The stubs are those committed in git (HEAD), so the checkout must be a git clone. If student/ differs from
them (say, an instructor tried the student steps and copied a solution there), the release is refused
with the list of files; so is a release in which any file would hold a line of the reference. Exit 0 when
built, 2 when refused or for a usage error.

  python -m grader release --out release/"""
import os
import shutil
import sys
from pathlib import Path

from grader import packaging

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
python -m grader weights                 # Q7.2.1: torchvision's pretrained SqueezeNet 1.1, checked
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
    """Write the release into the new folder ``out``; raises FileExistsError or
    grader.packaging.ReleaseRefused (and then leaves nothing behind)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f'{out} exists and is not empty; choose a new folder')
    stubs = packaging.committed_stubs()   # before anything is written
    try:
        packaging.copy_harness(out, reference=False, hidden=False)
        for rel, data in stubs.items():
            (out / 'student' / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / 'student' / rel).write_bytes(data)
        (out / 'README.md').write_text(README)
        packaging.check_release(out)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return out


def run(args):
    try:
        out = build(args.out)
    except (FileExistsError, packaging.ReleaseRefused) as exc:
        print(f'release: {exc}', file=sys.stderr)
        return 2
    print(f'student release in {out}{os.sep}: the committed stubs of {packaging.harness_version()}, no reference '
          'code, no hidden tests or fixtures')
    return 0
