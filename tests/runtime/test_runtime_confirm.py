"""`bnlint confirm` end to end: real TensorFlow in a child process, no mocks.

Each script in scripts/ marks the findings it expects with
`# confirm: CODE status` on the reported line; a test runs the real CLI on a
copy of the scripts (so it can also check that nothing is written into the
user's tree) and compares the statuses it reports with the marks.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("tf_keras") is None,
    reason="the runtime checker's tests need tensorflow and tf-keras (pip install '.[test]')",
)

SCRIPTS = Path(__file__).parent / "scripts"
MARK = re.compile(r"#\s*confirm:\s*(BN\d{3})\s+(confirmed|refuted|not reached|new|unchecked)")


@pytest.fixture
def project(tmp_path):
    """A copy of the scripts, standing in for the user's project."""
    dest = tmp_path / "project"
    shutil.copytree(SCRIPTS, dest)
    return dest


@pytest.fixture(scope="module")
def untaken_branch(tmp_path_factory):
    """(project, proc, payload) of one `confirm k3_untaken_branch.py` run,
    shared by the tests that read it (one TensorFlow start instead of two)."""
    project = tmp_path_factory.mktemp("untaken") / "project"
    shutil.copytree(SCRIPTS, project)
    return (project, *confirm(project, "k3_untaken_branch.py"))


def _tree(root: Path):
    return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*"))


def confirm(project: Path, *args, timeout=240):
    env = dict(os.environ)
    env.pop("TF_USE_LEGACY_KERAS", None)
    env["CI"] = "1"
    before = _tree(project)
    proc = subprocess.run([sys.executable, "-m", "bnlint", "confirm", "--output-format", "json", *args],
                          cwd=project, capture_output=True, text=True, env=env, timeout=timeout)
    assert _tree(project) == before, "bnlint confirm wrote into the user's tree"
    assert proc.stdout, proc.stderr[-3000:]
    return proc, json.loads(proc.stdout)


def expected(project: Path, *names):
    marks = set()
    for name in names:
        for lineno, line in enumerate((project / name).read_text().splitlines(), start=1):
            m = MARK.search(line)
            if m:
                marks.add((name, lineno, m.group(1), m.group(2)))
    return marks


def observed(payload):
    items = payload["findings"] + payload["runtime_findings"]
    return {(os.path.basename(f["filename"]), f["line"], f["code"], f["status"]) for f in items}


def evidence(payload, code):
    return [f["evidence"] for f in payload["findings"] + payload["runtime_findings"] if f["code"] == code]


def bn_layers(payload):
    return [layer for layer in payload["run"]["layers"] if layer["kind"] == "batch_norm"]


# -- Keras 3 ---------------------------------------------------------------------

def test_seed_scenario_keras3_tape_without_training_is_confirmed(project):
    proc, payload = confirm(project, "k3_seed_tape.py")
    assert observed(payload) == expected(project, "k3_seed_tape.py")
    assert payload["run"]["status"] == "finished" and payload["run"]["steps"] == 3
    assert payload["run"]["flavours"] == ["keras3"]
    [text] = evidence(payload, "BN001")
    assert "training=None" in text and "moving_mean/moving_variance unchanged, still 0 and 1" in text
    [layer] = bn_layers(payload)
    assert (layer["steps_seen"], layer["steps_changed"]) == (3, 0)
    assert layer["stats_at_initial_values"] is True
    # the script's own print, sent to stderr: the statistics really stayed at 0 and 1
    assert "moving_mean [0. 0.] moving_variance [1. 1.]" in proc.stderr
    assert "bnlint confirm:" not in proc.stderr  # no progress line without a terminal
    assert proc.returncode == 1


def test_keras3_fixed_loop_and_fit_are_clean(project):
    proc, payload = confirm(project, "--progress", "always", "k3_fixed_function.py")
    assert observed(payload) == set()
    assert payload["run"]["status"] == "finished"
    assert payload["run"]["steps"] == 3  # one tf.function step + two fit() batches
    [layer] = bn_layers(payload)
    assert layer["steps_seen"] == 3 and layer["steps_changed"] == 3
    assert re.search(r"bnlint confirm: .*\d+ steps, \d+ layers instrumented", proc.stderr)
    assert proc.returncode == 0


def test_keras3_subclass_without_training_under_fit_and_a_runtime_only_finding(project):
    proc, payload = confirm(project, "k3_subclass_fit.py")
    assert observed(payload) == expected(project, "k3_subclass_fit.py")
    [new] = evidence(payload, "BN801")
    assert "batch_normalization_1" in new and "training=False" in new
    assert proc.returncode == 1


def test_keras3_bug_behind_untaken_branch_is_not_reached(untaken_branch):
    project, proc, payload = untaken_branch
    assert observed(payload) == expected(project, "k3_untaken_branch.py")
    [layer] = bn_layers(payload)
    assert layer["steps_changed"] == 2  # the branch that ran trains BN
    assert proc.returncode == 0


def test_keras3_frozen_base_refutes_the_static_finding(project):
    proc, payload = confirm(project, "k3_frozen_base.py")
    assert observed(payload) == expected(project, "k3_frozen_base.py")
    [text] = evidence(payload, "BN001")
    assert "frozen (trainable=False)" in text
    assert payload["runtime_findings"] == []  # a frozen BN that never updates is not a bug
    assert proc.returncode == 0


def test_keras3_crash_is_reported_with_traceback_and_findings_so_far(project):
    proc, payload = confirm(project, "k3_crash.py")
    assert observed(payload) == expected(project, "k3_crash.py")
    run = payload["run"]
    assert run["status"] == "crashed" and run["error"].startswith("ValueError")
    assert 'k3_crash.py", line 22' in run["traceback"] and "in evaluate" in run["traceback"]
    assert "bnlint/runtime" not in run["traceback"] and "runpy" not in run["traceback"]
    assert proc.returncode == 1


def test_keras3_endless_loop_stops_at_max_steps(project):
    proc, payload = confirm(project, "--max-steps", "2", "k3_forever.py")
    assert observed(payload) == expected(project, "k3_forever.py")
    assert payload["run"]["status"] == "step_limit" and payload["run"]["steps"] == 2


def test_keras3_endless_loop_stops_at_timeout(project):
    proc, payload = confirm(project, "--max-steps", "100000", "--timeout", "15", "k3_forever.py")
    assert payload["run"]["status"] == "timeout"
    assert payload["run"]["steps"] >= 1
    assert payload["run"]["wall_seconds"] < 15 + 12
    assert observed(payload) == expected(project, "k3_forever.py")  # what was seen before the stop
    assert proc.returncode == 1


# -- tf_keras (Keras 2) ------------------------------------------------------------

def test_tf_keras_tape_in_tf_function_is_confirmed(project):
    proc, payload = confirm(project, "tk_tape_function.py")
    assert observed(payload) == expected(project, "tk_tape_function.py")
    assert payload["run"]["flavours"] == ["tf_keras"]
    [text] = evidence(payload, "BN001")
    assert "'batch_normalization'" in text and "'dropout' (Dropout)" in text


def test_tf_keras_learning_phase_refutes_the_static_finding(project):
    proc, payload = confirm(project, "tk_fit_and_phase.py")
    assert observed(payload) == expected(project, "tk_fit_and_phase.py")
    [text] = evidence(payload, "BN001")
    assert "training=True" in text
    assert proc.returncode == 0


def test_tf_keras_untaken_branch_and_crash(project):
    proc, payload = confirm(project, "tk_untaken_crash.py")
    assert observed(payload) == expected(project, "tk_untaken_crash.py")
    assert payload["run"]["status"] == "crashed"
    assert "RuntimeError: data loader exhausted" in payload["run"]["traceback"]


def test_script_arguments_after_double_dash_reach_the_script(project):
    proc, payload = confirm(project, "tk_untaken_crash.py", "--", "--buggy")
    assert observed(payload) == {("tk_untaken_crash.py", 16, "BN001", "confirmed")}


def test_tf_keras_endless_loop_stops_at_max_steps(project):
    proc, payload = confirm(project, "--max-steps", "2", "tk_forever.py")
    assert observed(payload) == expected(project, "tk_forever.py")
    assert payload["run"]["status"] == "step_limit" and payload["run"]["steps"] == 2


def test_tf_keras_endless_loop_stops_at_timeout(project):
    proc, payload = confirm(project, "--max-steps", "100000", "--timeout", "15", "tk_forever.py")
    assert payload["run"]["status"] == "timeout" and payload["run"]["steps"] >= 1
    assert observed(payload) == expected(project, "tk_forever.py")


# -- TF1 graphs (tf.compat.v1 + Session, on tf_keras) -------------------------------------

def test_tf1_train_ops_confirmed_and_refuted_from_the_graph(project):
    proc, payload = confirm(project, "tf1_session.py")
    assert observed(payload) == expected(project, "tf1_session.py")
    by_status = {f["status"]: f["evidence"] for f in payload["findings"]}
    confirmed, refuted = by_status["confirmed"], by_status["refuted"]
    assert "depends on 0 of the graph's 2 UPDATE_OPS" in confirmed and "unchanged" in confirmed
    assert "depends on 2 of the graph's 2 UPDATE_OPS" in refuted


def test_tf1_train_op_the_static_rule_misses_is_a_runtime_finding(project):
    proc, payload = confirm(project, "tf1_static_miss.py")
    # Should the static rule learn this case, BN003 confirmed on the same line is the same answer.
    seen = {("BN801", "new") if (code, status) == ("BN003", "confirmed") else (code, status)
            for _, _, code, status in observed(payload)}
    assert seen == {(code, status) for _, _, code, status in expected(project, "tf1_static_miss.py")}
    assert {f["line"] for f in payload["findings"] + payload["runtime_findings"]} == {18}
    [layer] = bn_layers(payload)
    assert (layer["steps_seen"], layer["steps_changed"]) == (3, 1)  # only the run that fetched the updates
    assert proc.returncode == 1


def test_tf1_fixed_is_clean(project):
    proc, payload = confirm(project, "tf1_fixed.py")
    assert observed(payload) == set()
    [layer] = bn_layers(payload)
    assert (layer["steps_seen"], layer["steps_changed"]) == (3, 3)
    assert proc.returncode == 0


def test_tf1_untaken_helper_and_crash(project):
    proc, payload = confirm(project, "tf1_untaken_crash.py")
    assert observed(payload) == expected(project, "tf1_legacy_model.py")
    assert payload["run"]["status"] == "crashed"
    assert "InvalidArgumentError" in payload["run"]["error"]
    assert any(f.endswith("tf1_legacy_model.py") for f in payload["run"]["files"])


def test_tf1_module_run_with_arguments_confirms_the_helper(project):
    proc, payload = confirm(project, "-m", "tf1_untaken_crash", "--", "--legacy")
    assert observed(payload) == {("tf1_legacy_model.py", 10, "BN003", "confirmed")}


def test_tf1_endless_loop_stops_at_max_steps(project):
    proc, payload = confirm(project, "--max-steps", "2", "tf1_forever.py")
    assert observed(payload) == expected(project, "tf1_forever.py")
    assert payload["run"]["status"] == "step_limit" and payload["run"]["steps"] == 2


def test_tf1_endless_loop_stops_at_timeout(project):
    proc, payload = confirm(project, "--max-steps", "100000", "--timeout", "15", "tf1_forever.py")
    assert payload["run"]["status"] == "timeout" and payload["run"]["steps"] >= 1
    assert observed(payload) == expected(project, "tf1_forever.py")


# -- the check command's --confirm -------------------------------------------------------

def test_check_with_confirm_marks_the_scans_findings(project):
    env = dict(os.environ, CI="1")
    env.pop("TF_USE_LEGACY_KERAS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bnlint", "--no-cache", "k3_seed_tape.py", "k3_untaken_branch.py",
         "--confirm", "k3_seed_tape.py"],
        cwd=project, capture_output=True, text=True, env=env, timeout=240)
    lines = proc.stdout.splitlines()
    assert any(line.startswith("k3_seed_tape.py:21:27: BN001 confirmed") for line in lines), proc.stdout
    assert any(line.startswith("k3_untaken_branch.py:19:19: BN001 not reached") for line in lines)
    assert proc.returncode == 1


def test_tf1_monitored_training_session_with_hooks_is_stepped_and_confirmed(project):
    # MonitoredTrainingSession passes Session.run a dict keyed by hook objects
    proc, payload = confirm(project, "tf1_monitored.py")
    assert observed(payload) == expected(project, "tf1_monitored.py")
    run = payload["run"]
    assert run["status"] == "step_limit" and run["steps"] == 3, run  # the hook alone would run 10
    assert run["errors"] == []
    assert "the loop ended by itself" not in proc.stderr
    [text] = evidence(payload, "BN003")
    assert "ran 3 time(s)" in text and "depends on 0 of the graph's 2 UPDATE_OPS" in text
    assert proc.returncode == 1


def test_runtime_finding_points_at_the_call_that_lost_the_mode(project):
    proc, payload = confirm(project, "k3_lost_mode.py")
    marks = expected(project, "k3_lost_mode.py", "k3_lost_mode_blocks.py", "k3_lost_mode_steps.py")
    assert marks == {("k3_lost_mode_steps.py", 5, "BN801", "new")}
    assert observed(payload) == marks  # not k3_lost_mode_blocks.py's correct `self.bn(..., training=training)`
    [text] = evidence(payload, "BN801")
    assert "training=None" in text and "this call passed it no training=True" in text
    assert proc.returncode == 1


@pytest.mark.parametrize("static", ["on", "off"])
def test_tf1_mode_set_true_through_a_parameter_is_reported(project, tmp_path, static):
    # model_fn(x, is_training=True) in another module: the run sees only True,
    # but the same builder makes the inference graph that reads the statistics.
    # With BN003 on, the static rule and the run agree (BN003 confirmed); with
    # it off, the runtime alone reports it (BN801 new), on the same line.
    args = ["tf1_model_fn.py"]
    if static == "off":
        config = tmp_path / "config" / ".bnlint.yaml"
        config.parent.mkdir()
        config.write_text("ignore: [BN003]\n")
        args = ["--config", str(config)] + args
    proc, payload = confirm(project, *args)
    marks = expected(project, "tf1_model_fn.py", "tf1_model_fn_models.py")
    assert marks == {("tf1_model_fn.py", 21, "BN801", "new")}
    seen = observed(payload)
    if static == "on" and seen == {("tf1_model_fn.py", 21, "BN003", "confirmed")}:
        seen = marks  # the static rule found it: the same answer
    assert seen == marks
    [text] = evidence(payload, "BN801") or evidence(payload, "BN003")
    assert "depends on 0 of the graph's 2 UPDATE_OPS" in text
    assert proc.returncode == 1


def test_tf1_literal_training_true_at_the_batch_norm_stays_quiet(project):
    proc, payload = confirm(project, "tf1_always_batch_stats.py")
    assert observed(payload) == set()
    [layer] = bn_layers(payload)
    assert (layer["steps_seen"], layer["steps_changed"]) == (3, 0)  # unchanged, and by design
    assert proc.returncode == 0


NATIVE = re.compile(r"^[IWEF]\d{4} \S+ +\d+ (\S+\] .*)$")


def _native_lines(stderr):
    return [m.group(1) for m in map(NATIVE.match, stderr.splitlines()) if m]


def test_tensorflow_start_up_log_is_printed_once(tmp_path):
    (tmp_path / "imports.py").write_text("import tensorflow as tf\nprint('imported', tf.__version__)\n")
    env = dict(os.environ, CI="1")
    plain = subprocess.run([sys.executable, "imports.py"], cwd=tmp_path, capture_output=True, text=True,
                           env=env, timeout=240)
    proc = subprocess.run([sys.executable, "-m", "bnlint", "confirm", "imports.py"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "imported" in proc.stderr
    preamble = "All log messages before absl::InitializeLog() is called"
    assert proc.stderr.count(preamble) == min(1, plain.stderr.count(preamble))
    # each distinct native message once, none lost
    assert sorted(_native_lines(proc.stderr)) == sorted(set(_native_lines(plain.stderr)))


def test_a_call_that_ran_but_is_not_a_keras_layer_is_said_so(project):
    proc, payload = confirm(project, "k3_not_keras_callee.py")
    assert observed(payload) == expected(project, "k3_not_keras_callee.py")
    [text] = evidence(payload, "BN001")
    assert "this line ran" in text and "not a Keras layer or model" in text
    assert payload["run"]["steps"] == 2
    assert proc.returncode == 0


def test_untaken_code_is_said_to_have_never_run(untaken_branch):
    _, _, payload = untaken_branch
    texts = [f["evidence"] for f in payload["findings"] if f["status"] == "not reached"]
    assert texts and all(t.startswith("this code never ran") for t in texts), texts


def test_a_tape_in_one_thread_is_not_another_threads_training(project):
    # an evaluation call in a second thread while the main thread's tape was open counted as
    # training: a false BN801 ("pass training=True") on a model that is never trained
    proc, payload = confirm(project, "k3_thread_eval.py")
    assert payload["run"]["status"] == "finished" and payload["run"]["steps"] == 1
    [layer] = bn_layers(payload)
    assert layer["steps_seen"] == 0
    assert observed(payload) == set() and proc.returncode == 0


def test_tf1_line_that_built_several_train_ops_is_judged_on_all_of_them(project):
    # before: the first op built there decided: "refuted, the graph has no batch norm layer"
    proc, payload = confirm(project, "tf1_builder_per_graph.py")
    assert observed(payload) == expected(project, "tf1_builder_per_graph.py")
    [text] = evidence(payload, "BN003")
    assert "depends on 0 of the graph's 2 UPDATE_OPS" in text and "one of 3 train ops built here" in text
    assert payload["run"]["steps"] == 3 and proc.returncode == 1
