"""JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure).

One <testsuite> per file with findings and one <testcase> per finding, so
the report lists each problem where test failures are shown. A rule's
finding is a <failure> (the check ran and found a bug); a BN9xx diagnostic
(a file bnlint could not read, parse or check) is an <error>, JUnit's word
for a test that could not run. A clean run is one passing test case, so the
report is never empty.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Dict, List

from ..finding import Finding
from .concise import location
from .filenames import text_name, valid_unicode

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # XML 1.0 forbids these


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _not_checked(f: Finding) -> bool:
    return f.code.startswith("BN9")


def _counts(group: List[Finding]) -> Dict[str, str]:
    errors = sum(map(_not_checked, group))
    return {"tests": str(len(group)), "failures": str(len(group) - errors), "errors": str(errors)}


def format_junit(findings: List[Finding], sources: Dict[str, str]) -> str:
    root = ET.Element("testsuites", name="bnlint", **_counts(findings))
    if not findings:
        suite = ET.SubElement(root, "testsuite", name="bnlint", tests="1", failures="0", errors="0")
        ET.SubElement(suite, "testcase", name="no findings", classname="bnlint")
    by_file: Dict[str, List[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.filename, []).append(f)
    for filename, group in by_file.items():
        shown = _clean(text_name(filename))
        suite = ET.SubElement(root, "testsuite", name=shown, **_counts(group))
        for f in group:
            where = f.location()[len(f.filename) + 1:]
            case = ET.SubElement(suite, "testcase", name=_clean(f"{f.code} at {where}"),
                                 classname=shown, file=shown)
            line = f.line if f.cell is None else f.extra.get("ipynb_line")  # a line of the file
            if line is not None:
                case.set("line", str(line))
            failure = ET.SubElement(case, "error" if _not_checked(f) else "failure",
                                    type=f.code, message=_clean(valid_unicode(f.message)))
            failure.text = _clean(valid_unicode(f"{location(f)}: {f.code} {f.message}"))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
