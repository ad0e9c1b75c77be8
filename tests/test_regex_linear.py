"""No regular expression in bnlint may take super-linear time.

Every pattern bnlint compiles must be findable here: at module level (any
module of the package), or built by a factory named in FACTORY_NAMES (a rule's
stage-1 words, reached through build_prefilter). The first
test enforces that on the source with `ast`, so a new inline regex fails it
before it can hide from the second test, which runs every pattern over long
adversarial inputs built from the pattern's own words and characters (runs
of blanks, repeated fragments, a word followed by a long run) at two sizes,
n and 8n. A linear pattern takes about 8x longer on the larger input, a
quadratic one 64x; a ratio over GROWTH is re-measured with more repeats
before it counts. SIGALRM is only a hang guard (the regex engine checks
signals), never the assertion.
"""

from __future__ import annotations

import ast
import importlib
import re
import signal
import time
from pathlib import Path
from typing import Iterator, List, Tuple, Union

import pytest

from bnlint.api import load_api
from bnlint.prefilter import build_prefilter

PACKAGE = Path(__file__).resolve().parent.parent / "bnlint"
RE_FUNCS = {"compile", "search", "match", "fullmatch", "split", "findall", "finditer", "sub", "subn"}
# Functions that build patterns at run time (each rule's stage-1 words, from
# rules/api.yaml and the config's extra layers), checked via build_prefilter.
# Every rule module (bnlint/rules/bnNNN.py) may build its stage-1 patterns and
# project words there; BN003's _builder_words compiles the same words as its
# project_words. All are `words()` alternations reached via build_prefilter.
FACTORY_NAMES = {"stage1", "project_words", "_builder_words"}


def _is_factory(module: str, name: str) -> bool:
    return module.startswith("bn") and module[2:].isdigit() and name in FACTORY_NAMES
N = 256  # repetitions of a fragment in the small input; the large one has 8 * N
GROWTH = 24  # between linear (8) and quadratic (64)
FLOOR = 0.002  # seconds: below this the large input is fast whatever the ratio
HANG = 60  # seconds, hang guard for the whole measurement of one pattern

Pattern = "re.Pattern"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(rel.parts)


def _calls(node: ast.AST, scope: List[str]) -> Iterator[Tuple[ast.Call, List[str]]]:
    """`re.<func>(...)` calls under node, with the names of the defs around each."""
    for child in ast.iter_child_nodes(node):
        named = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) \
                and isinstance(child.func.value, ast.Name) and child.func.value.id == "re" \
                and child.func.attr in RE_FUNCS:
            yield child, scope
        yield from _calls(child, scope + [child.name] if named else scope)


def _regex_sites() -> Iterator[Tuple[Path, ast.Call, List[str]]]:
    """Every `re.<func>(...)` call in bnlint."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for call, scope in _calls(ast.parse(path.read_text(encoding="utf-8")), []):
            yield path, call, scope


def test_every_regex_is_reachable_by_the_growth_test():
    """`re.compile` at module level or in a FACTORY; other `re` calls take a
    compiled pattern, never a literal (a literal would be an untested regex)."""
    bad = []
    for path, call, scope in _regex_sites():
        where = f"{path.relative_to(PACKAGE.parent)}:{call.lineno}"
        module = _module_name(path).rsplit(".", 1)[-1]
        if call.func.attr == "compile":
            if scope and not any(_is_factory(module, name) for name in scope):
                bad.append(f"{where}: re.compile inside {'.'.join(scope)}; hoist it to module level")
        elif call.args and not (isinstance(call.args[0], ast.Name) or isinstance(call.args[0], ast.Attribute)):
            bad.append(f"{where}: re.{call.func.attr} with an inline pattern; compile it at module level")
    assert not bad, "\n".join(bad)


def _module_patterns() -> List[Tuple[str, Pattern]]:
    names = sorted({_module_name(path) for path, call, scope in _regex_sites()
                    if call.func.attr == "compile" and not scope})
    out = []
    for name in names:
        module = importlib.import_module(name)
        for attr, value in sorted(vars(module).items()):
            if isinstance(value, re.Pattern):
                out.append((f"{name}.{attr}", value))
    return out


def _factory_patterns() -> List[Tuple[str, Pattern]]:
    # With user-configured extra layers too: their names end up in the patterns.
    out = []
    for extra in ((), ("Odd.Name_With.dots", "ünicode")):
        pre = build_prefilter(load_api(tuple(extra)))
        for code, pats, _project, project_words, *_ in pre.patterns:
            out += [(f"prefilter.{code}[{i}]{list(extra)}", p) for i, p in enumerate(pats)]
            if isinstance(project_words, tuple):  # one per stage-1 pattern after the first
                out += [(f"prefilter.{code}.project_words[{i}]{list(extra)}", p) for i, p in enumerate(project_words)]
            elif project_words is not None:
                out.append((f"prefilter.{code}.project_words{list(extra)}", project_words))
    return out


ALL_PATTERNS = _module_patterns() + _factory_patterns()


def test_the_patterns_were_found():
    names = {name for name, _ in ALL_PATTERNS}
    for expected in ("bnlint.prefilter._IMPORT", "bnlint.flavour._LEGACY_ENV", "bnlint.noqa._NOQA",
                     "bnlint.notebook._ASSIGN_MAGIC", "bnlint.rules.bn003._COMPAT_V1"):
        assert expected in names, sorted(names)
    assert any(name.startswith("prefilter.BN002") for name in names)


def _fragments(pattern: Pattern) -> Tuple[List[str], List[str]]:
    """(words, single characters) the pattern mentions, plus blanks."""
    source = pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode("latin-1")
    plain = re.sub(r"\\[A-Za-z]", " ", source)
    words = list(dict.fromkeys(re.findall(r"[A-Za-z_][A-Za-z_0-9]+", plain)))
    # A long alternation (the pre-filter's names): its first and last words are enough.
    words = words[:6] + words[-2:] if len(words) > 8 else words
    chars = {c for c in re.sub(r"\\(.)", r"\1", source) if not c.isalnum()} | set(" \t\n\\.,=a1")
    return words, sorted(chars)


def _inputs(pattern: Pattern, n: int) -> Iterator[Tuple[str, str]]:
    """(label, text) pairs, each about `n` fragments long."""
    words, chars = _fragments(pattern)
    for c in chars:
        yield f"{c!r}*n", c * n
        for w in words + [""]:
            yield f"{w!r}+{c!r}*n", w + c * n + "\x00"
            yield f"({w!r}+{c!r})*n", (w + c) * n
            yield f"{w!r}+{c!r}*n+{w!r}", w + c * n + w
    for w in words:
        yield f"{w!r}*n", w * n
        for v in words:
            yield f"({w!r}+' '+{v!r}+' ')*n", (w + " " + v + " ") * n
    plain = re.sub(r"\\(.)", r"\1", pattern.pattern if isinstance(pattern.pattern, str)
                   else pattern.pattern.decode("latin-1"))
    yield "pattern*n", plain * (n // 8 + 1)


def _encode(pattern: Pattern, text: str) -> Union[str, bytes]:
    return text if isinstance(pattern.pattern, str) else text.encode("utf-8", "surrogatepass")


def _cost(pattern: Pattern, data, repeats: int, anchored: bool = False) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        if anchored:
            pattern.match(data)
        else:
            for _m in pattern.finditer(data):  # every start position, as search/split/findall
                pass
        best = min(best, time.perf_counter() - start)
    return best


class Hang(BaseException):
    pass


@pytest.mark.parametrize("name,pattern", ALL_PATTERNS, ids=[name for name, _ in ALL_PATTERNS])
def test_pattern_is_linear(name, pattern):
    _check_linear(name, pattern)


def _check_linear(name: str, pattern: Pattern, anchored: bool = False) -> None:
    """`anchored`: the pattern is only used with match() at position 0."""
    def on_alarm(signum, frame):
        raise Hang(f"{name} ran more than {HANG} s on adversarial inputs")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG)
    slow = []
    try:
        small = dict(_inputs(pattern, N))
        large = dict(_inputs(pattern, 8 * N))
        for label, text in large.items():
            big, little = _encode(pattern, text), _encode(pattern, small[label])
            t_big = _cost(pattern, big, 3, anchored)
            if t_big < FLOOR or t_big < GROWTH * _cost(pattern, little, 3, anchored):
                continue
            # Maybe noise (7 processes on 2 cores): measure again, more carefully.
            t_big, t_little = _cost(pattern, big, 7, anchored), _cost(pattern, little, 15, anchored)
            if t_big >= FLOOR and t_big >= GROWTH * t_little:
                slow.append(f"{label}: {t_little * 1e3:.2f} ms -> {t_big * 1e3:.2f} ms for 8x the input")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not slow, f"{name} = {pattern.pattern!r} grows faster than linearly:\n" + "\n".join(slow)


def test_the_growth_check_catches_a_quadratic_pattern():
    """The measurement itself: the old flavour.py pattern must fail it."""
    old = re.compile(r"""TF_USE_LEGACY_KERAS['"]?\s*\]?\s*[=,:]\s*['"]?(1|true|True)""")
    with pytest.raises(AssertionError, match="grows faster than linearly"):
        _check_linear("old _LEGACY_ENV", old)


@pytest.mark.parametrize("glob", ["*a*a*a*a*a*a*a*a*c", "**/a/" * 6 + "c", "*a?*a?*a?*c", "*" + "?" * 20 + "*c",
                                  "a/**/a/**/a/**/a/**/c/", "[a]*[a]*[a]*[a]*c"])
def test_path_patterns_are_linear(glob):
    """exclude / extend-exclude / per-file-ignores patterns and .gitignore
    lines come from the linted repository; config.path_spec and
    files._GitIgnore match them with pathspec. pathspec's translation run by
    Python's re is polynomial (`*a*a*a*a*a*a*c`: 13 s on an 80-character
    name), so bnlint depends on pathspec[re2]: re2 is linear. Hang guard
    only (re2 does not check signals; Python's re does), no timing assert
    except the growth ratio, as _check_linear."""
    from bnlint.config import path_spec

    spec = path_spec((glob,))
    n = 64  # a file name stays under 255 bytes; a path may be 4096

    def cost(text: str, repeats: int) -> float:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            spec.match_file(text)
            best = min(best, time.perf_counter() - start)
        return best

    def on_alarm(signum, frame):
        raise Hang(f"{glob!r} ran more than {HANG} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG)
    slow = []
    try:
        for unit in ("a", "a/", "ab", "a?", "/a"):
            little, big = unit * n, unit * 8 * n
            t_big = cost(big, 5)
            if t_big >= FLOOR and t_big >= GROWTH * cost(little, 9):
                slow.append(f"{unit!r}*n: {t_big * 1e3:.2f} ms for 8n")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not slow, f"path pattern {glob!r} grows faster than linearly:\n" + "\n".join(slow)
