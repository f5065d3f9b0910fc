"""Check or regenerate the stored test fixtures (reference outputs for fixed inputs).

--check verifies the checksums in fixtures/manifest.json and that the reference still reproduces every
stored case; --regenerate remakes them deterministically (the same bytes twice), and keeps a stored file
the reference reproduces within --check's tolerance, so another machine's last bits do not churn them."""
from grader import fixtures


def add_arguments(parser):
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument('--check', action='store_true', help='verify the stored fixtures')
    action.add_argument('--regenerate', action='store_true', help='remake the fixtures from the reference')


def run(args):
    if args.regenerate:
        try:
            written = fixtures.regenerate()
        except RuntimeError as exc:   # e.g. a student release has no reference to regenerate from
            print(f'fixtures: {exc}')
            return 2
        for path in written:
            print(f'wrote {path}')
        print(f'fixtures: {len(written)} file(s) written; the reference reproduces every other stored file, '
              'which is kept as it is')
        return 0
    problems = fixtures.check()
    for p in problems:
        print(f'FIXTURE PROBLEM: {p}')
    print('fixtures OK' if not problems else f'{len(problems)} problem(s)')
    return 1 if problems else 0
