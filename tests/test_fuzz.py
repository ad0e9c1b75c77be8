"""Property-based fuzzing: random valid programs and random bytes.

hypothesmith writes syntactically valid programs; hypothesis writes byte
strings. Through the engine (and, for a sample, the CLI) each must lint
without raising, within a time bound, with no BN903 (a crashed checker)
and an exit code of 0 or 1. The long run is benchmarks/fuzz_long.py.
"""

import json
import os
import sys

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bnlint.cli import main as cli_main

from fuzz_harness import TF_HEADER, every_rule, internal_errors, lint_within, only_meta_codes

# hypothesmith compiles what it generates; CPython warns about odd but valid code.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")
SECONDS = 20  # per lint call; real files of this size take milliseconds
FAST = settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=80)

programs = st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node())
TAIL = b"\nwith tf.GradientTape() as tape:\n    y = model(x)\n"


@FAST
@given(programs)
def test_random_programs_through_every_checker(program):
    with every_rule():
        findings, _ = lint_within(program.encode("utf-8", "surrogatepass"), SECONDS)
    assert not internal_errors(findings), [f.message for f in findings]


@FAST
@given(programs)
def test_random_programs_behind_a_tensorflow_header(program):
    data = TF_HEADER + program.encode("utf-8", "surrogatepass") + TAIL
    findings, _ = lint_within(data, SECONDS)
    assert not internal_errors(findings), [f.message for f in findings]


@FAST
@given(st.binary(max_size=2048))
def test_random_bytes(data):
    for payload in (data, TF_HEADER + data, TF_HEADER + data + TAIL):
        findings, _ = lint_within(payload, SECONDS)
        assert not internal_errors(findings), [f.message for f in findings]
        if not payload.startswith(TF_HEADER):
            assert only_meta_codes(findings)


@FAST
@given(st.text(max_size=400), st.sampled_from(["\n", "\r\n", "\r"]))
def test_random_text_lines_around_a_tape(text, newline):
    source = "import tensorflow as tf\n" + text + "\nwith tf.GradientTape() as t:\n    y = net(x)\n"
    data = source.replace("\n", newline).encode("utf-8", "surrogatepass")
    with every_rule():
        findings, _ = lint_within(data, SECONDS)
    assert not internal_errors(findings)


# Long runs of the pieces bnlint's regular expressions are made of (blanks,
# continuation lines, `from`, the TF_USE_LEGACY_KERAS name, brackets, ...):
# a super-linear pattern shows up here as a Hang (tests/test_regex_linear.py
# checks each pattern's growth directly). Also as a notebook cell.
FRAGMENTS = [b" ", b"\t", b"\n", b"\\\n", b"\r", b"from ", b"import ", b"TF_USE_LEGACY_KERAS", b"'", b"]",
             b"=", b"def ", b"call", b"(", b".", b"#", b"# noqa: BN001,", b":", b",", b"x", b"GradientTape",
             b"tf.compat.v1.", b"%", b"?", b"updates_collections", b"set_learning_phase(", b"\xe9"]


@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=40)
@given(st.lists(st.tuples(st.sampled_from(FRAGMENTS), st.integers(1, 3000)), min_size=1, max_size=5))
def test_long_runs_of_pattern_fragments(runs):
    data = b"".join(fragment * n for fragment, n in runs)
    cell = json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
                                  "source": (TF_HEADER + data + TAIL).decode("latin-1")}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    for payload, name in ((data, "fuzzed.py"), (TF_HEADER + data + TAIL, "fuzzed.py"), (cell, "fuzzed.ipynb")):
        findings, _ = lint_within(payload, SECONDS, filename=name)
        assert not internal_errors(findings), [f.message for f in findings]


# auto_target=False: several programs are drawn per example.
untargeted = st.one_of(hypothesmith.from_grammar(auto_target=False), hypothesmith.from_node(auto_target=False))


@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=12)
@given(st.lists(st.one_of(untargeted.map(lambda p: p.encode("utf-8", "surrogatepass")),
                          st.binary(max_size=512)), min_size=1, max_size=10))
def test_cli_exit_code_on_random_trees(tmp_path_factory, files):
    """The real CLI on a directory of random files: exit 0 or 1, nothing
    else, also when there are enough candidates for the process pool."""
    root = tmp_path_factory.mktemp("fuzz")
    for i, data in enumerate(files):
        (root / f"f{i}.py").write_bytes(TF_HEADER + data + TAIL)
    code = cli_main(["check", "--no-cache", "-q", "--exit-zero" if len(files) % 3 == 0 else "-q", str(root)])
    assert code in (0, 1)
    if len(files) % 3 == 0:
        assert code == 0


@pytest.mark.skipif(sys.platform == "win32", reason="SIGALRM")
def test_the_time_bound_works():
    """The harness really stops a slow call (so a hang cannot pass unseen)."""
    import time

    from fuzz_harness import Hang, engine

    saved = engine.lint_bytes
    engine.lint_bytes = lambda *a, **k: time.sleep(5)
    try:
        with pytest.raises(Hang):
            lint_within(b"x = 1\n", 0.2)
    finally:
        engine.lint_bytes = saved
    assert os.getpid()  # still here
