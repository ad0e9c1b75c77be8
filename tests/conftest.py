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


@pytest.fixture(scope="session", autouse=True)
def private_cache_home(tmp_path_factory):
    """Every test (and every bnlint subprocess, which inherits os.environ)
    keeps its cache under a temporary XDG_CACHE_HOME, never the user's
    ~/.cache/bnlint: the cache lives in the user's cache directory."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield os.environ["XDG_CACHE_HOME"]
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved


@pytest.fixture
def bnlint():
    return run_bnlint
