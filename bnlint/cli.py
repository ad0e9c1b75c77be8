"""The `bnlint` command: ruff's conventions for flags and exit codes.

Exit codes: 0 no findings, 1 findings (unreadable or unparsable files
count), 2 usage, configuration or internal error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from . import __version__
from .config import Config, ConfigError, _codes, load_config, with_command_line_selection
from .errors import UsageError
from .finding import Finding, sort_findings
from .report import FORMATS
from .specs import load_specs

SUBCOMMANDS = ("check", "rule", "confirm", "server")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with our wording
        raise UsageError(f"{self.prog}: {message}")


def _codes_arg(value: str) -> List[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bnlint", description=(
        "Find train/inference-mode bugs in TensorFlow/Keras code "
        "(BatchNormalization and Dropout running in the wrong mode)."))
    parser.add_argument("--version", action="version", version=f"bnlint {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    check = sub.add_parser("check", help="lint files and directories (the default)")
    check.add_argument("paths", nargs="*", help="files or directories; '-' reads stdin")
    check.add_argument("--select", type=_codes_arg, help="rule codes or prefixes to enable (BN001,BN0)")
    check.add_argument("--extend-select", type=_codes_arg, help="codes to enable on top of the config's")
    check.add_argument("--ignore", type=_codes_arg, help="codes or prefixes to disable")
    check.add_argument("--exclude", type=_codes_arg, help="glob patterns to exclude (replaces the defaults)")
    check.add_argument("--extend-exclude", type=_codes_arg, help="glob patterns to exclude on top of the defaults")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply the excludes to files named on the command line too (for pre-commit)")
    check.add_argument("--output-format", choices=sorted(FORMATS), default="concise")
    check.add_argument("--statistics", action="store_true", help="count findings per rule")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
    check.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    check.add_argument("--cache-dir", help="where to keep the cache (default: a directory for this project "
                       "under $XDG_CACHE_HOME/bnlint, ~/.cache/bnlint)")
    check.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: cores)")
    check.add_argument("--config", type=Path, help="a pyproject.toml or .bnlint.yaml to use")
    check.add_argument("--keras", choices=("auto", "2", "3"), help="which Keras the code runs under")
    check.add_argument("--stdin-filename", help="the file name to report for '-'")
    check.add_argument("--confirm", metavar="'SCRIPT [ARGS]'",
                       help="then run SCRIPT under TensorFlow and confirm/refute these findings (bnlint confirm)")
    check.add_argument("--fix", action="store_true", help="apply safe fixes in place, then report what is left")
    check.add_argument("--unsafe-fixes", action="store_true", help="with --fix/--diff: apply unsafe fixes too")
    check.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")

    rule = sub.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code", nargs="?", help="e.g. BN001")
    rule.add_argument("--all", action="store_true", help="every rule")

    # Optional subcommands live in their own modules (thin adapters); their
    # modules must not import TensorFlow or pygls at import time.
    for name, module, help_text in _PLUGGED:
        try:
            mod = __import__(f"bnlint.{module}", fromlist=["add_arguments"])
        except ImportError:
            continue
        sp = sub.add_parser(name, help=help_text)
        mod.add_arguments(sp)
        sp.set_defaults(_run=mod.run)
    return parser


# (subcommand, module under bnlint/, help). Each module has
# add_arguments(parser) and run(args, out) -> exit code.
_PLUGGED = (
    ("confirm", "runtime.command", "run a training script under TensorFlow and confirm the findings"),
    ("server", "lsp", "run the language server (LSP over stdio) for editors"),
)


def _effective_config(args: argparse.Namespace, start: Path) -> Config:
    from dataclasses import replace

    config = load_config(start, args.config)
    changes: Dict[str, object] = {}
    chosen = {attr: _codes(getattr(args, attr), "--" + attr.replace("_", "-"), "command line")
              for attr in ("select", "ignore", "extend_select") if getattr(args, attr) is not None}
    # ruff's layering: the command line is applied over the file's selection.
    known = tuple(sorted(load_specs()))  # every checker has a spec (tested)
    config = with_command_line_selection(config, known, **chosen)
    if args.exclude is not None:
        changes["exclude"] = tuple(args.exclude)
    if args.extend_exclude is not None:
        changes["extend_exclude"] = tuple(config.extend_exclude) + tuple(args.extend_exclude)
    if args.keras:
        changes["keras"] = args.keras
    if getattr(args, "force_exclude", False):
        changes["force_exclude"] = True
    return replace(config, **changes) if changes else config


def _read_source(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run_check(args: argparse.Namespace, out) -> int:
    paths = args.paths or ["."]
    # As ruff: --stdin-filename without paths reads standard input too.
    stdin_mode = paths == ["-"] or (args.stdin_filename is not None and not args.paths)
    start = Path(args.stdin_filename or ".") if stdin_mode else Path(paths[0])
    # A --stdin-filename need not exist yet: its directory's config applies.
    config = _effective_config(args, start if stdin_mode or start.exists() else Path.cwd())
    sources: Dict[str, str] = {}
    # The engine (and libcst) load only here: `bnlint confirm`, `rule` and
    # `server` start without them.
    from .engine import RunStats, lint_bytes, lint_paths
    from .files import discover

    stats = RunStats()
    if stdin_mode:
        data = sys.stdin.buffer.read()
        name = args.stdin_filename or "-"
        if args.fix or args.diff:
            from .fixes.command import fix_stdin
            return fix_stdin(data, name, config, args.unsafe_fixes, args.diff, out)
        findings = lint_bytes(data, name, config)
        sources[name] = data.decode("utf-8", "replace")
        stats.files = 1
    else:
        missing = [p for p in paths if p != "-" and not os.path.lexists(p)]
        if missing:
            raise UsageError(f"bnlint: no such file or directory: {missing[0]}")
        files = discover(paths, config)
        if args.fix or args.diff:
            from .fixes.command import fix_and_tell
            if args.diff:  # exit 1 when something would change
                return fix_and_tell(files, config, args, out)
            fix_and_tell(files, config, args, out)  # then report what is left
        results = lint_paths(files, config, jobs=args.jobs, use_cache=not args.no_cache,
                             cache_dir=args.cache_dir, stats=stats)
        findings = [f for r in results for f in r.findings]
    findings = sort_findings(findings)
    if getattr(args, "confirm", None):
        from .runtime.command import confirm_after_check
        return confirm_after_check(args, findings, out)
    if args.output_format == "full":
        for f in findings:
            if f.filename not in sources:
                sources[f.filename] = _read_source(f.filename)
    if args.statistics and args.output_format == "json":
        # As ruff: JSON statistics replace the findings, so stdout stays one JSON document.
        specs = load_specs()
        counts = sorted(Counter(f.code for f in findings).items(), key=lambda kv: (-kv[1], kv[0]))
        out.write(json.dumps([{"code": c, "name": specs[c].name if c in specs else "", "count": n}
                              for c, n in counts], indent=2) + "\n")
    else:
        out.write(FORMATS[args.output_format](findings, sources))
        if args.statistics:
            _print_statistics(findings, out)
    if not args.quiet and args.output_format in ("concise", "full"):
        if findings:
            noun = "finding" if len(findings) == 1 else "findings"
            files = "file" if stats.files == 1 else "files"
            out.write(f"Found {len(findings)} {noun} in {stats.files} {files} checked.\n")
        else:
            files = "file" if stats.files == 1 else "files"
            out.write(f"All checks passed! ({stats.files} {files} checked)\n")
    if findings and not args.exit_zero:
        return 1
    return 0


def _print_statistics(findings: List[Finding], out) -> None:
    counts = Counter(f.code for f in findings)
    specs = load_specs()
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        name = specs[code].name if code in specs else ""
        out.write(f"{n:>5}\t{code}\t{name}\n")


def run_rule(args: argparse.Namespace, out) -> int:
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
    try:
        args = build_parser().parse_args(argv)
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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
