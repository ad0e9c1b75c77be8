"""Follow imports into the user's own project.

`from models import Net` in train.py says nothing about Net's layers; the
file next to it does. When a rule would otherwise call a model "defined
outside this file", the FileIndex asks this module to find the imported
module as a source file under the linted file's folder (or a parent
folder, as a package root) and to index it. Pip-installed packages are
never opened: only files inside the project tree.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import libcst as cst

MAX_PARENT_LEVELS = 4  # how far up a package root is looked for
MAX_DEPTH = 2  # imports followed from an imported module
MAX_BYTES = 2 * 1024 * 1024

# (path, mtime_ns, size) -> parsed module; shared by every file of a process.
_MODULES: Dict[Tuple[str, int, int], Optional[cst.Module]] = {}


def _stop_at(directory: Path) -> bool:
    return any((directory / marker).exists() for marker in (".git", "pyproject.toml", "setup.py"))


class ModuleLocator:
    """Finds project modules for one linted file."""

    def __init__(self, filename: str, depth: int = 0) -> None:
        self.depth = depth
        self.used: List[str] = []  # files whose contents a finding depends on
        self.missing: List[str] = []  # files whose absence it depends on
        path = Path(filename)
        self.folder: Optional[Path] = path.resolve().parent if filename not in ("", "-") \
            and path.is_file() else None

    def _roots(self) -> List[Path]:
        roots: List[Path] = []
        folder = self.folder
        for _ in range(MAX_PARENT_LEVELS + 1):
            if folder is None:
                break
            roots.append(folder)
            if _stop_at(folder) or folder.parent == folder:
                break
            folder = folder.parent
        return roots

    def find(self, module: str) -> Optional[Path]:
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
            roots = self._roots()
        tried = []
        for root in roots:
            stem = root.joinpath(*parts)
            for candidate in (stem.with_suffix(".py"), stem / "__init__.py"):
                if candidate.is_file():
                    return candidate
                tried.append(os.fspath(candidate))
        self.missing.extend(tried)  # creating one of them changes the answer
        return None

    def load(self, path: Path) -> Optional[cst.Module]:
        try:
            st = path.stat()
        except OSError:
            return None
        key = (str(path), st.st_mtime_ns, st.st_size)
        if key not in _MODULES:
            module = None
            if st.st_size <= MAX_BYTES:
                try:
                    module = cst.parse_module(path.read_bytes())
                except Exception:  # an unparsable neighbour just stays unknown
                    module = None
            _MODULES[key] = module
        if _MODULES[key] is not None:
            self.used.append(os.fspath(path))
        return _MODULES[key]

    def child(self, path: Path) -> "ModuleLocator":
        locator = ModuleLocator(os.fspath(path), self.depth + 1)
        locator.used = self.used  # one list: every file the result depends on
        locator.missing = self.missing
        return locator
