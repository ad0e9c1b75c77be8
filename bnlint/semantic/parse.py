"""The one guarded parse every file bnlint reads goes through (a linted
file, a notebook's joined cells, a sibling module the project model
follows): size limit first, then `ast.parse` with every failure turned
into a `ParseFailure` (never a crash, a hang on a recursion, or a signal).
"""

from __future__ import annotations

import ast
import warnings
from typing import Optional

from ..gcpause import paused

MAX_FILE_BYTES = 8 * 1024 * 1024  # larger files are reported (BN904), not parsed


class ParseFailure(Exception):
    """Why a source could not be parsed: `code` is BN902 (syntax, nesting)
    or BN904 (too large); line and column are 1-based (column in characters)."""

    def __init__(self, code: str, detail: str, line: int = 1, column: int = 1) -> None:
        super().__init__(code, detail, line, column)
        self.code = code
        self.detail = detail
        self.line = line
        self.column = column


def check_size(size: int, limit: int = MAX_FILE_BYTES) -> None:
    if size > limit:
        raise ParseFailure("BN904", f"{size // (1024 * 1024)} MiB is over the "
                                    f"{limit // (1024 * 1024)} MiB limit")


def parse(text: str, filename: str = "<unknown>", size: Optional[int] = None) -> ast.Module:
    """`ast.parse` of decoded source; raises ParseFailure."""
    check_size(size if size is not None else len(text))
    try:
        with warnings.catch_warnings(), paused():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename)
    except SyntaxError as exc:
        line = exc.lineno or 1
        column = max((exc.offset or 1), 1)
        message = (exc.msg or str(exc)).strip().rstrip(".")
        raise ParseFailure("BN902", message, int(line), int(column)) from None
    except RecursionError:
        raise ParseFailure("BN902", "nesting too deep to parse") from None
    except MemoryError:
        raise ParseFailure("BN902", "nesting too deep to parse (the parser ran out of memory)") from None
    except ValueError as exc:
        raise ParseFailure("BN902", f"ValueError: {exc}") from None
