"""The package layers import one way, and nothing imports in a circle.

Every import statement counts, also those inside functions: a lazy import still makes the
lower module depend on the higher one. Read from the source with `ast`, so no module is
executed and no heavy library is loaded.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("index", "qa", "tui")

# Lowest first. A module may import its own layer or any lower one.
LAYERS = [
    ("index.errors", 0), ("index.safe_text", 0), ("index", 0),
    ("index.models", 1), ("index.corpus", 1),
    ("index.storage", 2),
    ("index.indexing", 3),
    ("qa", 4),
    ("qa.cli", 5), ("qa.__main__", 5), ("tui", 5),
]


def _modules(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = _modules(root)

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                found = owner(target)
                # A package's own __init__ is not an edge of its submodules.
                if found and found != name and not name.startswith(found + "."):
                    edges[name].add(found)
    return edges


def _layer(module: str) -> int:
    best = max((prefix for prefix, _ in LAYERS if module == prefix or module.startswith(prefix + ".")),
               key=len)
    return dict(LAYERS)[best]


def test_every_module_has_a_layer() -> None:
    for module in _modules():
        _layer(module)


def test_imports_only_go_down() -> None:
    upward = sorted(f"{a} -> {b}" for a, targets in _graph().items() for b in targets
                    if _layer(b) > _layer(a))
    assert upward == []


def test_index_never_imports_qa_or_tui() -> None:
    bad = sorted(f"{a} -> {b}" for a, targets in _graph().items() for b in targets
                 if a.split(".")[0] == "index" and b.split(".")[0] != "index")
    assert bad == []


def test_storage_backends_are_peers() -> None:
    bad = sorted(f"{a} -> {b}" for a, targets in _graph().items() for b in targets
                 if (a.startswith("index.storage.faiss") and b.startswith("index.storage.milvus"))
                 or (a.startswith("index.storage.milvus") and b.startswith("index.storage.faiss")))
    assert bad == []


def test_no_import_cycles() -> None:
    edges = _graph()
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        order[node] = low[node] = len(order)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in order:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(edges):
        if node not in order:
            visit(node)
    assert cycles == []


def test_the_checker_sees_a_cycle(tmp_path) -> None:
    """The graph is read from real files: lazy imports in a circle and a lower layer reaching
    up are both edges."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "qa" / "a.py").write_text("def f():\n    from qa import b\n")
    (tmp_path / "qa" / "b.py").write_text("def f():\n    import qa.a\n")
    (tmp_path / "index" / "x.py").write_text("from qa.a import f\n")
    edges = _graph(tmp_path)
    assert edges["qa.a"] == {"qa.b"} and edges["qa.b"] == {"qa.a"}
    assert edges["index.x"] == {"qa.a"}
