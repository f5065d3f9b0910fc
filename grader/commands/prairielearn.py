"""Build the PrairieLearn external grader: course files and a grading image, laid out as PrairieLearn runs them.

Writes, under OUT:
  serverFilesCourse/nn_grader/   the harness with its hidden tests and fixtures, and run_prairielearn.sh,
                                 the entrypoint (PrairieLearn copies it to /grade/serverFilesCourse/nn_grader)
  questions/nn_recognition/      info.json (external grading, the image, the entrypoint) and question.html
                                 (upload the course files, see the results)
  image/                         Dockerfile (based on prairielearn/grader-python) and what it copies: the
                                 requirements and the pretrained SqueezeNet 1.1 weights, fetched and checked
                                 when the image is built (grading has no network)
Copy serverFilesCourse/ and questions/ into the course, build and push the image, and set info.json's
"image" to its name. For each submission PrairieLearn puts the uploaded files in /grade/student, runs
the entrypoint, and reads /grade/results/results.json (its format: a score from 0 to 1, the tests,
"gradable": false when grading could not complete). PL_JOB_DIR (default /grade) and PL_PYTHON let the
layout be tried anywhere.

  python -m grader prairielearn --out prairielearn/ --image myorg/nn-grader:2026"""
import json
import shlex
import shutil
import sys
import uuid
from pathlib import Path

from grader import packaging, paths
from grader.commands.weights import SQUEEZENET_SHA256, SQUEEZENET_URL
from grader.impl import MODULES
from grader.rubric import TOTAL

GRADER_DIR = 'nn_grader'
QUESTION = 'nn_recognition'
TIMEOUT = 600            # PrairieLearn's largest allowed job time, in seconds
RUN_LIMIT = 540          # the grading deadline: a valid result is written before PrairieLearn's 600 s

ENTRYPOINT = """#!/usr/bin/env bash
# PrairieLearn runs this in the grading container: grade /grade/student and write
# /grade/results/results.json in PrairieLearn's format (a valid one even when grading fails).
JOB="${{PL_JOB_DIR:-/grade}}"
PYTHON="${{PL_PYTHON:-python3}}"
mkdir -p "$JOB/results"
cd "$(dirname "$0")" || exit 1
export PYTHONHASHSEED=0 MPLBACKEND=Agg TORCH_HOME="${{TORCH_HOME:-/opt/torch}}"   # the image's weights
"$PYTHON" -m grader grade "$JOB/student" --out "$JOB/results" --format prairielearn --deadline {limit} {grade_args}
if [ ! -s "$JOB/results/results.json" ]; then   # only if Python itself could not start
    echo '{{"gradable": false, "score": 0, "message": "The autograder could not start; please tell the course staff.", "format_errors": ["The autograder could not start."]}}' \\
        > "$JOB/results/results.json"
fi
exit 0
"""

DOCKERFILE = """# The grading image for the nn-recognition harness, on PrairieLearn's Python grader image.
# Build and push it from this folder:  docker build -t myorg/nn-grader . && docker push myorg/nn-grader
# (It is not built by the harness's own tests: their machines cannot reach Docker Hub.)
FROM prairielearn/grader-python
ENV TORCH_HOME=/opt/torch PYTHONHASHSEED=0 MPLBACKEND=Agg
# bubblewrap, the hand-in's sandbox (grader/isolation/sandbox.py). Where the container may not create
# namespaces, grading still works and each report says it was only partly isolated.
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap && rm -rf /var/lib/apt/lists/*
COPY requirements.txt requirements-torch.txt /opt/nn-grader/
# Into the image's Python (its venv); the CPU build of torch: the pinned version without CUDA's gigabytes
# (the CPU index's 2.14.1+cpu ranks above PyPI's 2.14.1 under best-match).
RUN uv pip install --python "$(command -v python3)" --index-strategy unsafe-best-match \\
        --extra-index-url https://download.pytorch.org/whl/cpu -r /opt/nn-grader/requirements-torch.txt
# Q7.2.1's pretrained weights, fetched while the build has network and checked against their SHA-256:
# a mismatch fails the build.
COPY grader /opt/nn-grader/grader
RUN cd /opt/nn-grader && python3 -m grader weights --url {url} --sha256 {sha256} && chmod -R a+rX /opt/torch
"""

QUESTION_HTML = """<pl-question-panel>
  <p>Upload the course files you have written: {files}. Each question is graded on the files it needs;
  a file you leave out costs only the questions that need it. Grading takes a few minutes.</p>
</pl-question-panel>

<pl-file-upload optional-file-names="{files}"></pl-file-upload>

<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""


def add_arguments(parser):
    parser.add_argument('--out', required=True, help='folder to create (must not exist or be empty)')
    parser.add_argument('--image', default='myorg/nn-grader', help='the image name info.json names '
                                                                   '(default myorg/nn-grader: change it)')
    parser.add_argument('--grade-arg', action='append', default=[], metavar='ARG',
                        help='extra argument for `grade` in the entrypoint (repeatable), e.g. --grade-arg=--only=2')


def info(image):
    return {
        'uuid': str(uuid.uuid5(uuid.NAMESPACE_URL, 'nn-recognition-harness/' + QUESTION)),
        'title': 'Neural Networks for Recognition: code',
        'topic': 'Neural networks',
        'tags': ['autograded', 'python'],
        'type': 'v3',
        'singleVariant': True,
        'gradingMethod': 'External',
        'externalGradingOptions': {
            'enabled': True,
            'image': image,
            'serverFilesCourse': [f'{GRADER_DIR}/'],
            'entrypoint': f'/grade/serverFilesCourse/{GRADER_DIR}/run_prairielearn.sh',
            'timeout': TIMEOUT,
        },
    }


def build(out, image='myorg/nn-grader', grade_args=()):
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f'{out} exists and is not empty; choose a new folder')
    grader_dir = packaging.copy_harness(out / 'serverFilesCourse' / GRADER_DIR, reference=True, hidden=True)
    entry = grader_dir / 'run_prairielearn.sh'
    entry.write_text(ENTRYPOINT.format(limit=RUN_LIMIT, grade_args=' '.join(map(shlex.quote, grade_args))))
    entry.chmod(0o755)
    question = out / 'questions' / QUESTION
    question.mkdir(parents=True)
    (question / 'info.json').write_text(json.dumps(info(image), indent=2) + '\n')
    files = ', '.join(f'{m}.py' for m in MODULES)
    (question / 'question.html').write_text(QUESTION_HTML.format(files=files))
    image_dir = out / 'image'
    image_dir.mkdir()
    (image_dir / 'Dockerfile').write_text(DOCKERFILE.format(url=SQUEEZENET_URL, sha256=SQUEEZENET_SHA256))
    for name in ('requirements.txt', 'requirements-torch.txt'):
        shutil.copy2(paths.ROOT / name, image_dir / name)
    shutil.copytree(paths.ROOT / 'grader', image_dir / 'grader', ignore=packaging.JUNK)
    return out


def run(args):
    try:
        out = build(args.out, args.image, args.grade_arg)
    except FileExistsError as exc:
        print(f'prairielearn: {exc}', file=sys.stderr)
        return 2
    print(f'PrairieLearn grader in {out}: copy serverFilesCourse/ and questions/ into the course; build and '
          f'push image/ as {args.image} (or pass --image); {TOTAL:g} points map to a score from 0 to 1')
    return 0
