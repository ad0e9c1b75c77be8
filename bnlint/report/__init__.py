"""Output formats. Each formatter turns findings into text; the CLI picks one."""

from __future__ import annotations

from typing import Callable, Dict, List

from ..finding import Finding
from .concise import format_concise
from .full import format_full
from .github import format_github
from .json import format_json
from .json_lines import format_json_lines
from .junit import format_junit
from .sarif import format_sarif

Formatter = Callable[[List[Finding], Dict[str, str]], str]

FORMATS: Dict[str, Formatter] = {
    "concise": format_concise,
    "full": format_full,
    "json": format_json,
    "json-lines": format_json_lines,
    "github": format_github,
    "sarif": format_sarif,
    "junit": format_junit,
}
