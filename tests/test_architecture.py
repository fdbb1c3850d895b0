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


def imports_at_load(path: Path, known: dict[str, Path]) -> set[str]:
    """The backend modules `path` imports when it is loaded: module level, not under
    `if TYPE_CHECKING`, not inside functions."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(nodes) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
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
