"""A hand-in, made safe to grade: a folder or a .zip of the course files (flat, or inside one folder) is
copied into a fresh temporary folder, and its Python files are scanned without running them.

This runs on the trusted side, before any sandbox, so it reads as little as it can and believes nothing:
- only the course files (``nn.py``, ``q2.py`` ... see grader/impl.py MODULES) are read and copied, so a
  submitted conftest.py, pytest.ini, sitecustomize.py, *.pth or tests/ never reaches the test run;
- a folder is listed with lstat and nothing in it is followed: a link (to a file or to a folder) and a
  special file (fifo, socket, device) are named in the report and never opened or entered; files are
  opened with O_NOFOLLOW and checked again after opening, so a link swapped in meanwhile is not read;
- a zip member is inflated as a stream, a chunk at a time, and must come out exactly as large as its
  header declares (which must be within the size limits) and with its CRC: a header that lies is caught
  at most a chunk past its claim. Encrypted, damaged, duplicate-entry and zip-slip archives are refused;
- names are shown escaped (``shown``): a name that is not UTF-8 or holds a colon costs nothing.
The scan reports syntax errors (file and line) and imports of libraries the course does not allow;
``affected(qid)`` says which questions such a file costs."""
import ast
import bz2
import contextlib
import errno
import hashlib
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader import paths
from grader.worker.loader import MODULES
from grader.worker.rules import allowed

MAX_FILE_BYTES = 5 * 2 ** 20        # a course .py file is a few kB; more is a mistake or a bomb
MAX_TOTAL_BYTES = 200 * 2 ** 20     # what a whole archive may inflate to
MAX_ENTRIES = 2000
MAX_DEPTH = 32                      # folders inside folders
CHUNK = 2 ** 16                     # bytes read, or inflated, at a time
LOCAL_HEADER = struct.Struct('<4s5H3L2H')   # a zip member's local header, ending in name and extra lengths
JUNK = ('__MACOSX/', '.DS_Store', '._', '__pycache__/', '.ipynb_checkpoints/', '.git/')
COURSE_FILES = tuple(f'{m}.py' for m in MODULES)
GIVEN = ('util.py',)   # handed out by the course, not graded: supplied when a hand-in leaves it out
COURSE_SCRIPT = re.compile(r'run_q\d\w*\.py')   # the course's original per-question scripts (run_q2.py ...)


class SubmissionRefused(Exception):
    """The hand-in cannot be graded at all (not found, unreadable, not a zip, unsafe, damaged, no course
    files); the message says why, in one line."""


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
    source: str                 # what was handed in (folder or .zip), as given (escaped: ``shown``)
    root: Path                  # the fresh folder holding the copied course files
    files: list                 # course files copied, e.g. ['nn.py', 'q2.py']
    ignored: list = field(default_factory=list)      # other files in the hand-in, not copied
    skipped: list = field(default_factory=list)      # 'name (a symbolic link)': links and special files, not read
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
        scripts = sorted(n for n in self.ignored if COURSE_SCRIPT.fullmatch(PurePosixPath(n).name))
        if self.supplied:
            out.append(f"Not handed in, so the course's copy was used: {', '.join(self.supplied)}.")
        if scripts and 'q2.py' not in self.files:
            out.append(f"This hand-in is laid out for the course's original run scripts ({_listed(scripts, 3)}), "
                       f"which this harness does not run: it expects {', '.join(COURSE_FILES)} with the "
                       'functions of the stubs in student/. From this hand-in only nn.py (Q2.1-2.3) and '
                       "q4.py's findLetters (Q4.2) can be graded.")
        elif missing:
            out.append(f"Not handed in: {', '.join(missing)} (the questions that need them score 0).")
        if self.skipped:
            out.append(f'Not read (links and special files are never followed): {_listed(self.skipped)}.')
        if self.ignored:
            out.append(f'Ignored (not course files): {_listed(self.ignored)}.')
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
    default) and scan them. Raises SubmissionRefused with a one-line reason, also when ``source`` does
    not exist (the commands check that first: a mistyped path is a usage error, not a refusal)."""
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        raise SubmissionRefused(f'{shown(source)}: no such file or folder') from None
    except OSError as exc:
        raise SubmissionRefused(f'{shown(source)} cannot be read ({exc.strerror})') from None
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise SubmissionRefused(f'{shown(source)}: neither a folder nor a .zip archive')
    root = Path(dest) if dest else Path(tempfile.mkdtemp(prefix='nn-submission-'))
    root.mkdir(parents=True, exist_ok=True)
    try:
        with contextlib.ExitStack() as stack:
            entries = (_folder(source, stack) if stat.S_ISDIR(mode) else _archive(source, stack))
            copied, ignored, skipped = _copy(entries, root)
    except BaseException:
        if not dest:
            shutil.rmtree(root, ignore_errors=True)
        raise
    sub = Submission(shown(source), root, copied, ignored, skipped=skipped)
    _scan(sub)
    for name in GIVEN:
        given = next((d / name for d in (paths.STUDENT, paths.REFERENCE) if (d / name).is_file()), None)
        if name not in copied and given is not None:
            shutil.copyfile(given, root / name)
            sub.supplied.append(name)
    return sub


def shown(name):
    """A file name (str or bytes) as the reports show it: valid UTF-8 on one line. Bytes that are not
    UTF-8 (a name from another system's encoding) and control characters are escaped: caf\\xe9.txt."""
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if isinstance(name, str):
        try:
            name = name.encode('utf-8', 'surrogateescape')   # back to the bytes os.listdir decoded
        except UnicodeEncodeError:
            name = name.encode('utf-8', 'backslashreplace')
    return ''.join(c if c.isprintable() else ascii(c)[1:-1] for c in name.decode('utf-8', 'backslashreplace'))


class _NotRegular(Exception):
    """What was listed as a regular file (or a folder on its way) turned out not to be one when opened:
    it was swapped since the listing. ``str()``: 'name (what it is now)'."""

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.name, self.kind = name, kind

    def __str__(self):
        return f'{shown(self.name)} ({self.kind})'


@dataclass
class _Entry:
    kind: str            # 'file', or why it is not read: 'a symbolic link', 'a fifo', ...
    read: object = None  # () -> the file's bytes (at most MAX_FILE_BYTES); files only


KINDS = {stat.S_IFREG: 'file', stat.S_IFLNK: 'a symbolic link', stat.S_IFIFO: 'a fifo',
         stat.S_IFSOCK: 'a socket', stat.S_IFCHR: 'a device', stat.S_IFBLK: 'a device', stat.S_IFDIR: 'a folder'}


def _kind(mode):
    return KINDS.get(stat.S_IFMT(mode), 'a special file')


def _junk(name):
    return any(j in name or PurePosixPath(name).name.startswith(j) for j in JUNK)


# ---- folders: lstat everything, follow nothing ------------------------------------------------------

def _folder(source, stack):
    """{relative path: _Entry} for what the folder holds, each found by lstat. A link (to a file or to a
    folder) and a special file are listed as what they are, never followed, entered or opened."""
    top = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
    stack.callback(os.close, top)
    entries = {}

    def walk(fd, prefix, depth):
        for name in sorted(os.listdir(fd)):
            rel = prefix + name
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                if _junk(rel + '/'):
                    continue
                if depth == MAX_DEPTH:
                    raise SubmissionRefused(f'{shown(rel)}: folders nested more than {MAX_DEPTH} deep')
                try:
                    sub = _open_nofollow(name, os.O_DIRECTORY, fd, rel)
                except _NotRegular as exc:
                    entries[rel] = _Entry(exc.kind)
                    continue
                try:
                    walk(sub, rel + '/', depth + 1)
                finally:
                    os.close(sub)
            else:
                entries[rel] = _Entry(_kind(st.st_mode), lambda rel=rel: _read_beneath(top, rel))
                if len(entries) > MAX_ENTRIES:
                    raise SubmissionRefused(f'the hand-in holds more than {MAX_ENTRIES} files')

    try:
        walk(top, '', 0)
    except OSError as exc:
        raise SubmissionRefused(f'the hand-in folder cannot be read ({exc.strerror})') from None
    return entries


def _read_beneath(top, rel):
    """The bytes of regular file ``rel`` under the folder open as ``top``. Every folder on the way and
    the file itself are opened without following links, and what was opened is checked to be a regular
    file (fstat), so a link or a fifo swapped in since the listing is never read."""
    parts = rel.split('/')
    fds = []
    try:
        fd = top
        for i, part in enumerate(parts):
            fd = _open_nofollow(part, os.O_DIRECTORY if i < len(parts) - 1 else 0, fd, '/'.join(parts[:i + 1]))
            fds.append(fd)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _NotRegular(rel, _kind(st.st_mode))
        _check_size(rel, st.st_size)
        data = bytearray()
        while chunk := os.read(fd, min(CHUNK, MAX_FILE_BYTES + 1 - len(data))):
            data += chunk
            if len(data) > MAX_FILE_BYTES:
                raise SubmissionRefused(f'{shown(rel)} is more than {MAX_FILE_BYTES // 2 ** 20} MB (a course file '
                                        f'may be at most {MAX_FILE_BYTES // 2 ** 20} MB)')
        return bytes(data)
    except OSError as exc:
        raise SubmissionRefused(f'{shown(rel)} cannot be read ({exc.strerror})') from None
    finally:
        for fd in fds:
            os.close(fd)


def _open_nofollow(name, flags, dir_fd, rel):
    """os.open for reading of ``name`` in the folder open as ``dir_fd``, never through a link and never
    blocking (a fifo); finding a link (or, with O_DIRECTORY, no folder) raises _NotRegular for ``rel``."""
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        try:
            kind = _kind(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
        except OSError:
            kind = 'gone'
        raise _NotRegular(rel, kind) from None


def _check_size(name, size):
    if size > MAX_FILE_BYTES:
        raise SubmissionRefused(f'{shown(name)} is {size / 2 ** 20:.1f} MB (a course file may be at most '
                                f'{MAX_FILE_BYTES // 2 ** 20} MB)')


# ---- zip archives: inflate as a stream, trust no header ---------------------------------------------

def _archive(source, stack):
    """{relative path: _Entry} for the members of a .zip; a member is inflated only when it is read."""
    try:
        f = stack.enter_context(open(source, 'rb'))
        magic = f.read(4)
        f.seek(0)
        if not zipfile.is_zipfile(f):
            if magic == b'PK\x03\x04':
                raise SubmissionRefused('the archive is damaged or cut short (its table of contents is '
                                        'missing); re-create it and hand it in again')
            raise SubmissionRefused(f'{shown(source)}: neither a folder nor a .zip archive')
        zf = stack.enter_context(zipfile.ZipFile(f))
    except OSError as exc:
        raise SubmissionRefused(f'{shown(source)} cannot be read ({exc.strerror})') from None
    except UnicodeDecodeError:
        raise SubmissionRefused('the archive is damaged: a file name in it is marked as UTF-8 but is not; '
                                're-create it and hand it in again') from None
    except (zipfile.BadZipFile, ValueError, EOFError, struct.error) as exc:
        raise SubmissionRefused(f'the archive is damaged ({exc}); re-create it and hand it in again') from None
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > MAX_ENTRIES:
        raise SubmissionRefused(f'the archive holds {len(infos)} files (at most {MAX_ENTRIES} are accepted)')
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        raise SubmissionRefused(f'the archive inflates to {total / 2 ** 20:.0f} MB (at most '
                                f'{MAX_TOTAL_BYTES // 2 ** 20} MB are accepted)')
    entries = {}
    for info in infos:
        path = PurePosixPath(info.filename.replace('\\', '/'))
        if path.is_absolute() or '..' in path.parts:
            raise SubmissionRefused(f'the archive entry {shown(info.filename)!r} points outside the archive; '
                                    'it was refused (re-zip the course files themselves)')
        name = path.as_posix()
        if name in entries and PurePosixPath(name).name in COURSE_FILES:
            raise SubmissionRefused(f'the archive holds {shown(name)} twice, so which one to grade is ambiguous; '
                                    're-create it with each file once')
        # a unix zip keeps the st_mode: a link or a special file is what it says (zipfile's own writestr
        # keeps permission bits only, so no file type means a file)
        mode = info.external_attr >> 16 if info.create_system == 3 else 0
        entries[name] = _Entry(_kind(mode) if stat.S_IFMT(mode) else 'file', lambda info=info: _inflate(f, info))
    return entries


def _inflate(f, info):
    """The bytes of zip member ``info``, inflated from archive file ``f`` as a stream: at most CHUNK more
    than the size its header declares is ever inflated, and the result must match that size and CRC."""
    name = shown(info.filename)
    if info.flag_bits & 0x1:
        raise SubmissionRefused(f'the archive is password-protected ({name} is encrypted); hand in an '
                                'archive without a password')
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2):
        raise SubmissionRefused(f'{name} is compressed with a method the grader does not read (zip method '
                                f'{info.compress_type}); re-create the archive with the usual (deflate) compression')
    _check_size(info.filename, info.file_size)
    damaged = f'the archive is damaged: {name} %s; re-create the archive and hand it in again'
    try:
        f.seek(info.header_offset)
        head = f.read(LOCAL_HEADER.size)
        if len(head) < LOCAL_HEADER.size or head[:4] != b'PK\x03\x04':
            raise SubmissionRefused(damaged % 'has no local header')
        *_, name_length, extra_length = LOCAL_HEADER.unpack(head)
        f.seek(name_length + extra_length, os.SEEK_CUR)
        data = bytearray()
        for piece in _unpacked(_stored(f, info.compress_size), info.compress_type):
            data += piece
            if len(data) > info.file_size:
                raise SubmissionRefused(f'the archive is damaged or forged: {name} inflates to more than the '
                                        f'{info.file_size} bytes its header declares')
    except (OSError, EOFError, zlib.error) as exc:
        raise SubmissionRefused(damaged % f'cannot be inflated ({exc})') from None
    if len(data) != info.file_size:
        raise SubmissionRefused(damaged % f'inflates to {len(data)} bytes where its header declares {info.file_size}')
    if zlib.crc32(data) != info.CRC:
        raise SubmissionRefused(damaged % 'fails its CRC check')
    return bytes(data)


def _stored(f, size):
    """The member's bytes as stored in the archive, CHUNK at a time."""
    while size > 0:
        chunk = f.read(min(CHUNK, size))
        if not chunk:
            raise EOFError('the archive ends inside it')
        size -= len(chunk)
        yield chunk


def _unpacked(chunks, method):
    """Inflated pieces of at most CHUNK bytes; the caller stops when it has enough."""
    if method == zipfile.ZIP_STORED:
        yield from chunks
        return
    if method == zipfile.ZIP_DEFLATED:
        d = zlib.decompressobj(-15)
        for data in chunks:
            while data and not d.eof:
                yield d.decompress(data, CHUNK)
                data = d.unconsumed_tail
            if d.eof:
                break
        else:
            yield d.flush()   # what zlib still holds of the last input
    else:
        d = bz2.BZ2Decompressor()
        for data in chunks:
            while not d.eof:
                yield d.decompress(data, CHUNK)
                data = b''
                if d.needs_input:
                    break
            if d.eof:
                break
    if not d.eof:
        raise EOFError('its compressed data is cut short')


# ---- picking the course files ---------------------------------------------------------------------

def _copy(entries, root):
    """Write the course files among {relative path: _Entry} into ``root``: flat, or all inside one folder.
    Returns (copied course files, ignored names, skipped links and special files), names as shown."""
    entries = {k: e for k, e in entries.items() if not _junk(k)}
    skipped = [f'{shown(k)} ({e.kind})' for k, e in entries.items() if e.kind != 'file']
    files = {k: e for k, e in entries.items() if e.kind == 'file'}
    flat = [k for k in files if k in COURSE_FILES]
    if flat:
        base = ''
    else:
        folders = {k.rsplit('/', 1)[0] for k in files if PurePosixPath(k).name in COURSE_FILES and '/' in k}
        if not folders:
            raise SubmissionRefused('no course files found (expected some of ' + ', '.join(COURSE_FILES) +
                                    ', flat or inside one folder)' +
                                    (f'; not read: {_listed(skipped)}' if skipped else ''))
        if len(folders) > 1:
            raise SubmissionRefused('course files were found in several folders (' +
                                    ', '.join(sorted(map(shown, folders))) + '); hand in one folder')
        base = folders.pop() + '/'
    copied, ignored = [], []
    for name, entry in sorted(files.items()):
        rel = name[len(base):] if name.startswith(base) else None
        if rel not in COURSE_FILES:
            ignored.append(shown(name))
            continue
        try:
            data = entry.read()
        except _NotRegular as exc:   # swapped since the listing
            if str(exc) not in skipped:
                skipped.append(str(exc))
            continue
        (root / rel).write_bytes(data)
        copied.append(rel)
    return copied, ignored, skipped


def _listed(names, most=10):
    return ', '.join(names[:most]) + (' ...' if len(names) > most else '')


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
