"""`bnlint confirm`: run a training script under instrumentation and mark each
static finding confirmed, refuted or not reached.

This module is imported by the CLI to build its parser, so it imports nothing
heavy: TensorFlow only ever loads in the child process.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..errors import UsageError

DEFAULT_MAX_STEPS = 3
DEFAULT_TIMEOUT = 600.0
MAX_STEPS_LIMIT = 10 ** 9
TIMEOUT_LIMIT = 7 * 24 * 3600.0  # seconds; a longer run is not a confirmation


def _check_steps(value: int) -> Optional[str]:
    """The complaint about a --max-steps value, or None when it is usable."""
    if not 1 <= value <= MAX_STEPS_LIMIT:
        return f"must be a whole number from 1 to {MAX_STEPS_LIMIT}, not {value}"
    return None


def _check_timeout(value: float) -> Optional[str]:
    """The complaint about a --timeout value (seconds), or None when it is usable.

    nan, inf, 0, negative and absurdly large values would make a timeout that
    never fires (nan compares false with everything)."""
    if not (math.isfinite(value) and 0 < value <= TIMEOUT_LIMIT):
        return (f"must be a number of seconds above 0 and at most {TIMEOUT_LIMIT:g} "
                f"(7 days), not {value!r}")
    return None


def _steps_type(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    problem = _check_steps(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _timeout_type(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    problem = _check_timeout(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = "bnlint confirm [options] (SCRIPT | -m MODULE) [-- ARGS...]"
    parser.add_argument("script", nargs="?", help="the training script to run, like `python SCRIPT`")
    parser.add_argument("-m", dest="module", metavar="MODULE ...", nargs=argparse.REMAINDER,
                        help="run a module, like `python -m MODULE`; what follows goes to the module")
    parser.add_argument("script_args", nargs=argparse.REMAINDER,
                        help="arguments for the script (after `--`)")
    parser.add_argument("--max-steps", type=_steps_type, default=DEFAULT_MAX_STEPS,
                        help=f"stop the script after this many optimizer steps (default {DEFAULT_MAX_STEPS})")
    parser.add_argument("--timeout", type=_timeout_type, default=DEFAULT_TIMEOUT,
                        help=f"stop the script after this many seconds (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--cwd", help="working directory for the script (default: the current one)")
    parser.add_argument("--output-format", choices=("concise", "json"), default="concise")
    parser.add_argument("--config", type=Path, help="a pyproject.toml or .bnlint.yaml to use")
    parser.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                        help="one-line status while the script runs (auto: only on a terminal, not in CI)")


def _usage_error(message: str) -> Exception:
    return UsageError(f"bnlint confirm: {message}")


def _want_progress(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stderr.isatty() and not os.environ.get("CI")


def _child_spec(args, target: str, module: bool, script_args: List[str]):
    from .launcher import ChildRun

    for flag, problem in (("--max-steps", _check_steps(args.max_steps)),
                          ("--timeout", _check_timeout(args.timeout))):
        if problem:
            raise _usage_error(f"{flag} {problem}")
    cwd = getattr(args, "cwd", None)
    if cwd and not os.path.isdir(cwd):
        raise _usage_error(f"--cwd: no such directory: {cwd}")
    if not module:
        path = os.path.join(cwd, target) if cwd and not os.path.isabs(target) else target
        if not os.path.isfile(path):
            raise _usage_error(f"no such script: {target}")
    return ChildRun(target=target, module=module, args=tuple(script_args), cwd=cwd,
                    max_steps=args.max_steps, timeout=args.timeout,
                    progress=_want_progress(getattr(args, "progress", "auto")))


class _StaticScan:
    """Lints the script while the child runs (the parent is idle then), and
    the other files the child reports afterwards; no cache, so nothing is
    written into the user's tree."""

    def __init__(self, config_path: Optional[Path], start: str):
        """`config_path`: --config (every file uses it), else each file its
        nearest config, as `bnlint check` (config.Settings); `start` places
        the anchor config (errors in it are reported before the run)."""
        from ..config import Settings

        self.settings = Settings(config_path)
        self.config = self.settings(Path(start))
        self.findings: Dict[str, list] = {}
        self._thread = None

    def lint(self, files: List[str]) -> None:
        from ..engine import lint_paths

        todo = [f for f in files if f not in self.findings]
        for result in lint_paths(todo, self.config, jobs=1, use_cache=False, config_for=self.settings):
            self.findings[result.filename] = result.findings

    def start(self, files: List[str]) -> None:
        import threading

        self._thread = threading.Thread(target=self.lint, args=(files,), daemon=True)
        self._thread.start()

    def result(self, files: List[str]):
        from ..finding import sort_findings

        if self._thread is not None:
            self._thread.join()
        self.lint(files)
        return sort_findings([f for name in files for f in self.findings.get(name, [])])


def _relative(files: List[str]) -> List[str]:
    from .render import display_path

    return [display_path(f) for f in files]


def _report(findings, record: Dict[str, Any], output_format: str, out) -> int:
    from .render import FORMATS
    from .verdict import CONFIRMED, NEW, checker_failed, judge_all

    verdicts, new = judge_all(findings, record)
    out.write(FORMATS.get(output_format, FORMATS["concise"])(verdicts, new, record))
    if record.get("status") == "terminated":  # as a program killed by that signal would
        return 128 + _signal_number(record.get("signal"))
    if checker_failed(record):  # never a clean run: exit 2, as the CLI's internal errors
        for error in record.get("errors") or [record.get("error") or "unknown error"]:
            sys.stderr.write(f"bnlint confirm: internal error: {error}\n")
        return 2
    bad_run = record.get("status") in ("crashed", "timeout", "died", "exited", "not_started", "interrupted")
    if bad_run or new or any(v.status in (CONFIRMED, NEW) for v in verdicts):
        return 1
    return 0


def _signal_number(name) -> int:
    import signal

    try:
        return int(signal.Signals[name])
    except (KeyError, TypeError):
        return int(signal.SIGTERM)


def run(args: argparse.Namespace, out) -> int:
    from .launcher import run_child

    script_args = list(args.script_args or [])
    if args.module is not None:  # `-m MODULE ARGS...`: everything after MODULE is the module's
        if not args.module:
            raise _usage_error("-m needs a module")
        # after `-m MODULE --`, argparse hands the first argument to `script`
        rest = [args.script] if args.script else []
        args.module, script_args = args.module[0], args.module[1:] + rest + script_args
        args.script = None
    elif not args.script:
        raise _usage_error("give a script or -m MODULE")
    if script_args and script_args[0] == "--":
        script_args = script_args[1:]
    target = args.module or args.script
    spec = _child_spec(args, target, bool(args.module), script_args)
    script_path = os.path.abspath(os.path.join(args.cwd or ".", target)) if args.script else None
    scan = _StaticScan(args.config, os.path.dirname(script_path) if script_path else (args.cwd or "."))
    if script_path:
        scan.start(_relative([os.path.realpath(script_path)]))
    record = run_child(spec)
    findings = scan.result(_relative(record.get("files", [])))
    return _report(findings, record, args.output_format, out)


def confirm_after_check(args: argparse.Namespace, findings, out) -> int:
    """`bnlint PATHS --confirm "train.py ARGS"`: confirm the scan's own findings."""
    from .launcher import run_child

    words = shlex.split(args.confirm)
    if not words:
        raise _usage_error("--confirm needs a script")
    for name, default in (("max_steps", DEFAULT_MAX_STEPS), ("timeout", DEFAULT_TIMEOUT)):
        if getattr(args, name, None) is None:
            setattr(args, name, default)
    spec = _child_spec(args, words[0], False, words[1:])
    record = run_child(spec)
    output_format = "json" if args.output_format == "json" else "concise"
    return _report(findings, record, output_format, out)
