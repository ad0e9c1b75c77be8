"""Configuration: [tool.bnlint] in pyproject.toml, or .bnlint.yaml.

The nearest file wins (searched upward from the first path given). Keys use
ruff's spelling. A bad value is a ConfigError naming the key and the file.
"""

from __future__ import annotations

import fnmatch
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "build", "dist",
    "site-packages", "__pycache__", ".bnlint_cache", ".mypy_cache", ".eggs", "node_modules",
    ".ipynb_checkpoints",
)
KERAS_CHOICES = ("auto", "2", "3")


class ConfigError(Exception):
    """A configuration problem the user must fix (exit code 2)."""


@dataclass(frozen=True)
class Config:
    select: Tuple[str, ...] = ("BN",)
    ignore: Tuple[str, ...] = ()
    extend_select: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    force_exclude: bool = False  # apply excludes to files named explicitly too
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    extra_mode_sensitive_layers: Tuple[str, ...] = ()
    keras: str = "auto"
    source: Optional[str] = None  # the file this came from
    root: Optional[str] = None  # its directory: per-file-ignores are relative to it

    def is_selected(self, code: str) -> bool:
        """ruff semantics: the longest matching prefix decides."""
        best_sel = max((len(p) for p in self.select + self.extend_select if code.startswith(p)), default=-1)
        best_ign = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return best_sel >= 0 and best_sel > best_ign  # a tie goes to ignore

    def ignored_for(self, filename: str) -> Tuple[str, ...]:
        path = Path(filename)
        if self.root:
            try:
                path = path.resolve().relative_to(Path(self.root).resolve())
            except ValueError:
                pass
        text = path.as_posix()
        codes: List[str] = []
        for pattern, ignored in self.per_file_ignores:
            if fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(path.name, pattern) \
                    or text.startswith(pattern.rstrip("/") + "/"):
                codes += ignored
        if codes:
            # A prefix ("BN0") stands for every code it covers: callers subtract
            # these from sets of full codes.
            from .specs import load_specs

            codes += [known for known in load_specs()
                      if known not in codes and any(known.startswith(c) for c in codes)]
        return tuple(codes)

    def cache_key(self) -> str:
        return repr((self.select, self.ignore, self.extend_select, self.per_file_ignores,
                     self.extra_mode_sensitive_layers, self.keras))


def _codes(value, key: str, where: str) -> Tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of rule codes, got {value!r}")
    for v in value:
        if not (v == "ALL" or (v.startswith("BN") and (v[2:].isdigit() or v == "BN"))):
            raise ConfigError(f"{where}: `{key}` has {v!r}, which is not a rule code or prefix like BN001 or BN0")
    return tuple("BN" if v == "ALL" else v for v in value)


def _best(code: str, patterns: Tuple[str, ...]) -> int:
    return max((len(p) for p in patterns if code.startswith(p)), default=-1)


def with_command_line_selection(cfg: Config, known: Tuple[str, ...],
                                select: Optional[Tuple[str, ...]] = None,
                                ignore: Optional[Tuple[str, ...]] = None,
                                extend_select: Optional[Tuple[str, ...]] = None) -> Config:
    """Layer the command line's rule selection over the config file's, as ruff.

    Within one layer the longest matching prefix decides (a tie goes to
    ignore). Across layers the later one wins: `--select` replaces the file's
    select, ignore and extend-select; `--ignore` and `--extend-select` change
    only the codes they match and keep the file's decision for the others
    (so `--extend-select BN001` re-enables a BN001 the file ignores). The
    result is the explicit list of enabled codes among `known`.
    """
    if select is None and ignore is None and extend_select is None:
        return cfg
    ignore, extend_select = tuple(ignore or ()), tuple(extend_select or ())
    enabled = []
    for code in known:
        sel = max(_best(code, tuple(select or ())), _best(code, extend_select))
        ign = _best(code, ignore)
        if select is not None:
            on = sel >= 0 and sel > ign
        elif sel < 0 and ign < 0:
            on = cfg.is_selected(code)
        else:
            on = sel > ign
        if on:
            enabled.append(code)
    return replace(cfg, select=tuple(sorted(enabled)), ignore=(), extend_select=())


def _strings(value, key: str, where: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings, got {value!r}")
    return tuple(value)


def from_mapping(data: dict, where: str, root: Optional[str] = None, base: Optional[Config] = None) -> Config:
    cfg = base or Config()
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table of settings, got {type(data).__name__}")
    known = {"select", "ignore", "extend-select", "exclude", "extend-exclude", "force-exclude",
             "per-file-ignores", "extra-mode-sensitive-layers", "keras"}
    changes: Dict[str, object] = {}
    for raw_key, value in data.items():
        key = str(raw_key).replace("_", "-")
        if key not in known:
            raise ConfigError(f"{where}: unknown key `{raw_key}` (known: {', '.join(sorted(known))})")
        if key in ("select", "ignore", "extend-select"):
            changes[key.replace("-", "_")] = _codes(value, key, where)
        elif key in ("exclude", "extend-exclude", "extra-mode-sensitive-layers"):
            changes[key.replace("-", "_")] = _strings(value, key, where)
        elif key == "force-exclude":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `force-exclude` must be true or false, got {value!r}")
            changes["force_exclude"] = value
        elif key == "keras":
            value = str(value)
            if value not in KERAS_CHOICES:
                raise ConfigError(f"{where}: `keras` must be one of auto, 2, 3; got {value!r}")
            changes["keras"] = value
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: `per-file-ignores` must map glob patterns to code lists")
            changes["per_file_ignores"] = tuple(
                (str(pattern), _codes(codes, f"per-file-ignores.{pattern}", where))
                for pattern, codes in value.items()
            )
    return replace(cfg, source=where, root=root, **changes)


def find_config_file(start: Path) -> Optional[Path]:
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for d in (directory, *directory.parents):
        yaml_file = d / ".bnlint.yaml"
        if yaml_file.is_file():
            return yaml_file
        pyproject = d / "pyproject.toml"
        if pyproject.is_file():
            try:
                text = pyproject.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError:
                if "tool.bnlint" in text:  # ours, and broken: say so (load reports it)
                    return pyproject
                continue
            if "bnlint" in data.get("tool", {}):
                return pyproject
    return None


def load_config_file(path: Path) -> Config:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read: {exc}") from None
    if path.name == "pyproject.toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: invalid TOML: {exc}") from None
        section = data.get("tool", {}).get("bnlint", {})
    else:
        try:
            section = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where}: invalid YAML: {exc}") from None
    return from_mapping(section, where, root=str(path.parent))


def load_config(start: Optional[Path] = None, explicit: Optional[Path] = None) -> Config:
    if explicit is not None:
        return load_config_file(explicit)
    found = find_config_file(start or Path.cwd())
    return load_config_file(found) if found else Config()
