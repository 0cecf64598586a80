"""No import circle between the parts of the package.

A part is a subpackage of ``traderctl`` (``config``, ``services``, ``plugin``, ``daemon``, ...)
or one of its top-level modules (``events``, ``logs``, ...). Every import counts, wherever it
stands: at the top of a module, inside a function, or under ``TYPE_CHECKING`` (a type named
across a boundary is a dependency on it). The layering this keeps, from the bottom up: the
top-level modules and ``simulator``; ``config``; ``services``; ``plugin`` (the plugin host);
what uses plugins (``cli``, ``daemon``, ``ibstatus``, then ``tws``); ``checks``; ``jobs``,
``builtin`` and ``commands`` at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import traderctl

PACKAGE = Path(traderctl.__file__).parent
ROOT = "traderctl"  # the package's own __init__: hookimpl, the version


def part_of(module: str, parts: set[str]) -> str:
    """``traderctl.services.runner`` -> ``services``; ``traderctl`` -> ROOT."""
    names = module.split(".")
    if len(names) > 1 and names[1] in parts:
        return names[1]
    return ROOT


def parts_of(package: Path) -> set[str]:
    return {p.stem if p.is_file() else p.name for p in package.iterdir()
            if (p.is_dir() and (p / "__init__.py").exists())
            or (p.suffix == ".py" and p.name != "__init__.py")}


def module_name(path: Path, package: Path) -> tuple[str, str]:
    """The module's dotted name and the package its relative imports start from."""
    rel = path.relative_to(package.parent).with_suffix("")
    names = list(rel.parts)
    if names[-1] == "__init__":
        names = names[:-1]
        return ".".join(names), ".".join(names)
    return ".".join(names), ".".join(names[:-1])


def imported(tree: ast.AST, here: str) -> Iterator[tuple[str, int]]:
    """Every module an ``import`` names, relative ones resolved; ``from x import y`` names
    ``x.y`` too, since ``y`` may be a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:
                yield f"{module}.{alias.name}", node.lineno


def import_graph(package: Path) -> dict[str, dict[str, list[str]]]:
    """part -> part it imports -> where (``file:line``), for imports between parts."""
    parts = parts_of(package)
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(package.rglob("*.py")):
        name, here = module_name(path, package)
        source = part_of(name, parts)
        for target_module, line in imported(ast.parse(path.read_text(), str(path)), here):
            if target_module.split(".")[0] != package.name:
                continue
            target = part_of(target_module, parts)
            if target not in (source, ROOT):
                where = f"{path.relative_to(package.parent)}:{line}"
                graph.setdefault(source, {}).setdefault(target, []).append(where)
    return graph


def circles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The strongly connected parts with more than one member (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            member = ""
            component: list[str] = []
            while member != node:
                member = stack.pop()
                component.append(member)
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted({*graph, *(t for targets in graph.values() for t in targets)}):
        if node not in index:
            visit(node)
    return found


def describe(graph: dict[str, dict[str, list[str]]], circle: list[str]) -> str:
    return "\n".join(f"  {a} -> {b}: {', '.join(graph[a][b][:3])}"
                     for a in circle for b in sorted(graph.get(a, {})) if b in circle)


def test_no_import_circle_between_the_parts_of_traderctl() -> None:
    graph = import_graph(PACKAGE)
    found = circles(graph)
    assert not found, "import circles between parts:\n" + "\n\n".join(
        " <-> ".join(c) + "\n" + describe(graph, c) for c in found)


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph(PACKAGE)
    # a top-level import, one inside a function, and one under TYPE_CHECKING
    assert "traderctl/daemon/supervisor.py:" in " ".join(graph["daemon"]["services"])
    assert any("tws/driver.py" in w for w in graph["tws"]["ibstatus"])  # in hold_reason
    assert any("services/host.py" in w for w in graph["services"]["events"])  # TYPE_CHECKING


def test_a_circle_is_found_whatever_import_makes_it(tmp_path: Path) -> None:
    package = tmp_path / "traderctl"
    for name in ("low", "high"):
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "high" / "user.py").write_text("from ..low import base\n")
    (package / "low" / "base.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from traderctl.high.user import thing\n")
    graph = import_graph(package)
    assert circles(graph) == [["high", "low"]]
    (package / "low" / "base.py").write_text("")
    assert circles(import_graph(package)) == []
