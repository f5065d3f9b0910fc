"""``python -m grader COMMAND ...``: each command is a module in grader/commands/ with ``add_arguments``
(fills its argparse sub-parser), ``run(args)`` (returns the exit code) and a docstring (its help)."""
import argparse
import importlib
import pkgutil
import sys

from grader import commands


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m grader', description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    runners = {}
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f'grader.commands.{info.name}')
        name = info.name.replace('_', '-')
        doc = (module.__doc__ or '').strip()
        p = sub.add_parser(name, help=doc.split('\n')[0], description=doc,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        runners[name] = module.run
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return runners[args.command](args) or 0


if __name__ == '__main__':
    sys.exit(main())
