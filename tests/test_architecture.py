"""The structure of the package: no import cycles, no function-level imports that hide one."""

from __future__ import annotations

import ast
from pathlib import Path

import needsmodel
from needsmodel._deferred import DEFERRED

ROOT = Path(needsmodel.__file__).parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> tuple[set[str], list[tuple[str, int]]]:
    """Package modules imported at module level, and (module, line) of function-level imports."""
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = {_module_name(p) for p in ROOT.rglob("*.py")}
    top: set[str] = set()
    inner: list[tuple[str, int]] = []

    def targets(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        assert isinstance(node, ast.ImportFrom)
        base = _resolve(module, is_package, node)
        out = [base]
        out += [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
        return out

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue  # for the type checker only, never run
            if isinstance(child, ast.Import | ast.ImportFrom):
                for t in targets(child):
                    if in_function:
                        inner.append((t, child.lineno))
                    elif t in modules:
                        top.add(t)
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(tree, False)
    return top, inner


def _graph() -> dict[str, set[str]]:
    """Module → package modules it imports at module level.

    Importing ``a.b.c`` runs the package ``a.b`` (its ``__init__``) first, so
    each import also points at the parent packages (the root excepted: it is
    always initialised first).
    """
    graph: dict[str, set[str]] = {}
    for p in ROOT.rglob("*.py"):
        name = _module_name(p)
        edges = set()
        for target in _imports(p)[0]:
            parts = target.split(".")
            for k in range(2, len(parts) + 1):
                parent = ".".join(parts[:k])
                if parent != name and not name.startswith(parent + "."):
                    edges.add(parent)
        graph[name] = edges
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == "needsmodel":
                continue  # the root package's __init__ runs first: importing it is no cycle
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if state.get(nxt) is None and (found := dfs(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None and (found := dfs(node)):
            return found
    return None


def test_the_package_has_no_import_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_checker_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_every_deferred_library_is_deferred_somewhere():
    used = {t for p in ROOT.rglob("*.py") for t, _ in _imports(p)[1]}
    unused = [
        name
        for name in DEFERRED
        if not any(t.split(".")[0] == name.split(".")[0] and t.startswith(name) for t in used)
    ]
    assert unused == []


def test_function_level_imports_only_defer_listed_heavy_libraries():
    offenders = []
    for path in ROOT.rglob("*.py"):
        for target, line in _imports(path)[1]:
            if (
                target not in DEFERRED and target.split(".")[0] not in DEFERRED
            ) or target.startswith("needsmodel"):
                offenders.append(f"{path.relative_to(ROOT.parent)}:{line} imports {target}")
    assert offenders == []


# ----------------------------------------------------------------- the method registry

_METHOD_NAMES = frozenset(
    name for name in needsmodel.estimate.methods.method_names() if name != "auto"
)


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [s for e in node.elts for s in _strings(e)]
    if isinstance(node, ast.Starred):
        return _strings(node.value)
    return []


def method_lists(source: str) -> list[tuple[int, str]]:
    """(line, text) of every comparison with a method name and every list of method names.

    A method chosen by name (``NeedSpec(method="ols")``) is fine; asking *which*
    method it is (``method == "binomial"``, ``m in ("ols", "wls")``) or declaring a
    family of methods (``LINEAR = ("ols", "wls")``) belongs in the registry.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            names = [s for side in (node.left, *node.comparators) for s in _strings(side)]
            if any(s in _METHOD_NAMES for s in names):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            names = _strings(node)
            if sum(s in _METHOD_NAMES for s in names) >= 2:
                found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_method_check_finds_comparisons_and_lists():
    src = (
        'if method == "binomial": pass\n'
        'LINEAR = ("ols", "wls")\n'
        'ok = fit(method="ols")\n'
        'x = m in {"gamma"}\n'
        'M = Literal["ols", "poisson"]\n'
    )
    assert sorted({line for line, _ in method_lists(src)}) == [1, 2, 4, 5]


def test_method_names_are_listed_only_in_the_registry():
    registry = ROOT / "estimate" / "methods.py"
    offenders = [
        f"{path.relative_to(ROOT.parent)}:{line}: {text}"
        for path in sorted(ROOT.rglob("*.py"))
        if path != registry
        for line, text in method_lists(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "ask needsmodel.estimate.methods instead:\n" + "\n".join(offenders)


def test_every_registry_row_is_consistent():
    from needsmodel.estimate.methods import REGISTRY

    for m in REGISTRY.values():
        assert m.default_cov in m.covariances, m.name
        assert (m.sm_family is not None) == m.is_glm, m.name
        assert not m.collapsible or m.kind in ("linear", "glm"), m.name
        assert not m.additive or m.is_linear, m.name
