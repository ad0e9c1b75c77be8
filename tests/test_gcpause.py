"""The collector pause around parsing and scope building (gcpause.py)
hands the collector back as it found it, on success and on failure."""

import ast
import gc
import sys

import pytest

from bnlint.gcpause import paused
from bnlint.semantic.parse import ParseFailure, parse
from bnlint.semantic.scopes import Scopes


@pytest.fixture
def collector():
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_enabled_collector_is_off_inside_and_on_after(collector):
    gc.enable()
    with paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_disabled_collector_stays_disabled(collector):
    gc.disable()
    with paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_nested_pause_keeps_outer_pause(collector):
    gc.enable()
    with paused():
        with paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_parse_failure_gives_collector_back(collector):
    gc.enable()
    with pytest.raises(ParseFailure):
        parse("def f(:\n")
    assert gc.isenabled()
    with pytest.raises(ParseFailure):
        parse("(" * 1000 + ")" * 1000)
    assert gc.isenabled()


def test_scopes_recursion_gives_collector_back(collector):
    gc.enable()
    where = dict(lineno=1, col_offset=0, end_lineno=1, end_col_offset=1)
    deep: ast.stmt = ast.Pass(**where)
    for _ in range(sys.getrecursionlimit() * 2):  # nested ifs, deeper than any parse gives
        deep = ast.If(test=ast.Name(id="x", ctx=ast.Load(), **where), body=[deep], orelse=[], **where)
    tree = ast.Module(body=[deep], type_ignores=[])
    with pytest.raises(RecursionError):
        Scopes(tree)
    assert gc.isenabled()


def test_batch_thresholds_are_restored_after_a_run_and_after_an_error():
    import gc

    from bnlint.gcpause import BATCH_THRESHOLD, batch_thresholds

    before = gc.get_threshold()
    with batch_thresholds():
        assert gc.get_threshold()[0] == BATCH_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_threshold() == before
    try:
        with batch_thresholds():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.get_threshold() == before


def test_the_check_command_leaves_the_callers_thresholds_as_they_were(tmp_path, monkeypatch):
    """cli.main runs in-process (editors' tests, the test suite): the raised
    threshold is for its own run only."""
    import gc

    from bnlint import cli

    (tmp_path / "a.py").write_text("import tensorflow as tf\nx = 1\n")
    monkeypatch.chdir(tmp_path)
    before = gc.get_threshold()
    seen = []
    real = cli._run_check

    def spy(args, out):
        seen.append(gc.get_threshold())
        return real(args, out)

    monkeypatch.setattr(cli, "_run_check", spy)
    assert cli.main(["check", "a.py", "--no-cache", "-q"]) == 0
    assert seen and seen[0][0] != before[0]
    assert gc.get_threshold() == before
