"""Checks that need something CI installs (.ci/run): in CI they fail without it, so a missing package can
never pass for a green run; elsewhere they skip, with the command that installs it."""
import os

import pytest


def requires(missing, message):
    """Fail (in CI) or skip (elsewhere) with ``message`` when ``missing`` is true."""
    if missing:
        pytest.fail(message) if os.environ.get('CI') else pytest.skip(message)
