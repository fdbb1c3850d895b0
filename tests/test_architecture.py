"""The shape of the code, checked: no import circle in backend/, backend/ free of NiceGUI,
at most four modules loose at its root, and no comparison of a target kind's name
outside the kinds room (backend/kinds)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "backend"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in BACKEND.rglob("*.py") if "migrations" not in p.parts}


def imports_at_load(path: Path, known: dict[str, Path], type_only: bool = False) -> set[str]:
    """The backend modules `path` imports when it is loaded: module level, not inside
    functions; under `if TYPE_CHECKING` too when `type_only`."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(nodes) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test) and not type_only:
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                visit(getattr(node, "handlers", []))
            elif isinstance(node, ast.ExceptHandler):
                visit(node.body)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name in known)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in known else node.module)

    visit(tree.body)
    return {name for name in found if name in known}


def test_no_import_circle_in_the_backend():
    known = modules()
    graph = {name: imports_at_load(path, known) for name, path in known.items()}
    # A package's __init__ may import its own modules (a registry); that is no circle.
    for name in graph:
        graph[name] = {other for other in graph[name] if not other.startswith(name + ".")}
    circles, state = [], {}

    def walk(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                circles.append(stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                walk(nxt, stack + [nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert circles == []


def test_the_backend_never_imports_nicegui():
    for path in BACKEND.rglob("*.py"):
        assert not re.search(r"^\s*(from|import) nicegui", path.read_text(), re.M), path


def test_at_most_four_modules_loose_at_the_backend_root():
    loose = sorted(p.name for p in BACKEND.glob("*.py"))
    assert len(loose) <= 4, loose


KIND_NAMES = r"services|websdrs|service|receiver|kiwisdr|openwebrx|websdr|http|tcp"
COMPARISON = re.compile(rf"""(==|!=)\s*['"]({KIND_NAMES})['"]|['"]({KIND_NAMES})['"]\s*(==|!=)""")


def test_no_kind_is_compared_by_name_outside_the_kinds_room():
    places = [BACKEND / "api", BACKEND / "alerting", BACKEND / "monitor", BACKEND / "metrics", ROOT / "ui"]
    found = [f"{path.relative_to(ROOT)}:{number}" for place in places for path in place.rglob("*.py")
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if COMPARISON.search(line) and 'scope["type"]' not in line]
    assert found == []


def _kind_names() -> tuple[set[str], set[str]]:
    """The kinds' names: those no other word shares, and those that are also common words
    (`http` is a URL scheme and an ASGI scope type too; `push` a token's scope)."""
    from backend.kinds import KINDS

    names = {name for _, name in KINDS}
    shared = {"http", "push"} & names
    return names - shared, shared


def _named_kinds(tree: ast.AST, distinct: set[str], shared: set[str]) -> list[int]:
    """Lines where code names a kind: any string of a distinct kind name; a shared one where
    it stands for a kind (a `kind` key, argument, default or comparison)."""
    lines: list[int] = []
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
                  and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}

    def kindish(node: ast.AST) -> bool:
        text = ast.unparse(node)
        return "kind" in text.lower()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in distinct:
                lines.append(node.lineno)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "kind" and isinstance(value, ast.Constant) \
                        and value.value in shared:
                    lines.append(value.lineno)
        elif isinstance(node, ast.keyword) and node.arg == "kind" and isinstance(node.value, ast.Constant) \
                and node.value.value in shared:
            lines.append(node.value.lineno)
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) and o.value in shared for o in operands) and kindish(node):
                lines.append(node.lineno)
        elif isinstance(node, (ast.AnnAssign, ast.Assign)) and node.value is not None:
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any("kind" in ast.unparse(t).lower() for t in targets) and isinstance(node.value, ast.Constant) \
                    and node.value.value in shared:
                lines.append(node.lineno)
    return lines


def test_no_code_outside_the_kinds_room_names_a_kind():
    """Not in comparisons of any form, dict keys, defaults, orders or API examples: the
    kinds say it themselves (their rank, their default, their location field)."""
    distinct, shared = _kind_names()
    places = [p for p in BACKEND.rglob("*.py") if "kinds" not in p.relative_to(BACKEND).parts[:1]
              and "migrations" not in p.parts] + list((ROOT / "ui").rglob("*.py")) + [ROOT / "main.py"]
    found = [f"{path.relative_to(ROOT)}:{line}" for path in places
             for line in _named_kinds(ast.parse(path.read_text()), distinct, shared)]
    assert found == []


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_of(module: str) -> str:
    """backend.auth.store -> backend.auth; a module loose at the root stands for itself."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_circle_between_packages_type_only_imports_included():
    """The rooms stand in layers (safety, kinds, storage, events at the bottom; monitor,
    alerting, sites above; reconfigure, api and the pages on top; app.py knows all): no
    room reaches back into one that reaches it, not even for a type. The circles found
    are listed with the modules that make them."""
    known = modules()
    graph: dict[str, set[str]] = {}
    because: dict[tuple[str, str], list[str]] = {}
    for name, path in known.items():
        for other in imports_at_load(path, known, type_only=True):
            here, there = package_of(name), package_of(other)
            if here != there and there != "backend":  # backend/__init__: the version alone
                graph.setdefault(here, set()).add(there)
                because.setdefault((here, there), []).append(name)
    circles = _circles(graph)
    detail = [f"{a} -> {b} ({', '.join(because[(a, b)])})" for group in circles for a in group for b in group
              if (a, b) in because]
    assert circles == [], detail


def test_no_module_imports_another_modules_private_name():
    """A helper shared between modules has a public name in a module named for it."""
    found = []
    for path in [*BACKEND.rglob("*.py"), *(ROOT / "ui").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(("backend", "ui")):
                found += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert found == []
