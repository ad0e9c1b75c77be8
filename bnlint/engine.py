"""One file -> findings; many files -> pre-filter, cache, process pool.

The pipeline for one file (see README, "How it works"): read bytes, decode
per PEP 263, byte pre-filter, one `ast` parse into the semantic model, each
rule's `applies()`, the rules, positions and fixes (libcst, only when
something was found), noqa. Nothing here raises for a bad file: every
failure becomes a BN9xx finding for that file.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import io
import itertools
import os
import re
import stat
import tokenize
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .api import load_api
from .bounded import NotRegularFile, TooLarge, read_regular_file, windows
from .cache import Cache
from .config import Config
from .finding import Finding, sort_findings
from .meta import meta_finding as _meta_finding
from .prefilter import build_prefilter

if TYPE_CHECKING:
    from .rules import RuleContext

# The rules, the semantic model and noqa are imported when a file is first
# linted (`_analysis`): a warm run whose files are all unchanged, and
# `bnlint --version`, never load them.

# A notebook file may be larger (outputs, images); the code of its cells is
# held to MAX_FILE_BYTES like a .py file.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
# How much of a file over the limit the byte pre-filter reads to decide
# whether to report it (BN904) or skip it; past this, it is reported.
MAX_SCAN_BYTES = 64 * 1024 * 1024
POOL_MIN_FILES = 8  # fewer candidates than this are checked in-process
_NEWLINE = re.compile(r"\r\n|\r|\n")
_DEF_NAME = re.compile(rb"(?:async\s+)?def\s+")


@dataclass
class FileResult:
    filename: str
    findings: List[Finding] = field(default_factory=list)
    parsed: bool = False  # reached the rules
    skipped: bool = False  # pre-filter said no rule can fire
    cached: bool = False
    # Other project files the findings were computed from (semantic/project.py);
    # the cache entry is valid only while they are unchanged.
    dependencies: List[str] = field(default_factory=list)


def size_limit(filename: str) -> int:
    """Bytes bnlint reads of a file (or stdin) of this name."""
    from .semantic.parse import MAX_FILE_BYTES

    return MAX_NOTEBOOK_BYTES if filename.endswith(".ipynb") else MAX_FILE_BYTES


def too_large(filename: str, size: Optional[int], limit: int) -> Finding:
    """BN904 for `size` bytes (None: unknown, a stream) over `limit` bytes."""
    mib = 1024 * 1024
    if size is None:
        return _meta_finding("BN904", filename, f"the input is over the {limit // mib} MiB limit")
    return _meta_finding("BN904", filename, f"{size // mib} MiB is over the {limit // mib} MiB limit")


def decode(data: bytes, filename: str) -> Tuple[Optional[str], Optional[Finding]]:
    """PEP 263 decoding; a failure is a BN901 finding, never an exception."""
    if b"\x00" in data:
        return None, _meta_finding("BN901", filename, "the file contains NUL bytes (binary, not Python source)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        why = exc.msg if hasattr(exc, "msg") else exc
        return None, _meta_finding("BN901", filename, f"bad encoding declaration ({why})")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        where = f" at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else ""
        return None, _meta_finding("BN901", filename, f"cannot decode as {encoding}{where}: {reason}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


def __getattr__(name: str):
    if name == "CHECKERS":  # the name 0.1 used for the rule table
        from .rules import RULES
        return RULES
    if name == "MAX_FILE_BYTES":  # public name of 0.1 (semantic.parse's limit)
        from .semantic.parse import MAX_FILE_BYTES
        return MAX_FILE_BYTES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def selected_codes(config: Config) -> Set[str]:
    """The codes of the rules `config` selects (a new set each call)."""
    return set(_selected(config))


@lru_cache(maxsize=64)
def _selected(config: Config) -> frozenset:
    from .rules import RULES
    return frozenset(code for code in RULES if config.is_selected(code))


def _wanted(config: Config, filename: str) -> Set[str]:
    """Selected codes less the file's per-file-ignores."""
    codes = set(_selected(config))
    if config.per_file_ignores:
        codes -= set(config.ignored_for(filename))
    return codes


class _Positions:
    """ast positions (columns in UTF-8 bytes) -> 1-based character columns."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines: Optional[List[bytes]] = None

    def line(self, lineno: int) -> bytes:
        if self._lines is None:
            self._lines = [ln.encode("utf-8", "surrogatepass") for ln in _NEWLINE.split(self.text)]
        return self._lines[lineno - 1] if 0 < lineno <= len(self._lines) else b""

    def column(self, lineno: int, byte_col: int) -> int:
        """0-based character column of a 0-based byte column."""
        raw = self.line(lineno)
        if raw.isascii():
            return byte_col
        return len(raw[:byte_col].decode("utf-8", "replace"))

    def span(self, node, name_only: bool = False) -> Tuple[int, int, int, int]:
        """(line, column, end_line, end_column): lines 1-based, columns 0-based characters."""
        if name_only:  # a def: its name
            raw = self.line(node.lineno)
            m = _DEF_NAME.match(raw, node.col_offset)
            start = m.end() if m else node.col_offset
            end = start + len(node.name.encode("utf-8"))
            return (node.lineno, self.column(node.lineno, start), node.lineno, self.column(node.lineno, end))
        end_line = getattr(node, "end_lineno", None) or node.lineno
        end_col = getattr(node, "end_col_offset", None)
        end_col = node.col_offset if end_col is None else end_col
        return (node.lineno, self.column(node.lineno, node.col_offset), end_line, self.column(end_line, end_col))


def lint_text(text: str, filename: str, config: Config, data: Optional[bytes] = None,
              result: Optional[FileResult] = None, noqa: bool = True,
              line_name: Callable[[int], str] = str, fixes: bool = True,
              stage1: Optional[Set[str]] = None) -> List[Finding]:
    """Findings for one decoded source text (noqa and per-file ignores applied).

    One `ast` parse, one semantic model, the enabled rules over it; libcst
    parses the file only when a rule found something (to build fixes).
    noqa=False leaves `# noqa` to the caller (flake8 has its own, and `--disable-noqa`).
    line_name writes a line a message refers to (a notebook names the cell).
    fixes=False: findings carry no fix and libcst is never loaded (flake8).
    stage1: the codes the byte pre-filter already passed for exactly these
    `data` bytes, this `filename` and `config` (lint_paths), not asked again."""
    from .noqa import filter_findings
    from .rules import RULES, RuleContext
    from .semantic import SemanticModel
    from .semantic.parse import ParseFailure, parse

    result = result or FileResult(filename)
    if text.startswith("\ufeff"):  # callers with their own decoding (editors)
        text = text[1:]
    api = load_api(config.extra_mode_sensitive_layers)
    data = data if data is not None else text.encode("utf-8", "surrogatepass")
    prefilter = build_prefilter(api)
    if stage1 is not None:
        codes = set(stage1)
    else:
        read: List[str] = []  # the sibling modules the pre-filter's answer rests on
        codes = prefilter.stage1_decision(data, _wanted(config, filename), filename, deps=read)[0]
        _depend(result, read)
    if not codes:
        result.skipped = True
        return []
    try:
        tree = parse(text, filename, size=len(data))
    except ParseFailure as exc:
        return [_meta_finding(exc.code, filename, exc.detail, exc.line, exc.column)]
    model = SemanticModel.build(tree, api, filename)
    codes = prefilter.stage2(model, codes, data, filename)
    _depend(result, model.project.dependencies)  # stage 2 may have read sibling modules
    if not codes:
        result.skipped = True
        return []
    result.parsed = True
    ctx = RuleContext(filename, text, model, api, config, line_name)
    found = []
    for code in sorted(codes):
        rule = RULES[code](ctx)
        found += [(rule, rep) for rep in rule.run()]
    _depend(result, model.project.dependencies)
    if not found:
        return []
    positions = _Positions(text)
    fix_ctx = _fix_context(text, ctx, positions, filename) if fixes else None
    if fix_ctx is not None:
        from .fixes.build import build_fix
    else:
        def build_fix(*_):
            return None

    findings = []
    for rule, rep in found:
        line, col, end_line, end_col = positions.span(rep.node, rep.context.get("name_only", False))
        # Line references in message and detail are already written by the
        # rule through ctx.line_name (a notebook names the cell).
        findings.append(Finding(
            rep.code, rep.message, filename, line, col + 1, end_line, end_col + 1,
            name=rule.spec().name, fix=build_fix(fix_ctx, rule, rep), flavour=rep.flavour,
            extra={"variant": rep.variant.value, **({"detail": rep.detail} if rep.detail else {})},
        ))
    return sort_findings(filter_findings(findings, text) if noqa else findings)


def _depend(result: FileResult, paths: Iterable[str]) -> None:
    """Add `paths` to the files `result` was computed from (a notebook's
    cells may be linted more than once: each pass's files count)."""
    result.dependencies = list(dict.fromkeys(itertools.chain(result.dependencies, paths)))


def _fix_context(text: str, ctx: RuleContext, positions: _Positions, filename: str):
    """libcst view of a file with findings, or None (a notebook: offsets
    point into the joined cells; libcst cannot parse what ast did)."""
    if filename.endswith(".ipynb"):
        return None
    from .fixes.build import FixContext

    try:
        return FixContext(text, ctx, positions.span)
    except Exception:  # libcst's parser fails on some valid Python: no fix, the finding stays
        return None


def lint_bytes(data: bytes, filename: str, config: Config, result: Optional[FileResult] = None,
               stage1: Optional[Set[str]] = None, fixes: bool = True) -> List[Finding]:
    """Findings for one file's bytes (decoded per PEP 263); `stage1` and
    `fixes` as lint_text's (`stage1` is ignored for a notebook, whose cells
    are filtered again; a notebook's findings never carry fixes)."""
    if filename.endswith(".ipynb"):  # cells become one program, findings map back to cells
        from .notebook import lint_notebook
        return lint_notebook(data, filename, config, result, lint_text)
    text, problem = decode(data, filename)
    if problem is not None:
        return [problem]
    try:
        return lint_text(text, filename, config, data, result, stage1=stage1, fixes=fixes)
    except RecursionError:
        return [_meta_finding("BN902", filename, "nesting too deep to analyse")]
    except Exception as exc:  # a bug in bnlint must not end the run
        return [_meta_finding("BN903", filename, f"{type(exc).__name__}: {exc}")]


def read_file(path: str) -> Tuple[Optional[bytes], Optional[Finding]]:
    """(bytes, None), or (None, BN901) for what cannot be read (a directory,
    FIFO, device, permissions), or (None, BN904) for a file over
    `size_limit(path)` bytes, decided by fstat before reading (and by a
    bounded read if it grows): an oversized file is never read whole."""
    limit = size_limit(path)
    try:
        return read_regular_file(path, limit), None
    except TooLarge as exc:
        return None, too_large(path, exc.size, limit)
    except NotRegularFile as exc:
        return None, _meta_finding("BN901", path, str(exc))
    except OSError as exc:
        return None, _meta_finding("BN901", path, f"cannot read: {exc.strerror or exc}")


def _large_candidate(path: str, config: Config, codes: Set[str]) -> bool:
    """Would the byte pre-filter pass a file too large to read whole? It
    reads overlapping windows (1 MiB overlap, so a name cut by a window edge
    is seen), at most MAX_SCAN_BYTES: past that, or on a read error, yes."""
    from .semantic.parse import MAX_FILE_BYTES

    api = load_api(config.extra_mode_sensitive_layers)
    wanted = codes - set(config.ignored_for(path)) if config.per_file_ignores else codes
    prefilter = build_prefilter(api)
    try:
        with contextlib.closing(windows(path, MAX_FILE_BYTES, 1024 * 1024, MAX_SCAN_BYTES)) as pieces:
            for piece in pieces:
                if prefilter.stage1_decision(piece, wanted, escaped=path.endswith(".ipynb"))[0]:
                    return True
        return os.stat(path).st_size > MAX_SCAN_BYTES
    except OSError:
        return True


def _unread_result(path: str, problem: Finding, config: Config, codes: Set[str]) -> FileResult:
    """BN904 for a candidate, else a skipped file (no rule's names in it)."""
    if problem.code == "BN904" and not _large_candidate(path, config, codes):
        return FileResult(path, skipped=True)
    return FileResult(path, [problem])


def lint_file(path: str, config: Config) -> FileResult:
    result = FileResult(path)
    data, problem = read_file(path)
    if problem is not None:
        return _unread_result(path, problem, config, selected_codes(config))
    result.findings = lint_bytes(data, path, config, result)
    return result


# -- many files -------------------------------------------------------------
# One file for the pool: (path, bytes, that file's config, the codes the
# pre-filter passed for these bytes or None, build fixes?).
_Item = Tuple[str, bytes, Config, Optional[Set[str]], bool]


def _worker(item: _Item) -> FileResult:
    """One _Item -> its result, in a pool process."""
    return _lint_guarded(*item)


def _lint_guarded(path: str, data: bytes, config: Config, stage1: Optional[Set[str]] = None,
                  fixes: bool = True) -> FileResult:
    """lint_bytes for bytes already read; nothing escapes but a dead process."""
    result = FileResult(path)
    try:
        result.findings = lint_bytes(data, path, config, result, stage1, fixes)
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


def _stage1(data: bytes, config: Config, filename: str, memo: dict,
            deps: List[str]) -> Tuple[Set[str], bool]:
    """(codes the byte pre-filter passes, did it read sibling modules to
    decide): as lint_text's first step for the same bytes and name.
    `memo` and `deps` as Prefilter.stage1_decision's. A notebook's raw
    JSON escapes its code (`import ops\\n",`), so the modules it imports
    are not read from it (`escaped`): its cells are filtered again,
    siblings too, once they are joined (lint_notebook)."""
    api = load_api(config.extra_mode_sensitive_layers)
    return build_prefilter(api).stage1_decision(data, _wanted(config, filename), filename, memo, deps,
                                                escaped=filename.endswith(".ipynb"))


def _stat(path: str) -> Optional[os.stat_result]:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def lint_paths(paths: Sequence[str], config: Config, jobs: Optional[int] = None,
               use_cache: bool = True, cache_dir: Optional[str] = None,
               stats: Optional[RunStats] = None,
               config_for: Optional[Callable[[str], Config]] = None,
               progress: Optional[Callable[[int, int], None]] = None,
               fixes: bool = True) -> List[FileResult]:
    """Lint many files: stage-1 filter and cache in this process, the rest in a pool.

    Each file is linted with `config_for(path)` when given (the CLI's
    `config.Settings`: the file's nearest config), else with `config`;
    `config` also places the cache (`cache_dir`, else cache.default_cache_dir
    of its root). `progress`,
    if given, is called as progress(files done, files in all) after each file
    that needed parsing (the slow part). `fixes=False`: findings carry no
    fix and libcst is never loaded (an output that shows neither fixes nor
    whether one is available).

    With the cache, a file whose stat is unchanged since a run read it is
    not read again (cache.StatIndex): its recorded content hash gives the
    entry key, and the entry, or the pre-filter's earlier "no rule can
    fire", is its result."""
    stats = stats if stats is not None else RunStats()
    config_for = config_for or (lambda _path: config)
    # `config` (the anchor) places the cache; each file's entries are keyed by its own config.
    anchor = Cache(cache_dir, config, fixes=fixes) if use_cache else None
    index = anchor.open_index() if anchor is not None and anchor.secret is not None else None
    caches: Dict[Config, Cache] = {}
    results: Dict[str, FileResult] = {}
    keys: Dict[str, str] = {}
    # The bytes read here are the bytes linted and the cache key: a file
    # edited during the run cannot get another version's findings.
    contents: Dict[str, Tuple[bytes, Config, List[str]]] = {}
    scan = _scan(paths, config_for, anchor, index, caches, results, keys, contents, stats, fixes)
    done = 0
    for res in _run_many(scan, jobs):
        results[res.filename] = res
        stats.parsed += int(res.parsed)
        stats.skipped += int(res.skipped)
        data, cfg, read = contents[res.filename]  # (a path given twice is linted twice)
        cache = caches.get(cfg)
        if cache is not None and not any(f.code in ("BN901", "BN903") for f in res.findings):
            # the result rests on the modules the pre-filter read as well as the model's
            cache.put(res.filename, data, res.findings, list(dict.fromkeys(res.dependencies + read)),
                      key=keys.get(res.filename))
        done = len(results)
        if progress is not None:
            progress(done, len(paths))
    if index is not None:
        index.save()
    return [results[p] for p in paths if p in results]


def _scan(paths: Sequence[str], config_for: Callable[[str], Config], anchor: Optional[Cache],
          index, caches: Dict[Config, Cache], results: Dict[str, FileResult], keys: Dict[str, str],
          contents: Dict[str, Tuple[bytes, Config, List[str]]], stats: RunStats,
          fixes: bool) -> Iterable[_Item]:
    """lint_paths' first pass, one file at a time: each file's result from
    the stat index, the cache or the byte pre-filter goes into `results`;
    a file that must be linted is yielded (its bytes, config and the
    modules the pre-filter read also kept in `contents`, its cache key in
    `keys`), so the pool starts on it while
    the rest are scanned."""
    lookups: dict = {}  # project modules the pre-filter looked up and read, for this run
    for path in paths:
        stats.files += 1
        cfg = config_for(path)
        if anchor is not None and cfg not in caches:
            caches[cfg] = anchor.for_config(cfg)
        cache = caches.get(cfg)
        st = _stat(path) if index is not None else None
        if st is not None:
            digest = index.digest(path, st)
            if digest is not None:
                key = cache.key_for(path, digest)
                if index.skipped(key):
                    results[path] = FileResult(path, skipped=True)
                    stats.skipped += 1
                    continue
                hit = cache.lookup(path, key)
                if hit is not None:
                    results[path] = FileResult(path, hit, cached=True)
                    stats.cached += 1
                    continue
        # The stat was taken before the read: a later edit changes it.
        data, problem = read_file(path)
        if problem is not None:
            results[path] = _unread_result(path, problem, cfg, selected_codes(cfg))
            stats.skipped += int(results[path].skipped)
            continue
        key = None
        if cache is not None:
            digest = hashlib.sha256(data).hexdigest()
            key = cache.key_for(path, digest)
            if st is not None and st.st_size == len(data):
                index.observe(path, st, digest)
            if index is not None and index.skipped(key):
                results[path] = FileResult(path, skipped=True)
                stats.skipped += 1
                continue
        deps: List[str] = []
        codes, read_siblings = _stage1(data, cfg, path, lookups, deps)
        if not codes:
            results[path] = FileResult(path, skipped=True)
            stats.skipped += 1
            if index is not None:  # valid while these bytes and the modules read are unchanged
                index.add_skip(key, deps if read_siblings else (), path)
            continue
        if cache is not None:
            hit = cache.lookup(path, key)
            if hit is not None:
                results[path] = FileResult(path, hit, cached=True)
                stats.cached += 1
                continue
            keys[path] = key
        contents[path] = (data, cfg, deps if read_siblings else [])
        # .py files: lint_text need not ask the pre-filter again. A notebook's
        # cells are filtered as one program after they are joined.
        yield (path, data, cfg, None if path.endswith(".ipynb") else codes, fixes)


def _run_many(items: Iterable[_Item], jobs: Optional[int]) -> Iterable[FileResult]:
    """Results in completion order, for items that may still be arriving
    (lint_paths' scan). Fewer than POOL_MIN_FILES items (or jobs=1) are
    checked in this process. Otherwise the pool starts on the first ones
    while the rest are scanned; of the items waiting, the largest is
    submitted first, one file per task (at most two per worker queued
    while the scan goes on, all of them once it ends): the slowest file
    then starts early instead of ending the run, which keeps every core
    busy to the end."""
    jobs = jobs or os.cpu_count() or 1
    source = iter(items)
    first = list(itertools.islice(source, max(POOL_MIN_FILES, jobs)))
    if jobs <= 1 or len(first) < POOL_MIN_FILES:
        for item in itertools.chain(first, source):
            yield _lint_guarded(*item)
        return
    # multiprocessing loads here: a run with nothing to lint never imports it.
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    import multiprocessing

    if multiprocessing.get_start_method() == "fork":
        _preload(fixes=any(item[4] for item in first))
    waiting: List[Tuple[int, int, _Item]] = []  # heap: (-size, arrival, item)
    arrivals = itertools.count()
    for item in first:
        heapq.heappush(waiting, (-len(item[1]), next(arrivals), item))
    futures: Dict = {}  # future -> item
    scanning = True
    try:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            while scanning or waiting or futures:
                if scanning:
                    item = next(source, None)
                    if item is None:
                        scanning = False
                    else:
                        heapq.heappush(waiting, (-len(item[1]), next(arrivals), item))
                while waiting and (not scanning or len(futures) < 2 * jobs):
                    item = heapq.heappop(waiting)[2]
                    futures[pool.submit(_worker, item)] = item
                ready = [f for f in futures if f.done()] if scanning else \
                    wait(futures, return_when=FIRST_COMPLETED).done if futures else []
                for future in ready:
                    path = futures[future][0]
                    try:
                        res = future.result()
                    except BrokenProcessPool:
                        raise  # this file and every other not yet yielded: rechecked below
                    except Exception as exc:  # e.g. a result that cannot be pickled
                        res = FileResult(path, [_meta_finding("BN903", path, f"{type(exc).__name__}: {exc}")])
                    del futures[future]
                    yield res
    except BrokenProcessPool:
        # A worker died (segfault, OOM kill, a signal). Check the rest one
        # file per process, `jobs` at a time, so the file that kills a worker
        # is named and the others still get their findings.
        rest = {item[0]: item for item in futures.values()}
        rest.update((entry[2][0], entry[2]) for entry in waiting)
        rest.update((item[0], item) for item in source)
        with ThreadPoolExecutor(max_workers=jobs) as threads:
            yield from threads.map(_isolated, rest.values())


def _preload(fixes: bool) -> None:
    """Import what every worker needs before the pool forks them: each then
    starts with it (copy-on-write) instead of importing it itself."""
    from . import noqa, rules, semantic  # noqa: F401
    if fixes:
        import libcst  # noqa: F401

        from .fixes import build, edits, tree, validate  # noqa: F401


def _isolated(item: _Item) -> FileResult:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    path = item[0]
    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            return pool.submit(_worker, item).result()
    except BrokenProcessPool:
        return FileResult(path, [_meta_finding(
            "BN903", path, "the worker process checking this file died (crash, out of memory or killed)")])
