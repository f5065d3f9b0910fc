"""The trusted side of the harness: loads an implementation, runs the test suite on it, scores it
against the rubric and explains the score. ``python -m grader --help`` lists the commands."""
