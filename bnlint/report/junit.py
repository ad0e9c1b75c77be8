"""JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure).

One <testsuite> per file with findings and one failed <testcase> per
finding, so the report lists each problem where test failures are shown. A
clean run is one passing test case, so the report is never empty.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Dict, List

from ..finding import Finding

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # XML 1.0 forbids these


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def format_junit(findings: List[Finding], sources: Dict[str, str]) -> str:
    n = str(len(findings))
    root = ET.Element("testsuites", name="bnlint", tests=n, failures=n, errors="0")
    if not findings:
        suite = ET.SubElement(root, "testsuite", name="bnlint", tests="1", failures="0", errors="0")
        ET.SubElement(suite, "testcase", name="no findings", classname="bnlint")
    by_file: Dict[str, List[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.filename, []).append(f)
    for filename, group in by_file.items():
        k = str(len(group))
        suite = ET.SubElement(root, "testsuite", name=_clean(filename), tests=k, failures=k, errors="0")
        for f in group:
            where = f.location()[len(f.filename) + 1:]
            case = ET.SubElement(suite, "testcase", name=_clean(f"{f.code} at {where}"),
                                 classname=_clean(filename), file=_clean(filename))
            line = f.line if f.cell is None else f.extra.get("ipynb_line")  # a line of the file
            if line is not None:
                case.set("line", str(line))
            failure = ET.SubElement(case, "failure", type=f.code, message=_clean(f.message))
            failure.text = _clean(f"{f.location()}: {f.code} {f.message}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
