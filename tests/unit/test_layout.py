"""The code's layout: a newcomer finds a capability from folder names alone.

Services live in one package per domain (only what every domain shares stays at the
top of `server/services`), every package says in its docstring what it owns, and no
two modules import each other, directly or round a circle, except inside the XPath
engine (whose functions and evaluator are one recursive unit by nature).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("forms", "sync", "server")
#: The modules at the top of server/services: what every domain shares.
SHARED_SERVICES = {"__init__", "audit", "memory", "paging", "sheets", "system", "txcache"}
#: Where a circle is allowed: the XPath engine's evaluator and its function library.
CIRCLE_ALLOWED = "forms.xpath."


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports anywhere in its body, functions included."""

    def known(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {known(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else known(base))
    return {m for m in found if m and m != name}


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        circles.append(component)
    return circles


def test_no_import_circle_outside_the_xpath_engine():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    circles = [c for c in _circles(graph) if not all(m.startswith(CIRCLE_ALLOWED) for m in c)]
    assert circles == [], "modules that import each other: " + "; ".join(
        " <-> ".join(sorted(c)) for c in circles
    )


def test_the_circle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _circles(graph) == [{"a", "b", "c"}]


def test_services_are_grouped_by_domain():
    services = ROOT / "server" / "services"
    flat = {p.stem for p in services.glob("*.py")}
    assert flat - SHARED_SERVICES == set(), (
        "put a service in its domain's package (server/services/<domain>/), not at the top"
    )
    domains = {p.name for p in services.iterdir() if (p / "__init__.py").is_file()}
    assert {"receiving", "households", "sync", "duplicates", "review", "access", "forms"} <= domains


def test_every_package_says_what_it_owns():
    missing = [
        str(init.relative_to(ROOT))
        for package in PACKAGES
        for init in (ROOT / package).rglob("__init__.py")
        if not ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    ]
    assert missing == []
