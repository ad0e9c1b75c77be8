"""`bnlint server` driven over stdio by a real LSP client (pytest-lsp), as an
editor drives it: initialize, open, type, save, ask for code actions."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from bnlint.config import Config
from bnlint.engine import lint_text
from bnlint.finding import Edit, Fix
from bnlint.lsp import Source, fix_edits, noqa_edit
from bnlint.specs import load_specs

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BUGGY = (EXAMPLES / "buggy" / "bn001_gradient_tape.py").read_text(encoding="utf-8")
FIXED = (EXAMPLES / "fixed" / "bn001_gradient_tape.py").read_text(encoding="utf-8")
CALL = "        logits = model(images)"
CALL_LINE = BUGGY.splitlines().index(CALL)  # 0-based line of the tape call in BUGGY
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
ENV.pop("TF_USE_LEGACY_KERAS", None)
GUARD_SECONDS = 60  # only so a broken server fails the test instead of hanging it


def make_client() -> LanguageClient:
    """pytest-lsp's client, also keeping every publishDiagnostics with its version."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []

    def record(ls, params: types.PublishDiagnosticsParams):
        ls.published.append(params)
        ls.diagnostics[params.uri] = params.diagnostics

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: record})
    return client


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "bnlint", "server", "--stdio", "--debounce", "0.05"],
    client_factory=make_client, server_env=ENV))
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


async def initialize(client: LanguageClient, root: Path, encoding=None) -> types.InitializeResult:
    caps = client_capabilities("visual-studio-code")
    if encoding is not None:
        caps.general = types.GeneralClientCapabilities(position_encodings=[encoding])
    return await client.initialize_session(types.InitializeParams(
        capabilities=caps, root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))


def open_doc(client: LanguageClient, path: Path, text: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    return uri


def change_doc(client: LanguageClient, uri: str, version: int, text: str, range_=None) -> None:
    change = (types.TextDocumentContentChangePartial(range=range_, text=text) if range_
              else types.TextDocumentContentChangeWholeDocument(text=text))
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[change]))


async def published(client: LanguageClient, uri: str, version, after: int = 0):
    """The diagnostics the server published for `version` of `uri` (looking only
    at notifications after the first `after`), waiting for them if need be."""
    async def wait():
        while True:
            for params in client.published[after:]:
                if params.uri == uri and params.version == version:
                    return list(params.diagnostics)
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return await asyncio.wait_for(wait(), GUARD_SECONDS)


async def code_actions(client: LanguageClient, uri: str, range_, diagnostics):
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=range_,
        context=types.CodeActionContext(diagnostics=diagnostics)))


def to_index(text: str, pos: types.Position, encoding: str) -> int:
    """An LSP position in `encoding` units -> an index into `text` (the test
    texts have no form feeds, so str.splitlines agrees with the LSP here)."""
    lines = text.splitlines(True)
    line = lines[pos.line] if pos.line < len(lines) else ""
    units, col = 0, 0
    while units < pos.character and col < len(line):
        units += len(line[col].encode(encoding)) // (2 if encoding == "utf-16-le" else 4 if encoding == "utf-32-le" else 1)
        col += 1
    return sum(len(x) for x in lines[:pos.line]) + col


def apply_edits(text: str, edits, encoding: str = "utf-16-le") -> str:
    spans = sorted(((to_index(text, e.range.start, encoding), to_index(text, e.range.end, encoding), e.new_text)
                    for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def with_call_line(line: str) -> str:
    lines = BUGGY.splitlines(True)
    assert lines[CALL_LINE] == CALL + "\n"
    lines[CALL_LINE] = line + "\n"
    return "".join(lines)


async def test_buggy_examples_get_the_cli_findings(client, tmp_path):
    for path in (EXAMPLES / "buggy").glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    cli = run_cli("--output-format", "json", "--no-cache", ".", cwd=tmp_path)
    assert cli.returncode == 1, cli.stderr
    expected = {(Path(f["filename"]).name, f["line"] - 1, f["column"] - 1, f["end_line"] - 1, f["end_column"] - 1,
                 f["code"], f["message"]) for f in json.loads(cli.stdout)}
    assert {e[5] for e in expected} == {"BN001", "BN002", "BN003"}

    await initialize(client, tmp_path)
    got = set()
    specs = load_specs()
    for path in sorted(tmp_path.glob("*.py")):
        uri = open_doc(client, path, path.read_text(encoding="utf-8"))
        for d in await published(client, uri, 1):
            assert (d.source, d.severity) == ("bnlint", types.DiagnosticSeverity.Error)  # the spec says error
            assert d.code_description.href == specs[d.code].url()
            got.add((path.name, d.range.start.line, d.range.start.character, d.range.end.line,
                     d.range.end.character, d.code, d.message))
    assert got == expected


async def test_the_unsaved_buffer_is_linted_and_edits_clear_it(client, tmp_path):
    path = tmp_path / "train.py"
    path.write_text(FIXED, encoding="utf-8")  # the disk says fixed; the buffer says otherwise
    await initialize(client, tmp_path)
    uri = open_doc(client, path, BUGGY)
    [diag] = await published(client, uri, 1)
    assert (diag.code, diag.range.start.line, diag.range.start.character, diag.range.end.character) == \
        ("BN001", CALL_LINE, CALL.index("model"), len(CALL))

    # Type `, training=True` into the call (an incremental change), unsaved.
    at = types.Position(line=CALL_LINE, character=len(CALL) - 1)
    change_doc(client, uri, 2, ", training=True", types.Range(start=at, end=at))
    assert await published(client, uri, 2) == []

    # A burst of edits: only the last text counts.
    change_doc(client, uri, 3, BUGGY)
    change_doc(client, uri, 4, FIXED)
    change_doc(client, uri, 5, BUGGY)
    assert [d.code for d in await published(client, uri, 5)] == ["BN001"]

    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert await published(client, uri, None) == []


@pytest.mark.parametrize("line, edited", [
    (CALL, CALL + "  # noqa: BN001"),
    (CALL + "  # noqa: BN003", CALL + "  # noqa: BN003, BN001"),
    (CALL + "  # see the README", CALL + "  # see the README  # noqa: BN001"),
])
async def test_disable_for_this_line_adds_noqa_and_relint_is_clean(client, tmp_path, line, edited):
    await initialize(client, tmp_path)
    text = with_call_line(line)
    uri = open_doc(client, tmp_path / "train.py", text)
    [diag] = await published(client, uri, 1)
    actions = await code_actions(client, uri, diag.range, [diag])
    [action] = [a for a in actions if a.title == "Disable BN001 for this line"]
    assert action.kind == types.CodeActionKind.QuickFix
    assert [d.code for d in action.diagnostics] == ["BN001"]
    new_text = apply_edits(text, action.edit.changes[uri])
    assert new_text.splitlines()[CALL_LINE] == edited
    assert new_text == with_call_line(edited)
    change_doc(client, uri, 2, new_text)
    assert await published(client, uri, 2) == []


@pytest.mark.parametrize("text", [
    # A comment after a backslash continuation would break the code.
    with_call_line(CALL + " \\\n            + 0"),
    # Syntax errors are reported whatever the noqa says.
    with_call_line(CALL + " +"),
])
async def test_no_noqa_action_where_noqa_would_not_work(client, tmp_path, text):
    await initialize(client, tmp_path)
    uri = open_doc(client, tmp_path / "train.py", text)
    [diag] = await published(client, uri, 1)
    assert diag.code in ("BN001", "BN902")
    actions = await code_actions(client, uri, diag.range, [diag])
    assert not [a for a in actions or [] if a.title.startswith("Disable")]


async def test_the_rules_quick_fix_applies_and_relint_is_clean(client, tmp_path):
    await initialize(client, tmp_path)
    uri = open_doc(client, tmp_path / "train.py", BUGGY)
    [diag] = await published(client, uri, 1)
    [action] = [a for a in await code_actions(client, uri, diag.range, [diag]) if a.title.startswith("Fix BN001")]
    assert action.kind == types.CodeActionKind.QuickFix and [d.code for d in action.diagnostics] == ["BN001"]
    new_text = apply_edits(BUGGY, action.edit.changes[uri])
    assert new_text == with_call_line(CALL[:-1] + ", training=True)")
    change_doc(client, uri, 2, new_text)
    assert await published(client, uri, 2) == []


@pytest.mark.parametrize("call", ["model(images, mask)", "model(images for _ in (0,))"])
async def test_no_broken_quick_fix_is_offered(client, tmp_path, call):
    """`model(x, mask)`: `training=` would be passed twice (no fix); a bare
    generator gets its parentheses. An offered fix always parses."""
    await initialize(client, tmp_path)
    text = with_call_line(CALL.replace("model(images)", call))
    uri = open_doc(client, tmp_path / "train.py", text)
    [diag] = await published(client, uri, 1)
    actions = await code_actions(client, uri, diag.range, [diag])
    assert [a for a in actions if a.title.startswith("Disable")]
    for a in actions:
        if a.title.startswith("Fix "):
            compile(apply_edits(text, a.edit.changes[uri]), "train.py", "exec")
    assert len([a for a in actions if a.title.startswith("Fix ")]) == (0 if "mask" in call else 1)


async def test_quick_fix_actions_are_the_engines_fixes(client, tmp_path):
    await initialize(client, tmp_path)
    offered = expected = 0
    for path in sorted((EXAMPLES / "buggy").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        findings = lint_text(text, str(tmp_path / path.name), Config())
        uri = open_doc(client, tmp_path / path.name, text)
        diags = await published(client, uri, 1)
        assert len(diags) == len(findings) > 0
        whole = types.Range(start=types.Position(line=0, character=0),
                            end=types.Position(line=text.count("\n") + 1, character=0))
        actions = await code_actions(client, uri, whole, diags)
        fixes = {a.title: apply_edits(text, a.edit.changes[uri]) for a in actions if a.title.startswith("Fix ")}
        want = {}
        for f in findings:
            if f.fix is not None:
                fixed = text
                for e in sorted(f.fix.edits, key=lambda e: e.start, reverse=True):
                    fixed = fixed[:e.start] + e.text + fixed[e.end:]
                unsafe = " (unsafe)" if f.fix.applicability != "safe" else ""
                want[f"Fix {f.code}: {f.fix.message}{unsafe}"] = fixed
        assert fixes == want
        offered += len(fixes)
        expected += len(want)
        assert len([a for a in actions if a.title.startswith("Disable")]) == len({(f.line, f.code) for f in findings})
    assert offered == expected > 0


@pytest.mark.parametrize("encoding, codec", [
    (types.PositionEncodingKind.Utf16, "utf-16-le"),
    (types.PositionEncodingKind.Utf8, "utf-8"),
    (types.PositionEncodingKind.Utf32, "utf-32-le"),
])
async def test_positions_use_the_negotiated_encoding(client, tmp_path, encoding, codec):
    line = '        _, logits = "\U0001F60B\u00e9", model(images)'
    text = with_call_line(line)
    result = await initialize(client, tmp_path, encoding)
    assert result.capabilities.position_encoding == encoding
    uri = open_doc(client, tmp_path / "train.py", text)
    [diag] = await published(client, uri, 1)
    units = 2 if codec == "utf-16-le" else 4 if codec == "utf-32-le" else 1
    assert diag.range.start.character == len(line[:line.index("model")].encode(codec)) // units
    assert diag.range.end.character == len(line.encode(codec)) // units
    [action] = [a for a in await code_actions(client, uri, diag.range, [diag]) if a.title.startswith("Disable")]
    new_text = apply_edits(text, action.edit.changes[uri], codec)
    assert new_text == with_call_line(line + "  # noqa: BN001")


async def test_config_comes_from_the_workspace_pyproject_and_is_reread_on_save(client, tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.bnlint]\nignore = ["BN001"]\n', encoding="utf-8")
    (tmp_path / "pkg").mkdir()
    path = tmp_path / "pkg" / "train.py"
    await initialize(client, tmp_path)
    uri = open_doc(client, path, BUGGY)
    assert await published(client, uri, 1) == []

    pyproject.write_text('[tool.bnlint]\nselect = ["BN"]\n', encoding="utf-8")
    seen = len(client.published)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert [d.code for d in await published(client, uri, 1, after=seen)] == ["BN001"]

    pyproject.write_text('[tool.bnlint]\nselect = ["XX1"]\n', encoding="utf-8")
    seen = len(client.published)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert await published(client, uri, 1, after=seen) == []
    [shown] = client.messages
    assert shown.type == types.MessageType.Error
    assert str(pyproject) in shown.message and "XX1" in shown.message


async def test_an_unsaved_new_buffer_uses_the_workspace_root_config(client, tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.bnlint]\nignore = ["BN001"]\n', encoding="utf-8")
    await initialize(client, tmp_path)
    uri = "untitled:Untitled-1"
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=BUGGY)))
    assert await published(client, uri, 1) == []
    pyproject.write_text('[tool.bnlint]\nselect = ["BN"]\n', encoding="utf-8")
    change_doc(client, uri, 2, BUGGY)
    assert [d.code for d in await published(client, uri, 2)] == ["BN001"]


def test_server_without_pygls_says_how_to_install_it():
    code = "import sys; sys.modules['pygls'] = None; from bnlint.cli import main; raise SystemExit(main(['server']))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, check=False)
    assert proc.returncode == 2
    assert 'pip install "bnlint[lsp]"' in proc.stderr
    assert proc.stdout == ""


def test_positions_follow_lsp_line_breaks_and_skip_a_bom():
    text = "\ufeffa = 1\x0c\r\nb\u2028c\rd\n"
    source = Source.of(text)
    assert source.lines == ["\ufeffa = 1\x0c\r\n", "b\u2028c\r", "d\n"]
    assert source.body == text[1:]
    assert source.finding_point(1, 1) == (0, 1)  # column 1 of the body is after the BOM
    assert source.finding_point(2, 3) == (1, 2)
    assert source.offset_point(source.body.index("c")) == (1, 2)
    assert source.offset_point(source.body.index("d")) == (2, 0)


def test_noqa_edit_keeps_the_line_ending_and_extends_existing_codes():
    source = Source.of("x = 1   \r\ny = 2  # noqa:BN002\nz = 3  # noqa\n")
    assert noqa_edit(source, 1, "BN001") == (0, 5, 8, "  # noqa: BN001")
    assert noqa_edit(source, 2, "BN001") == (1, 19, 19, ", BN001")
    assert noqa_edit(source, 3, "BN001") is None
    assert noqa_edit(source, 9, "BN001") is None


def test_a_fix_becomes_text_edits_in_client_units():
    # The rules' fixes use offsets into the BOM-less text; the client wants
    # (line, UTF-16 unit) positions in the buffer it holds.
    from pygls.workspace.position_codec import PositionCodec

    text = "\ufeffimport tf  # \U0001F60B\r\nlogits = model(\"\U0001F60B\", x)\n"
    source = Source.of(text)
    body = source.body
    at = body.index("x)") + 1
    fix = Fix("pass training=True", "safe", (Edit(at, at, ", training=True"), Edit(0, len("import"), "from")))
    edits = fix_edits(PositionCodec(types.PositionEncodingKind.Utf16), source, fix)
    assert [(e.range.start.line, e.range.start.character) for e in edits] == [(1, 22), (0, 1)]
    assert apply_edits(text, edits) == "\ufefffrom tf  # \U0001F60B\r\nlogits = model(\"\U0001F60B\", x, training=True)\n"


async def test_diagnostic_severity_is_the_specs(client, tmp_path):
    """A rule finding and a BN902 get the severity their specs declare, as in
    SARIF, GitHub and JSON output."""
    await initialize(client, tmp_path)
    specs = load_specs()
    names = {1: "Error", 2: "Warning"}
    uri = open_doc(client, tmp_path / "bug.py", BUGGY)
    (d,) = await published(client, uri, 1)
    assert (d.code, names[d.severity]) == ("BN001", specs["BN001"].severity.capitalize())
    uri = open_doc(client, tmp_path / "broken.py", "import tensorflow as tf\nwith tf.GradientTape() as t:\n    y = (\n")
    (d,) = await published(client, uri, 1)
    assert (d.code, names[d.severity]) == ("BN902", specs["BN902"].severity.capitalize())


# -- source.fixAll.bnlint (fix all on save) ---------------------------------------
FIX_ALL = "source.fixAll.bnlint"
THREE = ("import tensorflow as tf\r\n"
         "model = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])\r\n"
         "def forward(x):\r\n"
         "    return model(x)  # unsafe: a helper may also run at evaluation\r\n"
         "with tf.GradientTape() as tape:\r\n"
         "    y = model(x)\r\n"
         "    z = '\U0001F60B', model(x) + forward(x)\r\n")


def cli_fix(path: Path, text: str) -> str:
    """What `bnlint --fix` makes of the buffer, with the config of the file's directory."""
    proc = run_cli("--no-cache", "--fix", "-", "--stdin-filename", str(path), stdin=text.encode("utf-8"),
                   cwd=path.parent)
    return proc.stdout.decode("utf-8")


async def fix_all_actions(client, uri, only):
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=[], only=only)))


@pytest.mark.parametrize("only", [["source.fixAll"], [FIX_ALL], ["source"]])
async def test_fix_all_applies_the_safe_fixes_as_the_cli_does(client, tmp_path, only):
    result = await initialize(client, tmp_path)
    assert FIX_ALL in result.capabilities.code_action_provider.code_action_kinds
    text = "\ufeff" + THREE
    path = tmp_path / "train.py"
    uri = open_doc(client, path, text)
    assert [d.code for d in await published(client, uri, 1)] == ["BN001"] * 3
    [action] = await fix_all_actions(client, uri, only)
    assert action.kind == FIX_ALL and action.diagnostics is None
    new_text = apply_edits(text, action.edit.changes[uri])
    assert new_text == "\ufeff" + cli_fix(path, THREE)  # the editor keeps its BOM (the CLI's stdin drops it)
    assert new_text.count("training=True") == 2 and new_text.startswith("\ufeff") and "\r\n" in new_text
    change_doc(client, uri, 2, new_text)
    [left] = await published(client, uri, 2)  # the unsafe one stays, as after `bnlint --fix`
    assert (left.code, left.range.start.line) == ("BN001", 3)
    assert not await fix_all_actions(client, uri, only)


async def test_fix_all_is_not_a_quick_fix_but_is_listed_with_them(client, tmp_path):
    await initialize(client, tmp_path)
    uri = open_doc(client, tmp_path / "train.py", BUGGY)
    [diag] = await published(client, uri, 1)
    assert FIX_ALL not in [a.kind for a in await fix_all_actions(client, uri, [types.CodeActionKind.QuickFix])]
    unfiltered = await code_actions(client, uri, diag.range, [diag])
    assert [a.kind for a in unfiltered].count(FIX_ALL) == 1


async def test_fix_all_uses_the_config_of_the_files_directory(client, tmp_path):
    """Like the CLI: sub/pyproject.toml ignores BN001 for sub/train.py only."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text('[tool.bnlint]\nignore = ["BN001"]\n')
    await initialize(client, tmp_path)
    for path, fixed in ((tmp_path / "train.py", True), (tmp_path / "sub" / "train.py", False)):
        uri = open_doc(client, path, BUGGY)
        await published(client, uri, 1)
        actions = await fix_all_actions(client, uri, ["source.fixAll"])
        assert bool(actions) == fixed == (cli_fix(path, BUGGY) != BUGGY)


# -- a wrong Content-Length (issue 14.16) --------------------------------------------
def _frame(obj, delta=0) -> bytes:
    body = json.dumps(obj).encode()
    return f"Content-Length: {len(body) + delta}\r\n\r\n".encode() + body


@pytest.mark.parametrize("delta", [-5, 7])
def test_a_wrong_content_length_ends_the_server_loudly(delta):
    """pygls never finds a header again after a wrong Content-Length; the server
    used to stay alive and silent. It now exits with status 1 and says why, so
    the editor can restart it."""
    stream = (_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
              + _frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
              + _frame({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration",
                        "params": {"settings": {}}}, delta)
              + b"".join(_frame({"jsonrpc": "2.0", "id": i, "method": "shutdown"}) for i in (2, 3, 4)))
    proc = subprocess.run([sys.executable, "-m", "bnlint", "server"], input=stream, capture_output=True,
                          env=ENV, timeout=GUARD_SECONDS, check=False)
    assert b'"id": 1' in proc.stdout  # initialize was answered before the bad frame
    assert proc.returncode == 1, proc.stderr.decode()[-2000:]
    assert b"the client's Content-Length and the body disagree" in proc.stderr
