"""The byte pre-filter: which rules can possibly fire in a file?

Each rule declares the words it needs (`Rule.stage1`, built from the
names in rules/api.yaml): a file that never mentions GradientTape cannot
hold a BN001 finding, and is never parsed. What follows the bytes is the
semantic model (one `ast` parse) and each rule's `applies()` question on it
(engine.lint_text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional, Set, Tuple

from .api import Api

# `from X import` / `import X, Y as Z` anywhere (also in strings: more yes).
# No two adjacent quantifiers may take the same character (tests/test_regex_linear.py):
# `(?=(?P<a>X*))(?P=a)` is X* without backtracking (Python has no possessive
# quantifiers before 3.11), so a run of blanks is split one way only.
_IMPORT = re.compile(rb"\bfrom(?=(?P<a>[ \t]+))(?P=a)(?P<module>[.\w]*)(?=(?P<b>[ \t\\]*))(?P=b)\n?[ \t]*import\b"
                     rb"|\bimport(?=[ \t])(?P<names>[^\n#;()]+)")


@dataclass(frozen=True)
class Prefilter:
    api: Api
    # (code, patterns that must all match, may the rest come from a project
    # module, what that module's bytes must then contain (None: anything; a
    # tuple: one pattern per pattern after the first, for the ones the file lacks))
    patterns: Tuple[Tuple[str, Tuple["re.Pattern[bytes]", ...], bool, Optional["re.Pattern[bytes]"]], ...]

    def stage1(self, data: bytes, codes: Iterable[str], filename: str = "") -> Set[str]:
        """Codes whose words appear in the raw bytes (or, for a rule that
        follows project modules, in a module the file imports; without a
        file name any project import may be one)."""
        return self.stage1_decision(data, codes, filename)[0]

    def stage1_decision(self, data: bytes, codes: Iterable[str], filename: str = "") -> Tuple[Set[str], bool]:
        """(stage1's codes, whether the answer read other files): when it
        did not, the answer depends on the bytes, the codes and the rule
        data alone, and a cache may keep it by content hash."""
        out = set()
        read_siblings = False
        for code, pats, via_project, wanted in self.patterns:
            if code not in codes or not pats[0].search(data):
                continue
            missing = [i for i, p in enumerate(pats[1:]) if not p.search(data)]
            if not missing:
                out.add(code)
            elif via_project and self.project_import(data):
                read_siblings = True
                # a tuple: one pattern per pats[1:], the siblings must hold each one the file lacks
                needs = [wanted[i] for i in missing] if isinstance(wanted, tuple) else [wanted]
                if all(self._siblings_mention(data, filename, w) for w in needs):
                    out.add(code)
        return out, read_siblings

    def _siblings_mention(self, data: bytes, filename: str, wanted) -> bool:
        """Does a project module this file imports contain `wanted`? Any
        doubt (no file name, a relative or continued import): yes."""
        if wanted is None or not filename or filename == "-":
            return True
        from .semantic.project import MAX_BYTES, Project

        project = Project(filename, self.api)
        if project.folder is None:
            return True
        clean = self.api.clean_libraries
        for m in _IMPORT.finditer(data):
            if m.group("module") is not None:
                names = [m.group("module").decode("ascii", "replace")]
                if not names[0].strip("."):
                    return True  # `from . import x`: the module is the name after import
            else:
                if m.group("names").rstrip().endswith(b"\\"):
                    return True
                names = [part.split()[0].decode("ascii", "replace")
                         for part in m.group("names").split(b",") if part.split()]
            for name in names:
                if name.lstrip(".").split(".")[0] in clean:
                    continue
                for candidate in (name, name.rpartition(".")[0]):
                    path = project.find(candidate) if candidate.strip(".") else None
                    if path is None:
                        continue
                    try:
                        with open(path, "rb") as fh:
                            if wanted.search(fh.read(MAX_BYTES)):
                                return True
                    except OSError:
                        return True
        return False

    def project_import(self, data: bytes) -> bool:
        """Might the file import a module of the user's own project (one
        whose root is not in api.yaml's clean_libraries)? Any doubt: yes."""
        clean = self.api.clean_libraries
        for m in _IMPORT.finditer(data):
            if m.group("module") is not None:
                names = [m.group("module")]
            else:
                names = [part.split()[0] for part in m.group("names").split(b",") if part.split()]
                if m.group("names").rstrip().endswith(b"\\"):
                    return True
            for name in names:
                root = name.split(b".")[0].decode("ascii", "replace")
                if not root or root not in clean:
                    return True
        return False

    def stage2(self, model, codes: Iterable[str], data: bytes = b"", filename: str = "") -> Set[str]:
        """Codes whose rule `applies()` to the semantic model (a cheap
        necessary condition each rule declares)."""
        from .rules import RULES

        return {code for code in codes if RULES[code].applies(model)}


@lru_cache(maxsize=8)
def build_prefilter(api: Api) -> Prefilter:
    from .rules import RULES

    patterns = tuple((code, rule.stage1(api), bool(getattr(rule, "stage1_project", lambda: False)()),
                      rule.project_words(api) if hasattr(rule, "project_words") else None)
                     for code, rule in sorted(RULES.items()))
    return Prefilter(api, patterns)
