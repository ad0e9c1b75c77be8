"""The byte pre-filter: which rules can possibly fire in a file?

Each rule declares the words it needs (`Rule.stage1`, built from the
names in rules/api.yaml): a file that never mentions GradientTape cannot
hold a BN001 finding, and is never parsed. What follows the bytes is the
semantic model (one `ast` parse) and each rule's `applies()` question on it
(engine.lint_text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, List, Optional, Set, Tuple

from .api import Api

# `from X import` / `import X, Y as Z` anywhere (also in strings: more yes).
# No two adjacent quantifiers may take the same character (tests/test_regex_linear.py):
# `(?=(?P<a>X*))(?P=a)` is X* without backtracking (Python has no possessive
# quantifiers before 3.11), so a run of blanks is split one way only.
_IMPORT = re.compile(rb"\bfrom(?=(?P<a>[ \t]+))(?P=a)(?P<module>[.\w]*)(?=(?P<b>[ \t\\]*))(?P=b)\n?[ \t]*import\b"
                     rb"|\bimport(?=[ \t])(?P<names>[^\n#;()]+)")


# `path.append(` / `path.insert(` (sys.path, as the semantic model's
# _sys_path_entries reads it), and the spellings that hide which `path` it is.
_PATH_CALL = re.compile(rb"\bpath[ \t]*\.[ \t]*(?:append|insert)[ \t]*\(")
_SYS_ALIAS = re.compile(rb"\bimport[ \t]+sys[ \t]+as\b|\bfrom[ \t]+sys[ \t]+import\b")


def _path_entries(data: bytes) -> Optional[Tuple[str, ...]]:
    """The string literals the file adds to `sys.path` (the folders
    semantic.Project also looks in), or None when that cannot be read from
    the bytes (sys imported under another name, `from sys import ...`, an
    argument list that is not a plain literal): then any import may be the
    project's. At most 400 bytes are read per call."""
    if _SYS_ALIAS.search(data):
        return None
    out = []
    for m in _PATH_CALL.finditer(data):
        args = data[m.end():m.end() + 400]
        end = args.find(b")")
        if end < 0:
            return None
        args = args[:end]
        if b"'" not in args and b'"' not in args:
            continue  # no literal: the model follows none either
        lit = args.rsplit(b",", 1)[-1].strip().lstrip(b"rRuU")
        if len(lit) < 2 or lit[:1] not in (b"'", b'"') or lit[-1:] != lit[:1] or lit[:1] in lit[1:-1] \
                or b"\\" in lit:
            return None
        out.append(lit[1:-1].decode("utf-8", "replace"))
    return tuple(dict.fromkeys(out))


def _from_names(data: bytes, at: int) -> List[str]:
    """The names imported by the `from X import` whose `import` keyword
    ends at `at`: `a as b, c` up to the end of the line, or `(a, b)` over
    lines (at most 4 KB read; a star or anything unreadable: none)."""
    rest = data[at:at + 4096].lstrip(b" \t")
    if rest.startswith(b"("):
        end = rest.find(b")")
        lines = rest[1:end].split(b"\n") if end >= 0 else []
    else:
        end = rest.find(b"\n")
        lines = [(rest if end < 0 else rest[:end]).split(b";", 1)[0]]
    out = []
    for line in lines:
        for part in line.split(b"#", 1)[0].split(b","):
            word = part.split()[0].decode("ascii", "replace") if part.split() else ""
            if word.isidentifier():
                out.append(word)
    return out


@dataclass(frozen=True)
class Prefilter:
    api: Api
    # (code, patterns that must all match, may the rest come from a project
    # module, what that module's bytes must then contain (None: anything; a
    # tuple: one pattern per pattern after the first, for the ones the file lacks))
    patterns: Tuple[Tuple[str, Tuple["re.Pattern[bytes]", ...], bool, Optional["re.Pattern[bytes]"]], ...]
    # pattern -> literals one of which is in any text the pattern matches
    # (required_literals), or None; a cheap `in` test before the regex.
    gates: dict = field(default_factory=dict, compare=False, hash=False)

    def _search(self, pattern: "re.Pattern[bytes]", data: bytes) -> bool:
        if pattern not in self.gates:
            self.gates[pattern] = required_literals(pattern)
        gate = self.gates[pattern]
        if gate is not None and not any(lit in data for lit in gate):
            return False
        return pattern.search(data) is not None

    def stage1(self, data: bytes, codes: Iterable[str], filename: str = "") -> Set[str]:
        """Codes whose words appear in the raw bytes (or, for a rule that
        follows project modules, in a module the file imports; without a
        file name any project import may be one)."""
        return self.stage1_decision(data, codes, filename)[0]

    def stage1_decision(self, data: bytes, codes: Iterable[str], filename: str = "",
                        memo: Optional[dict] = None, deps: Optional[List[str]] = None,
                        escaped: bool = False) -> Tuple[Set[str], bool]:
        """(stage1's codes, whether the answer read other files): when it
        did not, the answer depends on the bytes, the codes and the rule
        data alone, and a cache may keep it by content hash. `memo`: a
        dict kept for one run over many files (engine.lint_paths), where
        each project module is looked up and read once, not once per file
        that imports it. `deps`: the files the answer depended on are
        appended to it (modules read, and candidate paths found absent).
        `escaped`: `data` is a notebook's JSON, whose code has its line ends
        written as `\\n` (a one-string cell is one line): which modules it
        imports cannot be read from it, so any may be the project's."""
        out = set()
        read_siblings = False
        search = self._search
        for code, pats, via_project, wanted in self.patterns:
            if code not in codes or not search(pats[0], data):
                continue
            missing = [i for i, p in enumerate(pats[1:]) if not search(p, data)]
            if not missing:
                out.add(code)
            elif via_project and escaped:
                out.add(code)
            elif via_project and self.project_import(data):
                read_siblings = True
                # a tuple: one pattern per pats[1:], the siblings must hold each one the file lacks
                needs = [wanted[i] for i in missing] if isinstance(wanted, tuple) else [wanted]
                memo = memo if memo is not None else {}
                deps = deps if deps is not None else []
                if all(self._siblings_mention(data, filename, w, memo, deps) for w in needs):
                    out.add(code)
        return out, read_siblings

    def _siblings_mention(self, data: bytes, filename: str, wanted, memo: dict, deps: List[str]) -> bool:
        """Does a project module this file imports contain `wanted`? Any
        doubt (no file name, a relative or continued import): yes."""
        if wanted is None or not filename or filename == "-":
            return True
        from .semantic.project import MAX_BYTES, Project

        entries = _path_entries(data)
        if entries is None:
            return True
        project = Project(filename, self.api, path_entries=entries)
        if project.folder is None:
            return True
        clean = self.api.clean_libraries
        for m in _IMPORT.finditer(data):
            if m.group("module") is not None:
                names = [m.group("module").decode("ascii", "replace")]
                if not names[0].strip("."):
                    return True  # `from . import x`: the module is the name after import
                # `from pkg import mod as m`: each name may be a module of the package
                names += [names[0] + "." + n for n in _from_names(data, m.end())]
            else:
                if m.group("names").rstrip().endswith(b"\\"):
                    return True
                names = [part.split()[0].decode("ascii", "replace")
                         for part in m.group("names").split(b",") if part.split()]
            for name in names:
                if name.lstrip(".").split(".")[0] in clean:
                    continue
                for candidate in (name, name.rpartition(".")[0]):
                    if not candidate.strip("."):
                        continue
                    where = ("find", project.folder, entries, candidate)
                    if where not in memo:
                        tried = len(project.missing)
                        memo[where] = (project.find(candidate), tuple(project.missing[tried:]))
                    path, absent = memo[where]
                    deps.extend(absent)
                    if path is None:
                        continue
                    deps.append(str(path))
                    said = ("mentions", path, wanted)
                    if said not in memo:
                        try:
                            with open(path, "rb") as fh:
                                memo[said] = self._search(wanted, fh.read(MAX_BYTES))
                        except OSError:
                            memo[said] = True
                    if memo[said]:
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


# -- literals a pattern needs ----------------------------------------------------
def required_literals(pattern: "re.Pattern[bytes]") -> Optional[Tuple[bytes, ...]]:
    """Byte strings one of which occurs in every text that `pattern`
    matches (a necessary condition, read from the parsed regex), or None
    when none can be named (case-insensitive patterns, a branch with an
    alternative that needs nothing, no literal at all). `any(lit in data
    for lit in result)` is then false only where the regex cannot match."""
    if not isinstance(pattern.pattern, bytes) or pattern.flags & re.IGNORECASE:
        return None
    try:
        from re import _parser as sre_parse  # Python >= 3.11
    except ImportError:  # pragma: no cover (3.8-3.10)
        import sre_parse  # type: ignore[no-redef]
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # anything unexpected: no gate, the regex alone decides
        return None
    found = _needed(list(parsed), sre_parse)
    if not found:
        return None
    # A literal that holds another is found only where that one is: drop it.
    return tuple(sorted(lit for lit in found if not any(o != lit and o in lit for o in found)))


def _needed(items: List, sre) -> Optional[Set[bytes]]:
    """For a sequence of parsed regex items, each of which must match in
    turn: the best set of literals one of which any match contains."""
    c = sre._constants if hasattr(sre, "_constants") else sre  # the opcode names
    candidates: List[Set[bytes]] = []
    run = bytearray()
    for op, av in items:
        if op is c.LITERAL:
            run.append(av)
            continue
        if run:
            candidates.append({bytes(run)})
            run = bytearray()
        sub: Optional[Set[bytes]] = None
        if op is c.SUBPATTERN:
            _group, add_flags, _del_flags, body = av
            if not add_flags & re.IGNORECASE:
                sub = _needed(list(body), sre)
        elif op is c.BRANCH:
            alternatives = [_needed(list(alt), sre) for alt in av[1]]
            if alternatives and all(alt for alt in alternatives):
                sub = set().union(*alternatives)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, _high, body = av
            if low >= 1:
                sub = _needed(list(body), sre)
        # AT, ANY, IN, NOT_LITERAL, ASSERT, GROUPREF, ...: nothing to require
        if sub:
            candidates.append(sub)
    if run:
        candidates.append({bytes(run)})
    if not candidates:
        return None
    # The set whose shortest literal is longest: fewest chance hits.
    return max(candidates, key=lambda lits: (min(len(x) for x in lits), -len(lits)))
