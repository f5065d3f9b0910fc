"""The isolated worker (grader/isolation, grader/worker, grader/limits.py): the data format, the call
semantics the graded tests rely on, and the hostile corpus (selftests/hostile/) graded the way the
grader grades a hand-in."""
import json
import os
import re
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from grader import isolation, paths, variants
from grader.isolation import sandbox
from grader.isolation.proxies import Handle
from grader.limits import DEFAULT, LimitExceeded, Limits
from grader.run import run_tests, warm_server
from grader.worker import activations, wire
from selftests.workers import requires_bubblewrap, survivors, worker_log

HOSTILE = Path(__file__).parent / 'hostile'
Q2 = ['2.1.2', '2.2.1', '2.2.2', '2.2.3', '2.3.1', '2.4.1', '2.5.1']
# The test tree is shared with parts under construction; a module that fails to collect must not stop these runs.
RUN_ARGS = ['--continue-on-collection-errors']


@pytest.fixture(scope='module')
def warm():
    """This file's grading runs fork from one warm process, as batch's do (grader.warm_starts): each is still
    a pytest process of its own, only without paying the imports again."""
    with warm_server(Q2) as server:
        yield server


# ---------------------------------------------------------------- wire format

def _roundtrip(value):
    r, w = os.pipe()
    try:
        wire.write(w, value)
        return wire.read(wire.Reader(r), limit=1 << 30)
    finally:
        os.close(r)
        os.close(w)


def test_wire_roundtrips_plain_data_exactly():
    value = {'a': np.arange(12.0).reshape(3, 4)[:, ::2], 'b': (np.float64(0.1), np.int64(-3), True, None),
             'c': [1, 2.5, float('nan'), 'text', b'\x00\x01'], 'd': np.array(['x', 'yz']),
             'e': np.zeros((0, 3)), 'f': np.bool_(True), 'g': np.float32(1.5)}
    back = _roundtrip(value)
    assert type(back) is dict and list(back) == list(value)
    np.testing.assert_array_equal(back['a'], value['a'])
    assert back['a'].flags.writeable, 'decoded arrays must be ordinary writable arrays'
    assert type(back['b']) is tuple and type(back['b'][0]) is np.float64 and back['b'][0] == 0.1
    assert type(back['b'][1]) is np.int64 and back['b'][2:] == (True, None)
    assert back['c'][:2] == [1, 2.5] and np.isnan(back['c'][2]) and back['c'][3:] == ['text', b'\x00\x01']
    assert back['d'].dtype == value['d'].dtype and back['e'].shape == (0, 3)
    assert type(back['f']) is np.bool_ and type(back['g']) is np.float32


class _Equal(float):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize('value', [np.array([object()]), np.zeros(2).view(np.matrix), _Equal(1.0), {1: 2},
                                   np.zeros(1, dtype=[('a', 'f8')]), np.array([1 + 2j]), lambda x: x],
                         ids=['object-array', 'ndarray-subclass', 'float-subclass', 'int-keys', 'structured',
                              'complex', 'function'])
def test_wire_refuses_what_is_not_plain_data(value):
    with pytest.raises(wire.WireError, match='not plain data'):
        wire.encode(value)


@pytest.mark.parametrize('tree, meta', [({'$': 'nd', 'b': 0}, [['|O8', [1]]]), ({'$': 'nd', 'b': 0}, [['<f8', [2]]]),
                                        ({'$': 'pickle', 'v': 'x'}, [None]), ({'$': 'handle', 'id': 1}, [None]),
                                        ({'$': 'nd', 'b': 3}, [['<f8', [1]]])],
                         ids=['object-dtype', 'short-buffer', 'unknown-tag', 'handle-without-resolver', 'bad-index'])
def test_wire_decoding_refuses_malformed_messages(tree, meta):
    """A hostile worker controls every byte it sends: decoding checks, and never runs code."""
    with pytest.raises(wire.WireError):
        wire.decode(tree, [bytearray(8)], meta=meta)


def _read_raw(head, tmp_path):
    """wire.read of a message as a hostile peer would write it (a JSON text, no buffers, no checks)."""
    import struct
    path = tmp_path / 'message'
    path.write_bytes(struct.pack('<II', len(head), 0) + head)
    reader = wire.Reader(os.open(path, os.O_RDONLY))
    try:
        return wire.read(reader, limit=1 << 30)
    finally:
        os.close(reader.fd)


@pytest.mark.parametrize('head', [b'[[' + b'[],' * 1_000_000 + b'[]],[]]', b'[' * 100_000 + b']' * 100_000,
                                  b'[' + b'"x",' * 300_000 + b'"x"]'],
                         ids=['many-lists', 'deep-nesting', 'many-strings'])
def test_wire_bounds_what_a_message_costs_the_reader(head, tmp_path):
    """A message's JSON may not build more than MAX_ITEMS objects or nest deeper than MAX_DEPTH: 48 MB of
    nested lists would be gigabytes of Python objects."""
    with pytest.raises(wire.WireError):
        _read_raw(head, tmp_path)


def test_wire_encoding_refuses_what_the_reader_would_refuse_before_encoding_it(tmp_path):
    """A reply of millions of values costs the sender seconds to encode and the reader refuses it: the
    sender counts a container's elements first (the first one here cannot even be sent) and refuses."""
    too_many = [lambda x: x] + [[] for _ in range(wire.MAX_ITEMS)]
    with pytest.raises(wire.WireError, match='more than 1,000,000 values'):
        wire.encode(too_many)
    with pytest.raises(wire.WireError, match='more than'):
        wire.encode({str(i): i for i in range(wire.MAX_ITEMS // 2 + 1)})   # a key and a value each
    head = json.dumps([[[] for _ in range(wire.MAX_ITEMS)], []]).encode()
    with pytest.raises(wire.WireError, match='values'):   # what the reader would have made of it
        _read_raw(head, tmp_path)
    most = wire.MAX_ITEMS - 3   # the reader also counts [tree, meta] and the buffer list
    head, buffers = wire.encode(list(range(most)))
    assert buffers == [] and len(_read_raw(head, tmp_path)) == most


def test_wire_read_stops_at_the_size_limit():
    r, w = os.pipe()
    try:
        wire.write(w, np.zeros(1000))
        with pytest.raises(wire.WireError, match='limit'):
            wire.read(wire.Reader(r), limit=4000)
    finally:
        os.close(r)
        os.close(w)


def test_a_call_out_of_the_worker_sends_back_exactly_the_dict_entries_it_changed():
    """What a course piece did to a dict argument comes back as the entries it changed, down to one bit
    (a -0.0 over a 0.0, the last bit of a float, a write through a strided view), and nothing it left
    alone (a NaN included)."""
    from grader.worker.server import _snapshot, _state
    params = {'same': np.arange(8.0), 'nan': np.array([np.nan, 1.0]), 'sign': np.zeros(4), 'last_bit': np.ones(5),
              'strided': np.arange(10.0)[::2], 'replaced': np.ones(3), 'text': np.array(['ab', 'c']), 'n': 1}
    before = _snapshot([params], {})
    params['sign'][1] = -0.0
    params['last_bit'][4] = np.nextafter(1.0, 2.0)
    params['strided'][0] = 5.0
    params['replaced'] = params['replaced'].copy()
    params['added'] = np.zeros(2)
    assert set(_state([params], {}, before)['0']) == {'sign', 'last_bit', 'strided', 'replaced', 'added'}


# ---------------------------------------------------------------- call semantics

SUBMISSION = '''
import numpy as np

def fill(params, name=''):
    params['W' + name] = np.ones((2, 2))
    params.pop('drop', None)

def scribble(x):
    x[...] = -1
    return x.sum()

def apply(fn, x):
    return fn(x)

def draw(n):
    return np.random.uniform(size=n)

class Model:
    scale = 3.0
    def predict(self, x):
        return self.scale * x

def model():
    return Model()

def slow(seconds):
    import time
    time.sleep(seconds)

def spawn():
    import subprocess
    subprocess.Popen(['sleep', '1000'], start_new_session=True)
    print('started a sleeper')

def spin():
    while True:
        pass

def whoami():
    import os
    return os.getuid()
'''


@pytest.fixture
def worker(tmp_path, monkeypatch):
    log, env = worker_log(tmp_path)
    monkeypatch.setenv(*next(iter(env.items())))
    (tmp_path / 'handin').mkdir()
    (tmp_path / 'handin' / 'nn.py').write_text(SUBMISSION)
    impl = isolation.WorkerImplementation(tmp_path / 'handin')
    impl.log = log
    impl.begin_test(seed=0, question='2.2.2', limits=Limits(wall=10))
    yield impl
    impl.close()


def test_dict_arguments_come_back_in_place_and_arrays_are_copies(worker):
    params = {'drop': 1, 'keep': np.zeros(3)}
    same = params
    assert worker.module('nn').fill(params, name='x') is None
    assert params is same and sorted(params) == ['Wx', 'keep'], params
    np.testing.assert_array_equal(params['Wx'], np.ones((2, 2)))
    x = np.arange(4.0)
    assert worker.module('nn').scribble(x) == -4.0
    np.testing.assert_array_equal(x, np.arange(4.0), err_msg='the worker modified the grader\'s array')


def test_callables_are_sent_by_name(worker):
    x = np.array([-1.0, 2.0])
    np.testing.assert_array_equal(worker.module('nn').apply(activations.relu, x), [0.0, 2.0])
    nn = worker.module('nn')
    np.testing.assert_array_equal(nn.apply(nn.scribble, x.copy()), -2.0)
    with pytest.raises(wire.WireError, match='cannot be sent to the isolated worker'):
        nn.apply(lambda v: v, x)


def test_objects_stay_in_the_worker_as_handles(worker):
    model = worker.module('nn').model()
    assert isinstance(model, Handle) and 'Model' in repr(model)
    assert model.scale == 3.0
    np.testing.assert_array_equal(model.predict(np.ones(2)), [3.0, 3.0])


def test_worker_rng_is_seeded_like_direct_mode(worker):
    """The same per-test seed as the plugin's np.random.seed in direct mode gives the same draws."""
    worker.begin_test(seed=1234, question='2.2.2', limits=Limits(wall=10))
    got = worker.module('nn').draw(5)
    np.random.seed(1234)
    np.testing.assert_array_equal(got, np.random.uniform(size=5))


def test_a_limit_fails_the_call_and_the_worker_restarts(worker):
    worker.begin_test(seed=0, question='2.2.2', limits=Limits(wall=1))
    start = time.monotonic()
    with pytest.raises(LimitExceeded, match=r'^nn\.slow exceeded the 1 s wall-time limit'):
        worker.module('nn').slow(30)
    assert time.monotonic() - start < 5
    with pytest.raises(LimitExceeded, match='was not run: earlier in this test'):
        worker.module('nn').slow(0)
    worker.begin_test(seed=0, question='2.2.2', limits=Limits(wall=10))
    # a function that hung is not called again (each later test would wait out its limit), but the
    # restarted worker serves the others
    with pytest.raises(LimitExceeded, match=r'nn\.slow was not run: in an earlier test, nn\.slow exceeded the 1 s'):
        worker.module('nn').slow(0)
    assert worker.module('nn').whoami() is not None and worker.restarts == 1


def test_question_budget_stops_further_calls(worker):
    worker.begin_test(seed=0, question='2.2.2', limits=Limits(wall=10, budget=0.5))
    worker.module('nn').slow(0.6)
    with pytest.raises(LimitExceeded, match='question 2.2.2 used up its 0.5 s time budget'):
        worker.module('nn').slow(0)


def test_limits_marker_overrides_and_refuses_unknown_names():
    class Mark:
        args, kwargs = (), {'wall': 300, 'memory_mb': 6000}
    assert DEFAULT.with_marker(Mark()) == Limits(wall=300, memory_mb=6000)
    Mark.kwargs = {'walltime': 3}
    with pytest.raises(ValueError, match='walltime'):
        DEFAULT.with_marker(Mark())


@pytest.mark.skipif(os.geteuid() != 0, reason='the worker changes user only when the grader runs as root')
def test_worker_runs_as_an_unprivileged_uid_of_its_own(worker):
    assert worker.module('nn').whoami() in sandbox.UIDS
    assert isolation.status().startswith('isolated')


def test_processes_left_behind_are_killed_at_the_end_of_the_test(worker):
    worker.module('nn').spawn()
    assert 'started a sleeper' in worker.output
    assert worker.end_test() == 1
    assert not survivors(worker.log)
    assert worker.module('nn').slow(0) is None   # a new worker serves the next test


def test_cpu_limit(worker):
    worker.begin_test(seed=0, question='2.2.2', limits=Limits(wall=30, cpu=1))
    start = time.monotonic()
    with pytest.raises(LimitExceeded, match=r'^nn\.spin exceeded the 1 s CPU-time limit'):
        worker.module('nn').spin()
    assert time.monotonic() - start < 10


# ---------------------------------------------------------------- whole runs

def test_worker_computes_bit_for_bit_what_direct_mode_computes():
    """The same call gives the same bits in the worker as in-process (BLAS kernels and settings
    included), so grading and a student's local run agree even after many training steps."""
    from grader.impl import reference_module
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(32, 1024)), rng.normal(size=(1024, 64)), rng.normal(size=64)
    worker = isolation.WorkerImplementation(paths.REFERENCE)
    try:
        worker.begin_test(1, '2.2.1')
        isolated = worker.module('nn').forward(X, {'W': W, 'b': b}, '', activations.sigmoid)
    finally:
        worker.close()
    direct = reference_module('nn').forward(X, {'W': W, 'b': b}, '', activations.sigmoid)
    assert np.array_equal(isolated, direct), np.abs(isolated - direct).max()


def test_reference_gets_full_marks_and_stubs_zero_isolated(warm):
    for impl, expected in (('reference', 28.0), ('student', 0.0)):
        result = run_tests(impl, Q2, extra_args=RUN_ARGS + ['--isolate'], server=warm)
        assert result.outcomes, result.output[-3000:]
        assert result.total == expected, (impl, {q: r.score for q, r in result.rows.items()}, result.output[-3000:])


@pytest.mark.parametrize('name', ['forward-no-bias', 'backwards-no-deriv'])
def test_later_questions_on_the_course_pieces_match_direct_mode(tmp_path, name, warm):
    """A hand-in whose forward or backwards fails has its later questions graded on the course's pieces:
    imported into pytest they run in place, in the worker they are called across the boundary
    (grader/worker/pieces.py), layer by layer. Both give the same verdicts and measured figures."""
    handin = variants.materialize(variants.by_name(name), tmp_path / name)
    questions = ['2.2.1', '2.3.1', '2.4.1', '2.5.1', '5.1.1']
    direct, isolated = (run_tests(handin, questions, extra_args=RUN_ARGS + extra, server=warm)
                        for extra in ([], ['--isolate']))

    def verdicts(run):   # times measured along the way differ, nothing else may
        return {o['nodeid']: (o['outcome'], {k: v for k, v in o['metrics'].items() if 'seconds' not in k})
                for o in run.outcomes}
    assert verdicts(isolated) == verdicts(direct), isolated.output[-3000:]
    # the broken piece lost its points, and the questions built on it kept theirs: the course's stood in
    assert {q for q, row in direct.rows.items() if row.score < row.max_score} == set(variants.by_name(name).loses)


def build(attack, folder, port=None):
    """The honest course files with the attack's nn.py / q2.py appended; other files copied as they are.
    ``port``: the selftest's listener, given to an attack that names PORT (a free port of this run, so
    that runs beside each other do not collide)."""
    folder.mkdir(parents=True)
    for name in ('util.py', 'nn.py', 'q2.py'):
        shutil.copyfile(paths.REFERENCE / name, folder / name)
    for path in attack.iterdir():
        if path.name in ('nn.py', 'q2.py'):
            text = path.read_text()
            if port is not None and 'PORT' in text:
                text += f'\nPORT = {port}\n'
            with open(folder / path.name, 'a') as f:
                f.write('\n\n# ---- attack ----\n' + text)
        elif path.name != 'expected.json' and path.is_file():
            shutil.copyfile(path, folder / path.name)
    return folder


ATTACKS = sorted(p for p in HOSTILE.iterdir() if (p / 'expected.json').is_file())
_HONEST = {}   # several attacks share one honest hand-in: graded once per run


def _honest_scores(folder, questions, args, server):
    """{question: score} of an honest hand-in, graded once for each content, questions and arguments."""
    key = (tuple((p.name, p.read_bytes()) for p in sorted(folder.iterdir())), tuple(questions), tuple(args))
    if key not in _HONEST:
        run = run_tests(folder, questions, timeout=900, extra_args=args, server=server)
        _HONEST[key] = {q: r.score for q, r in run.rows.items()}
    return _HONEST[key]


@pytest.mark.parametrize('attack', ATTACKS, ids=[p.name for p in ATTACKS])
def test_hostile_submission(attack, tmp_path, warm):
    expected = json.loads((attack / 'expected.json').read_text())
    if expected.get('needs') == 'bubblewrap':
        requires_bubblewrap()
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen()
    listener.setblocking(False)
    folder = build(attack, tmp_path / 'handin', port=listener.getsockname()[1])
    args = RUN_ARGS + ['--isolate', f"--worker-limits={expected['limits']}", *expected.get('pytest_args', [])]
    forged = paths.ROOT / 'results.json'
    existed = forged.exists()
    log, env = worker_log(tmp_path)
    start = time.monotonic()
    try:
        result = run_tests(folder, expected['questions'], timeout=900, env=env, extra_args=args, server=warm)
        try:
            listener.accept()
            pytest.fail(f'{attack.name}: the submission reached a socket on 127.0.0.1')
        except BlockingIOError:
            pass
    finally:
        listener.close()
    elapsed = time.monotonic() - start
    assert result.outcomes, f'{attack.name}: no results were written\n{result.output[-3000:]}'
    assert result.returncode in (0, 1), result.output[-3000:]
    scores = {q: r.score for q, r in result.rows.items()}
    assert scores == pytest.approx(expected['scores'], abs=1e-3), (attack.name, scores, result.output[-3000:])
    if expected['message']:
        messages = [o['message'] for o in result.outcomes if o['outcome'] != 'passed'
                    and o['question'] in expected['questions']]
        assert any(re.search(expected['message'], m) for m in messages), (attack.name, messages[:5])
    left = survivors(log)
    assert not left, f'{attack.name}: processes of the worker survived the run: {left}'
    assert forged.exists() == existed, f'{attack.name} wrote {forged}'
    started = len(log.read_text().splitlines())
    assert started <= expected.get('max_workers', 10 ** 6), f'{attack.name}: {started} workers were started'
    if 'leaves_nothing' in expected:   # the attack's files, by their own name: nothing on the host
        left = [os.path.join(d, f) for top in ('/dev/shm', '/tmp', '/var/tmp', '/run/lock') if os.path.isdir(top)
                for d, _, files in os.walk(top) for f in files if f.startswith(expected['leaves_nothing'])]
        assert not left, f'{attack.name} left {left}'
    if (attack / 'honest').is_dir():   # the same answers without the attack: the attack must not earn more
        assert _honest_scores(build(attack / 'honest', tmp_path / 'honest'), expected['questions'], args, warm) \
            == scores, attack.name
    print(f"\n| {expected['attack']} | {scores} | {elapsed:.1f} s |")


@pytest.mark.parametrize('name', ['write_results', 'os_exit', 'submitted_config', 'print_gigabytes'])
def test_hostile_handin_through_grade_gets_a_valid_results_json(name, tmp_path):
    """The whole `grade` path (hand-in copied, scanned, graded in the worker, results written by the
    trusted side): the attack gets the same score as in the corpus and results.json is valid."""
    from grader import grading
    attack = HOSTILE / name
    expected = json.loads((attack / 'expected.json').read_text())
    out = tmp_path / 'out'
    grading.grade(build(attack, tmp_path / 'handin'), out, expected['questions'],
                  extra_args=[f"--worker-limits={expected['limits']}"])
    data = json.loads((out / 'results.json').read_text())
    assert data['max_score'] == sum(t['max_score'] for t in data['tests'])
    assert data['score'] == pytest.approx(sum(expected['scores'].values()), abs=1e-3), data['output']
    assert data['extra_data']['error'] == ''
