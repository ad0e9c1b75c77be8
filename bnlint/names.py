"""Import and alias resolution: local names -> canonical TF/Keras names.

One cheap pass over the import statements and module-level alias
assignments of a file, instead of libcst's QualifiedNameProvider (which
costs several times the parse on real code). Canonical names fold the many
spellings of the same API into one, so the tables in rules/api.yaml list
each thing once.
"""

from __future__ import annotations

import unicodedata
from typing import Dict, Iterable, Optional, Set

import libcst as cst

# Longest prefix first. Each maps a real module path onto the canonical one.
_CANONICAL_PREFIXES = (
    ("tensorflow.compat.v1.keras", "keras"),
    ("tensorflow.compat.v2.keras", "keras"),
    ("tensorflow.python.keras", "keras"),
    ("tensorflow.keras", "keras"),
    ("tf_keras.src", "keras"),
    ("tf_keras", "keras"),
    ("keras.src", "keras"),
    ("keras.api._v2.keras", "keras"),
    ("keras.api", "keras"),
    ("tensorflow.compat.v1", "tensorflow"),
    ("tensorflow.compat.v2", "tensorflow"),
    ("tensorflow._api.v2.compat.v1", "tensorflow"),
    ("tensorflow.python.ops.nn", "tensorflow.nn"),
    ("tensorflow.contrib.framework", "tensorflow.contrib.framework"),
    ("tensorflow.contrib.slim.python.slim", "tensorflow.contrib.slim"),
)

# Roots that make a name worth tracking through aliases.
TRACKED_ROOTS = ("tensorflow", "keras", "tf_keras", "tf_slim", "tensorflow_hub")

# Submodules a `from tensorflow import *` (or keras) brings in by name.
_STAR_SUBMODULES = frozenset({"keras", "layers", "nn", "compat", "train", "contrib",
                              "models", "applications", "slim"})

# Modules whose "Keras" is Keras 2 (tf_keras / the legacy TF-internal copy).
KERAS2_MODULES = ("tf_keras", "tensorflow.python.keras")


def canonical(qualified: str) -> str:
    """Fold one spelling of a TF/Keras name onto its canonical form."""
    for prefix, repl in _CANONICAL_PREFIXES:
        if qualified == prefix or qualified.startswith(prefix + "."):
            return repl + qualified[len(prefix):]
    return qualified


def dotted(node: cst.BaseExpression) -> Optional[str]:
    """`a.b.c` as a string, or None when the expression is not a dotted name."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def _module_name(node: cst.BaseExpression) -> str:
    return dotted(node) or ""


class NameResolver:
    """Maps the local names of one file to canonical qualified names."""

    def __init__(self) -> None:
        self.aliases: Dict[str, str] = {}
        self.star_modules: Set[str] = set()
        self.raw_modules: Set[str] = set()

    # -- building ---------------------------------------------------------
    @classmethod
    def from_module(cls, module: cst.Module) -> "NameResolver":
        resolver = cls()
        collector = _ImportCollector(resolver)
        module.visit(collector)
        return resolver

    def add_import(self, module: str, asname: Optional[str]) -> None:
        self.raw_modules.add(module)
        if asname:
            self.aliases[asname] = module
        else:
            root = module.split(".")[0]
            self.aliases.setdefault(root, root)

    def add_from_import(self, module: str, name: str, asname: Optional[str]) -> None:
        full = f"{module}.{name}" if module else name
        self.raw_modules.add(full)
        self.aliases[asname or name] = full

    # -- querying ---------------------------------------------------------
    def raw(self, node: cst.BaseExpression) -> Optional[str]:
        """The qualified name as imported (before canonical folding)."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if not head.isascii():  # Python (and an ast-built table) NFKC-normalise identifiers
            head = unicodedata.normalize("NFKC", head)
        if head in self.aliases:
            base = self.aliases[head]
            return f"{base}.{rest}" if rest else base
        if rest and head in _STAR_SUBMODULES:
            # `from tensorflow import *` then `keras.layers.X`
            for module in sorted(self.star_modules):
                if module.split(".")[0] in TRACKED_ROOTS:
                    return f"{module}.{name}"
        return None

    def qualify(self, node: cst.BaseExpression) -> Optional[str]:
        """Canonical qualified name of a dotted expression, or None."""
        raw = self.raw(node)
        return canonical(raw) if raw is not None else None

    def qualify_star(self, name: str, known: Iterable[str]) -> Optional[str]:
        """Resolve a bare name that may come from `from X import *`."""
        for module in self.star_modules:
            candidate = canonical(f"{module}.{name}")
            if candidate in known:
                return candidate
        return None

    def uses_module(self, *prefixes: str) -> bool:
        return any(
            raw == p or raw.startswith(p + ".") for raw in self.raw_modules for p in prefixes
        )


class _ImportCollector(cst.CSTVisitor):
    """Fills a NameResolver from imports and `tf = tf.compat.v1`-style aliases."""

    def __init__(self, resolver: NameResolver) -> None:
        self.r = resolver
        self.depth = 0

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            module = _module_name(alias.name)
            asname = None
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                asname = alias.asname.name.value
            self.r.add_import(module, asname)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = _module_name(node.module) if node.module is not None else ""
        if node.relative:
            # Names from the user's own package: recorded, never TF/Keras.
            module = "." * len(node.relative) + module
        if isinstance(node.names, cst.ImportStar):
            self.r.star_modules.add(module)
            self.r.raw_modules.add(module)
            return
        for alias in node.names:
            name = _module_name(alias.name)
            asname = None
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                asname = alias.asname.name.value
            self.r.add_from_import(module, name, asname)

    # Module-level aliases such as `tf = tf.compat.v1` or `L = keras.layers`.
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.depth += 1

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.depth -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.depth or len(node.targets) != 1:
            return
        target = node.targets[0].target
        if not isinstance(target, cst.Name):
            return
        raw = self.r.raw(node.value)
        if raw is not None and raw.split(".")[0] in TRACKED_ROOTS:
            self.r.aliases[target.value] = raw
