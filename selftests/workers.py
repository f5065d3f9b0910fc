"""This run's own isolated workers, for the selftests that check nothing outlives a grading run. Each
worker appends its identity (its uid when run as root, its pid namespace under bubblewrap) to the file
$NN_WORKER_LOG names (grader.isolation.sandbox), so a check never counts another grading running on the
same machine."""
import json
import os
import time

from grader.isolation import sandbox
from grader.isolation.process import _inner_pid, _pidns, _started, _state, _uid
from selftests.ci import requires


def worker_log(tmp_path):
    """A fresh log file, and the environment that makes workers (and gradings started with it) use it."""
    path = tmp_path / 'workers.jsonl'
    path.touch()
    return path, {sandbox.LOG_ENV: str(path)}


def survivors(log, wait=2.0):
    """Live (not zombie) processes of the workers in ``log``, described; killed ones get ``wait`` seconds to
    be reaped."""
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    uids = {e['uid'] for e in entries if e.get('uid') is not None}
    assert entries, f'{log} names no worker, so this check would prove nothing'
    deadline = time.monotonic() + wait
    while True:
        spaces = _ours(entries)
        alive = [p for p in os.listdir('/proc') if p.isdigit() and (_uid(p) in uids or _pidns(p) in spaces)
                 and (_state(p) or 'Z')[0] not in 'ZX']
        if not alive or time.monotonic() > deadline:
            return [_describe(p) for p in alive]
        time.sleep(0.1)


def _ours(entries):
    """The logged pid namespaces that are still the workers' own: the kernel gives a freed namespace's
    inode to the next one made (perhaps another grading's worker), so an inode counts only while the
    init logged with it, the same pid started at the same time, still runs in it. (When a namespace's
    init dies, the kernel kills everything else in it.)"""
    spaces = set()
    for e in entries:
        init = e.get('init')
        if e.get('pidns') is not None and init and _pidns(init[0]) == e['pidns'] and _started(init[0]) == init[1]:
            spaces.add(e['pidns'])
    return spaces


def _describe(pid):
    """'pid 1677 (S, pid 1 inside, uid 0): bwrap --unshare-all ...', for a failure message."""
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            command = f.read(200).replace(b'\0', b' ').decode('utf-8', 'replace').strip()
    except OSError:
        command = '?'
    return f'pid {pid} ({(_state(pid) or ("gone",))[0]}, pid {_inner_pid(pid)} inside, uid {_uid(pid)}): {command}'


def requires_bubblewrap():
    """For checks that need bubblewrap. CI installs it (.ci/run) and must run them; a machine without it
    grades only partly isolated (selftests/test_sandbox.py checks that), and skips them with the reason."""
    bwrap, why = sandbox.bubblewrap()
    requires(bwrap is None, f'this check needs bubblewrap ({why}); install it: apt-get install bubblewrap')
