"""Hypothesis profiles. 'grading' (the default) is deterministic: the same submission meets the same
examples every run, so the score and the student's local run agree. 'dev' is randomized, with more
examples, for developing the harness (``pytest --hypothesis-profile dev``)."""
import os

from hypothesis import HealthCheck, Phase, settings

# When grading, a failure is for the student: no 'explain' phase (its coverage notes name harness files),
# no reproduce_failure blob (advice to the test's author; the same examples come back every run anyway),
# and one failure per test, the simplest found (several distinct ones arrive as an ExceptionGroup whose
# message says only how many there were).
settings.register_profile('grading', derandomize=True, database=None, deadline=None, print_blob=False,
                          report_multiple_bugs=False, max_examples=40, suppress_health_check=[HealthCheck.too_slow],
                          phases=[p for p in Phase if p is not Phase.explain])
settings.register_profile('dev', deadline=None, print_blob=True, max_examples=200,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'grading'))
