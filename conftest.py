# The harness's pytest plugin (options --impl and --data-dir, rubric markers, seeding, score table).
pytest_plugins = ['grader.pytest_plugin']
