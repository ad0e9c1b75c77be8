"""JSON Lines: one finding per line, the same record as `--output-format json`.

For log shippers and `jq -c` pipelines that read a stream line by line, and
for runs so large that one JSON array is awkward to hold.
"""

from __future__ import annotations

import json
from typing import Dict, List

from ..finding import Finding
from .json import finding_record


# Legal inside JSON strings, but line breaks to `str.splitlines` and some
# readers: escaped, so that one record is always one line.
_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _line(record: dict) -> str:
    text = json.dumps(record, ensure_ascii=False)
    for char, escape in _BREAKS.items():
        text = text.replace(char, escape)
    return text + "\n"


def format_json_lines(findings: List[Finding], sources: Dict[str, str]) -> str:
    return "".join(_line(finding_record(f)) for f in findings)
