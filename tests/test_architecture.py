"""The floor plan of docs/architecture.md, checked from the code's own imports.

Every module under ``src/isocert`` is parsed (imports at module level and inside
functions alike). Apps stand on floors and import only apps on lower floors:

- each app imports only apps on floors below its own (``FLOORS``);
- ``core`` is the ground floor and imports no other isocert app;
- ``portal`` is the shell: it may import every app, and only the root URLconf imports it;
- no two apps import each other, directly or round a longer loop;
- no import of another app inside a function (a signal or a passed value instead), and no
  import of the app's own modules inside one either, except where ``AppConfig.ready``
  connects the receivers (a module that needs a sibling imports it at the top, and the
  sibling does not import it back);
- no code writes a lifecycle's ``.status`` except through its status table
  (``StateMachine.apply`` in ``core/statemachine.py``).
"""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "isocert"
# The project's assembly modules sit above every app: they may import any of them.
PROJECT_MODULES = {"settings", "urls", "wsgi", "asgi", "__main__", "__init__"}
# The shell is entered from the root URLconf alone (the REST API is assembled inside it).
PORTAL_ENTRY = Path("urls.py")
# From the top floor down: an app imports only apps on floors below its own.
FLOORS = ["portal", "complaints", "registry", "certification", "energy", "audits", "improvement",
          "readiness", "registration", "impartiality", "accounts", "catalog", "notifications", "core"]


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if "migrations" in relative.parts:
            continue
        yield path, relative


def _app_of(relative: Path) -> str | None:
    if len(relative.parts) == 1:
        return None  # a project module
    return relative.parts[0]


def _imported_apps(tree: ast.AST, relative: Path):
    """(app, line, inside_function) for every import of an isocert app in ``tree``."""
    functions = [node for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    nested = {id(child) for fn in functions for child in ast.walk(fn) if child is not fn}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: stays inside its own package
                continue
            names = [node.module or ""]
            if node.module == "isocert":
                names = [f"isocert.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "isocert" and len(parts) > 1 and (SRC / parts[1]).is_dir():
                yield parts[1], node.lineno, id(node) in nested


def _app_graph():
    edges = defaultdict(set)
    where = defaultdict(list)
    inside_functions = []
    for path, relative in _modules():
        source_app = _app_of(relative)
        tree = ast.parse(path.read_text(), filename=str(path))
        for target_app, line, in_function in _imported_apps(tree, relative):
            if source_app is None or target_app == source_app:
                continue
            edges[source_app].add(target_app)
            where[(source_app, target_app)].append(f"{relative}:{line}")
            if in_function:
                inside_functions.append(f"{relative}:{line} imports isocert.{target_app}")
    return edges, where, inside_functions


def _cycles(edges) -> list[list[str]]:
    """Strongly connected groups of more than one app (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for successor in edges.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in list(edges):
        if node not in index:
            visit(node)
    return groups


@pytest.fixture(scope="module")
def graph():
    return _app_graph()


def test_core_imports_no_other_app(graph):
    edges, where, _ = graph
    assert not edges.get("core"), {app: where[("core", app)] for app in edges.get("core", ())}


def test_no_app_imports_the_portal(graph):
    edges, where, _ = graph
    importers = {app: where[(app, "portal")] for app, targets in edges.items()
                 if "portal" in targets}
    for path, relative in _modules():  # a project module other than the root URLconf
        if _app_of(relative) is None and relative != PORTAL_ENTRY:
            tree = ast.parse(path.read_text(), filename=str(path))
            lines = [line for app, line, _ in _imported_apps(tree, relative) if app == "portal"]
            if lines:
                importers[str(relative)] = lines
    assert not importers


def test_every_app_has_a_floor_and_imports_only_below_it(graph):
    edges, where, _ = graph
    apps = {path.parent.name for path in SRC.glob("*/apps.py")}
    assert apps <= set(FLOORS), f"place the new app on a floor: {apps - set(FLOORS)}"
    upward = {f"{a} -> {b}": where[(a, b)] for a, targets in edges.items() for b in targets
              if FLOORS.index(b) <= FLOORS.index(a)}
    assert not upward


def test_no_cycle_between_apps(graph):
    edges, where, _ = graph
    cycles = _cycles(edges)
    detail = [{f"{a} -> {b}": where[(a, b)] for a in group for b in group if b in edges[a]}
              for group in cycles]
    assert not cycles, detail


def test_no_import_of_another_app_inside_a_function(graph):
    _, _, inside_functions = graph
    assert not inside_functions


def _own_app_imports_inside_functions(tree: ast.AST, relative: Path) -> list[str]:
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if relative.name == "apps.py" and fn.name == "ready":
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom) and node.level:
                found.append(f"{relative}:{node.lineno} imports .{node.module or ''}")
    return found


def test_no_module_imports_its_own_app_inside_a_function():
    found = []
    for path, relative in _modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        found += _own_app_imports_inside_functions(tree, relative)
    assert not found, found


def test_status_is_written_only_through_a_status_table():
    writes = []
    for path, relative in _modules():
        if relative == Path("core/statemachine.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    writes.append(f"{relative}:{node.lineno}")
    assert not writes, writes


def test_the_checks_see_a_cycle_and_a_function_import(tmp_path):
    """The checker itself: a two-app loop is a cycle, a nested import is found."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    tree = ast.parse("def f():\n    from isocert.core import errors\n")
    assert list(_imported_apps(tree, Path("x/y.py"))) == [("core", 2, True)]
    tree = ast.parse("def f():\n    from .tasks import t\n")
    assert _own_app_imports_inside_functions(tree, Path("x/services.py")) == [
        "x/services.py:2 imports .tasks"]
    tree = ast.parse("class C:\n    def ready(self):\n        from . import receivers\n")
    assert _own_app_imports_inside_functions(tree, Path("x/apps.py")) == []
