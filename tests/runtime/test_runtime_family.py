"""`bnlint confirm` on the TF1 / tf_keras members of the wider family: BN101
(Keras batch norm relying on UPDATE_OPS), BN109 (a Keras layer without
`training` in TF1 graph code), BN110 (a TF1 builder without `training`),
BN106 (the global learning phase), with real TensorFlow. One
child run per script, shared through module-scoped fixtures.
"""

import importlib.util

import pytest

from test_runtime_backends import run_confirm
from test_runtime_confirm import bn_layers, evidence, expected, observed

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("tf_keras") is None,
    reason="needs tensorflow and tf-keras (pip install '.[test]')")


@pytest.fixture(scope="module")
def tf1_family(tmp_path_factory):
    return run_confirm(tmp_path_factory, "tf1_keras_update_ops.py", "--max-steps", "9")


@pytest.fixture(scope="module")
def phase_graph(tmp_path_factory):
    return run_confirm(tmp_path_factory, "tk_learning_phase_graph.py")


@pytest.fixture(scope="module")
def phase_eager(tmp_path_factory):
    return run_confirm(tmp_path_factory, "tk_learning_phase_eager.py")


def test_tf1_keras_bn_on_update_ops_and_builder_without_training(tf1_family):
    project, proc, payload = tf1_family
    assert observed(payload) == expected(project, "tf1_keras_update_ops.py", "tf1_keras_updates_fixed.py",
                                         "tf1_keras_no_training.py")
    [bn109] = evidence(payload, "BN109")
    assert "training=None in 3/9 steps" in bn109 and "in a TF1 train op's Session.run" in bn109
    [bn101] = evidence(payload, "BN101")
    assert "depends on 0 of the graph's 0 UPDATE_OPS" in bn101 and "unchanged" in bn101
    [bn110] = evidence(payload, "BN110")
    assert "training=False in 3/9 steps" in bn110 and "still 0 and 1" in bn110
    changed = sorted(layer["steps_changed"] for layer in bn_layers(payload))
    assert changed == [0, 0, 0, 3, 3]  # the fixed graph's two layers moved in each of its runs
    assert payload["run"]["status"] == "finished" and proc.returncode == 1


def test_learning_phase_0_before_graph_mode_fit_is_confirmed(phase_graph):
    project, proc, payload = phase_graph
    assert observed(payload) == expected(project, "tk_learning_phase_graph.py")
    # graph-mode fit() runs through tf_keras' backend functions: each call is a step
    assert payload["run"]["status"] == "step_limit" and payload["run"]["steps"] == 3
    [text] = evidence(payload, "BN106")
    assert text.startswith("set_learning_phase(0) ran;") and "training=False in 3/3 steps" in text
    assert "still 0 and 1" in text
    assert payload["runtime_findings"] == []  # the layer is explained by BN106
    assert proc.returncode == 1


def test_learning_phase_0_before_eager_fit_is_refuted(phase_eager):
    project, proc, payload = phase_eager
    assert observed(payload) == expected(project, "tk_learning_phase_eager.py")
    [text] = evidence(payload, "BN106")
    assert "every mode-sensitive layer ran with training=True" in text and "changed in 3/3 steps" in text
    assert proc.returncode == 0


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs jax (pip install '.[test]')")
def test_learning_phase_under_keras3_is_confirmed_by_the_crash(tmp_path_factory):
    project, proc, payload = run_confirm(tmp_path_factory, "k3_removed_learning_phase.py")
    assert observed(payload) == expected(project, "k3_removed_learning_phase.py")
    [text] = evidence(payload, "BN106")
    assert text.startswith("the script crashed here: AttributeError")
    assert payload["run"]["status"] == "crashed" and proc.returncode == 1


_GRAPH_KEYS = """
import gc, json
import tensorflow as tf
from bnlint.runtime.graph_hooks import graph_key
keys, ids = [], []
for _ in range(20):
    graph = tf.Graph()
    keys.append(graph_key(graph))
    ids.append(id(graph))
    del graph
    gc.collect()
print(json.dumps([len(set(ids)), len(set(keys))]))
"""


def test_graphs_built_and_freed_one_after_another_keep_distinct_keys():
    # train ops and cached fetch walks were keyed by id(graph), which the next graph often reuses
    import json
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run([sys.executable, "-c", _GRAPH_KEYS], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=root))
    distinct_ids, distinct_keys = json.loads(proc.stdout.strip().splitlines()[-1])
    assert distinct_ids < 20, "premise: CPython gave a new graph a freed graph's id"
    assert distinct_keys == 20
