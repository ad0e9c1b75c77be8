"""Rule specs: rules/BNxxx.yaml files hold each rule's id, name, messages,
docs and examples. The code of a rule lives in bnlint/rules/; the words
and the test cases live here, so docs, tests and messages cannot drift."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, List, Optional

from .api import load_yaml
from .resources import rules_dir

# The project's repository; the rule docs pages are docs/rules/BNxxx.md in it.
# pyproject.toml's [project.urls] Repository holds the same string (a test
# keeps the two equal).
REPOSITORY_URL = "https://github.com/bnlint/bnlint"
DOCS_BRANCH = "main"

# How bad a finding is, as the spec's `severity:` says; every output format
# maps it to its own words (LSP DiagnosticSeverity, SARIF level, GitHub
# annotation command).
SEVERITIES = ("error", "warning")


class SpecError(ValueError):
    """A rules/BNxxx.yaml file is missing a field or has a bad value."""


@dataclass(frozen=True)
class Example:
    """A VALID or INVALID example. An INVALID example marks each expected
    finding `# expect: BN001:18` (code and 1-based column, on its line);
    `fixed` is the source after all its fixes (safe and unsafe) are
    applied, given for every example that has a fix (Fixit's
    expected_replacement)."""

    code: str
    note: str = ""
    fixed: Optional[str] = None


@dataclass(frozen=True)
class RuleSpec:
    code: str
    name: str
    summary: str
    messages: Dict[str, str]  # variant -> the one-line message (what, and what to do)
    docs: Dict[str, str]
    fix_safety: str
    valid: List[Example] = field(default_factory=list)
    invalid: List[Example] = field(default_factory=list)
    default: bool = True
    severity: str = "error"  # one of SEVERITIES

    details: Dict[str, str] = field(default_factory=dict)  # variant -> why, which layer

    def message(self, variant: str = "default", **values) -> str:
        """The one-line message (at most about 120 characters with realistic
        values): what is wrong and what to do. Values the template does not
        name are ignored (they may be used by `detail`)."""
        return self.messages[variant].format(**values).strip()

    def detail(self, variant: str = "default", **values) -> str:
        """The rest of the story for `--output-format full` (why it matters,
        which layer); "" when the variant has none."""
        template = self.details.get(variant)
        return template.format(**values).strip() if template else ""

    def url(self) -> str:
        """The rule's docs page in the repository (docs/rules/BNxxx.md, made
        from this spec by docs/generate.py); `bnlint rule CODE` prints the
        same text offline."""
        return f"{REPOSITORY_URL}/blob/{DOCS_BRANCH}/docs/rules/{self.code}.md"

    def render_docs(self) -> str:
        """ruff-style docs, as Markdown: What it does / Why is this bad? /
        Example / Use instead / Known problems / Fix safety. The same text is
        `bnlint rule CODE`, the SARIF rule help and docs/rules/CODE.md."""
        d = self.docs
        on = "on by default" if self.default else "off by default (enable it with `--select`)"
        parts = [f"# {self.name} ({self.code})", "", self.summary, "",
                 f"Severity: {self.severity}; {on}.", ""]
        for title, key in (
            ("What it does", "what"),
            ("Why is this bad?", "why"),
            ("Example", "example"),
            ("Use instead", "use_instead"),
            ("Known problems", "limits"),
            ("Fix safety", "fix"),
        ):
            text = d.get(key)
            if text:
                text = text.replace("{repo}", f"{REPOSITORY_URL}/blob/{DOCS_BRANCH}")
            if key == "fix":
                text = text or self.fix_safety
            if not text:
                continue
            parts.append(f"## {title}")
            if key in ("example", "use_instead"):
                parts += ["```python", text.rstrip(), "```"]
            else:
                parts.append(text.rstrip())
            parts.append("")
        return "\n".join(parts).rstrip() + "\n"


def _examples(items) -> List[Example]:
    out = []
    for item in items or []:
        if isinstance(item, str):
            out.append(Example(item))
        else:
            out.append(Example(item["code"], item.get("note", ""), item.get("fixed")))
    return out


def _severity(data: dict, where: str) -> str:
    value = data.get("severity")
    if value not in SEVERITIES:
        raise SpecError(f"{where}: `severity` must be one of {', '.join(SEVERITIES)}, not {value!r}")
    return value


def severity_of(code: str) -> str:
    """A finding code's severity ("error" or "warning"); "error" for a code
    without a spec."""
    spec = load_specs().get(code)
    return spec.severity if spec is not None else "error"


@lru_cache(maxsize=1)
def load_specs() -> Dict[str, RuleSpec]:
    specs: Dict[str, RuleSpec] = {}
    for path in sorted(rules_dir().glob("BN*.yaml")):
        data = load_yaml(path)
        raw = data["messages"] if "messages" in data else {"default": data["message"]}
        # A variant is a message string, or {message: ..., detail: ...}.
        messages = {k: v["message"] if isinstance(v, dict) else v for k, v in raw.items()}
        details = {k: v["detail"] for k, v in raw.items() if isinstance(v, dict) and v.get("detail")}
        spec = RuleSpec(
            code=data["code"],
            name=data["name"],
            summary=data["summary"].strip(),
            messages=messages,
            details=details,
            docs=data.get("docs") or {},
            fix_safety=(data.get("fix_safety") or "No automatic fix yet.").strip(),
            valid=_examples(data.get("valid")),
            invalid=_examples(data.get("invalid")),
            default=bool(data.get("default", True)),
            severity=_severity(data, path.name),
        )
        specs[spec.code] = spec
    return specs
