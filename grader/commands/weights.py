"""Fetch torchvision's pretrained SqueezeNet 1.1 weights (for Q7.2.1) into the torch cache the grader reads.

Grading never downloads anything, so without this file Q7.2.1's fine-tuned accuracy is 'not gradable
here'. The Gradescope bundle's setup.sh runs this command (setup has internet; grading need not), and so
does the PrairieLearn image's Dockerfile. The file is torchvision's
SqueezeNet1_1_Weights.IMAGENET1K_V1, squeezenet1_1-b8a52dc0.pth, put in $TORCH_HOME/hub/checkpoints
(torch.hub.get_dir()). It is checked before it is kept: exit 1, and nothing kept, when its SHA-256
differs. Exit 0 when the verified file is in place (also when it already was).

  python -m grader weights                  # fetch and verify
  python -m grader weights --check          # only verify the file already in the cache"""
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

from grader.npzio import sha256
from grader.torch_eval import SQUEEZENET_FILE

SQUEEZENET_URL = f'https://download.pytorch.org/models/{SQUEEZENET_FILE}'
# torchvision publishes only the first 8 hex digits of the SHA-256, in the file name (torch.hub checks
# that prefix). The full digest and the size are those recorded by several independent public projects
# that pinned this file; checking the full digest checks the published prefix too.
SQUEEZENET_SHA256 = 'b8a52dc049b60e4b6ab68ad0df457362afab8b6304b2febdc1650a5dab4d7e7b'
SQUEEZENET_BYTES = 4_958_839
MAX_BYTES = 50 * 2 ** 20    # a download far larger than the weights is not them


def add_arguments(parser):
    parser.add_argument('--check', action='store_true', help='verify the cached file only; download nothing')
    parser.add_argument('--url', default=SQUEEZENET_URL, help=f'where to fetch it from (default {SQUEEZENET_URL})')
    parser.add_argument('--sha256', default=SQUEEZENET_SHA256,
                        help='the SHA-256 the file must have (default: that of torchvision\'s file)')


def cache_path():
    import torch   # where torchvision looks, and where grader.torch_eval.squeezenet_weights() reads
    return Path(torch.hub.get_dir()) / 'checkpoints' / SQUEEZENET_FILE


def fetch(url, dest, expected):
    """Download ``url`` next to ``dest``, and move it to ``dest`` only if its SHA-256 is ``expected``;
    raises ValueError (mismatch, too large) or OSError (network) with a sentence."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.download-', dir=dest.parent)
    try:
        with os.fdopen(fd, 'wb') as out, urllib.request.urlopen(url, timeout=120) as response:
            size = 0
            while block := response.read(1 << 20):
                size += len(block)
                if size > MAX_BYTES:
                    raise ValueError(f'{url} sent more than {MAX_BYTES >> 20} MB; the weights are '
                                     f'{SQUEEZENET_BYTES:,} bytes')
                out.write(block)
        got = sha256(tmp)
        if got != expected.lower():
            raise ValueError(f'{url} sent {size:,} bytes with SHA-256 {got}, but {SQUEEZENET_FILE} has '
                             f'{expected.lower()}: corrupted or not the right file, so it was not kept')
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def run(args):
    dest = cache_path()
    if dest.is_file() and sha256(dest) == args.sha256.lower():
        print(f'weights: {dest} is in place and its SHA-256 matches')
        return 0
    if args.check:
        state = 'has the wrong SHA-256' if dest.is_file() else 'is missing'
        print(f'weights: {dest} {state}', file=sys.stderr)
        return 1
    try:
        fetch(args.url, dest, args.sha256)
    except (OSError, ValueError) as exc:
        print(f'weights: FAILED: {exc}', file=sys.stderr)
        return 1
    print(f'weights: fetched {args.url} into {dest}; SHA-256 verified')
    return 0
