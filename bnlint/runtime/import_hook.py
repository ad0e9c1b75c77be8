"""Run a callback right after a module finishes importing.

The child installs its hooks before the user's script starts, but must not
import TensorFlow itself: the script may set `TF_USE_LEGACY_KERAS` or other
environment first, and a script that never imports TF should not pay for
it. So the patches are applied when the script's own import of `tensorflow`,
`keras` or `tf_keras` completes.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
import traceback
from typing import Callable, ContextManager, Dict, List, Optional


class _Loader(importlib.abc.Loader):
    def __init__(self, inner, finder: "AfterImport", name: str):
        self.inner = inner
        self.finder = finder
        self.name = name

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        with contextlib.ExitStack() as stack:
            for around in self.finder.around.pop(self.name, []):
                stack.enter_context(around())
            self.inner.exec_module(module)
        for callback in self.finder.callbacks.pop(self.name, []):
            try:
                callback(module)
            except Exception as exc:  # instrumentation must never break the user's import
                self.finder.on_error(module.__name__, exc, traceback.format_exc())

    def __getattr__(self, name):  # get_code, get_source, is_package, ... for tools that ask
        return getattr(self.inner, name)


class AfterImport(importlib.abc.MetaPathFinder):
    """A meta path finder that runs callbacks after named modules load.

    `on_error(module_name, exception, formatted_traceback)` is told when a
    callback raises (the import itself still succeeds)."""

    def __init__(self, on_error: Optional[Callable] = None):
        self.callbacks: Dict[str, List[Callable]] = {}
        self.around: Dict[str, List[Callable[[], ContextManager]]] = {}
        self._busy = set()
        self.on_error = on_error or _print_error

    def wrap(self, name: str, around: Callable[[], ContextManager]) -> None:
        """Run the import of `name` (when it has callbacks) inside `around()`
        (several: the first given is the outermost)."""
        if name not in sys.modules:
            self.around.setdefault(name, []).append(around)

    def add(self, name: str, callback: Callable) -> None:
        if name in sys.modules:
            try:
                callback(sys.modules[name])
            except Exception as exc:
                self.on_error(name, exc, traceback.format_exc())
        else:
            self.callbacks.setdefault(name, []).append(callback)

    def find_spec(self, fullname, path, target=None):
        callbacks = self.callbacks.get(fullname)
        if not callbacks or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        finally:
            self._busy.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        # Only wrap: find_spec is also called by mere probes (importlib.util.find_spec).
        spec.loader = _Loader(spec.loader, self, fullname)
        return spec


def _print_error(name: str, exc: BaseException, formatted: str) -> None:
    sys.stderr.write(f"bnlint: could not instrument {name}:\n{formatted}")


def install(on_error: Optional[Callable] = None) -> AfterImport:
    """Put an AfterImport first on sys.meta_path and return it."""
    finder = AfterImport(on_error)
    sys.meta_path.insert(0, finder)
    return finder
