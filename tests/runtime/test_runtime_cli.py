"""`bnlint confirm` usage errors and import hygiene (no TensorFlow needed)."""

import subprocess
import sys


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
