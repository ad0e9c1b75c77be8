"""What a rule reports: a code, a message, a span, and maybe a fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional


@dataclass(frozen=True)
class Edit:
    """Replace source[start:end] (character offsets) with `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    message: str
    applicability: str  # "safe" | "unsafe"
    edits: tuple = ()


@dataclass
class Finding:
    code: str
    message: str
    filename: str
    line: int  # 1-based
    column: int  # 1-based, like ruff and flake8's display
    end_line: int
    end_column: int
    name: str = ""
    fix: Optional[Fix] = None
    flavour: Optional[str] = None  # "keras2" / "keras3" when the finding depends on it
    extra: Dict[str, Any] = field(default_factory=dict)
    cell: Optional[int] = None  # notebooks: 1-based cell; line/column are then within the cell

    def sort_key(self):
        return (self.filename, self.cell or 0, self.line, self.column, self.code)

    def location(self) -> str:
        """`path:line:col`, or `nb.ipynb:cell 3:2:5` in a notebook."""
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.filename}:{cell}{self.line}:{self.column}"

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        if self.fix is not None:
            data["fix"] = {
                "message": self.fix.message,
                "applicability": self.fix.applicability,
                "edits": [asdict(e) for e in self.fix.edits],
            }
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Finding":
        data = dict(data)
        fix = data.pop("fix", None)
        finding = cls(**data)
        if fix:
            finding.fix = Fix(
                fix["message"], fix["applicability"], tuple(Edit(**e) for e in fix["edits"])
            )
        return finding


def sort_findings(findings: List[Finding]) -> List[Finding]:
    return sorted(findings, key=Finding.sort_key)
