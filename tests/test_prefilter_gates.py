"""The pre-filter's literal gates (prefilter.required_literals): a cheap
`in` test before each stage-1 regex that may only ever say "cannot match"
where the regex cannot match."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnlint.api import load_api
from bnlint.prefilter import build_prefilter, required_literals


def _stage1_patterns():
    out = []
    for extra in ((), ("Odd.Name_With.dots", "MyNorm")):
        pre = build_prefilter(load_api(extra))
        for _code, pats, _project, wanted in pre.patterns:
            out += list(pats) + (list(wanted) if isinstance(wanted, tuple) else [wanted] if wanted else [])
    return list(dict.fromkeys(out))


PATTERNS = _stage1_patterns()


@pytest.mark.parametrize("pattern, want", [
    (rb"def\s+call\s*\(", (b"call",)),
    (rb"(?:GradientTape)|def\s+(?:train_step)\b|\.(?:backward)\s*\(", (b".backward", b"GradientTape", b"train_step")),
    (rb"(?:abc)?def", (b"def",)),  # an optional group needs nothing
    (rb"(?:a|)x", (b"x",)),  # nor a branch with an empty alternative
    (rb"(?:foo|bar)+", (b"bar", b"foo")),
    (rb"ab{0,2}c", (b"a",)),
    (rb"batch_norm|batch_normalization", (b"batch_norm",)),  # the longer is found only where the shorter is
    (rb"a*", None),
    (rb"[ab]", None),
    (rb"(?i)GradientTape", None),  # case-insensitive: no gate
    (rb"x(?i:abc)", (b"x",)),
    (rb"(?=abc)", None),  # a lookahead consumes nothing we can rely on
])
def test_required_literals(pattern, want):
    assert required_literals(re.compile(pattern)) == want


def test_every_stage1_pattern_has_a_gate():
    """The gate is what makes stage 1 cheap; a pattern without one would
    silently fall back to the regex scan alone."""
    assert [p.pattern for p in PATTERNS if required_literals(p) is None] == []


def _pieces():
    words = set()
    for p in PATTERNS:
        for lit in required_literals(p) or ():
            words.add(lit)
            words.add(lit[: len(lit) // 2])  # near misses
            words.add(lit[1:])
    return sorted(words) + [b" ", b"\t", b"\n", b"(", b".", b"=", b"def ", b"True", b"False", b"run(", b".eval("]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_pieces()), max_size=12), st.sampled_from(PATTERNS))
def test_a_gate_never_rules_out_a_match(pieces, pattern):
    data = b"".join(pieces)
    gate = required_literals(pattern)
    if pattern.search(data):
        assert gate is None or any(lit in data for lit in gate), (pattern.pattern, data)
