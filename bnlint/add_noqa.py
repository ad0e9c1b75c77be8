"""`bnlint --add-noqa`: silence every current finding with a `# noqa: CODE`
comment on its line (ruff's `--add-noqa`), to adopt bnlint in a code base
with many findings and then keep new ones out.

Writes atomically and with the same guarantees as `--fix` (fixes/write.py:
same bytes outside the comments, owner, mode, no write through a symlink
out of the tree, none to a read-only or hard-linked file, no temp file left
by SIGTERM), and only files that change; a second run changes nothing. BN9xx findings (files bnlint could not
check) are not silenced: a comment cannot make an unreadable file readable.
Notebooks are left alone (their lines live inside JSON strings).
"""

from __future__ import annotations

import sys
from typing import Callable, Optional, Sequence, TextIO

from .config import Config
from .engine import decode, lint_bytes, read_file
from .fixes.write import (ChangedOnDisk, EncodingLoses, NotWritable, check_round_trip,
                           cleanup_on_signals, encode_like, write_atomic)
from .noqa import add_noqa
from .report.escape import printable


def add_noqa_to_files(paths: Sequence[str], config_for: Callable[[str], Config], out: TextIO,
                      quiet: bool = False, roots: Optional[Sequence[str]] = None) -> int:
    """Add the comments to each file in `paths` (with its own config); print
    `Added N noqa directives.`; return the exit code (0; 1 if a file could
    not be written). `roots`: the linted tree (fixes.write.tree_roots)."""
    with cleanup_on_signals():  # SIGTERM mid-write leaves no temp file
        return _add_noqa_to_files(paths, config_for, out, quiet, roots)


def _add_noqa_to_files(paths: Sequence[str], config_for: Callable[[str], Config], out: TextIO,
                       quiet: bool, roots: Optional[Sequence[str]]) -> int:
    added = 0
    failed = False
    for path in paths:
        data, problem = read_file(path)
        if problem is not None:
            continue
        findings = [f for f in lint_bytes(data, path, config_for(path)) if not f.code.startswith("BN9")]
        if not findings:
            continue
        if path.endswith(".ipynb"):
            _warn(f"{path}: --add-noqa does not edit notebooks; {len(findings)} finding(s) left")
            continue
        text, problem = decode(data, path)
        if problem is not None:
            continue
        new, changed = add_noqa(text, findings)
        if not changed:
            continue
        try:
            check_round_trip(data, text)
            write_atomic(path, encode_like(new, data), data, roots)
        except ChangedOnDisk:
            _warn(f"{path}: changed while being edited; left alone")
            failed = True
            continue
        except (EncodingLoses, NotWritable) as exc:
            _warn(f"{path}: no noqa added: {exc}")
            failed = True
            continue
        except (OSError, UnicodeError) as exc:
            _warn(f"{path}: cannot write: {getattr(exc, 'strerror', None) or exc}")
            failed = True
            continue
        added += changed
    if not quiet:
        out.write(f"Added {added} noqa directive{'' if added == 1 else 's'}.\n")
    return int(failed)


def _warn(message: str) -> None:
    sys.stderr.write(f"bnlint: {printable(message)}\n")
