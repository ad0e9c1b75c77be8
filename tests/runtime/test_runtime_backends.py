"""`bnlint confirm` on Keras 3's other backends (real JAX, real PyTorch). One
child run per script, shared by the assertions through module-scoped
fixtures (test_runtime_family.py has the TF1 members of the wider family).

The JAX tests need `jax` (in the test extra); the PyTorch ones are marked
`torch` and skipped when torch is absent (it is not in the extras: its
wheels pull gigabytes of GPU libraries). See README "Runtime checker".
"""

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

from test_runtime_confirm import SCRIPTS, bn_layers, evidence, expected, observed

_HAVE_JAX = importlib.util.find_spec("jax") is not None and importlib.util.find_spec("keras") is not None
_HAVE_TORCH = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("keras") is not None
needs_jax = pytest.mark.skipif(not _HAVE_JAX, reason="needs jax and keras (pip install '.[test]')")
needs_torch = pytest.mark.skipif(not _HAVE_TORCH, reason="needs torch (pip install torch; see README)")


def run_confirm(tmp_path_factory, script, *args):
    """`bnlint confirm --output-format json ARGS SCRIPT` in a fresh copy of
    the scripts: (project directory, completed process, parsed JSON)."""
    import json

    project = tmp_path_factory.mktemp("project")
    for name in os.listdir(SCRIPTS):
        if name.endswith(".py"):
            shutil.copy(SCRIPTS / name, project / name)
    env = dict(os.environ, CI="1")
    for name in ("TF_USE_LEGACY_KERAS", "KERAS_BACKEND"):
        env.pop(name, None)
    proc = subprocess.run([sys.executable, "-m", "bnlint", "confirm", "--output-format", "json", *args, script],
                          cwd=project, capture_output=True, text=True, env=env, timeout=300)
    assert proc.stdout, proc.stderr[-3000:]
    return project, proc, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def jax_fit(tmp_path_factory):
    return run_confirm(tmp_path_factory, "jax_fit_subclass.py", "--max-steps", "5")


@pytest.fixture(scope="module")
def jax_loop(tmp_path_factory):
    return run_confirm(tmp_path_factory, "jax_loop.py", "--max-steps", "5")


@pytest.fixture(scope="module")
def jax_transparent(tmp_path_factory):
    """The script under `bnlint confirm`, and its probe lines from a plain `python` run."""
    project, proc, payload = run_confirm(tmp_path_factory, "jax_transparent.py", "--max-steps", "5")
    env = {k: v for k, v in os.environ.items() if k not in ("TF_USE_LEGACY_KERAS", "KERAS_BACKEND")}
    plain = subprocess.run([sys.executable, "jax_transparent.py"], cwd=project, capture_output=True, text=True,
                           env=env, timeout=300)
    return proc, payload, plain


def probes(output):
    return [line for line in output.splitlines() if line.startswith("probe ")]


@pytest.fixture(scope="module")
def torch_loop(tmp_path_factory):
    return run_confirm(tmp_path_factory, "torch_loop.py", "--max-steps", "4")


# -- Keras 3 on JAX --------------------------------------------------------------------

@needs_jax
def test_jax_fit_does_not_load_tensorflow(jax_fit):
    project, proc, payload = jax_fit
    assert "tensorflow loaded: False" in proc.stderr, proc.stderr[-2000:]
    assert payload["run"]["flavours"] == ["keras3-jax"]


@needs_jax
def test_jax_fit_steps_are_counted_and_stopped(jax_fit):
    project, proc, payload = jax_fit
    # 2 epochs of 4 batches would be 8 steps; each jitted train_step call is one
    assert payload["run"]["status"] == "step_limit" and payload["run"]["steps"] == 5
    assert payload["run"]["errors"] == []


@needs_jax
def test_jax_fit_subclass_without_training_is_confirmed_not_unreached(jax_fit):
    project, proc, payload = jax_fit
    assert observed(payload) == expected(project, "jax_fit_subclass.py")
    [text] = evidence(payload, "BN002")
    assert "in 5/5 steps that applied gradients" in text and "under jax.grad" in text
    # Keras' JAX trainer runs the model through stateless_call: the state it returned was not updated
    assert "stateless_call returned moving_mean/moving_variance as passed in (unchanged)" in text
    assert payload["runtime_findings"] == []  # JAX's statistics are not read: no claim about them
    assert proc.returncode == 1


@needs_jax
def test_jax_custom_loops_count_eager_and_jitted_steps(jax_loop):
    project, proc, payload = jax_loop
    assert "tensorflow loaded: False" in proc.stderr, proc.stderr[-2000:]
    # 2 + 1 eager optimizer.apply steps, then 2 calls of the jitted train_step (stateless_apply)
    assert payload["run"]["status"] == "step_limit" and payload["run"]["steps"] == 5
    assert payload["run"]["errors"] == []


@needs_jax
def test_jax_stateless_call_without_training_is_confirmed_the_fixed_one_clean_a_false_flag_new(jax_loop):
    project, proc, payload = jax_loop
    assert observed(payload) == expected(project, "jax_loop.py")  # nothing on the eager loop's training=True
    [text] = evidence(payload, "BN111")
    assert "ran with training=None in 2/5 steps" in text  # the other 3 steps were the eager loops'
    assert "stateless_call returned moving_mean/moving_variance as passed in (unchanged)" in text
    [new] = evidence(payload, "BN801")  # training=use_batch_stats, False: a runtime-only finding
    assert "never updated its moving statistics in 1 step(s)" in new and "training=False" in new
    good, frozen, bad = bn_layers(payload)
    assert (good["stateless_kept"], good["stateless_updated"]) == (0, 2)
    assert frozen["stateless_kept"] == 1 and frozen["stateless_updated"] == 0
    assert bad["stateless_kept"] >= 1 and bad["stateless_updated"] == 0
    assert proc.returncode == 1


@needs_jax
def test_jitted_functions_behave_as_without_bnlint(jax_transparent):
    proc, payload, plain = jax_transparent
    expected_probes = probes(plain.stdout)
    assert len(expected_probes) == 6 and plain.returncode == 3, plain.stderr[-2000:]
    # keyword arguments named kind/call/fid, __wrapped__/__doc__/__module__, copy.copy/deepcopy, __class__
    assert probes(proc.stderr) == expected_probes
    assert "probe attrs True Scale x. __main__ scale" in expected_probes


@needs_jax
def test_sys_exit_while_tracing_a_jitted_step_is_the_scripts_exit(jax_transparent):
    proc, payload, plain = jax_transparent
    run = payload["run"]
    assert (run["status"], run["exit_code"], run["steps"], run["errors"]) == ("exited", 3, 1, [])


@needs_jax
def test_max_steps_reached_in_worker_threads_stops_the_waiting_main_thread(tmp_path_factory):
    # before: the workers died with a traceback each and the main thread waited until --timeout
    project, proc, payload = run_confirm(tmp_path_factory, "jax_threads.py", "--max-steps", "3", "--timeout", "120")
    run = payload["run"]
    assert (run["status"], run["steps"], run["errors"]) == ("step_limit", 3, []), proc.stderr[-2000:]
    assert "Exception in thread" not in proc.stderr and "all workers ended" not in proc.stderr
    assert proc.returncode == 0


@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="needs keras (pip install '.[test]')")
def test_a_forked_worker_does_not_overwrite_the_scripts_record(tmp_path_factory):
    # before: the worker's throttled writes replaced the record: status 'died', 4 steps, exit 1
    project, proc, payload = run_confirm(tmp_path_factory, "k3_fork_worker.py", "--max-steps", "10")
    run = payload["run"]
    assert (run["status"], run["steps"], run["errors"]) == ("finished", 1, []), proc.stderr[-2000:]
    assert "main process done" in proc.stderr and proc.returncode == 0


# -- Keras 3 on PyTorch ------------------------------------------------------------------

@pytest.mark.torch
@needs_torch
def test_torch_loop_steps_and_bn001(torch_loop):
    project, proc, payload = torch_loop
    assert "tensorflow loaded: False" in proc.stderr, proc.stderr[-2000:]
    assert payload["run"]["flavours"] == ["keras3-torch"]
    # 2 steps of the Keras optimizer, then 2 torch.optim steps
    assert payload["run"]["status"] == "step_limit" and payload["run"]["steps"] == 4
    assert observed(payload) == expected(project, "torch_loop.py")
    [text] = evidence(payload, "BN001")
    assert "training=None in 2/4 steps" in text and "with torch grad mode on" in text
    assert "unchanged, still 0 and 1" in text
    good, bad = bn_layers(payload)
    assert (good["steps_seen"], good["steps_changed"]) == (2, 2)  # the fixed loop trains its statistics
