"""Import hygiene of the runtime checker (no TensorFlow needed): its modules
form no import cycle, and none of them imports the CLI (so the CLI can import
`bnlint.runtime.command` without a cycle)."""

import ast
from pathlib import Path

import bnlint

PACKAGE = Path(bnlint.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """Every bnlint module `path` imports, at module level or inside functions."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        out.update(t for t in targets if t.split(".")[0] == "bnlint" and _exists(t))
    return out


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _graph():
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def test_runtime_modules_form_no_import_cycle():
    graph = _graph()
    runtime = sorted(m for m in graph if m.startswith("bnlint.runtime"))
    assert "bnlint.runtime.graph_hooks" in runtime and "bnlint.runtime.step_hooks" in runtime
    for start in runtime:
        # a cycle through `start`: can `start` reach itself?
        seen, todo = set(), list(graph.get(start, ()))
        while todo:
            m = todo.pop()
            assert m != start, f"import cycle through {start}"
            if m not in seen:
                seen.add(m)
                todo.extend(graph.get(m, ()))


def test_no_runtime_module_imports_the_cli():
    graph = _graph()
    offenders = sorted(m for m, deps in graph.items() if m.startswith("bnlint.runtime") and "bnlint.cli" in deps)
    assert offenders == []
