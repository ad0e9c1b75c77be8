"""Python's cyclic garbage collector: held off while one module's syntax
tree and scopes are built, and its thresholds for a batch run. A leaf
module (only the standard library), so the CLI can use it without loading
the semantic model.

Building them allocates tens of thousands of container objects and frees
none: every young-generation collection the allocations trigger (one per
700 by default) scans the tree built so far and finds nothing to free.
Held off, the collector runs once afterwards instead; the cycles a lint
leaves (scopes point at their parents and children) are still collected.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    """No automatic garbage collection inside the block. Nested or
    concurrent blocks only re-enable the collector when they turned it off
    (a caller that disabled it keeps it disabled)."""
    was = gc.isenabled()
    if was:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# Young-generation threshold for a batch run (`bnlint check` over many
# files): Python's default of 700 allocations makes the collector scan the
# rules' short-lived objects thousands of times a run. Measured over the
# TF-heavy corpus (-j1, --select ALL, 3 runs each): 4.86-5.84 s CPU at 700,
# 4.30-4.50 s at 10000. mypy raises its threshold the same way.
BATCH_THRESHOLD = 10_000


@contextmanager
def batch_thresholds() -> Iterator[None]:
    """The collector's first threshold raised to BATCH_THRESHOLD inside the
    block (process pool workers forked inside it inherit it), the old
    thresholds restored after, also on an error."""
    old = gc.get_threshold()
    gc.set_threshold(BATCH_THRESHOLD, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
