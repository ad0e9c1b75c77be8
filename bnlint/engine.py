"""One file -> findings; many files -> pre-filter, cache, process pool.

The pipeline for one file (see design.md): read bytes, decode per PEP 263,
byte pre-filter, `ast` facts, libcst parse, checkers, positions (only when
something was found), noqa. Nothing here raises for a bad file: every
failure becomes a BN9xx finding for that file.
"""

from __future__ import annotations

import ast
import io
import os
import stat
import tokenize
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .api import load_api
from .cache import Cache
from .checkers import CHECKERS
from .config import Config
from .context import FileContext
from .finding import Finding, sort_findings
from .fixes import build_fix
from .noqa import filter_findings
from .prefilter import build_prefilter, resolve_names
from .specs import load_specs

MAX_FILE_BYTES = 8 * 1024 * 1024  # larger candidate files are reported, not parsed
POOL_MIN_FILES = 8  # fewer candidates than this are checked in-process


@dataclass
class FileResult:
    filename: str
    findings: List[Finding] = field(default_factory=list)
    parsed: bool = False  # reached libcst
    skipped: bool = False  # pre-filter said no rule can fire
    cached: bool = False
    # Other project files the findings were computed from (project.py); the
    # cache entry is valid only while they are unchanged.
    dependencies: List[str] = field(default_factory=list)


def _meta_finding(code: str, filename: str, detail: str, line: int = 1, column: int = 1) -> Finding:
    spec = load_specs()[code]
    return Finding(code, spec.message("default", detail=detail), filename, line, column,
                   line, column, name=spec.name)


def decode(data: bytes, filename: str) -> Tuple[Optional[str], Optional[Finding]]:
    """PEP 263 decoding; a failure is a BN901 finding, never an exception."""
    if b"\x00" in data:
        return None, _meta_finding("BN901", filename, "the file contains NUL bytes (binary, not Python source)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return None, _meta_finding("BN901", filename, f"bad encoding declaration ({exc.msg if hasattr(exc, 'msg') else exc})")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        where = f" at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else ""
        return None, _meta_finding("BN901", filename, f"cannot decode as {encoding}{where}: {reason}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


def selected_codes(config: Config) -> Set[str]:
    return {code for code in CHECKERS if config.is_selected(code)}


def _syntax_finding(exc: Exception, filename: str) -> Finding:
    line = getattr(exc, "raw_line", None) or getattr(exc, "lineno", None) or 1
    if getattr(exc, "raw_column", None) is not None:  # libcst: 0-based
        column = exc.raw_column
    else:  # ast's SyntaxError.offset is already 1-based
        column = max((getattr(exc, "offset", None) or 1) - 1, 0)
    message = getattr(exc, "message", None) or getattr(exc, "msg", None) or str(exc).splitlines()[0]
    return _meta_finding("BN902", filename, str(message).strip().rstrip("."), int(line), int(column) + 1)


def lint_text(text: str, filename: str, config: Config, data: Optional[bytes] = None,
              result: Optional[FileResult] = None, noqa: bool = True,
              line_name: Callable[[int], str] = str) -> List[Finding]:
    """Findings for one decoded source text (noqa and per-file ignores applied).

    noqa=False leaves `# noqa` to the caller (flake8 has its own, and `--disable-noqa`).
    line_name writes a line a message refers to (a notebook names the cell)."""
    result = result or FileResult(filename)
    if text.startswith("\ufeff"):  # callers with their own decoding (editors)
        text = text[1:]
    api = load_api(config.extra_mode_sensitive_layers)
    codes = selected_codes(config) - set(config.ignored_for(filename))
    data = data if data is not None else text.encode("utf-8", "surrogatepass")
    prefilter = build_prefilter(api)
    codes = prefilter.stage1(data, codes)
    if codes:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text, filename)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            if isinstance(exc, SyntaxError):
                return [_syntax_finding(exc, filename)]
            why = {RecursionError: "nesting too deep to parse",
                   MemoryError: "nesting too deep to parse (the parser ran out of memory)"}
            return [_meta_finding("BN902", filename, why.get(type(exc), f"{type(exc).__name__}: {exc}"))]
        codes = prefilter.stage2(tree, codes, data, filename)
    names = resolve_names(tree) if codes else None
    if not codes:
        result.skipped = True
        return []
    if len(data) > MAX_FILE_BYTES:
        return [_meta_finding("BN904", filename, f"{len(data) // (1024 * 1024)} MiB is over the "
                              f"{MAX_FILE_BYTES // (1024 * 1024)} MiB limit")]
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return [_syntax_finding(exc, filename)]
    except RecursionError:
        return [_meta_finding("BN902", filename, "nesting too deep to parse")]
    result.parsed = True
    ctx = FileContext(filename, text, module, api, config, names=names)
    reports, refs = [], {}
    for code in sorted(codes):
        checker = CHECKERS[code](ctx)
        reports += checker.run()
        refs.update(checker.refs)
    result.dependencies = list(dict.fromkeys(ctx.dependencies))
    if not reports:
        return []
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    specs = load_specs()
    findings = []
    for rep in reports:
        pos = positions[rep.node]
        message = rep.message
        for key, node in refs.items():
            if key in message:
                message = message.replace(key, line_name(positions[node].start.line))
        findings.append(Finding(
            rep.code, message, filename, pos.start.line, pos.start.column + 1,
            pos.end.line, pos.end.column + 1, name=specs[rep.code].name,
            fix=rep.fix or build_fix(ctx, rep), flavour=rep.flavour,
            extra={"variant": rep.variant},
        ))
    return sort_findings(filter_findings(findings, text) if noqa else findings)


def lint_bytes(data: bytes, filename: str, config: Config, result: Optional[FileResult] = None) -> List[Finding]:
    if filename.endswith(".ipynb"):  # cells become one program, findings map back to cells
        from .notebook import lint_notebook
        return lint_notebook(data, filename, config, result)
    text, problem = decode(data, filename)
    if problem is not None:
        return [problem]
    try:
        return lint_text(text, filename, config, data, result)
    except RecursionError:
        return [_meta_finding("BN902", filename, "nesting too deep to analyse")]
    except Exception as exc:  # a bug in bnlint must not end the run
        return [_meta_finding("BN903", filename, f"{type(exc).__name__}: {exc}")]


def read_file(path: str) -> Tuple[Optional[bytes], Optional[Finding]]:
    try:
        st = os.stat(path)
    except OSError as exc:
        return None, _meta_finding("BN901", path, f"cannot read: {exc.strerror or exc}")
    if stat.S_ISDIR(st.st_mode):
        return None, _meta_finding("BN901", path, "is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        return None, _meta_finding("BN901", path, "is not a regular file (a FIFO, socket or device)")
    try:
        with open(path, "rb") as fh:
            return fh.read(), None
    except OSError as exc:
        return None, _meta_finding("BN901", path, f"cannot read: {exc.strerror or exc}")


def lint_file(path: str, config: Config) -> FileResult:
    result = FileResult(path)
    data, problem = read_file(path)
    if problem is not None:
        result.findings = [problem]
        return result
    result.findings = lint_bytes(data, path, config, result)
    return result


# -- many files -------------------------------------------------------------
_WORKER_CONFIG: Optional[Config] = None


def _init_worker(config: Config) -> None:
    global _WORKER_CONFIG
    _WORKER_CONFIG = config


def _worker(item: Tuple[str, bytes]) -> FileResult:
    return _lint_guarded(item[0], item[1], _WORKER_CONFIG)


def _lint_guarded(path: str, data: bytes, config: Config) -> FileResult:
    """lint_bytes for bytes already read; nothing escapes but a dead process."""
    result = FileResult(path)
    try:
        result.findings = lint_bytes(data, path, config, result)
    except RecursionError:
        result.findings = [_meta_finding("BN902", path, "nesting too deep to analyse")]
    except Exception as exc:  # e.g. from a format hook outside lint_text's guard
        result.findings = [_meta_finding("BN903", path, f"{type(exc).__name__}: {exc}")]
    return result


@dataclass
class RunStats:
    files: int = 0
    parsed: int = 0
    skipped: int = 0
    cached: int = 0


def _candidate(data: bytes, config: Config, codes: Set[str], filename: str) -> bool:
    api = load_api(config.extra_mode_sensitive_layers)
    wanted = codes - set(config.ignored_for(filename))
    return bool(build_prefilter(api).stage1(data, wanted))


def lint_paths(paths: Sequence[str], config: Config, jobs: Optional[int] = None,
               use_cache: bool = True, cache_dir: Optional[str] = None,
               stats: Optional[RunStats] = None) -> List[FileResult]:
    """Lint many files: stage-1 filter and cache in this process, the rest in a pool."""
    stats = stats if stats is not None else RunStats()
    codes = selected_codes(config)
    cache = Cache(cache_dir, config) if use_cache else None
    results: Dict[str, FileResult] = {}
    todo: List[Tuple[str, bytes]] = []
    for path in paths:
        stats.files += 1
        data, problem = read_file(path)
        if problem is not None:
            results[path] = FileResult(path, [problem])
            continue
        if not _candidate(data, config, codes, path):
            results[path] = FileResult(path, skipped=True)
            stats.skipped += 1
            continue
        if cache is not None:
            hit = cache.get(path, data)
            if hit is not None:
                results[path] = FileResult(path, hit, cached=True)
                stats.cached += 1
                continue
        todo.append((path, data))
    # The bytes read here are the bytes linted and the cache key: a file
    # edited during the run cannot get another version's findings.
    contents = dict(todo)
    for res in _run_many(todo, config, jobs):
        results[res.filename] = res
        stats.parsed += int(res.parsed)
        stats.skipped += int(res.skipped)
        if cache is not None and not any(f.code in ("BN901", "BN903") for f in res.findings):
            cache.put(res.filename, contents[res.filename], res.findings, res.dependencies)
    return [results[p] for p in paths if p in results]


def _run_many(items: List[Tuple[str, bytes]], config: Config, jobs: Optional[int]) -> Iterable[FileResult]:
    """Results in completion order. Largest files are submitted first, one
    file per task: the slowest file then starts early instead of ending a
    chunk of others, which keeps both cores busy to the end."""
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(items) < POOL_MIN_FILES:
        for path, data in items:
            yield _lint_guarded(path, data, config)
        return
    pending = {path: data for path, data in items}
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(items)), initializer=_init_worker,
                                 initargs=(config,)) as pool:
            order = sorted(items, key=lambda item: -len(item[1]))
            futures = {pool.submit(_worker, item): item[0] for item in order}
            for future in as_completed(futures):
                path = futures[future]
                try:
                    res = future.result()
                except BrokenProcessPool:
                    raise
                except Exception as exc:  # e.g. a result that cannot be pickled
                    res = FileResult(path, [_meta_finding("BN903", path, f"{type(exc).__name__}: {exc}")])
                pending.pop(path, None)
                yield res
    except BrokenProcessPool:
        # A worker died (segfault, OOM kill, a signal). Check the rest one
        # file per process, `jobs` at a time, so the file that kills a worker
        # is named and the others still get their findings.
        with ThreadPoolExecutor(max_workers=jobs) as threads:
            yield from threads.map(lambda item: _isolated(item[0], item[1], config), pending.items())


def _isolated(path: str, data: bytes, config: Config) -> FileResult:
    try:
        with ProcessPoolExecutor(max_workers=1, initializer=_init_worker, initargs=(config,)) as pool:
            return pool.submit(_worker, (path, data)).result()
    except BrokenProcessPool:
        return FileResult(path, [_meta_finding(
            "BN903", path, "the worker process checking this file died (crash, out of memory or killed)")])
