"""Python's cyclic garbage collector held off while one module's syntax
tree and scopes are built.

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
