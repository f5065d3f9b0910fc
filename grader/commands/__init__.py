"""One module per ``python -m grader`` command (discovered by grader/__main__.py)."""
