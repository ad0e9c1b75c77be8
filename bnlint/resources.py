"""Where the rule data lives: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def rules_dir() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "rules"  # wheels ship rules/ as bnlint/rules/
    if (packaged / "api.yaml").is_file():
        return packaged
    return here.parent / "rules"  # a source checkout or an editable install
