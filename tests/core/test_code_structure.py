"""core/ has no import cycle (imports inside functions count too), never imports qgis, and has no dead code."""
from __future__ import annotations

import ast
import re
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "geoml_qgis" / "core"


def module_name(path: Path) -> str:
    parts = ("geoml_qgis", "core", *path.relative_to(CORE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = CORE) -> dict[str, set[str]]:
    """Module -> the core modules it imports (at any depth of the code)."""
    files = {module_name(p): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join([*base, *([node.module] if node.module else [])])
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    graph[name].add(sub if sub in files else target)
            elif isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names)
    return {m: {t for t in targets if t in files and t != m} for m, targets in graph.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_core_has_no_import_cycle():
    graph = import_graph()
    assert "geoml_qgis.core.prospectivity.model" in graph["geoml_qgis.core.prospectivity.workflow"]
    assert cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_core_never_imports_qgis():
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            assert not any(n.split(".")[0] == "qgis" for n in names), path


def unreferenced(root: Path = CORE) -> list[str]:
    """Functions, methods and classes of core whose name occurs nowhere else in the repository's code."""
    repo = root.parents[1]
    texts = [p.read_text(encoding="utf-8") for d in ("geoml_qgis", "tests", "scripts", "bench", "infra")
             for p in (repo / d).rglob("*.py")]
    counts: dict[str, int] = {}
    for text in texts:
        for word in re.findall(r"\b\w+\b", text):
            counts[word] = counts.get(word, 0) + 1
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("__")
                    and counts.get(node.name, 0) <= 1):
                found.append(f"{path.relative_to(repo)}:{node.lineno} {node.name}")
    return found


def test_core_has_no_dead_code():
    """Every core function is called (or tested) somewhere: no helper without a caller."""
    assert unreferenced() == []


def test_core_does_not_name_its_wrappers():
    """Provenance and messages name what the caller passes: no Processing algorithm id is written in core."""
    named = [f"{p.relative_to(CORE)}:{i}" for p in CORE.rglob("*.py")
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if '"geoml:' in line]
    assert named == []
