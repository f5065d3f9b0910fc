"""The one environment behind `tox -e grade` and `tox -e test` (harness_env.py): built once, reused by
both commands, rebuilt only when a requirements file changes. Shown on a stand-in checkout whose
requirements install nothing, so no torch is downloaded here."""
import configparser
import subprocess
import sys

import pytest

import harness_env
from grader import paths


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """(stand-in checkout, its environment, built once for this module)."""
    root = tmp_path_factory.mktemp('checkout')
    (root / 'requirements.txt').write_text('# nothing\n')
    (root / 'requirements-torch.txt').write_text('-r requirements.txt\n')
    saved, harness_env.ROOT = harness_env.ROOT, root
    env = root / '.tox' / 'harness'
    try:
        harness_env.ensure(env)
        yield root, env
    finally:
        harness_env.ROOT = saved


def test_commands_run_with_the_environments_python(built):
    root, env = built
    launch = (f'import sys, pathlib, harness_env; harness_env.ROOT = pathlib.Path({str(root)!r}); '
              f'sys.exit(harness_env.main([{str(env)!r}, "python", "-c", "import sys; print(sys.prefix)"]))')
    proc = subprocess.run([sys.executable, '-c', launch], capture_output=True, text=True, timeout=300,
                          cwd=paths.ROOT)
    assert proc.returncode == 0 and proc.stderr == '', proc.stderr   # built already: not rebuilt
    assert proc.stdout.strip() == str(env.resolve()), 'the command ran with another Python'
    proc = subprocess.run([sys.executable, '-c', launch.replace('"python"', '"no-such-program"')],
                          capture_output=True, text=True, timeout=300, cwd=paths.ROOT)
    assert proc.returncode == 127 and 'cannot run no-such-program' in proc.stderr


def test_reused_until_a_requirement_changes(built, capsys):
    root, env = built
    marker = env / 'lib' / 'left-by-the-first-build'
    marker.write_text('x')
    harness_env.ensure(env)   # what the second tox command does
    assert capsys.readouterr().err == '' and marker.exists(), 'the environment was rebuilt'
    (root / 'requirements.txt').write_text('# nothing, but changed\n')
    harness_env.ensure(env)
    err = capsys.readouterr().err
    assert 'requirements changed' in err and 'built' in err and not marker.exists()
    assert (env / 'bin' / 'python').exists()


def test_tox_runs_both_commands_in_one_environment():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(paths.ROOT / 'tox.ini')
    assert tox['testenv']['deps'].strip() == '', 'a tox environment with deps would install torch again'
    for name in ('grade', 'test'):
        lines = [c for c in tox[f'testenv:{name}']['commands'].splitlines() if c.strip()]
        assert lines and all(c.startswith('python harness_env.py {toxworkdir}{/}harness ') for c in lines), lines
    assert '--fail-under full' in tox['testenv:grade']['commands']
