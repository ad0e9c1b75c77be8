"""The user's own modules: `from models import Net` in train.py is read
from models.py next to it.

A module is looked for as a source file under the linted file's folder
(or a parent folder up to a project root marker, as a package root), or
relative to it for relative imports. Pip-installed packages are never
opened. Each module found is read with a size limit, decoded per PEP 263
and parsed through parse.parse, like a linted file; its semantic model is
kept in a process-wide cache keyed by the content's hash and bounded in
total source bytes (least recently used first out), so an editor that
saves a module again and again does not grow memory.
"""

from __future__ import annotations

import hashlib
import io
import os
import tokenize
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from ..api import Api
from .parse import ParseFailure, parse

if TYPE_CHECKING:  # pragma: no cover
    from .values import Values

MAX_PARENT_LEVELS = 4  # how far up a package root is looked for
MAX_DEPTH = 2  # imports followed from an imported module
MAX_BYTES = 2 * 1024 * 1024  # a larger sibling module stays unknown
CACHE_BYTES = 64 * 1024 * 1024  # source bytes whose models the cache keeps


def _stop_at(directory: Path, checked: Optional[List[str]] = None) -> bool:
    """Does `directory` hold a project root marker? Each marker path looked
    at is appended to `checked` (creating or removing one changes the roots)."""
    base = os.fspath(directory)
    for marker in (".git", "pyproject.toml", "setup.py"):
        path = os.path.join(base, marker)
        if checked is not None:
            checked.append(path)
        if os.path.exists(path):
            return True
    return False


class _ModuleCache:
    """content hash -> (scopes, resolver) of a parsed module (None: unparsable); LRU by bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.items: "OrderedDict[Tuple[str, str], Tuple[int, object]]" = OrderedDict()

    def get(self, key):
        item = self.items.get(key)
        if item is None:
            return None
        self.items.move_to_end(key)
        return item

    def put(self, key, size: int, value) -> None:
        if key in self.items:
            return
        self.items[key] = (size, value)
        self.used += size
        while self.used > self.budget and len(self.items) > 1:
            _, (old_size, _) = self.items.popitem(last=False)
            self.used -= old_size


_CACHE = _ModuleCache(CACHE_BYTES)


def _decode(data: bytes) -> Optional[str]:
    if b"\x00" in data:
        return None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None
    return text[1:] if text.startswith("\ufeff") else text


def load_model(data: bytes, api: Api):
    """(Scopes, Resolver) of a module's bytes, from the cache when the same
    bytes were seen; None when it cannot be decoded or parsed."""
    from .resolve import Resolver
    from .scopes import Scopes

    key = (hashlib.sha256(data).hexdigest(), str(hash(api)))
    hit = _CACHE.get(key)
    if hit is not None:
        return hit[1]
    model = None
    text = _decode(data)
    if text is not None:
        try:
            tree = parse(text, size=len(data))
            scopes = Scopes(tree, api.keras_evidence)
            model = (scopes, Resolver(scopes, api))
        except (ParseFailure, RecursionError, MemoryError):
            model = None
    _CACHE.put(key, len(data), model)
    return model


class Project:
    """The project modules one linted file can see, and which files its
    findings depend on (`used`: read; `missing`: looked for, absent, and
    the root markers and `sys.path` folders whose presence decided where to
    look)."""

    def __init__(self, filename: str, api: Api, depth: int = 0,
                 used: Optional[List[str]] = None, missing: Optional[List[str]] = None,
                 path_entries: Tuple[str, ...] = ()) -> None:
        """`path_entries`: relative folders the file adds to `sys.path`
        (`sys.path.append('repo/utils')`), looked in after its own folder."""
        self.api = api
        self.path_entries = path_entries
        self.depth = depth
        self.used: List[str] = used if used is not None else []
        self.missing: List[str] = missing if missing is not None else []
        self._models: Dict[str, Optional["Values"]] = {}
        self._bytes: Dict[str, bytes] = {}
        self._found: Dict[str, Optional[Path]] = {}
        self._roots: Optional[List[Path]] = None
        path = Path(filename)
        try:
            self.folder: Optional[Path] = path.resolve().parent if filename not in ("", "-") \
                and path.is_file() else None
        except (OSError, ValueError):
            self.folder = None

    def roots(self) -> List[Path]:
        """The folders absolute imports are looked up in: the file's folder
        and its parents up to a project root marker, then its `sys.path`
        entries. Worked out once per Project (each look-up asked again:
        3 marker stats per folder level, a fifth of a cold run's pre-filter)."""
        if self._roots is None:
            self._roots = self._find_roots()
        return self._roots

    def _find_roots(self) -> List[Path]:
        roots: List[Path] = []
        folder = self.folder
        for _ in range(MAX_PARENT_LEVELS + 1):
            if folder is None:
                break
            roots.append(folder)
            if _stop_at(folder, self.missing) or folder.parent == folder:
                break
            folder = folder.parent
        return roots + self._entry_roots(roots)

    def _entry_roots(self, roots: List[Path]) -> List[Path]:
        """Folders named by the file's relative `sys.path` entries, inside
        the project: the entry under the file's folder, or a tail of it
        (`'SwAV-TF/utils'` from a notebook run one folder up, as Colab
        does, is `utils/` next to the notebook). Absolute entries and ones
        leaving the project (`..`) are not followed."""
        if not self.path_entries or self.folder is None:
            return []
        out: List[Path] = []
        for entry in self.path_entries:
            parts = [p for p in entry.replace("\\", "/").split("/") if p not in ("", ".")]
            if not parts or entry.startswith(("/", "~")) or ".." in parts or ":" in entry:
                continue
            for i in range(len(parts)):
                candidate = self.folder.joinpath(*parts[i:])
                self.missing.append(os.fspath(candidate))  # a folder that appears changes the roots
                try:
                    if candidate.is_dir() and candidate not in roots and candidate not in out:
                        out.append(candidate)
                        break
                except (OSError, ValueError):
                    continue
        return out

    def find(self, module: str) -> Optional[Path]:
        """The source file of project module `module` (dotted, maybe
        relative), or None; absent candidates are recorded in `missing`."""
        if module in self._found:
            return self._found[module]
        self._found[module] = path = self._find(module)
        return path

    def _find(self, module: str) -> Optional[Path]:
        if self.folder is None or self.depth >= MAX_DEPTH or not module.strip("."):
            return None
        dots = len(module) - len(module.lstrip("."))
        parts = module.lstrip(".").split(".")
        if dots:
            base = self.folder
            for _ in range(dots - 1):
                base = base.parent
            roots = [base]
        else:
            roots = self.roots()
        tried = []
        for root in roots:  # strings and os.path: pathlib cost a third of this look-up
            stem = os.path.join(os.fspath(root), *parts)
            for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
                if os.path.isfile(candidate):  # False, not an error, for a bad path
                    return Path(candidate)
                tried.append(candidate)
        self.missing.extend(tried)  # creating one of them changes the answer
        return None

    def mentions(self, name: str, pattern) -> bool:
        """Do the bytes of project module `name` match `pattern` (a compiled
        bytes regex)? A cheap look before parsing it; False when it is not
        a project file."""
        path = self.find(name)
        if path is None:
            return False
        key = os.fspath(path)
        data = self._bytes.get(key)
        if data is None:
            try:
                with open(path, "rb") as fh:
                    data = fh.read(MAX_BYTES + 1)
            except OSError:
                return False
            self._bytes[key] = data
        return bool(pattern.search(data))

    def module(self, name: str, _from: Optional[str] = None) -> Optional["Values"]:
        """The semantic model of project module `name` (dotted, maybe
        relative), or None when it is not a readable, parsable project file."""
        if name in self._models:
            return self._models[name]
        self._models[name] = None
        path = self.find(name)
        if path is None:
            return None
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_BYTES + 1)
        except OSError:
            return None
        if len(data) > MAX_BYTES:
            return None
        loaded = load_model(data, self.api)
        if loaded is None:
            return None
        from .values import Values

        scopes, resolver = loaded
        child = Project(os.fspath(path), self.api, self.depth + 1, self.used, self.missing)
        self.used.append(os.fspath(path))
        self._models[name] = Values(scopes, resolver, self.api, child, os.fspath(path))
        return self._models[name]

    @property
    def dependencies(self) -> List[str]:
        return list(dict.fromkeys(self.used + self.missing))
