"""The import graph of ``repro/``: layers import one way, no cycles, no private names across packages.

Every ``import`` and ``from ... import`` of every module counts, wherever it sits (module level,
inside a function, under ``if TYPE_CHECKING``): a lazy import is still a dependency, and a cycle
through one is still a cycle. Only the standard library's ``ast`` is used.

The declared order, bottom to top (a subpackage may import those below it, never those above)::

    data -> models -> training -> evaluation -> runner -> checks -> claims -> report -> cli

``sources`` (documents) is a leaf: it imports no other subpackage and may be imported by any.
Top-level modules (``repro/atomic.py``, ``cache.py``, ``errors.py`` ...) are usable by all and
import no subpackage themselves.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "repro"

LAYERS = ("data", "models", "training", "evaluation", "runner", "checks", "claims", "report", "cli")
LEAVES = ("sources",)
TOP = "(top level)"


@dataclass(frozen=True)
class Import:
    """One imported name: ``source`` (a repro module) imports ``target`` at ``file:line``."""

    source: str
    target: str  # the module imported, or the module a name is imported from
    names: tuple[str, ...]  # names taken from ``target`` (empty for ``import target``)
    file: str
    line: int

    def where(self) -> str:
        """``repro/checks/base.py:18: from repro.claims.context import CheckContext``."""
        what = f"from {self.target} import {', '.join(self.names)}" if self.names else f"import {self.target}"
        return f"{self.file}:{self.line}: {what}"


def module_name(path: Path, root: Path) -> str:
    """``repro.checks.base`` for ``<root>/checks/base.py``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def collect_imports(root: Path = ROOT) -> tuple[set[str], list[Import]]:
    """Every module under ``root`` and every import of a ``repro`` module they make."""
    files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    modules = {module_name(p, root) for p in files}
    out: list[Import] = []
    for path in files:
        source = module_name(path, root)
        is_package = path.name == "__init__.py"
        rel = str(path.relative_to(root.parent))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=rel)):
            if isinstance(node, ast.Import):
                out += [Import(source, a.name, (), rel, node.lineno) for a in node.names if _is_repro(a.name)]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, source, is_package)
                if not _is_repro(base):
                    continue
                # ``from repro.x import y`` where y is a module imports that module.
                plain = tuple(a.name for a in node.names if f"{base}.{a.name}" not in modules)
                out += [
                    Import(source, f"{base}.{a.name}", (), rel, node.lineno)
                    for a in node.names
                    if f"{base}.{a.name}" in modules
                ]
                if plain:
                    out.append(Import(source, base, plain, rel, node.lineno))
    return modules, out


def _is_repro(name: str) -> bool:
    return name == "repro" or name.startswith("repro.")


def _absolute(node: ast.ImportFrom, source: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = source.split(".") if is_package else source.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def subpackage(module: str, packages: set[str]) -> str:
    """``checks`` for ``repro.checks.base``; ``cli`` for ``repro.cli``; TOP for other top-level modules."""
    parts = module.split(".")
    if len(parts) < 2:
        return TOP
    if parts[1] in packages or parts[1] == "cli":
        return parts[1]
    return TOP


def packages_of(root: Path = ROOT) -> set[str]:
    """The subpackages of ``root`` (folders with an ``__init__.py``)."""
    return {p.parent.name for p in root.glob("*/__init__.py")}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (or a self-loop), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                found.append(sorted(comp))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def _graph(imports: Iterable[Import], key) -> tuple[dict[str, set[str]], dict[tuple[str, str], list[Import]]]:
    edges: dict[str, set[str]] = defaultdict(set)
    why: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in imports:
        a, b = key(imp.source), key(imp.target)
        if a is None or b is None or a == b:
            continue
        edges[a].add(b)
        why[(a, b)].append(imp)
    return edges, why


def subpackage_graph(root: Path = ROOT) -> tuple[dict[str, set[str]], dict[tuple[str, str], list[Import]]]:
    """Edges between subpackages (TOP included), with the imports behind each edge."""
    _, imports = collect_imports(root)
    pkgs = packages_of(root)
    return _graph(imports, lambda m: subpackage(m, pkgs))


def _explain(comp: list[str], edges: dict[str, set[str]], why: dict[tuple[str, str], list[Import]]) -> str:
    inside = set(comp)
    lines = [imp.where() for a in comp for b in sorted(edges.get(a, ()) & inside) for imp in why[(a, b)]]
    return f"cycle between {' <-> '.join(comp)}:\n  " + "\n  ".join(lines)


def layer_violations(why: dict[tuple[str, str], list[Import]]) -> list[str]:
    """``a -> b: file:line: import`` for every import that goes against the declared order."""
    bad = []
    for (a, b), imps in sorted(why.items()):
        if a == TOP or a in LEAVES:
            ok = b == TOP and a != TOP  # top-level helpers import no subpackage; leaves only top-level ones
        elif b == TOP or b in LEAVES:
            ok = True
        else:
            ok = LAYERS.index(b) < LAYERS.index(a)
        if not ok:
            bad += [f"{a} -> {b}: {imp.where()}" for imp in imps]
    return bad


# -- the tests ----------------------------------------------------------------------------------------


def test_cycle_finder_reports_direct_and_longer_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"c"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "d": {"c"}}) == []


def test_collect_imports_sees_lazy_relative_and_module_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "repro"
    (pkg / "alpha").mkdir(parents=True)
    (pkg / "beta").mkdir()
    for f in ("__init__.py", "alpha/__init__.py", "beta/__init__.py", "beta/mod.py", "errors.py"):
        (pkg / f).write_text("")
    (pkg / "alpha" / "one.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import two\n"
        "from repro.errors import ReproError\n"
        "if TYPE_CHECKING:\n    from repro.beta.mod import _hidden\n"
        "def f():\n    import repro.beta.mod\n"
    )
    (pkg / "alpha" / "two.py").write_text("from repro.beta import mod\n")
    (pkg / "beta" / "mod.py").write_text("from ..alpha.one import f\n")
    _, imports = collect_imports(pkg)
    got = {(i.source, i.target, i.names, i.line) for i in imports}
    assert got == {
        ("repro.alpha.one", "repro.alpha.two", (), 2),
        ("repro.alpha.one", "repro.errors", ("ReproError",), 3),
        ("repro.alpha.one", "repro.beta.mod", ("_hidden",), 5),
        ("repro.alpha.one", "repro.beta.mod", (), 7),
        ("repro.alpha.two", "repro.beta.mod", (), 1),
        ("repro.beta.mod", "repro.alpha.one", ("f",), 1),
    }
    edges, why = subpackage_graph(pkg)
    assert cycles(edges) == [["alpha", "beta"]]
    assert "repro/beta/mod.py:1: from repro.alpha.one import f" in _explain(["alpha", "beta"], edges, why)


def test_no_two_subpackages_import_each_other() -> None:
    edges, why = subpackage_graph()
    found = cycles(edges)
    assert not found, "\n".join(_explain(c, edges, why) for c in found)


def test_every_subpackage_is_declared() -> None:
    assert packages_of() <= set(LAYERS) | set(LEAVES), (
        f"undeclared subpackage(s) {sorted(packages_of() - set(LAYERS) - set(LEAVES))}: add them to LAYERS or LEAVES"
    )


def test_layers_import_one_way() -> None:
    _, why = subpackage_graph()
    bad = layer_violations(why)
    assert not bad, "imports against the declared order " + " -> ".join(LAYERS) + ":\n  " + "\n  ".join(bad)


def test_layer_rule_rejects_upward_leaf_and_top_level_imports() -> None:
    def edge(a: str, b: str) -> dict[tuple[str, str], list[Import]]:
        return {(a, b): [Import(f"repro.{a}.m", f"repro.{b}.n", ("x",), f"repro/{a}/m.py", 3)]}

    assert layer_violations({**edge("claims", "checks"), **edge("checks", "sources"), **edge("cli", TOP)}) == []
    assert layer_violations(edge("checks", "claims")) == [
        "checks -> claims: repro/checks/m.py:3: from repro.claims.n import x"
    ]
    assert layer_violations(edge("sources", "data")) and layer_violations(edge(TOP, "data"))


def test_no_private_name_imported_from_another_subpackage() -> None:
    _, imports = collect_imports()
    pkgs = packages_of()
    bad = []
    for imp in imports:
        if subpackage(imp.source, pkgs) == subpackage(imp.target, pkgs):
            continue
        private = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
        private += [p for p in imp.target.split(".") if p.startswith("_") and not p.startswith("__")]
        if private:
            bad.append(f"{imp.where()} (private: {', '.join(private)})")
    assert not bad, "private names imported across subpackages:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("package", sorted(packages_of()))
def test_no_module_cycles_inside(package: str) -> None:
    """No module cycle inside a subpackage (sources/document <-> markdown, runner/sweep <-> summary were two)."""
    _, imports = collect_imports()
    prefix = f"repro.{package}."
    edges, why = _graph(imports, lambda m: m if m.startswith(prefix) else None)
    found = cycles(edges)
    assert not found, "\n".join(_explain(c, edges, why) for c in found)


def test_no_code_outside_a_kind_reads_result_details() -> None:
    """``CheckResult.details`` is evidence for people; code reads typed result fields (e.g. TrendResult.answer)."""
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.parent.name == "checks":
            continue  # a kind may read its own (e.g. a cached contamination result)
        rel = str(path.relative_to(ROOT.parent))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            target = node.value if isinstance(node, ast.Subscript) else None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
                target = node.func.value
            if isinstance(target, ast.Attribute) and target.attr == "details":
                bad.append(f"{rel}:{node.lineno}")
    assert not bad, "code reads a check result's details by key (give the kind a typed result): " + ", ".join(bad)
