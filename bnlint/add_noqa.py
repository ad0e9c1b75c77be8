"""`bnlint --add-noqa`: silence every current finding with a `# noqa: CODE`
comment on its line (ruff's `--add-noqa`), to adopt bnlint in a code base
with many findings and then keep new ones out.

Writes atomically, as `--fix` does (fixes/write.py), and only files that
change; a second run changes nothing. BN9xx findings (files bnlint could not
check) are not silenced: a comment cannot make an unreadable file readable.
Notebooks are left alone (their lines live inside JSON strings).
"""

from __future__ import annotations

import sys
from typing import Callable, Sequence, TextIO

from .config import Config
from .engine import decode, lint_bytes, read_file
from .fixes.write import ChangedOnDisk, encode_like, write_atomic
from .noqa import add_noqa


def add_noqa_to_files(paths: Sequence[str], config_for: Callable[[str], Config], out: TextIO,
                      quiet: bool = False) -> int:
    """Add the comments to each file in `paths` (with its own config); print
    `Added N noqa directives.`; return the exit code (0; 1 if a file could
    not be written)."""
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
            sys.stderr.write(f"bnlint: {path}: --add-noqa does not edit notebooks; "
                             f"{len(findings)} finding(s) left\n")
            continue
        text, problem = decode(data, path)
        if problem is not None:
            continue
        new, changed = add_noqa(text, findings)
        if not changed:
            continue
        try:
            write_atomic(path, encode_like(new, data), data)
        except ChangedOnDisk:
            sys.stderr.write(f"bnlint: {path}: changed while being edited; left alone\n")
            failed = True
            continue
        except (OSError, UnicodeError) as exc:
            sys.stderr.write(f"bnlint: {path}: cannot write: {exc}\n")
            failed = True
            continue
        added += changed
    if not quiet:
        out.write(f"Added {added} noqa directive{'' if added == 1 else 's'}.\n")
    return int(failed)
