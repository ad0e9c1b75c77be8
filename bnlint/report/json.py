"""A JSON array of findings: code, name, message, detail, filename, line, column,
end_line, end_column, severity ("error" | "warning", from the rule's spec),
fix (null when the rule has none), flavour, url (the rule's docs page)."""

from __future__ import annotations

import json
from typing import Dict, List

from ..finding import Finding
from ..specs import load_specs, severity_of
from .filenames import unicode_name, valid_unicode


def finding_record(f: Finding) -> dict:
    spec = load_specs().get(f.code)
    record = {
        "code": f.code,
        "name": f.name,
        "message": valid_unicode(f.message),
        "detail": valid_unicode(f.extra.get("detail")),  # why, which layer (what `full` shows); null if none
        "filename": unicode_name(f.filename),  # undecodable bytes as \xNN (report/filenames.py)
        "cell": f.cell,  # notebooks: 1-based cell index, and line/column are in that cell
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "severity": severity_of(f.code),
        "fix": f.to_dict()["fix"],
        "flavour": f.flavour,
        "url": spec.url() if spec else None,
    }
    return record


def format_json(findings: List[Finding], sources: Dict[str, str]) -> str:
    return json.dumps([finding_record(f) for f in findings], indent=2, ensure_ascii=False) + "\n"
