"""One fuzzed input through bnlint, with a hard time bound.

Shared by tests/test_fuzz.py (a few hundred examples in CI) and
benchmarks/fuzz_long.py (10,000+). Random programs never mention
GradientTape, so the pre-filter would skip them all; `every_rule()` lets
them through to libcst and every checker, which is where a crash would be.
"""

from __future__ import annotations

import contextlib
import signal
import time
from typing import Iterator, List, Optional, Set, Tuple

from bnlint import engine
from bnlint.config import Config
from bnlint.finding import Finding

# Inputs are also tried behind this header: its comment passes the byte
# pre-filter of every rule, so `ast` and stage 2 run on every input, and
# the rules whenever stage 2 finds the structure (libcst when they find something).
TF_HEADER = (b"import tensorflow as tf\nfrom tensorflow import keras\n"
             b"# GradientTape def call( batch_normalization .minimize( Dropout\n")


class Hang(BaseException):
    """Raised by the alarm; a BaseException so no `except Exception` eats it."""


class _EveryRule:
    def stage1(self, data: bytes, codes, filename: str = "") -> Set[str]:
        return set(codes)

    def stage1_decision(self, data: bytes, codes, filename: str = "", memo=None, deps=None, escaped=False):
        return set(codes), False

    def stage2(self, tree, codes, data: bytes, filename: str = "") -> Set[str]:
        return set(codes)


@contextlib.contextmanager
def every_rule() -> Iterator[None]:
    """Send every input to every checker (the pre-filter keeps all codes)."""
    saved = engine.build_prefilter
    engine.build_prefilter = lambda api: _EveryRule()
    try:
        yield
    finally:
        engine.build_prefilter = saved


def lint_within(data: bytes, seconds: float, config: Optional[Config] = None,
                filename: str = "fuzzed.py") -> Tuple[List[Finding], float]:
    """lint_bytes with SIGALRM as the bound; raises Hang past `seconds`."""
    def on_alarm(signum, frame):
        raise Hang(f"linting took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.perf_counter()
    try:
        findings = engine.lint_bytes(data, filename, config or Config())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return findings, time.perf_counter() - start


def internal_errors(findings: List[Finding]) -> List[Finding]:
    """BN903 means a checker raised: a bug, whatever the input."""
    return [f for f in findings if f.code == "BN903"]


def only_meta_codes(findings: List[Finding]) -> bool:
    return all(f.code.startswith("BN9") for f in findings)
