"""The grading harness's commands; `python -m grader COMMAND --help` describes one.

Each command is a module in grader/commands/ with ``add_arguments`` (fills its argparse sub-parser),
``run(args)`` (returns the exit code) and a docstring (its help; the first sentence is its summary)."""
import argparse
import importlib
import pkgutil
import sys

from grader import commands


def first_sentence(doc):
    """The first sentence of a docstring's first paragraph, however it is wrapped: the --help summary."""
    text = ' '.join(doc.split('\n\n')[0].split())
    end = text.find('. ')
    return text if end < 0 else text[:end + 1]


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m grader', description=first_sentence(__doc__))
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    runners = {}
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f'grader.commands.{info.name}')
        name = info.name.replace('_', '-')
        doc = (module.__doc__ or '').strip()
        p = sub.add_parser(name, help=first_sentence(doc), description=doc,
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
