"""The pytest side of the harness, loaded by the root conftest.py: choosing the implementation under
test, tying tests to rubric questions, deterministic seeding, teaching failure output, and a results
file that the grader scores."""
import json
import os
import re
import shlex
import time
import zlib

import numpy as np
import pytest

from grader import isolation, limits, profiles  # noqa: F401  (profiles: registers and loads the Hypothesis profiles)
from grader.worker import compat
from grader.checks import NOT_GRADABLE
from grader.impl import ENV_VAR, DirectImplementation, SubmissionError, resolve
from grader.pieces import Ledger
from grader.rubric import BY_ID, QUESTIONS, marker_name, part_marker
from grader.scoring import score, table

_OUTCOMES = []
FIGURE_DPI = 80   # of the report's figures (Artifacts.save_figure)


def pytest_addoption(parser):
    group = parser.getgroup('harness', 'Neural Networks for Recognition harness')
    group.addoption('--impl', default=None,
                    help=f"implementation to test: 'student' (default), 'reference', or a folder holding "
                         f"nn.py etc., written --impl=PATH (env {ENV_VAR})")
    group.addoption('--data-dir', default=None,
                    help='folder with the real course data (env NN_DATA_DIR); generated stand-ins otherwise')
    group.addoption('--results-json', default=None, help='write one record per test here (for the grader)')
    group.addoption('--no-score', action='store_true', help='do not print the per-question score table')
    group.addoption('--isolate', action='store_true', default=None,
                    help='run the submission in an isolated worker process with limits (as the grader does; '
                         f'env {isolation.ENV_VAR}=1); without it, it is imported into pytest (debuggable)')
    group.addoption('--worker-limits', default=None,
                    help="default per-call limits of the isolated worker, e.g. 'wall=10,memory_mb=2000' "
                         "(env NN_WORKER_LIMITS; tests may raise them with @pytest.mark.limits)")
    group.addoption('--deadline', type=float, default=None,
                    help='seconds the whole run may take (env NN_GRADING_DEADLINE): tests not started by then, '
                         'and calls still running then, are recorded as not graded for time')
    group.addoption('--artifacts-dir', default=None,
                    help='save the figures tests make here (env NN_ARTIFACTS_DIR); not saved otherwise')


def pytest_configure(config):
    for q in QUESTIONS:
        config.addinivalue_line('markers', f'{marker_name(q.id)}: question {q.id} ({q.title})')
    for part in sorted({part_marker(q.id) for q in QUESTIONS}):
        config.addinivalue_line('markers', f'{part}: every question of part {part[1:]}')
    config.addinivalue_line('markers', 'question(id, weight=1): the rubric row a test earns points for')
    config.addinivalue_line('markers', 'hidden: runs only in the autograder bundle')
    config.addinivalue_line('markers', 'slow: trains a model (seconds to minutes)')
    config.addinivalue_line('markers', 'limits(wall=, cpu=, memory_mb=, output_mb=, budget=): per-call limits '
                                       'of the isolated worker for this test (see grader/limits.py)')
    config.isolate = bool(config.getoption('isolate') or os.environ.get(isolation.ENV_VAR) == '1')
    config.harness_ledger = Ledger()
    deadline = config.getoption('deadline') or float(os.environ.get('NN_GRADING_DEADLINE') or 0)
    config.harness_deadline = time.monotonic() + deadline if deadline else None
    try:
        config.worker_limits = limits.requested(config.getoption('worker_limits'))
    except (ValueError, TypeError) as exc:
        raise pytest.UsageError(f'--worker-limits: {exc}')
    if config.isolate:   # limits in the calibration machine's seconds, scaled to this machine's speed
        from dataclasses import replace
        config.worker_limits = replace(config.worker_limits, factor=limits.machine_factor())
    if config.getoption('results_json') and getattr(config.option, 'numprocesses', None):
        raise pytest.UsageError('--results-json needs one pytest process: leave out -n (pytest-xdist)')
    if config.getoption('data_dir'):
        os.environ['NN_DATA_DIR'] = os.path.abspath(config.getoption('data_dir'))
    try:
        config.impl_label, config.impl_root = resolve(config.getoption('impl'))
    except SubmissionError as exc:
        raise pytest.UsageError(str(exc))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # Runs before -m filtering so that `pytest -m q2_2_2` and `pytest -m q2` select by question.
    for item in items:
        mark = item.get_closest_marker('question')
        if mark is None:
            continue
        qid = mark.args[0]
        if qid not in BY_ID:
            raise pytest.UsageError(f'{item.nodeid}: unknown question {qid!r} (see grader/rubric.py)')
        item.add_marker(marker_name(qid))
        item.add_marker(part_marker(qid))


def pytest_report_header(config):
    if config.isolate:
        return f'submission: {isolation.status()}'


def _implementation(config):
    """The implementation under test, one per session: imported here, or (--isolate) in a worker."""
    if getattr(config, 'harness_impl', None) is None:
        cls = isolation.WorkerImplementation if config.isolate else DirectImplementation
        config.harness_impl = cls(config.impl_root, config.impl_label, config.harness_ledger)
        config.harness_impl.deadline = config.harness_deadline
    return config.harness_impl


@pytest.fixture(scope='session')
def impl(request):
    return _implementation(request.config)


def pytest_unconfigure(config):
    if getattr(config, 'harness_impl', None) is not None:
        config.harness_impl.close()


class Artifacts:
    """Figures a test makes from the submission's outputs (training curves, boxes over pages ...), for
    the grader's report. Saved only when --artifacts-dir is given; recorded with the test's outcome."""

    def __init__(self, folder, nodeid):
        self.folder, self.nodeid, self.saved = folder, nodeid, []

    @property
    def enabled(self):
        return self.folder is not None

    def save_figure(self, name, fig, caption=''):
        if self.folder is None:
            return None
        import matplotlib.pyplot as plt
        os.makedirs(self.folder, exist_ok=True)
        path = os.path.join(self.folder, f'{name}.png')
        fig.savefig(path, dpi=FIGURE_DPI, bbox_inches='tight')
        plt.close(fig)
        self.saved.append({'name': name, 'path': path, 'caption': caption})
        return path


@pytest.fixture
def artifacts(request):
    folder = request.config.getoption('artifacts_dir') or os.environ.get('NN_ARTIFACTS_DIR')
    art = Artifacts(folder, request.node.nodeid)
    request.node.harness_artifacts = art
    return art


@pytest.fixture
def measure(request):
    """``measure(name, value)`` records a figure the grader measured (an accuracy, a PSNR, a recall ...)
    with the test's outcome, for the report and benchmarks/run.py; returns ``value``."""
    def record(name, value):
        request.node.user_properties.append((name, round(float(value), 6)))
        return value
    return record


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before any fixture of the test (module-scoped ones included, which may already call the submission):
    seed np.random from the test's id, so every run sees the same numbers, and tell an isolated worker
    which test, question and limits its calls now count against. A fixture that seeds on its own
    (impl.seed) overrides this in both modes alike."""
    deadline = item.config.harness_deadline
    if deadline is not None and time.monotonic() >= deadline:
        pytest.skip(f'{isolation.OUT_OF_TIME}the grading deadline passed before this test started')
    seed = zlib.crc32(item.nodeid.encode())
    np.random.seed(seed)
    if item.config.isolate:   # the worker's np.random gets the same seed before the test's first call
        mark = item.get_closest_marker('question')
        _implementation(item.config).begin_test(
            seed, mark.args[0] if mark else None,
            item.config.worker_limits.with_marker(item.get_closest_marker('limits')))


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item):
    impl = getattr(item.config, 'harness_impl', None)
    if impl is not None:
        impl.end_test()   # no process the submission started outlives its test
        for file, line, library in impl.violations:   # imports the rules forbid, caught as they ran
            if _RESULTS:
                _write_line({'violation': {'file': file, 'line': line, 'library': library}})
        impl.violations.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    mark = item.get_closest_marker('question')
    if mark is None or not (report.when == 'call' or (report.when == 'setup' and not report.passed)):
        return
    if report.failed:
        cmd = ['pytest', item.nodeid]
        if item.config.impl_label != 'student':
            cmd.append(f'--impl={item.config.impl_label}')  # '=': a bare path would be taken as a test path
        report.sections.append(('Reproduce', ' '.join(shlex.quote(c) for c in cmd)))
        printed = getattr(item.funcargs.get('impl'), 'output', '') if item.config.isolate else ''
        if printed:   # shown to help, never read for the verdict
            report.sections.append(('What the submission printed (last 4 kB)', printed))
    outcome = _outcome(report)
    item.config.harness_ledger.record(mark.args[0], outcome)   # decides later questions' earlier pieces
    _record(report, {
        'nodeid': item.nodeid,
        'question': mark.args[0],
        'weight': float(mark.kwargs.get('weight', 1)),
        'function': f'{item.path.name}::{getattr(item, "originalname", item.name)}',
        'outcome': outcome,
        'message': _message(report),
        'duration': round(report.duration, 4),
        'hidden': item.get_closest_marker('hidden') is not None,
        'metrics': {k: v for k, v in item.user_properties if type(v) is float},
        'artifacts': getattr(getattr(item, 'harness_artifacts', None), 'saved', []),
    })


def _outcome(report):
    if report.passed:
        return 'passed'
    message = _message(report)
    if report.skipped:   # only the trusted side can skip: a submission's exceptions arrive as failures
        return ('not gradable' if message.startswith(NOT_GRADABLE) else
                'out of time' if message.startswith(isolation.OUT_OF_TIME) else 'skipped')
    return 'out of time' if isolation.OUT_OF_TIME in message.split('\n')[0] else 'failed'


def _message(report):
    if report.passed:
        return ''
    if report.skipped:
        text = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return text.removeprefix('Skipped: ')
    crash = getattr(report.longrepr, 'reprcrash', None)
    text = crash.message if crash is not None else str(report.longrepr)
    return student_facing(text)[:4000]


# Hypothesis's notes for the developer of a test, not for a student reading why their code failed.
_HYPOTHESIS_ADVICE = re.compile(r'^(You can reproduce this (test case|example) by temporarily adding @reproduce_failure.*'
                                r'|.*use Verbosity\.verbose to view.*|Explanation:.*'
                                r'|[\s|+-]*(Exception Group )?Traceback \(most recent call last\):.*'
                                r'|[\s|]*File ".*[/\\](hypothesis|_pytest|pluggy)[/\\].*)$')
_FIXTURE_ARGUMENT = re.compile(r'^\s+impl=.*,$')   # the implementation under test: a pytest fixture


def student_facing(text):
    """A failure message without Hypothesis's advice to the test's author or the harness's own objects."""
    lines = []
    for line in text.splitlines():
        note = re.match(r'^\(note: (\d+) other explicit examples? also failed with this error;', line)
        if note:
            lines.append(f'({note.group(1)} other fixed example(s) of this test failed the same way)')
        elif not (_HYPOTHESIS_ADVICE.match(line) or _FIXTURE_ARGUMENT.match(line)):
            lines.append(line)
    return '\n'.join(lines).strip()


# The results file is JSON lines, written as tests finish: a run stopped from outside (the grader's time
# limit) still leaves the outcomes it reached. grader.run.read_outcomes reads it.
_RESULTS = []


def _results_file(config):
    path = config.getoption('results_json')
    if path and not _RESULTS:
        _RESULTS.append(open(path, 'w'))
        _write_line({'impl': config.impl_label, 'started': time.time(), 'machine_factor': config.worker_limits.factor,
                     'isolation': isolation.status() if config.isolate else 'not isolated (the '
                     'submission was imported into the test process)'})
    return _RESULTS[0] if _RESULTS else None


def _write_line(record):
    _RESULTS[0].write(json.dumps(record) + '\n')
    _RESULTS[0].flush()


def _record(report, outcome):
    _OUTCOMES.append(outcome)
    report.harness_outcome = outcome   # plain data: pytest-xdist carries it to the controller's table
    if _RESULTS:
        _write_line(outcome)


def pytest_runtest_logreport(report):
    """Under pytest-xdist (``-n``) the tests run in worker processes; the controller gathers their
    outcomes here for the score table (``report.node``: a report that came from a worker)."""
    if getattr(report, 'node', None) is not None and getattr(report, 'harness_outcome', None):
        _OUTCOMES.append(report.harness_outcome)


def pytest_sessionstart(session):
    _results_file(session.config)


def pytest_collection_finish(session):
    """How many tests each question has in this run, so a stopped run's incomplete questions are known."""
    if _results_file(session.config) is not None:
        counts = {}
        for item in session.items:
            mark = item.get_closest_marker('question')
            if mark is not None:
                counts[mark.args[0]] = counts.get(mark.args[0], 0) + 1
        _write_line({'collected': counts})


def pytest_sessionfinish(session, exitstatus):
    if _results_file(session.config) is not None:
        _write_line({'finished': time.time()})
        _RESULTS.pop().close()


def pytest_terminal_summary(terminalreporter, config):
    if not _OUTCOMES or config.getoption('no_score'):
        return
    asked = sorted({o['question'] for o in _OUTCOMES}, key=lambda q: [int(p) for p in q.split('.')])
    terminalreporter.section(f'score for {config.impl_label}')
    terminalreporter.write_line(table(score(_OUTCOMES, asked)))
    for note in compat.notes(config.impl_root):   # what the grader's report says about old spellings
        terminalreporter.write_line(note)
