"""Run a callback right after a module finishes importing.

The child installs its hooks before the user's script starts, but must not
import TensorFlow itself: the script may set `TF_USE_LEGACY_KERAS` or other
environment first, and a script that never imports TF should not pay for
it. So the patches are applied when the script's own import of `tensorflow`,
`keras` or `tf_keras` completes.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import traceback
from typing import Callable, Dict, List


class _Loader(importlib.abc.Loader):
    def __init__(self, inner, finder: "AfterImport", name: str):
        self.inner = inner
        self.finder = finder
        self.name = name

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        for callback in self.finder.callbacks.pop(self.name, []):
            try:
                callback(module)
            except Exception:  # instrumentation must never break the user's import
                sys.stderr.write("bnlint: could not instrument %s:\n%s" % (
                    module.__name__, traceback.format_exc()))

    def __getattr__(self, name):  # get_code, get_source, is_package, ... for tools that ask
        return getattr(self.inner, name)


class AfterImport(importlib.abc.MetaPathFinder):
    def __init__(self):
        self.callbacks: Dict[str, List[Callable]] = {}
        self._busy = set()

    def add(self, name: str, callback: Callable) -> None:
        if name in sys.modules:
            callback(sys.modules[name])
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


def install() -> AfterImport:
    finder = AfterImport()
    sys.meta_path.insert(0, finder)
    return finder
