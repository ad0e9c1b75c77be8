"""`bnlint server`: the engine behind the Language Server Protocol (stdio).

A thin adapter, so an editor shows what `bnlint` would print for the buffer
being typed: the unsaved text goes through `lint_text` with the config a CLI
run next to the file would use, findings become diagnostics, and `# noqa`
and the rules' own fixes become code actions. pygls and lsprotocol are
imported only when the server starts, so `bnlint` works without the `lsp`
extra.
"""

from __future__ import annotations

import asyncio
import bisect
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

from . import __version__
from .config import Config, ConfigError, settings_for
from .engine import lint_text
from .finding import Finding, Fix
from .noqa import _NOQA
from .specs import load_specs, severity_of

DEBOUNCE_SECONDS = 0.3
FIX_ALL_KIND = "source.fixAll.bnlint"  # as ruff's `source.fixAll.ruff`: editors run it on save
PYTHON_SUFFIXES = (".py", ".pyi")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what both Python and LSP count as a line break


def add_arguments(parser) -> None:
    parser.add_argument("--debounce", type=float, default=DEBOUNCE_SECONDS, metavar="SECONDS",
                        help=f"wait this long after the last keystroke before linting (default {DEBOUNCE_SECONDS})")
    parser.add_argument("--stdio", action="store_true",
                        help="talk LSP over stdin/stdout (the only transport; accepted for editors that pass it)")


def run(args, out) -> int:
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError as exc:
        sys.stderr.write(f"bnlint server needs the `lsp` extra ({exc.name or 'pygls'} is not installed): "
                         f"pip install \"bnlint[lsp]\"\n")
        return 2
    build_server(max(0.0, args.debounce)).start_io()
    return 0


# --- text positions: pure helpers, no pygls ---------------------------------

def split_lines(text: str) -> List[str]:
    """Lines with their endings, broken only where the LSP and Python break them
    (str.splitlines also breaks at form feeds and U+2028, which would shift every
    position after one)."""
    lines, start = [], 0
    for m in _LINE_BREAK.finditer(text):
        lines.append(text[start:m.end()])
        start = m.end()
    if start < len(text) or not lines:
        lines.append(text[start:])
    return lines


class Source(NamedTuple):
    """A buffer as the engine sees it: `body` is `text` without a BOM (the
    engine's positions and offsets are into `body`)."""

    text: str
    lines: List[str]
    line_starts: List[int]
    lead: int  # 1 when `text` starts with a BOM

    @classmethod
    def of(cls, text: str) -> "Source":
        lines = split_lines(text)
        starts, total = [], 0
        for line in lines:
            starts.append(total)
            total += len(line)
        return cls(text, lines, starts, 1 if text.startswith("\ufeff") else 0)

    @property
    def body(self) -> str:
        return self.text[self.lead:]

    def finding_point(self, line: int, column: int) -> Tuple[int, int]:
        """A finding's 1-based (line, column) -> 0-based (line, code point in `text`)."""
        return line - 1, column - 1 + (self.lead if line == 1 else 0)

    def offset_point(self, offset: int) -> Tuple[int, int]:
        """A fix's offset into `body` -> 0-based (line, code point in `text`)."""
        offset += self.lead
        index = max(0, bisect.bisect_right(self.line_starts, offset) - 1)
        return index, offset - self.line_starts[index]


def line_content(line: str) -> str:
    return line.rstrip("\r\n")


def noqa_edit(source: Source, line: int, code: str) -> Optional[Tuple[int, int, int, str]]:
    """(0-based line, start, end, new text) that adds `code` to the `# noqa` of
    1-based `line`, or None when the line has none to extend and no room for one."""
    if not 1 <= line <= len(source.lines):
        return None
    content = line_content(source.lines[line - 1])
    m = _NOQA.search(content)
    if m and m.group("codes"):
        end = m.end("codes")
        return line - 1, end, end, f", {code}"
    if m:  # a bare `# noqa` already silences everything
        return None
    stripped = len(content.rstrip())
    return line - 1, stripped, len(content), f"  # noqa: {code}"


def apply_edit(text: str, source: Source, edit: Tuple[int, int, int, str]) -> str:
    line, start, end, new = edit
    base = source.line_starts[line]
    return text[:base + start] + new + text[base + end:]


def silencing_works(before: List[Finding], after: List[Finding], line: int, code: str) -> bool:
    """The noqa edit removed exactly the findings of `code` on `line`: it did not
    break the code (a backslash continuation, a string running past the line) and
    the engine honours noqa for this code (BN9xx findings ignore it)."""
    def key(f: Finding):
        return f.code, f.line, f.column, f.message
    expected = sorted(key(f) for f in before if not (f.code == code and f.line == line))
    return len(expected) < len(before) and expected == sorted(key(f) for f in after)


def severity_name(code: str) -> str:
    """The LSP DiagnosticSeverity member for a code: the spec's `severity`."""
    return {"error": "Error", "warning": "Warning"}[severity_of(code)]


def lsp_range(codec, source: Source, start: Tuple[int, int], end: Tuple[int, int]):
    """(line, code point) pairs -> an LSP Range in the units the client negotiated."""
    from lsprotocol import types
    from pygls.workspace.position_codec import ServerTextPosition

    def position(point):
        return codec.position_to_client_units(source.lines, ServerTextPosition(*point))
    return types.Range(start=position(start), end=position(end))


def fix_edits(codec, source: Source, fix: Fix) -> list:
    from lsprotocol import types

    return [types.TextEdit(range=lsp_range(codec, source, source.offset_point(e.start), source.offset_point(e.end)),
                           new_text=e.text) for e in fix.edits]


def changed_span(old: str, new: str) -> Tuple[int, int, str]:
    """One replacement turning `old` into `new`: (start, end) offsets into
    `old` (code points) and the text to put there, trimmed to the part that
    differs, so the editor's cursor and folds outside it stay put."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return start, end_old, new[start:end_new]


def wants_kind(only, kind: str) -> bool:
    """Whether a codeAction request's `only` list asks for `kind` (a listed
    kind covers its sub-kinds: "source" and "source.fixAll" cover FIX_ALL_KIND)."""
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)


# --- the server --------------------------------------------------------------

def document_path(uri: str) -> Optional[Path]:
    from pygls.uris import to_fs_path, uri_scheme

    if uri_scheme(uri) != "file":
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


FRAMING_LOST = ("bnlint server: a message body is not JSON ({error}); the client's Content-Length and "
                "the body disagree, and an LSP stream cannot be resynchronised after that: exiting "
                "(status 1) so that the editor can restart the server\n")


def lost_framing(error: Exception) -> bool:
    """Whether pygls failed to decode a message body: after a wrong
    Content-Length, pygls 2 reads the wrong bytes as the body and then never
    finds a header again (it only accepts one at the start of a line, and a
    body does not end with a line break), so the server would stay alive
    and silent forever."""
    import json

    return isinstance(error, (json.JSONDecodeError, UnicodeDecodeError))


def build_server(debounce: float = DEBOUNCE_SECONDS):
    from lsprotocol import types
    from pygls.lsp.server import LanguageServer

    class Server(LanguageServer):
        def report_server_error(self, error, source):
            if lost_framing(error):
                import os

                sys.stderr.write(FRAMING_LOST.format(error=error))
                sys.stderr.flush()
                os._exit(1)  # the stdin reader thread would keep a normal exit waiting
            super().report_server_error(error, source)

    server = Server("bnlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bnlint-lint")  # one lint at a time
    pending: Dict[str, asyncio.Task] = {}
    results: Dict[str, Tuple[Optional[int], str, List[Finding]]] = {}
    shown_errors: Dict[str, str] = {}

    def config_for(uri: str) -> Tuple[Config, str]:
        """The document's config as a CLI run would pick it (config.settings_for:
        the nearest config file, re-read when it changes), and its file name."""
        path = document_path(uri)
        if path is None:  # an unsaved buffer: the workspace's config
            return settings_for(Path(server.workspace.root_path or Path.cwd())), uri
        return settings_for(path), str(path)

    def lint(uri: str, text: str) -> List[Finding]:
        """Runs in the lint thread. A ConfigError propagates; an engine failure
        is a BN903 finding, as in a CLI run."""
        config, filename = config_for(uri)
        try:
            return lint_text(Source.of(text).body, filename, config)
        except Exception as exc:  # a bug in bnlint must not stop the server
            spec = load_specs()["BN903"]
            return [Finding("BN903", spec.message("default", detail=f"{type(exc).__name__}: {exc}"),
                            filename, 1, 1, 1, 1, name=spec.name)]

    async def lint_async(uri: str, text: str) -> List[Finding]:
        return await asyncio.get_running_loop().run_in_executor(pool, lint, uri, text)

    def is_python(doc) -> bool:
        return doc.language_id in (None, "", "python") or doc.uri.endswith(PYTHON_SUFFIXES)

    def diagnostic(doc, source: Source, f: Finding):
        specs = load_specs()
        return types.Diagnostic(
            range=lsp_range(doc.position_codec, source, source.finding_point(f.line, f.column),
                            source.finding_point(f.end_line, f.end_column)),
            message=f.message,
            severity=getattr(types.DiagnosticSeverity, severity_name(f.code)),
            code=f.code,
            code_description=types.CodeDescription(href=specs[f.code].url()) if f.code in specs else None,
            source="bnlint",
        )

    def report_config_error(uri: str, exc: Exception) -> None:
        message = f"bnlint: {exc}"
        if shown_errors.get(uri) != message:  # once per distinct error, not per keystroke
            shown_errors[uri] = message
            server.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))
            server.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=message))

    async def lint_and_publish(uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        doc = server.workspace.get_text_document(uri)
        version, text = doc.version, doc.source
        try:
            findings = await lint_async(uri, text)
        except ConfigError as exc:
            report_config_error(uri, exc)
            findings = []
        else:
            shown_errors.pop(uri, None)
        if uri not in server.workspace.text_documents:
            return  # closed meanwhile
        doc = server.workspace.get_text_document(uri)
        if doc.version != version or doc.source != text:
            return  # stale: a newer lint is scheduled
        results[uri] = (version, text, findings)
        source = Source.of(text)
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[diagnostic(doc, source, f) for f in findings]))

    def schedule(uri: str, delay: float) -> None:
        old = pending.pop(uri, None)
        if old is not None:
            old.cancel()
        doc = server.workspace.get_text_document(uri)
        if not is_python(doc):
            return
        task = asyncio.ensure_future(lint_and_publish(uri, delay))
        pending[uri] = task
        task.add_done_callback(lambda t: pending.get(uri) is t and pending.pop(uri))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls, params: types.DidOpenTextDocumentParams):
        schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls, params: types.DidChangeTextDocumentParams):
        schedule(params.text_document.uri, debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls, params: types.DidSaveTextDocumentParams):
        schedule(params.text_document.uri, 0)  # the config may have changed too

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls, params: types.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        task = pending.pop(uri, None)
        if task is not None:
            task.cancel()
        results.pop(uri, None)
        shown_errors.pop(uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def fix_all(uri: str, text: str) -> Optional[str]:
        """Runs in the lint thread: the buffer with every safe fix applied (as
        `bnlint --fix` would, same config), or None when nothing applies."""
        from .fixes.command import fix_text

        config, filename = config_for(uri)
        body = Source.of(text).body
        outcome = fix_text(body, filename, config, unsafe=False)
        return None if outcome.text == body else outcome.text

    async def fix_all_action(doc, uri: str):
        text = doc.source
        new = await asyncio.get_running_loop().run_in_executor(pool, fix_all, uri, text)
        if new is None:
            return None
        source = Source.of(text)
        start, end, replacement = changed_span(source.body, new)
        edit = types.TextEdit(range=lsp_range(doc.position_codec, source, source.offset_point(start),
                                              source.offset_point(end)), new_text=replacement)
        return types.CodeAction(
            title="bnlint: fix all safely fixable problems", kind=FIX_ALL_KIND,
            edit=types.WorkspaceEdit(changes={uri: [edit]}))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]))
    async def code_action(ls, params: types.CodeActionParams):
        uri = params.text_document.uri
        doc = ls.workspace.get_text_document(uri)
        if not is_python(doc):
            return None
        only = params.context.only
        actions = []
        if wants_kind(only, types.CodeActionKind.QuickFix.value):
            quick = await quick_fixes(ls, params, doc, uri)
            if quick is None:
                return None  # a config error, already shown
            actions += quick
        # Asked for by kind (editors' "fix all on save"), or in an unfiltered
        # list (a lightbulb menu) when a safe fix is on offer there.
        offered = any(a.kind == types.CodeActionKind.QuickFix and a.is_preferred for a in actions)
        if (only and wants_kind(only, FIX_ALL_KIND)) or (not only and offered):
            try:
                action = await fix_all_action(doc, uri)
            except ConfigError as exc:
                report_config_error(uri, exc)
                action = None
            if action is not None:
                actions.append(action)
        return actions

    async def quick_fixes(ls, params: types.CodeActionParams, doc, uri: str):
        text = doc.source
        cached = results.get(uri)
        try:
            if cached and cached[0] == doc.version and cached[1] == text:
                findings = cached[2]
            else:
                findings = await lint_async(uri, text)
        except ConfigError as exc:
            report_config_error(uri, exc)
            return None
        source = Source.of(text)
        first, last = params.range.start.line + 1, params.range.end.line + 1
        hits = [f for f in findings if f.line <= last and f.end_line >= first]
        actions, silenced = [], set()
        for f in hits:
            diag = diagnostic(doc, source, f)
            if f.fix is not None and f.fix.edits:
                unsafe = f.fix.applicability != "safe"
                edits = fix_edits(doc.position_codec, source, f.fix)
                actions.append(types.CodeAction(
                    title=f"Fix {f.code}: {f.fix.message}" + (" (unsafe)" if unsafe else ""),
                    kind=types.CodeActionKind.QuickFix, diagnostics=[diag], is_preferred=not unsafe,
                    edit=types.WorkspaceEdit(changes={uri: edits})))
            if (f.line, f.code) in silenced:
                continue
            silenced.add((f.line, f.code))
            edit = noqa_edit(source, f.line, f.code)
            if edit is None:
                continue
            try:
                after = await lint_async(uri, apply_edit(text, source, edit))
            except ConfigError:
                continue
            if not silencing_works(findings, after, f.line, f.code):
                continue
            line, start, end, new = edit
            actions.append(types.CodeAction(
                title=f"Disable {f.code} for this line", kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(
                    range=lsp_range(doc.position_codec, source, (line, start), (line, end)), new_text=new)]})))
        return actions

    @server.feature(types.SHUTDOWN)
    def shutdown(ls, params):
        for task in pending.values():
            task.cancel()
        pool.shutdown(wait=False, cancel_futures=True)

    return server
