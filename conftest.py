# The harness's pytest plugin (options --impl and --data-dir, rubric markers, seeding, score table).
import os

from grader.run import ONE_THREAD

# One BLAS thread unless the caller chose otherwise, as grading computes: the graded work is small matrix
# products, which more OpenBLAS threads only make spin on a busy machine, and one thread gives the bits the
# grader gets. Set here, before the plugin loads NumPy; isolated workers inherit it.
for _name, _value in ONE_THREAD.items():
    os.environ.setdefault(_name, _value)

pytest_plugins = ['grader.pytest_plugin']
