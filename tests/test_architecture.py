"""The dependency rule, checked on the source: Streamlit only in derby_oa/ui/, no import cycles in
derby_oa/, pages import the library (never a database driver) and hold no SQL."""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "derby_oa"
PAGES = ROOT / "pages"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported(path: Path) -> set[str]:
    """Absolute names of every module a file imports (module level or inside functions)."""
    return set(_imported(path, path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=None)
def _imported(path: Path, mtime_ns: int) -> frozenset[str]:
    """`imported`, parsed once per version of the file (several tests walk the same graph)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES}
    return frozenset(names)


def internal_graph() -> dict[str, set[str]]:
    """Edges between derby_oa modules: a module's imports that are derby_oa modules or packages."""
    return {name: {m for m in imported(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_streamlit_only_in_the_ui_package():
    offenders = sorted(name for name, path in MODULES.items()
                       if not name.startswith("derby_oa.ui")
                       and any(m == "streamlit" or m.startswith("streamlit.") for m in imported(path)))
    assert offenders == []


def test_no_import_cycles_among_library_modules():
    assert cycles(internal_graph()) == []


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_relative_and_package_imports():
    graph = internal_graph()
    assert "derby_oa.config" in graph["derby_oa.build.fetch"]  # `from . import config`
    assert "derby_oa.queries.core" in graph["derby_oa.queries"]  # `from .core import *`


def test_pages_import_only_the_library_and_streamlit():
    allowed = re.compile(r"^(derby_oa(\.|$)|streamlit(\.|$)|__future__$|functools$|io$|json$|pandas$|re$)")
    offenders = {p.name: sorted(m for m in imported(p) if not allowed.match(m)) for p in PAGES.glob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_pages_hold_no_sql():
    select = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\b(INSERT INTO|DELETE FROM|UPDATE \w+ SET)\b")
    offenders = []
    for path in PAGES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and select.search(node.value):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_nothing_outside_the_ui_imports_it():
    graph = internal_graph()
    assert sorted(name for name, deps in graph.items() if not name.startswith("derby_oa.ui")
                  and any(d.startswith("derby_oa.ui") for d in deps)) == []


# Layers, lowest first: a module may import its own layer and those below it, never one above.
LAYERS = [
    ("shared", r"derby_oa(\.(config|errors|vocabulary|formatting|series|stats|text|passwords))?$"),
    ("storage and source adapters", r"derby_oa\.(storage|ingest)(\.|$)"),
    ("queries", r"derby_oa\.queries(\.|$)"),
    ("analysis", r"derby_oa\.analysis(\.|$)"),
    ("viz", r"derby_oa\.viz(\.|$)"),
    ("operations", r"derby_oa\.(build|uploads|console|pack|__main__)(\.|$)"),
    ("ui", r"derby_oa\.ui(\.|$)"),
]


def layer(module: str) -> int:
    """The index in LAYERS of a derby_oa module (every module has one)."""
    for i, (_, pattern) in enumerate(LAYERS):
        if re.match(pattern, module):
            return i
    raise AssertionError(f"{module} is in no layer: add its folder to LAYERS")


def test_every_module_has_a_layer_and_imports_only_downwards():
    graph = internal_graph()
    upward = sorted(f"{name} ({LAYERS[layer(name)][0]}) imports {dep} ({LAYERS[layer(dep)][0]})"
                    for name, deps in graph.items() for dep in deps if layer(dep) > layer(name))
    assert upward == []


def test_the_layer_rule_catches_an_upward_import():
    assert layer("derby_oa.queries.core") < layer("derby_oa.analysis.stats") < layer("derby_oa.viz.charts")
    assert layer("derby_oa.viz.charts") < layer("derby_oa.ui.widgets")
    assert layer("derby_oa.storage.store") < layer("derby_oa.queries.targets") < layer("derby_oa.build.pipeline")


# Below the queries: storage and small shared rule tables (series: years that break a series).
QUERY_LAYER_DEPENDENCIES = {"derby_oa", "derby_oa.config", "derby_oa.errors", "derby_oa.storage",
                            "derby_oa.storage.schema", "derby_oa.storage.store", "derby_oa.storage.write_lock",
                            "derby_oa.storage.db", "derby_oa.vocabulary", "derby_oa.series"}


def test_queries_use_only_the_schema_and_storage_layer():
    """SQL functions return frames; they never call the analysis, chart or map code above them."""
    graph = internal_graph()
    above = {name: sorted(d for d in deps if not d.startswith("derby_oa.queries") and d not in QUERY_LAYER_DEPENDENCIES)
             for name, deps in graph.items() if name.startswith("derby_oa.queries")}
    assert {k: v for k, v in above.items() if v} == {}


def test_no_connection_parameter_is_accepted_and_ignored():
    ignored = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "con" in [a.arg for a in node.args.args]:
                if "con" not in {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}:
                    ignored.append(f"{name}.{node.name}")
    assert ignored == []
