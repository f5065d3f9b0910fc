"""Build a Gradescope autograder bundle (.zip): setup.sh, run_autograder and the harness with its
hidden tests and fixtures.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once when building the image (it
installs the requirements and fetches Q7.2.1's pretrained SqueezeNet 1.1 weights, failing on a checksum
mismatch), then for each submission runs run_autograder, which grades /autograder/submission and writes
/autograder/results/results.json. Both scripts honour AUTOGRADER_ROOT (default /autograder) and
AUTOGRADER_PYTHON (a Python with the requirements; default: the venv setup.sh made), so the bundle can
be tried anywhere; SQUEEZENET_URL and SQUEEZENET_SHA256 override where setup.sh fetches the weights.

  python -m grader bundle --out autograder.zip
  python -m grader bundle --out autograder.zip --grade-arg=--only=2"""
import shlex
import sys
import tempfile
import zipfile
from pathlib import Path

from grader import packaging
from grader.commands import weights
from grader.rubric import TOTAL

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image (as root, with internet).
# AUTOGRADER_ROOT (default /autograder): where source/ was unpacked. AUTOGRADER_PYTHON: a Python that
# already has requirements-torch.txt installed (then nothing is installed; for trying the bundle).
set -euo pipefail
trap 'echo "setup.sh: FAILED at line $LINENO; the autograder is not usable" >&2' ERR
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
cd "$ROOT/source"
# bubblewrap, the hand-in's sandbox (grader/isolation/sandbox.py); without it each report says the run was
# only partly isolated.
if ! command -v bwrap >/dev/null; then
    apt-get update -qq && apt-get install -y -qq bubblewrap
fi
if [ -n "${{AUTOGRADER_PYTHON:-}}" ]; then
    PYTHON="$AUTOGRADER_PYTHON"
else
    apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-pip
    python3 -m venv "$ROOT/venv"
    "$ROOT/venv/bin/pip" install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu \\
        -r requirements-torch.txt
    PYTHON="$ROOT/venv/bin/python"
fi
"$PYTHON" -c 'import numpy, scipy, skimage, matplotlib, torch, torchvision, pytest, hypothesis'
# Q7.2.1 fine-tunes torchvision's pretrained SqueezeNet 1.1; grading has no internet, so fetch the weights
# now into the torch cache run_autograder uses. A wrong checksum fails the build here, loudly.
export TORCH_HOME="${{TORCH_HOME:-$ROOT/torch}}"
"$PYTHON" -m grader weights --url "${{SQUEEZENET_URL:-{url}}}" \\
    --sha256 "${{SQUEEZENET_SHA256:-{sha256}}}"
echo "setup.sh: ready"
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission and write
# /autograder/results/results.json (a valid one even when grading fails).
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
[ -x "$PYTHON" ] || PYTHON=python3
mkdir -p "$ROOT/results"
cd "$ROOT/source" || exit 1
export PYTHONHASHSEED=0 MPLBACKEND=Agg TORCH_HOME="${{TORCH_HOME:-$ROOT/torch}}"   # the cache setup.sh filled
# Gradescope stops a run after its timeout (600 s unless the assignment sets more): the grading deadline
# stays below it, so results.json is always written. Raise both together.
"$PYTHON" -m grader grade "$ROOT/submission" --out "$ROOT/results" --deadline 540 {grade_args}
if [ ! -s "$ROOT/results/results.json" ]; then   # only if Python itself could not start
    echo '{{"score": 0, "max_score": {total}, "output": "The autograder could not start; please tell the course staff.", "tests": []}}' \\
        > "$ROOT/results/results.json"
fi
exit 0
"""


def add_arguments(parser):
    parser.add_argument('--out', default='autograder.zip', help='the zip to write (default autograder.zip)')
    parser.add_argument('--grade-arg', action='append', default=[], metavar='ARG',
                        help='extra argument for `grade` in run_autograder (repeatable), '
                             'e.g. --grade-arg=--only=2')


def build(out, grade_args=()):
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix='nn-bundle-') as tmp:
        root = packaging.copy_harness(Path(tmp) / 'source', reference=True, hidden=True)
        (root / 'setup.sh').write_text(SETUP.format(url=weights.SQUEEZENET_URL, sha256=weights.SQUEEZENET_SHA256))
        (root / 'run_autograder').write_text(RUN.format(grade_args=' '.join(map(shlex.quote, grade_args)),
                                                        total=f'{TOTAL:g}'))
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(p for p in root.rglob('*') if p.is_file()):
                info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (0o755 if path.name in ('setup.sh', 'run_autograder') else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
    return out


def run(args):
    out = build(args.out, args.grade_arg)
    print(f'autograder bundle {out} ({out.stat().st_size / 1e6:.1f} MB): upload it as the Gradescope autograder',
          file=sys.stdout)
    return 0
