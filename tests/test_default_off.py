"""Rules that are off by default (`default: false` in their spec).

BN105 is off by default (1 bug in 6 findings on the real-world corpora):
the default selection `BN` must not run it; its code, a longer prefix or
`ALL` must; flake8 ignores it by default and `--extend-select` enables it.
"""

import subprocess
import sys
import textwrap

from bnlint.config import Config, with_command_line_selection, known_codes
from bnlint.engine import selected_codes
from bnlint.specs import load_specs

from helpers import lint

SOURCE = textwrap.dedent("""\
    import tensorflow as tf

    class Head(tf.keras.layers.Layer):
        def call(self, x, training=None):
            return tf.nn.dropout(x, rate=0.5)
    """)


def test_the_rules_off_by_default_are_the_measured_ones():
    # BN105: 1 bug in 6 findings; BN011: BN001's guesses, right 1 time in 14;
    # BN113: a judgement (sampling a GAN in training mode can be intended)
    # (benchmarks/realworld/README.md). Any other rule is on by default.
    assert sorted(code for code, spec in load_specs().items() if not spec.default) == ["BN011", "BN105", "BN113"]


def test_the_default_selection_leaves_an_off_rule_out():
    assert "BN105" not in selected_codes(Config())
    assert "BN001" in selected_codes(Config())
    assert [f.code for f in lint(SOURCE, Config())] == []


def test_its_code_a_longer_prefix_or_all_turn_it_on():
    for select in (("BN105",), ("BN1",), ("ALL",), ("BN", "BN105")):
        assert "BN105" in selected_codes(Config(select=select)), select
        assert [f.code for f in lint(SOURCE, Config(select=select))] == ["BN105"], select
    assert "BN105" in selected_codes(Config(extend_select=("BN105",)))


def test_all_still_yields_to_an_ignore():
    assert "BN105" not in selected_codes(Config(select=("ALL",), ignore=("BN1",)))
    assert "BN001" in selected_codes(Config(select=("ALL",), ignore=("BN1",)))


def test_command_line_layers_keep_it_off_unless_named():
    known = known_codes()
    cfg = with_command_line_selection(Config(), known, select=("BN",))
    assert "BN105" not in cfg.select and "BN001" in cfg.select
    cfg = with_command_line_selection(Config(), known, extend_select=("BN105",))
    assert "BN105" in cfg.select


def _flake8(tmp_path, *args):
    (tmp_path / "head.py").write_text(SOURCE)
    out = subprocess.run([sys.executable, "-m", "flake8", *args, "head.py"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    return out.stdout


def test_flake8_ignores_it_by_default_and_extend_select_enables_it(tmp_path):
    assert "BN105" not in _flake8(tmp_path)  # flake8's defaults plus every plugin code
    assert "BN105" in _flake8(tmp_path, "--extend-select", "BN105")
    assert "BN105" in _flake8(tmp_path, "--select", "BN105")
