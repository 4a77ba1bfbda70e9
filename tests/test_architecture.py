"""kgen's own modules: no import cycles, not even through imports inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "kgen"


def kgen_imports(path: Path, modules: set[str]) -> set[str]:
    """The kgen `modules` that `path` imports anywhere in it (functions included)."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from kgen import project` imports kgen.project; `from kgen import
            # __version__` imports kgen (its __init__).
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom):  # relative: `from . import x`
            names = [f"kgen.{node.module or alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] != "kgen":
                continue
            if len(parts) > 1 and parts[1] in modules:
                imported.add(parts[1])
            elif len(parts) == 1:
                imported.add("__init__")
    return imported - {path.stem}


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module of `package` (by file name) and the kgen modules it imports."""
    paths = sorted(package.glob("*.py"))
    modules = {path.stem for path in paths}
    return {path.stem: kgen_imports(path, modules) for path in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One import cycle through each module that is in one, as a path A -> ... -> A."""
    found: list[list[str]] = []
    seen: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target == path[0]:
                found.append([*path, target])
                seen.update(path)
            elif target not in path and target not in seen:
                visit(target, [*path, target])

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])
    return found


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import(tmp_path: Path):
    (tmp_path / "a.py").write_text("def f():\n    from kgen.b import g\n")
    (tmp_path / "b.py").write_text("import typer\n\nfrom kgen import a, errors\n")
    (tmp_path / "c.py").write_text("import kgen.a\nfrom kgen import __version__\n")
    (tmp_path / "errors.py").write_text("")
    (tmp_path / "__init__.py").write_text("")
    graph = import_graph(tmp_path)
    assert graph["c"] == {"a", "__init__"}
    assert cycles(graph) == [["a", "b", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_kgen_has_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles in kgen: " + "; ".join(
        " -> ".join(f"kgen/{name}.py" for name in cycle) for cycle in found
    )


def test_the_graph_sees_imports_inside_functions() -> None:
    graph = import_graph()
    assert "smoke" in graph["console"]  # only imported inside console's functions
    assert "errors" in graph["cli"]
