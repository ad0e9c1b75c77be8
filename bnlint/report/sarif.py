"""SARIF 2.1.0, the format GitHub code scanning and other viewers import.

One run; `tool.driver.rules` lists every rule with its docs, so a viewer can
show what a rule means without bnlint installed; each result points at its
rule by id and index. Columns are counted in Unicode code points, as bnlint
counts them. A rule's fix goes in `fixes`. A notebook finding points at
the .ipynb line that holds the cell's line when there is one, and says the
cell in `properties`.
"""

from __future__ import annotations

import json
import os
from pathlib import PurePath
from typing import Dict, List

from .. import __version__
from ..finding import Finding
from ..specs import RuleSpec, load_specs, severity_of
from .filenames import uri_path, valid_unicode

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _rule(spec: RuleSpec) -> dict:
    docs = spec.render_docs()
    rule = {
        "id": spec.code,
        "name": spec.name,
        "shortDescription": {"text": spec.summary},
        "fullDescription": {"text": (spec.docs.get("what") or spec.summary).strip()},
        "help": {"text": docs, "markdown": docs},
        "helpUri": spec.url(),
        "defaultConfiguration": {"level": spec.severity, "enabled": spec.default},
    }
    return rule


def _artifact(filename: str) -> dict:
    """The file's URI: its bytes percent-encoded (a name that is not UTF-8
    keeps its exact bytes, report/filenames.py)."""
    path = PurePath(os.path.normpath(filename))
    if path.is_absolute():
        return {"uri": "file://" + uri_path(path.as_posix())}
    return {"uri": uri_path(path.as_posix()), "uriBaseId": "%SRCROOT%"}


def _result(f: Finding, index: Dict[str, int]) -> dict:
    location: dict = {"artifactLocation": _artifact(f.filename)}
    result: dict = {"ruleId": f.code, "level": severity_of(f.code), "message": {"text": valid_unicode(f.message)}}
    if f.code in index:
        result["ruleIndex"] = index[f.code]
    if f.cell is None:
        location["region"] = {"startLine": f.line, "startColumn": f.column,
                              "endLine": f.end_line, "endColumn": f.end_column}
    else:
        if "ipynb_line" in f.extra:
            location["region"] = {"startLine": f.extra["ipynb_line"]}
        result["properties"] = {"cell": f.cell, "cellLine": f.line, "cellColumn": f.column}
    result["locations"] = [{"physicalLocation": location}]
    if f.fix is not None and f.fix.edits and f.cell is None:
        result["fixes"] = [_fix(f)]
    return result


def _fix(f: Finding) -> dict:
    """The rule's fix as replacements; offsets count code points, like columns."""
    replacements = [{"deletedRegion": {"charOffset": e.start, "charLength": e.end - e.start},
                     "insertedContent": {"text": e.text}} for e in f.fix.edits]
    return {"description": {"text": f"{f.fix.message} ({f.fix.applicability} fix)"},
            "artifactChanges": [{"artifactLocation": _artifact(f.filename), "replacements": replacements}]}


def format_sarif(findings: List[Finding], sources: Dict[str, str]) -> str:
    specs = load_specs()
    codes = sorted(specs)
    index = {code: i for i, code in enumerate(codes)}
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "bnlint",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(specs[c]) for c in codes],
            }},
            "columnKind": "unicodeCodePoints",
            "results": [_result(f, index) for f in findings],
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
