"""Which Keras a file runs under: Keras 2 (tf_keras) or Keras 3.

Some facts differ (Keras 3's fit() passes training only to a call() that
declares it; a literal training= leaks to sibling layers in Keras 3). The
file says it first (imports, TF_USE_LEGACY_KERAS set in code); then the
config; then, for "auto", the installed distributions, read from their
metadata without importing TensorFlow.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import metadata
from typing import Optional

from .api import load_api

# os.environ["TF_USE_LEGACY_KERAS"] = "1", .setdefault(..., "1"),
# .update({"TF_USE_LEGACY_KERAS": "1"}), .update(TF_USE_LEGACY_KERAS="1")
# One `\s*` before the `]` or the separator, not two in a row: quadratic in a
# run of blanks otherwise (tests/test_regex_linear.py).
_LEGACY_ENV = re.compile(r"""TF_USE_LEGACY_KERAS['"]?\s*(?:\]\s*)?[=,:]\s*['"]?(?:1|true|True)""")


def _major(dist: str) -> Optional[int]:
    try:
        return int(metadata.version(dist).split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return None


def _minor(dist: str) -> Optional[tuple]:
    try:
        parts = metadata.version(dist).split(".")
        return int(parts[0]), int(parts[1])
    except (metadata.PackageNotFoundError, ValueError, IndexError):
        return None


@lru_cache(maxsize=1)
def installed_flavour() -> str:
    """Keras 3 unless the installed packages say Keras 2 (no TF import)."""
    keras_major = _major("keras")
    if keras_major is not None:
        return "keras3" if keras_major >= 3 else "keras2"
    for dist in ("tensorflow", "tensorflow-cpu"):
        version = _minor(dist)
        if version is not None:
            return "keras3" if version >= (2, 16) else "keras2"
    return "keras3"  # what a fresh `pip install tensorflow` gives today


def detect_flavour(names, source: str, configured: str = "auto") -> str:
    """`names`: anything with `uses_module(*prefixes)` (semantic.resolve.Resolver)."""
    if names.uses_module(*load_api().keras2_modules) or _LEGACY_ENV.search(source):
        return "keras2"
    if configured in ("2", "3"):
        return "keras" + configured
    return installed_flavour()


def flavour_of_base(raw_base: Optional[str], names, source: str,
                    configured: str = "auto") -> str:
    """The Keras of one class, from how its Keras base was imported:
    `tf_keras.Model` is Keras 2 whatever else the file imports; `tf.keras`
    follows TF_USE_LEGACY_KERAS; standalone `keras` ignores that variable."""
    if raw_base is None:
        return detect_flavour(names, source, configured)
    if raw_base.startswith(load_api().keras2_modules):
        return "keras2"
    if raw_base.startswith("tensorflow") and _LEGACY_ENV.search(source):
        return "keras2"
    if configured in ("2", "3"):
        return "keras" + configured
    return installed_flavour()
