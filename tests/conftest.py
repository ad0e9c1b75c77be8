import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_bnlint(*args, cwd=None, stdin=None, env=None):
    """Run the real CLI in a subprocess, as a user would."""
    full_env = dict(os.environ)
    full_env.pop("TF_USE_LEGACY_KERAS", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bnlint", *args],
        cwd=cwd, input=stdin, capture_output=True, env=full_env, timeout=300,
    )


@pytest.fixture
def bnlint():
    return run_bnlint
