"""The one Python environment behind tox's two commands (tox.ini): ``tox -e grade`` and ``tox -e test``.

tox keeps one environment per name and records the name inside the environment's folder; an environment
folder shared by two names is deleted and rebuilt whenever the other name runs (tox/tox_env/api.py,
"env type changed"). With torch that is a 6.1 GB install each time, or 12 GB for two folders. So each
tox environment is only a small launcher, and both run their commands here, in one environment built
from requirements-torch.txt on first use and rebuilt only when a requirements file or Python changes.
Standard library only: it runs in the launcher environment, before anything is installed.

  python harness_env.py ENV_DIR COMMAND [ARG ...]   # run COMMAND with ENV_DIR's Python first on PATH
"""
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REQUIREMENTS = ('requirements.txt', 'requirements-torch.txt')   # the second includes the first


def fingerprint():
    """What the environment was built from: this Python and the requirements files' bytes."""
    digest = hashlib.sha256(sys.version.encode())
    for name in REQUIREMENTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure(env_dir):
    """Build ``env_dir`` unless it was built from the same requirements; one builder at a time."""
    env_dir = Path(env_dir)
    stamp = env_dir / 'built-from.sha256'
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(env_dir.parent / f'{env_dir.name}.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # `tox -e grade` and `tox -e test` started together build once
        if stamp.is_file() and stamp.read_text().strip() == fingerprint():
            return
        if env_dir.exists():   # built from other requirements: start clean, as tox would
            print(f'harness_env: requirements changed; rebuilding {env_dir}', file=sys.stderr)
            shutil.rmtree(env_dir)
        print(f'harness_env: building {env_dir} from {REQUIREMENTS[-1]} (torch: several GB, a few minutes)',
              file=sys.stderr)
        start = time.monotonic()
        venv.create(env_dir, with_pip=True)
        subprocess.run([str(env_dir / 'bin' / 'python'), '-m', 'pip', 'install', '--quiet', '-r',
                        str(ROOT / REQUIREMENTS[-1])], check=True, cwd=ROOT)
        stamp.write_text(fingerprint() + '\n')   # only once everything installed
        size = sum(f.stat().st_size for f in env_dir.rglob('*') if f.is_file() and not f.is_symlink())
        print(f'harness_env: built {env_dir} in {time.monotonic() - start:.0f} s ({size / 1e9:.1f} GB)',
              file=sys.stderr)


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    env_dir, command = Path(argv[0]).resolve(), argv[1:]
    try:
        ensure(env_dir)
    except subprocess.CalledProcessError as exc:
        print(f'harness_env: installing the requirements failed (exit {exc.returncode}); see pip\'s message '
              'above', file=sys.stderr)
        return 1
    os.environ['VIRTUAL_ENV'] = str(env_dir)
    os.environ['PATH'] = f"{env_dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ.pop('PYTHONHOME', None)
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f'harness_env: cannot run {command[0]}: {exc.strerror}', file=sys.stderr)
        return 127


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
