"""Small helpers shared by the tests: lint a string, read `# expect:` marks."""

import re
import textwrap
from typing import List, Optional, Set, Tuple

from bnlint.config import Config
from bnlint.engine import lint_bytes

_EXPECT = re.compile(r"#\s*expect:\s*((?:BN\d{3}(?::\d+)?[,\s]*)+)")


def lint(code: str, config: Config = None, filename: str = "example.py"):
    source = textwrap.dedent(code)
    return lint_bytes(source.encode("utf-8"), filename, config or Config())


def expected(code: str) -> Set[Tuple[int, str]]:
    out = set()
    for lineno, line in enumerate(textwrap.dedent(code).splitlines(), start=1):
        m = _EXPECT.search(line)
        if m:
            for c in re.findall(r"BN\d{3}", m.group(1)):
                out.add((lineno, c))
    return out


def marks(code: str) -> List[Tuple[int, str, Optional[int]]]:
    """Every `# expect: BN001:18` mark as (line, code, column), sorted; the
    column is None where a mark gives none. Duplicates are kept."""
    out = []
    for lineno, line in enumerate(textwrap.dedent(code).splitlines(), start=1):
        m = _EXPECT.search(line)
        if m:
            for c, col in re.findall(r"(BN\d{3})(?::(\d+))?", m.group(1)):
                out.append((lineno, c, int(col) if col else None))
    return sorted(out, key=lambda t: (t[0], t[1], t[2] or 0))


def found_marks(findings) -> List[Tuple[int, str, int]]:
    """(line, code, column) of each finding, sorted, duplicates kept."""
    return sorted((f.line, f.code, f.column) for f in findings)


def found(findings) -> Set[Tuple[int, str]]:
    return {(f.line, f.code) for f in findings}


def codes(findings) -> List[str]:
    return [f.code for f in findings]


# A training step whose tape calls a batch-norm model without training: one
# BN001 at line 8 (`net(x)`, columns 16-22). Shared by the CLI tests.
TAPE = textwrap.dedent("""\
    import tensorflow as tf

    net = tf.keras.Sequential([tf.keras.layers.Dense(4), tf.keras.layers.BatchNormalization()])
    opt = tf.keras.optimizers.Adam()

    def step(x, y):
        with tf.GradientTape() as tape:
            pred = net(x)
            loss = tf.reduce_mean((pred - y) ** 2)
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
""")
