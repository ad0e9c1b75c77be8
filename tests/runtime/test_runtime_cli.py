"""`bnlint confirm` without TensorFlow: usage errors, the run's processes, checker errors."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "bnlint", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60)


def test_confirm_without_a_script_is_a_usage_error():
    proc = run("confirm")
    assert proc.returncode == 2 and "give a script or -m MODULE" in proc.stderr


def test_confirm_with_a_missing_script_is_a_usage_error(tmp_path):
    proc = run("confirm", "nope.py", cwd=tmp_path)
    assert proc.returncode == 2 and "no such script: nope.py" in proc.stderr


def test_confirm_rejects_a_zero_step_limit(tmp_path):
    (tmp_path / "train.py").write_text("print('hi')\n")
    proc = run("confirm", "--max-steps", "0", "train.py", cwd=tmp_path)
    assert proc.returncode == 2 and "--max-steps" in proc.stderr


def test_building_the_cli_does_not_import_tensorflow():
    code = ("import sys, bnlint.cli, bnlint.runtime.command; bnlint.cli.build_parser(); "
            "print(sorted(m for m in ('tensorflow', 'keras', 'tf_keras') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stderr


def test_a_script_without_tensorflow_runs_and_reports_nothing(tmp_path):
    (tmp_path / "plain.py").write_text("import sys\nprint('args', sys.argv[1:])\n")
    proc = run("confirm", "plain.py", "--", "--epochs", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "args ['--epochs', '1']" in proc.stderr
    assert "Run: the script finished; 0 optimizer step(s)" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.py"]


def test_a_script_that_ignores_sigterm_is_killed_at_the_timeout(tmp_path):
    (tmp_path / "stuck.py").write_text(
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('started', flush=True)\nwhile True:\n    time.sleep(0.1)\n")
    proc = run("confirm", "--timeout", "2", "stuck.py", cwd=tmp_path)
    assert "started" in proc.stderr
    assert "Run: stopped by --timeout" in proc.stdout, proc.stdout
    assert proc.returncode == 1


def test_module_arguments_with_and_without_double_dash(tmp_path):
    (tmp_path / "trainmod.py").write_text("import sys\nprint('argv', sys.argv[1:])\n")
    for args in (["-m", "trainmod", "--epochs", "1"], ["-m", "trainmod", "--", "--epochs", "1"],
                 ["--max-steps", "2", "-m", "trainmod", "--epochs", "1"]):
        proc = run("confirm", *args, cwd=tmp_path)
        assert proc.returncode == 0, (args, proc.stderr)
        assert "argv ['--epochs', '1']" in proc.stderr, args
    assert run("confirm", "-m", cwd=tmp_path).returncode == 2


# -- the script's processes never outlive the run (issue 14 item 17) ---------------------

linux_only = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="the process sweep reads /proc")

# A helper the scripts below start: records its pid and start time, then sleeps.
SLEEPER = ("import os, sys, time\n"
           "stat = open('/proc/self/stat').read().rsplit(')', 1)[1].split()\n"
           "open(sys.argv[1], 'w').write('%d %s' % (os.getpid(), stat[19]))\n"
           "while True:\n    time.sleep(0.2)\n")


def _alive(pid_file) -> bool:
    """Whether the process that wrote `pid_file` still runs (not a zombie, not a reused pid)."""
    pid, start = pid_file.read_text().split()
    try:
        stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return stat[19] == start and stat[0] not in ("Z", "X")


def _wait_for(paths, seconds=60):
    deadline = time.monotonic() + seconds
    while not all(p.exists() and p.read_text().strip() for p in paths):
        assert time.monotonic() < deadline, "the script never started its helpers"
        time.sleep(0.05)


def _script(tmp_path, body):
    (tmp_path / "sleeper.py").write_text(SLEEPER)
    (tmp_path / "train.py").write_text(
        "import os, subprocess, sys, time\n"
        "def start(name, **kw):\n"
        "    return subprocess.Popen([sys.executable, 'sleeper.py', name], **kw)\n" + body)


def _kill_leftovers(paths):
    for p in paths:
        if p.exists() and p.read_text().strip() and _alive(p):
            os.kill(int(p.read_text().split()[0]), signal.SIGKILL)


@linux_only
def test_subprocesses_of_a_script_that_finished_are_stopped(tmp_path):
    # a plain child, a child in its own session, and a grandchild that called
    # setsid with an empty environment after its parent exited (a daemon)
    _script(tmp_path,
            "start('plain.pid')\n"
            "start('session.pid', start_new_session=True)\n"
            "subprocess.run([sys.executable, '-c', 'import subprocess, sys; subprocess.Popen("
            "[sys.executable, \"sleeper.py\", \"daemon.pid\"], start_new_session=True, env={})'])\n"
            "while not all(os.path.exists(n) and open(n).read() for n in "
            "('plain.pid', 'session.pid', 'daemon.pid')):\n"
            "    time.sleep(0.05)\n"
            "print('helpers started', flush=True)\n")
    pids = [tmp_path / n for n in ("plain.pid", "session.pid", "daemon.pid")]
    try:
        proc = run("confirm", "train.py", cwd=tmp_path)
        assert "helpers started" in proc.stderr, proc.stderr
        assert "Run: the script finished" in proc.stdout, proc.stdout
        assert proc.returncode == 0
        assert [p.name for p in pids if _alive(p)] == []
    finally:
        _kill_leftovers(pids)


@linux_only
def test_a_setsid_grandchild_is_stopped_at_the_timeout(tmp_path):
    _script(tmp_path,
            "start('session.pid', start_new_session=True)\n"
            "start('plain.pid')\n"
            "while True:\n    time.sleep(0.1)\n")
    pids = [tmp_path / "session.pid", tmp_path / "plain.pid"]
    try:
        proc = run("confirm", "--timeout", "3", "train.py", cwd=tmp_path)
        assert "Run: stopped by --timeout" in proc.stdout, proc.stdout + proc.stderr
        assert proc.returncode == 1
        assert all(p.exists() for p in pids), "the helpers never started"
        assert [p.name for p in pids if _alive(p)] == []
    finally:
        _kill_leftovers(pids)


@linux_only
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_bnlint_stops_the_script_and_removes_its_temp_dir(tmp_path, sig):
    temp = tmp_path / "tmp"
    temp.mkdir()
    _script(tmp_path,
            "start('helper.pid', start_new_session=True)\n"
            "open('script.pid', 'w').write('%d %s' % (os.getpid(), "
            "open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19]))\n"
            "while True:\n    time.sleep(0.1)\n")
    pids = [tmp_path / "script.pid", tmp_path / "helper.pid"]
    env = dict(os.environ, TMPDIR=str(temp), CI="1")
    bnlint = subprocess.Popen([sys.executable, "-m", "bnlint", "confirm", "train.py"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(pids)
        assert [p.name for p in temp.iterdir()] != [], "no temp dir while the script runs"
        bnlint.send_signal(sig)
        out, err = bnlint.communicate(timeout=60)
        assert bnlint.returncode == 128 + sig, (out, err)
        assert f"bnlint got {signal.Signals(sig).name} and stopped the script" in out, out
        assert [p.name for p in pids if _alive(p)] == []
        assert list(temp.iterdir()) == []
    finally:
        bnlint.kill()
        bnlint.communicate()
        _kill_leftovers(pids)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "1e9", "1e400", "ten"])
def test_confirm_rejects_timeouts_that_would_never_fire(tmp_path, value):
    (tmp_path / "train.py").write_text("print('ran')\n")
    proc = run("confirm", "--timeout", value, "train.py", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert "--timeout" in proc.stderr and "ran" not in proc.stderr
    assert "internal error" not in proc.stderr


@pytest.mark.parametrize("value", ["-1", "0", "10000000000", "1.5", "x"])
def test_confirm_rejects_step_limits_out_of_range(tmp_path, value):
    (tmp_path / "train.py").write_text("print('ran')\n")
    proc = run("confirm", "--max-steps", value, "train.py", cwd=tmp_path)
    assert proc.returncode == 2 and "--max-steps" in proc.stderr and "ran" not in proc.stderr


# -- a failure of the checker itself is never a clean run (issue 14 item 18) -------------

FAKE_TF = ("class _Layer:\n    def __init__(self, *a, **k):\n        pass\n"
           "    def __call__(self, x, training=None):\n        return x\n"
           "class keras:\n    class layers:\n        BatchNormalization = Dense = _Layer\n"
           "    Sequential = _Layer\n"
           "class GradientTape:\n    def __enter__(self):\n        return self\n"
           "    def __exit__(self, *exc):\n        return False\n")


def test_instrumentation_that_fails_makes_the_run_an_error_not_a_clean_pass(tmp_path):
    # a local tensorflow.py shadows the real one: the checker cannot
    # instrument it, so its "not reached" would be a guess
    (tmp_path / "tensorflow.py").write_text(FAKE_TF)
    (tmp_path / "train.py").write_text(
        "import tensorflow as tf\n"
        "model = tf.keras.Sequential([tf.keras.layers.Dense(4), tf.keras.layers.BatchNormalization()])\n"
        "with tf.GradientTape() as tape:\n"
        "    out = model([1.0])\n"
        "print('script done')\n")
    proc = run("confirm", "--output-format", "json", "train.py", cwd=tmp_path)
    assert "script done" in proc.stderr
    assert proc.returncode == 2, proc.stdout
    assert "bnlint confirm: internal error: could not instrument tensorflow" in proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["run"]["errors"] and "could not instrument tensorflow" in payload["run"]["errors"][0]
    statuses = {f["code"]: f["status"] for f in payload["findings"]}
    assert statuses == {"BN001": "unchecked"}, payload["findings"]
    concise = run("confirm", "train.py", cwd=tmp_path)
    assert concise.returncode == 2
    assert "Checker error (bnlint's own" in concise.stdout and "BN001 unchecked" in concise.stdout


def test_the_static_scan_gives_each_file_its_nearest_config(tmp_path):
    """confirm's static scan read one config (the script's) for every file
    the run reached; `bnlint check` gives each file its nearest one, and so
    must confirm (a module in a sub-project that ignores BN001 keeps it
    ignored)."""
    from bnlint.runtime.command import _StaticScan
    from tests.helpers import TAPE

    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\nselect = [\"BN\"]\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text("[tool.bnlint]\nignore = [\"BN001\"]\n")
    train, other = tmp_path / "train.py", sub / "steps.py"
    train.write_text(TAPE)
    other.write_text(TAPE)
    scan = _StaticScan(None, str(tmp_path))
    scan.lint([str(train), str(other)])
    assert [f.code for f in scan.findings[str(train)]] == ["BN001"]
    assert scan.findings[str(other)] == []
