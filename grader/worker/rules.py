"""The course's rule on libraries, held at run time: code in a course file may import only numpy, scipy,
scikit-image, matplotlib, torch, torchvision, the standard library, the other course files and the
harness's data helpers. grader.submission finds literal imports before anything runs; this guard
catches the rest (``__import__('P' + 'IL')``, importlib.import_module, exec) when they run, with the
same verdict: the import fails and the violation is recorded for the trusted side to score.

Only imports made by the course files themselves are judged: numpy importing its own dependencies is
not the submission's doing."""
import builtins
import importlib
import sys

ALLOWED_LIBRARIES = ('numpy', 'scipy', 'skimage', 'matplotlib', 'mpl_toolkits', 'torch', 'torchvision')
# The harness's data helpers, which the course files' __main__ blocks use to load the course data. The
# worker has exactly these (grader.isolation.sandbox copies them), so a hand-in importing one behaves
# the same imported into pytest and isolated.
HARNESS_HELPERS = ('grader.datasets', 'grader.torch_data', 'grader.torch_eval')

_violations = []   # (file, line, library) found at run time, not yet collected by the trusted side


def allowed(dotted, course_modules):
    """May a course file import ``dotted`` (a module name such as 'skimage.filters' or 'grader.datasets')?"""
    top = dotted.split('.')[0]
    return (top in course_modules or top in ALLOWED_LIBRARIES or top in sys.stdlib_module_names
            or any(dotted == h or dotted.startswith(h + '.') or h.startswith(dotted + '.') for h in HARNESS_HELPERS))


def install(course_modules, course_files):
    """Guard every import spelling that ends in builtins.__import__ or importlib.import_module, for code
    whose module is one of ``course_modules`` loaded from one of ``course_files`` (absolute paths)."""
    if getattr(builtins.__import__, 'harness_guard', False):
        return
    real_import, real_import_module = builtins.__import__, importlib.import_module
    files = {str(f) for f in course_files}

    def importer(globals_):
        if globals_ is None:
            globals_ = sys._getframe(2).f_globals
        name = globals_.get('__name__') if isinstance(globals_, dict) else None
        return name if name in course_modules and str(globals_.get('__file__')) in files else None

    def check(name, importer_name, depth):
        if importer_name is None or not isinstance(name, str) or allowed(name, course_modules):
            return
        frame = sys._getframe(depth)
        line = frame.f_lineno if frame.f_globals.get('__name__') == importer_name else 0
        _violations.append((f'{importer_name}.py', line, name))
        raise ImportError(f'importing {name!r} is not allowed in the course files (allowed: numpy, scipy, '
                          'scikit-image, matplotlib, torch, torchvision and the standard library)')

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            check(name, importer(globals), 2)
        return real_import(name, globals, locals, fromlist, level)

    def guarded_import_module(name, package=None):
        if not name.startswith('.'):
            check(name, importer(None), 2)
        return real_import_module(name, package)

    guarded_import.harness_guard = True
    builtins.__import__ = guarded_import
    importlib.import_module = guarded_import_module


def collect():
    """The run-time violations found since the last call, as (file, line, library) tuples."""
    found = list(_violations)
    del _violations[:]
    return found
