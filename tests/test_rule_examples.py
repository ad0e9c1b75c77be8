"""Every VALID and INVALID example in rules/*.yaml runs as a test.

VALID: no finding at all. INVALID: exactly the findings marked with
`# expect: BNxxx:col` comments, compared as lists of (line, code, column),
so a duplicate finding fails.
"""

import pytest

from bnlint.config import Config
from bnlint.specs import load_specs

from helpers import lint, marks, found_marks

SPECS = load_specs()
CASES_VALID = [(code, i, ex) for code, spec in SPECS.items() for i, ex in enumerate(spec.valid)]
CASES_INVALID = [(code, i, ex) for code, spec in SPECS.items() for i, ex in enumerate(spec.invalid)]
# Examples are written for today's default, Keras 3 (TF >= 2.16).
KERAS3 = Config(keras="3", select=("ALL",))  # every rule, the ones off by default too


def config_for(code):
    """Today's default, with a rule that is off by default (BN011) named."""
    return KERAS3 if SPECS[code].default else Config(keras="3", extend_select=(code,))


@pytest.mark.parametrize("code,i,example", CASES_VALID, ids=[f"{c}-valid-{i}" for c, i, _ in CASES_VALID])
def test_valid_example_is_clean(code, i, example):
    findings = lint(example.code, config_for(code))
    assert findings == [], f"{example.note}: unexpected {[(f.line, f.code, f.message) for f in findings]}"


@pytest.mark.parametrize("code,i,example", CASES_INVALID, ids=[f"{c}-invalid-{i}" for c, i, _ in CASES_INVALID])
def test_invalid_example_is_reported(code, i, example):
    want = marks(example.code)
    assert want, "an INVALID example must mark its expected findings"
    assert all(col is not None for _, _, col in want), "each mark carries its column: BN001:18"
    assert any(c == code for _, c, _ in want)
    got = found_marks(lint(example.code, config_for(code)))
    assert got == want, example.note


def test_every_rule_has_docs_and_examples():
    for code, spec in SPECS.items():
        assert spec.name and spec.summary and spec.messages
        for key in ("what", "why"):
            assert spec.docs.get(key), f"{code} lacks docs.{key}"
        if code.startswith("BN0"):
            assert spec.docs.get("example") and spec.docs.get("use_instead")
            assert len(spec.valid) >= 3 and len(spec.invalid) >= 3, code


def test_every_checker_has_a_spec():
    from bnlint.rules import RULES as CHECKERS

    assert set(CHECKERS) <= set(SPECS)
