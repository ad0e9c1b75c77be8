"""File discovery: the paths given, directories walked for .py files.

Walks without following directory symlinks (no loops), prunes excluded
directories before descending (cheap on big trees), and keeps the order
stable so output is reproducible.
"""

from __future__ import annotations

import fnmatch
import os
from typing import Iterable, List, Optional, Sequence

from .config import Config

PYTHON_SUFFIXES = (".py", ".pyi", ".ipynb")  # notebooks: see notebook.py


def _excluded(name: str, rel: str, patterns: Sequence[str]) -> bool:
    for pattern in patterns:
        if fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(rel, pattern) \
                or rel == pattern.rstrip("/") or rel.startswith(pattern.rstrip("/") + "/"):
            return True
    return False


def _explicitly_excluded(path: str, config: Config, patterns: Sequence[str]) -> bool:
    """Is a file named on the command line under an excluded name or folder?"""
    base = os.path.realpath(config.root) if config.root else os.getcwd()
    rel = os.path.relpath(os.path.realpath(path), base).replace(os.sep, "/")
    parts = rel.split("/")
    if parts[0] == "..":
        parts = os.path.normpath(path).replace(os.sep, "/").split("/")
        rel = "/".join(parts)
    return any(_excluded(part, "/".join(parts[: i + 1]), patterns) for i, part in enumerate(parts))


def _project_prefix(given: str, root: Optional[str]) -> Optional[str]:
    """`given` relative to the config directory as "a/b/" ("" for the same
    directory), or None when there is no config or `given` is outside it."""
    if not root:
        return None
    rel = os.path.relpath(os.path.realpath(given), os.path.realpath(root))
    if rel == os.curdir:
        return ""
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return rel.replace(os.sep, "/") + "/"


def discover(paths: Iterable[str], config: Config) -> List[str]:
    """Every file to lint, in order. Explicit files are always included."""
    patterns = tuple(config.exclude) + tuple(config.extend_exclude)
    out: List[str] = []
    seen = set()
    for given in paths:
        if given == "-" or not os.path.isdir(given):
            if config.force_exclude and given != "-" and _explicitly_excluded(given, config, patterns):
                continue  # --force-exclude: pre-commit names excluded files too
            if os.path.normpath(given) not in seen:  # a.py and ./a.py are one file
                seen.add(os.path.normpath(given))
                out.append(given)
            continue
        # Patterns with a directory part ("src/legacy") are relative to the
        # config file's directory, whatever path was given on the command line.
        project = _project_prefix(given, config.root)
        for root, dirs, files in os.walk(given, followlinks=False):
            rel_root = os.path.relpath(root, given)
            rel_root = "" if rel_root == "." else rel_root.replace(os.sep, "/") + "/"
            proj_root = None if project is None else project + rel_root
            dirs[:] = sorted(d for d in dirs if not _excluded(d, rel_root + d, patterns)
                             and not (proj_root is not None and _excluded(d, proj_root + d, patterns)))
            for name in sorted(files):
                if not name.endswith(PYTHON_SUFFIXES):
                    continue
                if _excluded(name, rel_root + name, patterns) or \
                        (proj_root is not None and _excluded(name, proj_root + name, patterns)):
                    continue
                path = os.path.join(root, name)
                if os.path.normpath(path) not in seen:
                    seen.add(os.path.normpath(path))
                    out.append(path)
    return out
