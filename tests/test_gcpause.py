"""The collector pause around parsing and scope building (semantic/gcpause.py)
hands the collector back as it found it, on success and on failure."""

import ast
import gc
import sys

import pytest

from bnlint.semantic.gcpause import paused
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
