"""Configuration: [tool.bnlint] in pyproject.toml, or .bnlint.yaml.

Each file gets the configuration of its nearest config file (searched upward
from the file's directory), as ruff does; `--config` names one file for all.
`settings_for(path)` is the one entry point that the CLI, the flake8 plugin,
pre-commit and the language server share. Keys use ruff's spelling. A bad
value is a ConfigError naming the key and the file. Path patterns (`exclude`,
`extend-exclude`, `per-file-ignores`) are gitignore-style, matched by the
pathspec library, relative to the config file's directory.
"""

from __future__ import annotations

import os
import reprlib
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

import pathspec
import yaml

from .bounded import NotRegularFile, TooLarge, read_regular_file

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
MAX_CONFIG_BYTES = 1024 * 1024  # a config file larger than this is refused


class _NoAliasLoader(yaml.SafeLoader):
    """safe_load without aliases (`*name`): a few hundred bytes of nested
    aliases expand to billions of nodes (billion laughs); a config needs none."""

    def compose_node(self, parent, index):  # noqa: D102 (PyYAML hook)
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in bnlint's configuration",
                self.peek_event().start_mark)
        return super().compose_node(parent, index)


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
    respect_gitignore: bool = True  # skip what .gitignore files ignore (directory walks only)
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    extra_mode_sensitive_layers: Tuple[str, ...] = ()
    keras: str = "auto"
    source: Optional[str] = None  # the file this came from
    root: Optional[str] = None  # its directory: per-file-ignores are relative to it

    def is_selected(self, code: str) -> bool:
        """ruff semantics: the longest matching prefix decides (see `_best`
        for `ALL` and for rules that are off by default)."""
        best_sel = _best(code, self.select + self.extend_select, selecting=True)
        best_ign = _best(code, self.ignore)
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
            if path_spec((pattern,)).match_file(matchable(text)):
                codes += ignored
        if codes:
            # A prefix ("BN0") stands for every code it covers: callers subtract
            # these from sets of full codes.
            from .specs import load_specs

            codes += [known for known in load_specs()
                      if known not in codes and any(known.startswith(c) for c in codes)]
        return tuple(codes)

    def cache_key(self) -> str:
        """What of this config decides a file's findings (the cache's key);
        `root` too, since per-file-ignores patterns are relative to it."""
        return repr((self.select, self.ignore, self.extend_select, self.per_file_ignores,
                     self.extra_mode_sensitive_layers, self.keras, self.root))


def matchable(path: str) -> str:
    """`path` as valid Unicode for path_spec(...).match_file (re2 takes only
    that): each undecodable byte of a file name (a lone surrogate, PEP 383)
    becomes U+FFFD, as an undecodable byte of a .gitignore does when it is
    read; any other path is returned unchanged."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        pass
    try:
        data = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte (not from the file system)
        data = path.encode("utf-8", "surrogatepass")
    return data.decode("utf-8", "replace")


@lru_cache(maxsize=256)
def path_spec(patterns: Tuple[str, ...]) -> pathspec.PathSpec:
    """gitignore-style patterns, compiled once: a pattern without a slash
    matches a name at any depth; one with a slash is anchored at the config
    file's directory; `dir/` matches a directory and everything in it.
    Matched by pathspec's best backend, re2 (google-re2, installed with
    `pathspec[re2]`): linear in the path's length for any pattern a
    repository's config holds (tests/test_regex_linear.py)."""
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def known_codes() -> Tuple[str, ...]:
    """Every rule code bnlint has (one spec file each under rules/), sorted."""
    from .specs import load_specs  # rules/*.yaml; imported late, specs must not import config

    return tuple(sorted(load_specs()))


def unknown_code_message(value: str, key: str, where: str) -> str:
    known = known_codes()
    prefixes = sorted({c[:3] for c in known})
    return (f"{where}: `{key}` has unknown rule selector {reprlib.repr(value)}; known codes: "
            f"{', '.join(known)} (or a prefix of one, such as {', '.join(prefixes)}, or ALL)")


def _codes(value, key: str, where: str) -> Tuple[str, ...]:
    """Rule selectors: full codes, prefixes of known codes, or ALL. Anything
    else (a typo, a code that does not exist) is a ConfigError: as ruff's
    "Unknown rule selector", a silent typo would turn CI green."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of rule codes, got {reprlib.repr(value)}")
    known = known_codes()
    for v in value:
        if v == "ALL":
            continue
        if not (v.startswith("BN") and (v[2:].isdigit() or v == "BN")) \
                or not any(code.startswith(v) for code in known):
            raise ConfigError(unknown_code_message(v, key, where))
    return tuple(value)


def default_on(code: str) -> bool:
    """Is the rule on by default (`default:` in its spec)? Unknown codes are."""
    from .specs import load_specs  # imported late: specs must not import config

    spec = load_specs().get(code)
    return spec is None or spec.default


def _best(code: str, patterns: Tuple[str, ...], selecting: bool = False) -> int:
    """Length of the longest selector in `patterns` that matches `code`, or -1.

    `ALL` matches every code, as the shortest selector (length 0), so any
    prefix in the other list outweighs it. When `selecting`, the bare `BN`
    (the default selection) does not match a rule that is off by default:
    such a rule is enabled only by a selector that names it more closely
    (`BN1`, `BN105`) or by `ALL`, as flake8-bugbear's opinionated checks."""
    best = -1
    for p in patterns:
        if p == "ALL":
            best = max(best, 0)
        elif code.startswith(p) and not (selecting and p == "BN" and not default_on(code)):
            best = max(best, len(p))
    return best


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
        sel = max(_best(code, tuple(select or ()), selecting=True), _best(code, extend_select, selecting=True))
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
        raise ConfigError(f"{where}: `{key}` must be a list of strings, got {reprlib.repr(value)}")
    for v in value:
        _text(v, key, where)
        if key == "extra-mode-sensitive-layers" and not all(p.isidentifier() for p in v.split(".")):
            raise ConfigError(f"{where}: `{key}` has {reprlib.repr(v)}, which is not a dotted "
                              "Python name like my_pkg.layers.MyNorm")
    return tuple(value)


def _short(text: str) -> str:
    """At most 60 characters of `text` for a message, lone surrogates escaped."""
    text = text if len(text) <= 60 else text[:57] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _text(value: str, key: str, where: str) -> str:
    """A string that can be written out: no lone surrogates (YAML's "\\ud800")."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"{where}: `{key}` has {reprlib.repr(value)}, which is not valid Unicode "
                          "(a lone surrogate)") from None
    return value


def from_mapping(data: dict, where: str, root: Optional[str] = None, base: Optional[Config] = None) -> Config:
    cfg = base or Config()
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table of settings, got {type(data).__name__}")
    known = {"select", "ignore", "extend-select", "exclude", "extend-exclude", "force-exclude",
             "respect-gitignore", "per-file-ignores", "extra-mode-sensitive-layers", "keras"}
    changes: Dict[str, object] = {}
    for raw_key, value in data.items():
        key = str(raw_key).replace("_", "-")
        if key not in known:
            raise ConfigError(f"{where}: unknown key `{_short(key)}` (known: {', '.join(sorted(known))})")
        if key in ("select", "ignore", "extend-select"):
            changes[key.replace("-", "_")] = _codes(value, key, where)
        elif key in ("exclude", "extend-exclude", "extra-mode-sensitive-layers"):
            changes[key.replace("-", "_")] = _strings(value, key, where)
        elif key in ("force-exclude", "respect-gitignore"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `{key}` must be true or false, got {reprlib.repr(value)}")
            changes[key.replace("-", "_")] = value
        elif key == "keras":
            value = str(value)
            if value not in KERAS_CHOICES:
                raise ConfigError(f"{where}: `keras` must be one of auto, 2, 3; got {reprlib.repr(value)}")
            changes["keras"] = value
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: `per-file-ignores` must map glob patterns to code lists")
            changes["per_file_ignores"] = tuple(
                (_text(str(pattern), "per-file-ignores", where),
                 _codes(codes, f"per-file-ignores.{reprlib.repr(pattern)}", where))
                for pattern, codes in value.items()
            )
    return replace(cfg, source=where, root=root, **changes)


def find_config_file(start: Path) -> Optional[Path]:
    """The nearest config file at or above `start` (a file or directory), or None."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for d in (directory, *directory.parents):
        found = _config_file_in(d)
        if found is not None:
            return found
    return None


def _config_file_in(d: Path) -> Optional[Path]:
    """`d`'s own config file: .bnlint.yaml, else a pyproject.toml with [tool.bnlint].
    Memoised on both files' stamps: a flake8 run or an editor session stats
    them per lookup but parses each pyproject.toml once per version."""
    return _config_file_in_cached(d, _stamp(d / ".bnlint.yaml"), _stamp(d / "pyproject.toml"))


@lru_cache(maxsize=1024)
def _config_file_in_cached(d: Path, _yaml_stamp, _pyproject_stamp) -> Optional[Path]:
    yaml_file = d / ".bnlint.yaml"
    if yaml_file.is_file():
        return yaml_file
    pyproject = d / "pyproject.toml"
    if pyproject.is_file():
        try:
            text = read_regular_file(str(pyproject), MAX_CONFIG_BYTES).decode("utf-8")
        except TooLarge:
            return pyproject  # cannot tell whether it is ours: load says it is too large
        except (OSError, UnicodeDecodeError):
            return None
        try:
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError, MemoryError):
            if "tool.bnlint" in text:  # ours, and broken: say so (load reports it)
                return pyproject
            return None
        tool = data.get("tool")
        if isinstance(tool, dict) and "bnlint" in tool:
            return pyproject
    return None


def load_config_file(path: Path) -> Config:
    """The Config in a pyproject.toml ([tool.bnlint]) or YAML file. Raises
    ConfigError for anything wrong with the file: not a regular file, over
    MAX_CONFIG_BYTES, not UTF-8, invalid TOML/YAML, YAML aliases, nesting
    too deep to parse, a bad key or value."""
    where = str(path)
    try:
        text = read_regular_file(str(path), MAX_CONFIG_BYTES).decode("utf-8")
    except TooLarge:
        raise ConfigError(f"{where}: over the {MAX_CONFIG_BYTES // 1024} KiB limit for a "
                          "configuration file") from None
    except NotRegularFile as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read: {exc}") from None
    if path.name == "pyproject.toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: invalid TOML: {exc}") from None
        except (RecursionError, MemoryError):
            raise ConfigError(f"{where}: invalid TOML: nested too deeply") from None
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{where}: `tool` must be a table, got {reprlib.repr(tool)}")
        section = tool.get("bnlint", {})
    else:
        try:
            section = yaml.load(text, Loader=_NoAliasLoader) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where}: invalid YAML: {exc}") from None
        except (RecursionError, MemoryError):
            raise ConfigError(f"{where}: invalid YAML: nested too deeply") from None
    return from_mapping(section, where, root=str(path.parent))


def load_config(start: Optional[Path] = None, explicit: Optional[Path] = None) -> Config:
    if explicit is not None:
        return load_config_file(explicit)
    found = find_config_file(start or Path.cwd())
    return load_config_file(found) if found else Config()


# -- which configuration applies to a path -----------------------------------
@lru_cache(maxsize=128)
def _load_cached(path: str, stamp: Tuple[int, int, int]) -> Config:
    """load_config_file, once per version of the file (stamp: inode, size,
    mtime in ns), so a long-running editor session sees edits."""
    return load_config_file(Path(path))


def _stamp(path: Path) -> Tuple[int, int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, 0, 0)  # load_config_file reports it
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _directory_of(path: Union[str, Path]) -> Path:
    p = Path(os.path.abspath(path))
    return p if p.is_dir() else p.parent


def settings_for(path: Union[str, Path], explicit: Optional[Path] = None) -> Config:
    """The configuration for the file or directory at `path` (it need not
    exist: an unsaved editor buffer or a `--stdin-filename`).

    `explicit` (the `--config` file) wins for every path; otherwise the
    nearest `.bnlint.yaml` or `pyproject.toml` with `[tool.bnlint]` at or
    above the path's directory, as ruff's hierarchical configuration; with
    none, the defaults. Loaded files are cached by (inode, size, mtime), so
    repeated calls are cheap and an edited config file is re-read. Raises
    ConfigError for a bad config file. Used by the CLI (through Settings),
    the flake8 plugin and the language server alike.
    """
    return _for_directory(_directory_of(path), explicit)


def _for_directory(directory: Path, explicit: Optional[Path] = None) -> Config:
    if explicit is not None:
        return _load_cached(str(explicit), _stamp(Path(explicit)))
    if not directory.exists():  # a new file in a new folder: its nearest existing ancestor
        directory = next((d for d in directory.parents if d.exists()), Path.cwd())
    found = find_config_file(directory)
    return _load_cached(str(found), _stamp(found)) if found else Config()


class Settings:
    """Configuration per path for one CLI run: `settings_for` plus the
    command line's overrides (`adjust`, applied to every file's config), with
    the lookup cached per directory for the length of the run."""

    def __init__(self, explicit: Optional[Path] = None,
                 adjust: Optional[Callable[[Config], Config]] = None) -> None:
        self.explicit = explicit
        self._adjust = adjust or (lambda cfg: cfg)
        self._by_dir: Dict[str, Config] = {}
        self._adjusted: Dict[Config, Config] = {}
        self._file_for: Dict[Path, Optional[Path]] = {}  # directory -> nearest config file

    def _nearest(self, directory: Path) -> Optional[Path]:
        """find_config_file, memoised per directory for this run: a walk of a
        big tree reads each pyproject.toml once, not once per subdirectory."""
        chain = []
        d: Optional[Path] = directory
        while d is not None and d not in self._file_for:
            chain.append(d)
            d = d.parent if d.parent != d else None
        found = self._file_for.get(d) if d is not None else None
        for c in reversed(chain):
            own = _config_file_in(c)
            found = own if own is not None else found
            self._file_for[c] = found
        return found

    def for_directory(self, directory: Union[str, Path]) -> Config:
        key = os.path.abspath(directory)
        if key not in self._by_dir:
            directory = Path(key)
            if self.explicit is not None or not directory.exists():
                base = _for_directory(directory, self.explicit)
            else:
                found = self._nearest(directory.resolve())
                base = _load_cached(str(found), _stamp(found)) if found else Config()
            if base not in self._adjusted:
                self._adjusted[base] = self._adjust(base)
            self._by_dir[key] = self._adjusted[base]
        return self._by_dir[key]

    def __call__(self, path: Union[str, Path]) -> Config:
        """The configuration for a file (or directory) path."""
        absolute = os.path.abspath(path)  # as _directory_of, without pathlib (once per linted file)
        return self.for_directory(absolute if os.path.isdir(absolute) else os.path.dirname(absolute))

    def configs(self) -> List[Config]:
        """Every distinct configuration used so far."""
        return list(dict.fromkeys(self._by_dir.values()))
