"""Small helpers shared by the tests: lint a string, read `# expect:` marks."""

import re
import textwrap
from typing import List, Set, Tuple

from bnlint.config import Config
from bnlint.engine import lint_bytes

_EXPECT = re.compile(r"#\s*expect:\s*((?:BN\d{3}[,\s]*)+)")


def lint(code: str, config: Config = None, filename: str = "example.py"):
    source = textwrap.dedent(code)
    return lint_bytes(source.encode("utf-8"), filename, config or Config())


def expected(code: str) -> Set[Tuple[int, str]]:
    out = set()
    for lineno, line in enumerate(textwrap.dedent(code).splitlines(), start=1):
        m = _EXPECT.search(line)
        if m:
            for c in re.findall(r"BN\d{3}", m.group(1)):
                out.add((lineno, c))
    return out


def found(findings) -> Set[Tuple[int, str]]:
    return {(f.line, f.code) for f in findings}


def codes(findings) -> List[str]:
    return [f.code for f in findings]
