"""File discovery: the paths given, directories walked for .py files.

Walks without following directory symlinks (no loops), prunes excluded
directories before descending (cheap on big trees), and keeps the order
stable so output is reproducible. Each directory is judged by its own
nearest configuration (ruff's hierarchical configuration): its `exclude` /
`extend-exclude` patterns are gitignore-style (pathspec), relative to that
config file's directory, and with `respect-gitignore` (the default) what the
repository's `.gitignore` files and `.git/info/exclude` ignore is skipped too.
"""

from __future__ import annotations

import os
import stat
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import pathspec

from .config import Config, matchable, path_spec

PYTHON_SUFFIXES = (".py", ".pyi", ".ipynb")  # notebooks: see notebook.py

ConfigFor = Callable[[str], Config]
# (path, reason) for each directory that could not be listed
Problems = List[Tuple[str, str]]


def _patterns(config: Config) -> Tuple[str, ...]:
    return tuple(config.exclude) + tuple(config.extend_exclude)


def _relative(path: str, config: Config, given: Optional[str] = None) -> str:
    """`path` relative to the config file's directory (the current directory
    without one), posix style. Outside it: relative to the directory `given`
    on the command line, or the path as written without leading `..` parts,
    so that name patterns ("build") still apply."""
    base = os.path.realpath(config.root) if config.root else os.getcwd()
    rel = os.path.relpath(os.path.realpath(path), base)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        rel = os.path.relpath(path, given) if given is not None else os.path.normpath(path)
        parts = [p for p in rel.replace(os.sep, "/").split("/") if p not in ("", ".", "..")]
        rel = "/".join(parts)
    return rel.replace(os.sep, "/")


def is_excluded(path: str, config: Config, is_dir: bool = False, given: Optional[str] = None) -> bool:
    """Does `config`'s exclude/extend-exclude match `path` or a folder it is in?"""
    patterns = _patterns(config)
    if not patterns:
        return False
    rel = _relative(path, config, given)
    if rel in (".", ""):
        return False
    return path_spec(patterns).match_file(matchable(rel + ("/" if is_dir else "")))


def _prefix(path: str, base: str) -> str:
    rel = os.path.relpath(path, base).replace(os.sep, "/")
    return "" if rel == "." else rel + "/"


class _GitIgnore:
    """The .gitignore files of one repository, as git reads them: each file's
    patterns are relative to its own directory, a deeper file overrides a
    shallower one, and `.git/info/exclude` applies everywhere."""

    def __init__(self) -> None:
        self._specs: Dict[str, Optional[pathspec.PathSpec]] = {}
        self._repo_root: Dict[str, Optional[str]] = {}

    def _spec(self, path: str) -> Optional[pathspec.PathSpec]:
        if path not in self._specs:
            spec = None
            try:
                # A regular file only (a FIFO named .gitignore would block the
                # read), and at most 1 MiB of it: the linted tree is untrusted.
                if stat.S_ISREG(os.stat(path).st_mode):
                    with open(path, "r", encoding="utf-8", errors="replace") as fh:
                        lines = fh.read(1 << 20).splitlines()
                    spec = pathspec.GitIgnoreSpec.from_lines(lines)
            except (OSError, ValueError):
                pass
            self._specs[path] = spec
        return self._specs[path]

    def repo_root(self, directory: str) -> Optional[str]:
        directory = os.path.realpath(directory)
        if directory not in self._repo_root:
            parent = os.path.dirname(directory)
            if os.path.exists(os.path.join(directory, ".git")):
                self._repo_root[directory] = directory
            elif parent == directory:
                self._repo_root[directory] = None
            else:
                self._repo_root[directory] = self.repo_root(parent)
        return self._repo_root[directory]

    def rules_for(self, real_dir: str) -> Optional[List[Tuple[str, pathspec.PathSpec]]]:
        """For a directory (its real path): the specs that judge its entries,
        deepest first, `.git/info/exclude` last, each with the path prefix
        from that spec's directory to `real_dir` ("a/b/"); None outside a git
        repository (as git and ruff: no .gitignore there)."""
        root = self.repo_root(real_dir)
        if root is None:
            return None
        rules = []
        directory = real_dir
        while True:
            spec = self._spec(os.path.join(directory, ".gitignore"))
            if spec is not None:
                rules.append((_prefix(real_dir, directory), spec))
            if directory == root or os.path.dirname(directory) == directory:
                break
            directory = os.path.dirname(directory)
        spec = self._spec(os.path.join(root, ".git", "info", "exclude"))
        if spec is not None:
            rules.append((_prefix(real_dir, root), spec))
        return rules

    @staticmethod
    def ignored(rules: List[Tuple[str, pathspec.PathSpec]], name: str, is_dir: bool) -> bool:
        """Is entry `name` of the directory `rules` were made for ignored? The deepest file that has a
        pattern for it decides (a `!negation` there re-includes it)."""
        suffix = "/" if is_dir else ""
        for prefix, spec in rules:
            result = spec.check_file(matchable(prefix + name + suffix))
            if result.include is not None:
                return bool(result.include)
        return False


def discover(paths: Iterable[str], config: Union[Config, ConfigFor],
             problems: Optional[Problems] = None) -> List[str]:
    """Every file to lint, in order. Explicit files are always included
    (unless `force-exclude` and an exclude pattern matches them).

    `config` is one Config for every path, or a function path -> Config (the
    CLI's `Settings`: each file's nearest config). Directories that cannot be
    listed are appended to `problems` as (path, reason) when it is given."""
    config_for: ConfigFor = config if callable(config) else (lambda _path: config)
    gitignore = _GitIgnore()
    out: List[str] = []
    seen = set()

    def add(path: str) -> None:
        if os.path.normpath(path) not in seen:  # a.py and ./a.py are one file
            seen.add(os.path.normpath(path))
            out.append(path)

    def on_error(exc: OSError) -> None:
        if problems is not None:
            problems.append((exc.filename or "?", exc.strerror or str(exc)))

    for given in paths:
        if given == "-" or not os.path.isdir(given):
            if given != "-":
                cfg = config_for(given)
                if cfg.force_exclude and _explicitly_excluded(given, cfg):
                    continue  # --force-exclude: pre-commit names excluded files too
            add(given)
            continue
        if not os.access(given, os.R_OK | os.X_OK):
            on_error(PermissionError(13, "Permission denied", given))
            continue
        for root, dirs, files in os.walk(given, followlinks=False, onerror=on_error):
            cfg = config_for(root)
            real_root = os.path.realpath(root)
            # paths relative to the config's directory: one relpath per directory
            rel_root = _relative(root, cfg, given)
            prefix = "" if rel_root in (".", "") else rel_root + "/"
            spec = path_spec(_patterns(cfg)) if _patterns(cfg) else None
            rules = gitignore.rules_for(real_root) if cfg.respect_gitignore else None
            here = (spec, prefix, rules)
            dirs[:] = [d for d in sorted(dirs) if not _skip(here, d, True)]
            for name in sorted(files):
                if name.endswith(PYTHON_SUFFIXES) and not _skip(here, name, False):
                    add(os.path.join(root, name))
    return out


def _skip(here, name: str, is_dir: bool) -> bool:
    """Is entry `name` of a walked directory excluded by the config's patterns
    or ignored by git? `here`: (exclude spec or None, the directory's path
    prefix relative to the config's directory, gitignore rules or None)."""
    spec, prefix, rules = here
    if spec is not None and spec.match_file(matchable(prefix + name + ("/" if is_dir else ""))):
        return True
    return bool(rules) and _GitIgnore.ignored(rules, name, is_dir)


def _explicitly_excluded(path: str, config: Config) -> bool:
    """Is a file named on the command line, or a folder it is in, excluded?"""
    return is_excluded(path, config)


__all__: Sequence[str] = ("PYTHON_SUFFIXES", "discover", "is_excluded")
