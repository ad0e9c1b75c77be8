"""The flake8 entry point: a thin adapter over the engine.

flake8 already read and decoded the file, so the checker rebuilds the text
from `lines` and hands it to `lint_text`; no rule logic lives here. flake8
owns selection (`--select`, `--extend-select`, `--ignore`, per-file ignores)
and `# noqa`, so every BN rule runs and those settings are left to it; only
what bnlint needs to know about the code (`keras`, extra mode-sensitive
layers) is read from `[tool.bnlint]`: each file's nearest config, as the
CLI reads it (`config.settings_for`). A config the CLI rejects (an unknown
key, a bad value) fails the flake8 run the same way: the ConfigError's
message, naming the key and the file, and a non-zero exit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterator, List, Tuple

from . import __version__
from .config import Config, ConfigError, settings_for
from .engine import lint_text

try:  # flake8 prints an ExecutionError's message (no traceback) and exits 1
    from flake8.exceptions import ExecutionError as _Flake8Failure
except ImportError:  # pragma: no cover - flake8 is what imports this module
    _Flake8Failure = Exception


class BnlintConfigFailure(_Flake8Failure):
    """A bad [tool.bnlint] / .bnlint.yaml: the flake8 run stops with its message."""


def _config_for(filename: str) -> Config:
    """The file's nearest config with its selection handed to flake8.
    Raises ConfigError for a bad config file, as the CLI does."""
    path = Path(filename)
    config = settings_for(path if path.parent.is_dir() else Path.cwd())  # "stdin" -> the cwd
    return replace(config, select=("ALL",), ignore=(), extend_select=(), per_file_ignores=())


class BnlintChecker:
    """flake8 calls this once per file with the parameters named below."""

    name = "bnlint"
    version = __version__

    @staticmethod
    def add_options(option_manager) -> None:
        """Rules that are off by default (`default: false` in their spec) go
        into flake8's default ignore list, as flake8-bugbear does for its
        opinionated checks: `--select`/`--extend-select` with their code (or
        a prefix other than `BN`) turn them on."""
        from .specs import load_specs

        off = sorted(code for code, spec in load_specs().items() if not spec.default)
        if off:
            option_manager.extend_default_ignore(off)

    def __init__(self, tree, lines: List[str], filename: str) -> None:
        # `tree` is requested so flake8 treats this as an AST plugin (run once
        # per parsed file, skipped on a syntax error, which flake8 reports as E999).
        self.lines = lines
        self.filename = filename

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        try:
            config = _config_for(self.filename)
        except ConfigError as exc:
            raise BnlintConfigFailure(f"bnlint: {exc}") from None
        source = "".join(self.lines)
        for f in lint_text(source, self.filename, config, noqa=False, fixes=False):
            # flake8 columns are 0-based and displayed +1, so output matches bnlint's.
            yield f.line, f.column - 1, f"{f.code} {f.message}", type(self)
