"""The `bnlint` command: ruff's conventions for flags and exit codes.

Exit codes: 0 no findings, 1 findings (unreadable or unparsable files
count; with --exit-non-zero-on-fix also a fix applied), 2 usage,
configuration or internal error. Each file is checked with its nearest
configuration (config.Settings), as ruff does.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence, TextIO

from . import __version__
from .bounded import TooLarge, read_prefix, read_regular_file
from .config import Config, ConfigError, Settings, _codes, with_command_line_selection
from .errors import UsageError
from .finding import Finding, sort_findings
from .report import FORMATS
from .report.concise import location, summary_lines
from .report.escape import printable
from .report.filenames import text_name
from .specs import load_specs

SUBCOMMANDS = ("check", "rule", "confirm", "server")
# --statistics prints a table; these formats have no place for one.
NO_STATISTICS = ("github", "sarif", "junit")
# Formats that print neither a fix nor whether one is available (`[*]`; and
# --statistics refuses them): no fix is built for them.
NO_FIXES = ("github", "junit")

__all__ = ["UsageError", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse with bnlint's usage errors, and no abbreviated flags (as
    ruff: `--sel` is an unknown flag, not `--select`, so a new flag can never
    change what an old command line means)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # exit 2 with our wording
        if message.startswith("unrecognized arguments:"):
            unknown = message.split(":", 1)[1].split()
            flags = [o for a in self._actions for o in a.option_strings]
            flag = next((u for u in unknown if u.startswith("-")), unknown[0] if unknown else "")
            near = difflib.get_close_matches(flag.split("=", 1)[0], flags, n=1, cutoff=0.6)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            raise UsageError(f"{self.format_usage().rstrip()}\n{self.prog}: error: "
                             f"unrecognized argument '{flag}'{hint}\n"
                             f"For more information, try '{self.prog} --help'.")
        raise UsageError(f"{self.prog}: {message}")


def _codes_arg(value: str) -> List[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build_parser(plug: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The argument parser. The optional subcommands named in `plug` get
    their full arguments (their modules are imported); the others are listed
    in --help only, so `bnlint --version` and `bnlint rule` stay light."""
    parser = _Parser(prog="bnlint", description=(
        "Find train/inference-mode bugs in TensorFlow/Keras code "
        "(BatchNormalization and Dropout running in the wrong mode)."))
    parser.add_argument("--version", action="version", version=f"bnlint {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    parser.set_defaults(_parsers={"": parser})

    check = sub.add_parser("check", help="lint files and directories (the default)",
                           usage="%(prog)s [options] [paths ...]")
    parser.get_default("_parsers")["check"] = check
    check.add_argument("paths", nargs="*", help="files or directories; '-' reads stdin")
    check.add_argument("--select", type=_codes_arg, help="rule codes or prefixes to enable (BN001,BN0)")
    check.add_argument("--extend-select", type=_codes_arg, help="codes to enable on top of the config's")
    check.add_argument("--ignore", type=_codes_arg, help="codes or prefixes to disable")
    check.add_argument("--exclude", type=_codes_arg,
                       help="gitignore-style patterns to exclude (replaces the defaults)")
    check.add_argument("--extend-exclude", type=_codes_arg,
                       help="gitignore-style patterns to exclude on top of the defaults")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply the excludes to files named on the command line too (for pre-commit)")
    check.add_argument("--respect-gitignore", dest="respect_gitignore", action="store_true", default=None,
                       help="skip files that .gitignore ignores (the default)")
    check.add_argument("--no-respect-gitignore", dest="respect_gitignore", action="store_false",
                       help="check files that .gitignore ignores too")
    check.add_argument("--output-format", choices=sorted(FORMATS), default="concise")
    check.add_argument("-o", "--output-file", help="write the report to this file instead of stdout")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour the output (auto: on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it)")
    check.add_argument("--statistics", action="store_true", help="print only a count of findings per rule")
    check.add_argument("--show-files", action="store_true", help="print the files that would be checked, then exit")
    check.add_argument("--show-settings", action="store_true",
                       help="print the settings used for the first path, then exit")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--exit-non-zero-on-fix", action="store_true",
                       help="exit 1 when --fix changed a file, even if no finding is left")
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
    check.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    check.add_argument("--cache-dir", help="where to keep the cache (default: a directory for this project "
                       "under $XDG_CACHE_HOME/bnlint, ~/.cache/bnlint)")
    check.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: cores)")
    check.add_argument("--config", type=Path, help="a pyproject.toml or .bnlint.yaml to use for every file")
    check.add_argument("--keras", choices=("auto", "2", "3"), help="which Keras the code runs under")
    check.add_argument("--stdin-filename", help="the file name to report for '-'")
    check.add_argument("--confirm", metavar="'SCRIPT [ARGS]'",
                       help="then run SCRIPT under TensorFlow and confirm/refute these findings (bnlint confirm)")
    check.add_argument("--fix", action="store_true", help="apply safe fixes in place, then report what is left")
    check.add_argument("--unsafe-fixes", action="store_true", help="with --fix/--diff: apply unsafe fixes too")
    check.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    check.add_argument("--add-noqa", action="store_true",
                       help="add `# noqa: CODE` to every line with a finding (to adopt bnlint in a big code base)")

    rule = sub.add_parser("rule", help="print a rule's documentation")
    parser.get_default("_parsers")["rule"] = rule
    rule.add_argument("code", nargs="?", help="e.g. BN001")
    rule.add_argument("--all", action="store_true", help="every rule")

    # Optional subcommands live in their own modules (thin adapters), imported
    # only when that subcommand runs: the server's module loads the engine.
    for name, module, help_text in _PLUGGED:
        sp = sub.add_parser(name, help=help_text)
        parser.get_default("_parsers")[name] = sp
        if name in plug:
            try:
                mod = __import__(f"bnlint.{module}", fromlist=["add_arguments"])
            except ImportError as exc:
                raise UsageError(f"bnlint {name}: not available: {exc}") from None
            mod.add_arguments(sp)
            sp.set_defaults(_run=mod.run)
    return parser


# (subcommand, module under bnlint/, help). Each module has
# add_arguments(parser) and run(args, out) -> exit code.
_PLUGGED = (
    ("confirm", "runtime.command", "run a training script under TensorFlow and confirm the findings"),
    ("server", "lsp", "run the language server (LSP over stdio) for editors"),
)


def _command_line_adjust(args: argparse.Namespace):
    """The command line's overrides, as a function applied to each file's config."""
    chosen = {attr: _codes(getattr(args, attr), "--" + attr.replace("_", "-"), "command line")
              for attr in ("select", "ignore", "extend_select") if getattr(args, attr) is not None}
    known = tuple(sorted(load_specs()))  # every checker has a spec (tested)

    def adjust(config: Config) -> Config:
        # ruff's layering: the command line is applied over the file's selection.
        config = with_command_line_selection(config, known, **chosen)
        changes: Dict[str, object] = {}
        if args.exclude is not None:
            changes["exclude"] = tuple(args.exclude)
        if args.extend_exclude is not None:
            changes["extend_exclude"] = tuple(config.extend_exclude) + tuple(args.extend_exclude)
        if args.keras:
            changes["keras"] = args.keras
        if getattr(args, "force_exclude", False):
            changes["force_exclude"] = True
        if getattr(args, "respect_gitignore", None) is not None:
            changes["respect_gitignore"] = args.respect_gitignore
        return replace(config, **changes) if changes else config
    return adjust


def _read_source(path: str) -> str:
    """The file's text for `--output-format full` ("" if it cannot be read,
    is no longer a regular file or is now over the size limit)."""
    from .engine import size_limit

    try:
        return read_regular_file(path, size_limit(path)).decode("utf-8", "replace")
    except (OSError, TooLarge):
        return ""


def _use_color(choice: str, stream) -> bool:
    """--color: always/never as said; auto colours a terminal unless NO_COLOR
    is set (https://no-color.org), and FORCE_COLOR (non-empty) forces it."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class _Progress:
    """`files done / total` on stderr for a cold run longer than about a
    second, only on a terminal and never in CI (the CI variable set)."""

    DELAY = 1.0  # seconds before the first update

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.shown = False
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)()) and not os.environ.get("CI")

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.start < self.DELAY:
            return
        self.stream.write(f"\rbnlint: {done}/{total} files")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _fix_stdin_too_large(head: bytes, name: str, args: argparse.Namespace, out) -> int:
    """`--fix -` / `--diff -` over the size limit: BN904 on stderr, exit 1.
    `--fix` passes the input through unchanged (streamed, never held whole);
    `--diff` prints nothing on stdout."""
    from .engine import size_limit, too_large

    finding = too_large(name, None, size_limit(name))
    if args.fix and not args.diff:
        out.flush()
        sink = getattr(out, "buffer", None)
        if sink is not None:
            sink.write(head)
            shutil.copyfileobj(sys.stdin.buffer, sink)
            sink.flush()
        else:  # a text stream (tests): undecodable bytes as surrogates
            out.write(head.decode("utf-8", "surrogateescape"))
            for chunk in iter(lambda: sys.stdin.buffer.read(1 << 20), b""):
                out.write(chunk.decode("utf-8", "surrogateescape"))
    sys.stderr.write(f"{location(finding)}: {finding.code} {printable(finding.message)}\n")
    return 1


def run_check(args: argparse.Namespace, out: TextIO) -> int:
    """`bnlint check` (and --fix/--diff/--add-noqa), with the garbage
    collector's batch thresholds (gcpause.py)."""
    from .gcpause import batch_thresholds

    with batch_thresholds():
        return _run_check(args, out)


def _run_check(args: argparse.Namespace, out: TextIO) -> int:
    paths = args.paths or ["."]
    # As ruff: --stdin-filename without paths reads standard input too.
    stdin_mode = paths == ["-"] or (args.stdin_filename is not None and not args.paths)
    if args.statistics and args.output_format in NO_STATISTICS:
        raise UsageError(f"bnlint: --statistics prints a table; it cannot be combined with "
                         f"--output-format {args.output_format} (use concise, full, json or json-lines)")
    settings = Settings(args.config, _command_line_adjust(args))
    # The anchor: the first path's config places the cache and answers --show-settings.
    start = Path(args.stdin_filename or ".") if stdin_mode else Path(paths[0])
    config = settings(start)
    if args.show_settings:
        return _show_settings(start, config, out)
    sources: Dict[str, str] = {}
    # The engine (and libcst) load only here: `bnlint confirm`, `rule` and
    # `server` start without them.
    from .engine import RunStats, lint_bytes, lint_paths, size_limit, too_large
    from .meta import meta_finding
    from .files import discover

    stats = RunStats()
    fixed_any = False
    problems: List = []
    if stdin_mode and args.add_noqa:
        raise UsageError("bnlint: --add-noqa edits files in place; it cannot read standard input")
    if stdin_mode:
        name = args.stdin_filename or "-"
        data = read_prefix(sys.stdin.buffer, size_limit(name))  # never more than the limit + 1 byte
        if len(data) > size_limit(name) and (args.fix or args.diff):
            return _fix_stdin_too_large(data, name, args, out)
        if args.fix or args.diff:
            from .fixes.command import fix_stdin
            return fix_stdin(data, name, config, args.unsafe_fixes, args.diff, out)
        if args.show_files:
            out.write(text_name(name) + "\n")
            return 0
        if len(data) > size_limit(name):
            findings = [too_large(name, None, size_limit(name))]
        else:
            findings = lint_bytes(data, name, config)
            sources[name] = data.decode("utf-8", "replace")
        stats.files = 1
    else:
        missing = [p for p in paths if p != "-" and not os.path.lexists(p)]
        if missing:
            raise UsageError(f"bnlint: no such file or directory: {missing[0]}")
        files = discover(paths, settings, problems)
        if args.show_files:
            out.write("".join(text_name(f) + "\n" for f in sorted(files)))  # one line per name
            return 0
        if args.add_noqa:
            from .add_noqa import add_noqa_to_files
            from .fixes.write import tree_roots
            return add_noqa_to_files(files, settings, out, quiet=args.quiet, roots=tree_roots(paths))
        if args.fix or args.diff:
            from .fixes.command import fix_and_tell
            if args.diff:  # exit 1 when something would change
                return fix_and_tell(files, config, args, out, config_for=settings)
            fixed_any = bool(fix_and_tell(files, config, args, out, config_for=settings))
        progress = _Progress()
        try:
            results = lint_paths(files, config, jobs=args.jobs, use_cache=not args.no_cache,
                                 cache_dir=args.cache_dir, stats=stats, config_for=settings,
                                 progress=progress, fixes=_shows_fixes(args))
        finally:
            progress.close()
        findings = [f for r in results for f in r.findings]
        for path, reason in problems:  # a directory we could not list is not a clean result
            findings.append(meta_finding("BN901", path, f"cannot list this directory: {reason}"))
            stats.files += 1
    findings = sort_findings(findings)
    if getattr(args, "confirm", None):
        from .runtime.command import confirm_after_check
        return confirm_after_check(args, findings, out)
    if args.output_format == "full":
        for f in findings:
            if f.filename not in sources:
                sources[f.filename] = _read_source(f.filename)
    # A report file is coloured only when asked for by name (--color always).
    color = _use_color(args.color, out) if not (args.output_file and args.color == "auto") else False
    if args.statistics:
        _print_statistics(findings, out, args.output_format, args.unsafe_fixes)
    elif args.output_format in ("concise", "full"):
        out.write(FORMATS[args.output_format](findings, sources, unsafe=args.unsafe_fixes, color=color))
    else:
        out.write(FORMATS[args.output_format](findings, sources))
    if not args.quiet and not args.statistics and args.output_format in ("concise", "full"):
        out.write("".join(line + "\n" for line in summary_lines(findings, stats.files, args.unsafe_fixes)))
    if args.exit_zero:  # as ruff: it wins over --exit-non-zero-on-fix
        return 0
    return int(bool(findings) or (fixed_any and args.exit_non_zero_on_fix))


def _shows_fixes(args: argparse.Namespace) -> bool:
    """Does this run's output show fixes or `[*]` (or `--confirm` follow)?"""
    return args.output_format not in NO_FIXES or args.fix or args.diff or bool(getattr(args, "confirm", None))


def _show_settings(start: Path, config: Config, out: TextIO) -> int:
    """ruff's --show-settings: the resolved settings for one path, as TOML-ish
    `key = value` lines, the default excludes spelt out."""
    out.write(f"Resolved settings for: {text_name(str(start))}\n")
    out.write(f"Settings path: {text_name(config.source) if config.source else '(none: defaults)'}\n\n")
    rows = [
        ("select", list(config.select)), ("extend-select", list(config.extend_select)),
        ("ignore", list(config.ignore)), ("exclude", list(config.exclude)),
        ("extend-exclude", list(config.extend_exclude)), ("force-exclude", config.force_exclude),
        ("respect-gitignore", config.respect_gitignore),
        ("per-file-ignores", {p: list(c) for p, c in config.per_file_ignores}),
        ("extra-mode-sensitive-layers", list(config.extra_mode_sensitive_layers)),
        ("keras", config.keras),
    ]
    for key, value in rows:
        out.write(f"{key} = {json.dumps(value)}\n")
    return 0


def _statistics_rows(findings: List[Finding], unsafe: bool):
    specs = load_specs()
    counts = Counter(f.code for f in findings)
    fixable = Counter(f.code for f in findings
                      if f.fix is not None and (f.fix.applicability == "safe" or unsafe))
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        yield code, n, specs[code].name if code in specs else "", fixable[code] > 0


def _print_statistics(findings: List[Finding], out: TextIO, fmt: str, unsafe: bool) -> None:
    """Only the table: `count<TAB>code<TAB>[*] name` lines (concise, full),
    one JSON document (json) or one object a line (json-lines), as ruff."""
    rows = [{"code": c, "name": name, "count": n, "fixable": fix}
            for c, n, name, fix in _statistics_rows(findings, unsafe)]
    if fmt == "json":
        out.write(json.dumps(rows, indent=2) + "\n")
    elif fmt == "json-lines":
        out.write("".join(json.dumps(row) + "\n" for row in rows))
    else:
        for row in rows:
            mark = "[*] " if row["fixable"] else ""
            out.write(f"{row['count']:>5}\t{row['code']}\t{mark}{row['name']}\n")


def run_rule(args: argparse.Namespace, out: TextIO) -> int:
    specs = load_specs()
    if args.all:
        out.write("\n".join(spec.render_docs() for spec in specs.values()))
        return 0
    if not args.code:
        raise UsageError("bnlint rule: give a rule code (e.g. BN001) or --all")
    code = args.code.upper()
    if code not in specs:
        raise UsageError(f"bnlint rule: unknown rule {args.code!r} (known: {', '.join(specs)})")
    out.write(specs[code].render_docs())
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "check")
    out = sys.stdout
    try:
        out.reconfigure(errors="backslashreplace")  # non-UTF-8 file names print
    except (AttributeError, ValueError):
        pass
    opened = None
    try:
        parser = build_parser(plug=argv[:1])
        args, extra = parser.parse_known_args(argv)
        if extra:  # reported by the subcommand's parser: its usage line, its flags
            parsers = parser.get_default("_parsers")
            parsers.get(args.command or "", parser).error(f"unrecognized arguments: {' '.join(extra)}")
        if getattr(args, "output_file", None):
            try:
                opened = out = open(args.output_file, "w", encoding="utf-8", errors="backslashreplace")
            except OSError as exc:
                raise UsageError(f"bnlint: --output-file: cannot write {args.output_file}: "
                                 f"{exc.strerror or exc}") from None
        if args.command == "rule":
            return run_rule(args, out)
        if getattr(args, "_run", None) is not None:
            return args._run(args, out)
        return run_check(args, out)
    except (UsageError, ConfigError) as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # an internal error is exit 2, with a short report
        sys.stderr.write(f"bnlint: internal error: {type(exc).__name__}: {exc}\n")
        return 2
    finally:
        if opened is not None:
            opened.close()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
