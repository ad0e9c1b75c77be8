import io
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


def run_cli(*args, cwd=None, stdin=None, env=None):
    """`bnlint ARGS` in this process: `cli.main` with its own working
    directory, stdin (bytes), stdout and stderr (UTF-8 text streams over
    bytes, as a pipe gives) and environment, all restored afterwards.

    Returns a subprocess.CompletedProcess like run_bnlint's (returncode,
    stdout and stderr as bytes), without starting a new interpreter (about
    0.35 s of CPU per `python -m bnlint` on a one-line file, measured here). An argparse exit
    (SystemExit) becomes the return code, as `python -m bnlint` makes it.
    What only a real process shows (the `python -m bnlint` entry point, the
    interpreter's stdout at exit, signals, a second process sharing the
    cache) stays with run_bnlint."""
    from bnlint import cli

    full_env = dict(os.environ)
    full_env.pop("TF_USE_LEGACY_KERAS", None)
    if env:
        full_env.update(env)
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin or b""), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", errors="strict")
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace")
    os.environ.clear()
    os.environ.update(full_env)
    try:
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse: --help, a usage error
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                sys.stderr.write(exc.code + "\n")
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue(), err.getvalue()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["bnlint", *args], code, stdout, stderr)


@pytest.fixture
def bnlint():
    """The CLI in this process (run_cli); tests that need a real process
    take `bnlint_process`."""
    return run_cli


@pytest.fixture
def bnlint_process():
    """The CLI in a subprocess (run_bnlint), for the few smoke tests."""
    return run_bnlint
