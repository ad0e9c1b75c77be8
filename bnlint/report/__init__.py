"""Output formats. Each formatter turns findings into text; the CLI picks one."""

from __future__ import annotations

from typing import Callable, Dict, List

from ..finding import Finding
from .concise import format_concise
from .full import format_full
from .json import format_json

Formatter = Callable[[List[Finding], Dict[str, str]], str]

FORMATS: Dict[str, Formatter] = {
    "concise": format_concise,
    "full": format_full,
    "json": format_json,
}
