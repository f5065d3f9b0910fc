"""A hand-in, made safe to grade: a folder or a .zip of the course files (flat, or inside one folder) is
copied into a fresh temporary folder, and its Python files are scanned without running them.

Only the course files (``nn.py``, ``q2.py`` ... see grader/impl.py MODULES) are copied, so a submitted
conftest.py, pytest.ini, sitecustomize.py, *.pth or tests/ never reaches the test run. Zip entries that
would land outside the folder (zip-slip) and archives that inflate beyond a size limit are refused.
The scan reports syntax errors (file and line) and imports of libraries the course does not allow;
``affected(qid)`` says which questions such a file costs."""
import ast
import hashlib
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader import paths
from grader.worker.loader import MODULES
from grader.worker.rules import allowed

MAX_FILE_BYTES = 5 * 2 ** 20        # a course .py file is a few kB; more is a mistake or a bomb
MAX_TOTAL_BYTES = 200 * 2 ** 20     # what a whole archive may inflate to
MAX_ENTRIES = 2000
JUNK = ('__MACOSX/', '.DS_Store', '._', '__pycache__/', '.ipynb_checkpoints/')
COURSE_FILES = tuple(f'{m}.py' for m in MODULES)
GIVEN = ('util.py',)   # handed out by the course, not graded: supplied when a hand-in leaves it out


class SubmissionRefused(Exception):
    """The hand-in cannot be graded at all (not found, not a zip, unsafe, no course files)."""


@dataclass
class Violation:
    file: str
    line: int
    library: str

    def __str__(self):
        top = self.library.split('.')[0]
        shown = self.library if top == 'grader' else top
        return (f"{self.file} line {self.line} imports {shown!r}, which the course does not allow "
                "(allowed: numpy, scipy, scikit-image, matplotlib, torch, torchvision and the standard library)")


@dataclass
class Submission:
    source: str                 # what was handed in (folder or .zip), as given
    root: Path                  # the fresh folder holding the copied course files
    files: list                 # course files copied, e.g. ['nn.py', 'q2.py']
    ignored: list = field(default_factory=list)      # other files in the hand-in, not copied
    supplied: list = field(default_factory=list)     # given course files added because they were missing
    syntax_errors: dict = field(default_factory=dict)  # file -> 'SyntaxError: ... (line N)'
    violations: list = field(default_factory=list)   # Violation per forbidden import
    imports: dict = field(default_factory=dict)      # file -> course modules it imports
    checksum: str = ''          # sha256 over the copied files' names and bytes

    def affected(self, qid):
        """Forbidden-import violations that cost question ``qid``: those in the question's own file or in
        a course file it imports (directly or through others)."""
        own, seen = module_of(qid), set()
        stack = [own]
        while stack:
            m = stack.pop()
            if m not in seen:
                seen.add(m)
                stack.extend(self.imports.get(f'{m}.py', ()))
        return [v for v in self.violations if v.file[:-3] in seen]

    def notes(self):
        """Sentences for the report about what was handed in."""
        out = []
        missing = [f for f in COURSE_FILES if f not in self.files and f not in self.supplied]
        if self.supplied:
            out.append(f"Not handed in, so the course's copy was used: {', '.join(self.supplied)}.")
        if missing:
            out.append(f"Not handed in: {', '.join(missing)} (the questions that need them score 0).")
        if self.ignored:
            shown = ', '.join(self.ignored[:10]) + (' ...' if len(self.ignored) > 10 else '')
            out.append(f'Ignored (not course files): {shown}.')
        out.extend(f'{f}: {msg}' for f, msg in sorted(self.syntax_errors.items()))
        out.extend(f'Rule violation: {v}.' for v in self.violations)
        return out

    def add_run_time_violations(self, found):
        """Forbidden imports the worker caught as they ran ({'file', 'line', 'library'}), that the scan of
        the source could not see (``__import__('P' + 'IL')``): they count the same."""
        seen = {(v.file, v.library) for v in self.violations}
        for item in found:
            key = (str(item.get('file')), str(item.get('library')))
            if key[0] in self.files and key not in seen:
                seen.add(key)
                self.violations.append(Violation(key[0], int(item.get('line') or 0), key[1]))

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def module_of(qid):
    """The course module a question's code lives in: Q2.1-2.3 in nn.py, the rest in qN.py."""
    part = qid.split('.')[0]
    return 'nn' if qid.split('.')[:2] in (['2', '1'], ['2', '2'], ['2', '3']) or part == '1' else f'q{part}'


def prepare(source, dest=None):
    """Copy the course files of ``source`` (folder or .zip) into ``dest`` (a fresh temporary folder by
    default) and scan them. Raises SubmissionRefused with a one-line reason."""
    src = Path(source)
    if not src.exists():
        raise SubmissionRefused(f'{source}: no such file or folder')
    root = Path(dest) if dest else Path(tempfile.mkdtemp(prefix='nn-submission-'))
    root.mkdir(parents=True, exist_ok=True)
    try:
        if src.is_dir():
            entries = {p.relative_to(src).as_posix(): p for p in sorted(src.rglob('*')) if p.is_file()}
            copied, ignored = _copy(entries, root, lambda p: p.read_bytes())
        elif zipfile.is_zipfile(src):
            with zipfile.ZipFile(src) as zf:
                copied, ignored = _copy(_zip_entries(zf), root, lambda info: zf.read(info))
        else:
            raise SubmissionRefused(f'{source}: neither a folder nor a .zip archive')
    except BaseException:
        if not dest:
            shutil.rmtree(root, ignore_errors=True)
        raise
    sub = Submission(str(source), root, copied, ignored)
    _scan(sub)
    for name in GIVEN:
        given = next((d / name for d in (paths.STUDENT, paths.REFERENCE) if (d / name).is_file()), None)
        if name not in copied and given is not None:
            shutil.copyfile(given, root / name)
            sub.supplied.append(name)
    return sub


def _zip_entries(zf):
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > MAX_ENTRIES:
        raise SubmissionRefused(f'the archive holds {len(infos)} files (at most {MAX_ENTRIES} are accepted)')
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        raise SubmissionRefused(f'the archive inflates to {total / 2 ** 20:.0f} MB (at most '
                                f'{MAX_TOTAL_BYTES // 2 ** 20} MB are accepted)')
    entries = {}
    for info in infos:
        name = info.filename.replace('\\', '/')
        path = PurePosixPath(name)
        if path.is_absolute() or '..' in path.parts or ':' in path.parts[0]:
            raise SubmissionRefused(f'the archive entry {info.filename!r} points outside the archive; '
                                    'it was refused (re-zip the course files themselves)')
        entries[name] = info
    return entries


def _copy(entries, root, read):
    """Pick the course files out of {relative path: handle}: flat, or all inside one folder."""
    entries = {k: v for k, v in entries.items() if not any(j in k or PurePosixPath(k).name.startswith(j)
                                                            for j in JUNK)}
    flat = [k for k in entries if k in COURSE_FILES]
    if flat:
        base = ''
    else:
        folders = {k.rsplit('/', 1)[0] for k in entries if PurePosixPath(k).name in COURSE_FILES and '/' in k}
        if not folders:
            raise SubmissionRefused('no course files found (expected some of ' + ', '.join(COURSE_FILES) +
                                    ', flat or inside one folder)')
        if len(folders) > 1:
            raise SubmissionRefused('course files were found in several folders (' + ', '.join(sorted(folders))
                                    + '); hand in one folder')
        base = folders.pop() + '/'
    copied, ignored = [], []
    for name, handle in sorted(entries.items()):
        rel = name[len(base):] if name.startswith(base) else None
        if rel in COURSE_FILES:
            size = getattr(handle, 'file_size', None)
            if size is None:
                size = handle.stat().st_size
            if size > MAX_FILE_BYTES:
                raise SubmissionRefused(f'{name} is {size / 2 ** 20:.1f} MB (a course file may be at most '
                                        f'{MAX_FILE_BYTES // 2 ** 20} MB)')
            (root / rel).write_bytes(read(handle))
            copied.append(rel)
        else:
            ignored.append(name)
    return copied, ignored


def _scan(sub):
    digest = hashlib.sha256()
    course = set(MODULES)
    for name in sorted(sub.files):
        data = (sub.root / name).read_bytes()
        digest.update(name.encode() + b'\0' + data + b'\0')
        try:
            tree = ast.parse(data, filename=name)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, 'lineno', None)
            sub.syntax_errors[name] = (f'SyntaxError: {getattr(exc, "msg", exc)}' +
                                       (f' (line {line})' if line else '') + '; the file cannot be imported')
            continue
        uses = set()
        for dotted, line in _imports(tree):
            lib = dotted.split('.')[0]
            if lib in course:
                uses.add(lib)
            elif not allowed(dotted, course):
                sub.violations.append(Violation(name, line, dotted))
        sub.imports[name] = sorted(uses)
    sub.checksum = digest.hexdigest()


def _imports(tree):
    """(dotted module name, line) for every import statement ('from a import b' gives 'a.b'), and for
    __import__('x') / importlib.import_module('x') with a literal name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield f'{node.module}.{alias.name}', node.lineno
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, 'id', getattr(node.func, 'attr', None)) in ('__import__', 'import_module')):
            yield node.args[0].value, node.lineno
