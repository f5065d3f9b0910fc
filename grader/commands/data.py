"""Show, check or regenerate the data the questions are graded on (real course files or stand-ins).

--info lists, for each set, whether the real data or the generated stand-in is in use, with its path,
sizes and checksums; --check verifies the shipped stand-ins against their manifests and validates the
real data in use; --regenerate [SET ...] remakes stand-ins deterministically (needs the handwriting
font packages; the same bytes twice). --data-dir DIR points at the real data (like NN_DATA_DIR)."""
import json
import os
import sys

from grader.datasets import DataError


def add_arguments(parser):
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument('--info', action='store_true', help='which data is in use, sizes, checksums')
    action.add_argument('--check', action='store_true', help='verify shipped files and the real data')
    action.add_argument('--regenerate', nargs='*', metavar='SET',
                        help='remake the generated stand-ins (default all: nist36 pages MNIST EMNIST flowers17)')
    parser.add_argument('--data-dir', metavar='DIR', help='folder with the real course data (env NN_DATA_DIR)')
    parser.add_argument('--json', action='store_true', help='with --info: print JSON')


def run(args):
    from grader.datasets import info
    if args.data_dir:
        if not os.path.isdir(args.data_dir):
            print(f'data error: {args.data_dir}: no such folder', file=sys.stderr)
            return 1
        os.environ['NN_DATA_DIR'] = os.path.abspath(args.data_dir)
    try:
        if args.regenerate is not None:
            info.regenerate(args.regenerate)
            return 0
        if args.check:
            problems = info.check()
            for p in problems:
                print(f'DATA PROBLEM: {p}')
            print('data OK' if not problems else f'{len(problems)} problem(s)')
            return 1 if problems else 0
        rows = info.sets()
    except DataError as exc:
        print(f'data error: {exc}', file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        sizes = ', '.join(f'{k} {v}' for k, v in row['sizes'].items())
        files = f'{row["n_files"]} file' + ('' if row['n_files'] == 1 else 's')
        print(f'{row["name"]:<11} {row["kind"]:<9} {sizes}  ({files}, {row["bytes"] / 1e6:.1f} MB)  {row["path"]}')
        for name, digest in row['files'].items():
            print(f'{"":<11} sha256 {digest}  {name}')
        if 'tree_sha256' in row:
            print(f'{"":<11} sha256 {row["tree_sha256"]}  (all {files}: the sha256 of their sorted '
                  '`sha256sum` lines)')
    return 0
