"""The flake8 entry point: a thin adapter over the engine.

flake8 already read and decoded the file, so the checker rebuilds the text
from `lines` and hands it to `lint_text`; no rule logic lives here. flake8
owns selection (`--select`, `--extend-select`, `--ignore`, per-file ignores)
and `# noqa`, so every BN rule runs and those settings are left to it; only
what bnlint needs to know about the code (`keras`, extra mode-sensitive
layers) is read from the project's `[tool.bnlint]`.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Iterator, List, Tuple

from . import __version__
from .config import Config, ConfigError, load_config
from .engine import lint_text


@lru_cache(maxsize=64)
def _config_for(directory: str) -> Config:
    """The project's knowledge settings, with selection handed to flake8."""
    try:
        config = load_config(Path(directory))
    except ConfigError:
        config = Config()  # `bnlint` itself reports a bad config; flake8 must still run
    return replace(config, select=("BN",), ignore=(), extend_select=(), per_file_ignores=())


class BnlintChecker:
    """flake8 calls this once per file with the parameters named below."""

    name = "bnlint"
    version = __version__

    def __init__(self, tree, lines: List[str], filename: str) -> None:
        # `tree` is requested so flake8 treats this as an AST plugin (run once
        # per parsed file, skipped on a syntax error, which flake8 reports as E999).
        self.lines = lines
        self.filename = filename

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        directory = Path(self.filename).parent  # "stdin" -> "."
        config = _config_for(str(directory if directory.is_dir() else Path.cwd()))
        source = "".join(self.lines)
        for f in lint_text(source, self.filename, config, noqa=False):
            # flake8 columns are 0-based and displayed +1, so output matches bnlint's.
            yield f.line, f.column - 1, f"{f.code} {f.message}", type(self)
