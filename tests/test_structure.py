"""The shape of the code: which way imports go (docs/contributing.md explains it).

Two rules, read from the source with ``ast`` so they hold for imports inside functions too
(only ``if TYPE_CHECKING:`` blocks are exempt, since they never run):

* no import cycle between ``stars`` modules;
* a private name (``_x``) is imported only from a private module (``_``-prefixed), never from
  a public module, and a package's private modules are imported only from inside that package.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((SRC / "stars").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, outside ``if TYPE_CHECKING:`` blocks."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _edges() -> dict[str, set[tuple[str, str | None]]]:
    """module -> {(imported module, imported name or None)}."""
    edges: dict[str, set[tuple[str, str | None]]] = {}
    for module, path in MODULES.items():
        out: set[tuple[str, str | None]] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                out.update(
                    (alias.name, None) for alias in node.names if alias.name.startswith("stars")
                )
                continue
            target = _absolute(module, node)
            if not target.startswith("stars"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add((sub, None) if sub in MODULES else (target, alias.name))
        edges[module] = out
    return edges


EDGES = _edges()


def _cycles() -> list[list[str]]:
    graph = {m: {t for t, _ in out if t in MODULES and t != m} for m, out in EDGES.items()}
    # The package root re-exports lazily from everything: imports *of* ``stars`` itself are
    # of names, and the root's own lazy table is not a dependency of any submodule.
    graph["stars"] = set()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _package_of(module: str) -> str:
    """The package a module belongs to: ``stars.recovery._plans`` -> ``stars.recovery``."""
    is_package = MODULES[module].name == "__init__.py"
    return module if is_package else module.rpartition(".")[0]


def _violations() -> list[str]:
    found = []
    for module, out in sorted(EDGES.items()):
        for target, name in sorted(out, key=lambda edge: (edge[0], edge[1] or "")):
            if target not in MODULES:
                continue
            leaf = target.rpartition(".")[2]
            if name is not None and _private(name) and not _private(leaf):
                found.append(f"{module} imports private {name!r} from public module {target}")
            # A package's private module belongs to that package: stars.recovery._plans is
            # for stars.recovery's own modules. Top-level stars._x modules are the shared
            # internals, open to every module.
            owner = target.rpartition(".")[0]
            if _private(leaf) and owner != "stars" and not module.startswith(owner):
                found.append(f"{module} imports {target}, private to {owner}")
    return found


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_private_names_stay_inside_their_package() -> None:
    assert _violations() == []


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (
            "from stars.account import _hidden\n",
            "private '_hidden' from public module stars.account",
        ),
        ("import stars.recovery._plans\n", "private to stars.recovery"),
    ],
)
def test_the_rules_catch_a_planted_offender(
    source: str, problem: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(source, encoding="utf-8")
    (tmp_path / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.setitem(MODULES, "stars.planted", planted)
    monkeypatch.setitem(MODULES, "stars.recovery._plans", planted)
    monkeypatch.setitem(MODULES, "stars.recovery", tmp_path / "__init__.py")
    edges = _edges()
    monkeypatch.setattr(f"{__name__}.EDGES", edges)
    assert any(problem in line and line.startswith("stars.planted") for line in _violations())


def test_a_planted_cycle_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text("def f():\n    from stars import planted_second\n", encoding="utf-8")
    second.write_text("import stars.planted_first\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, "stars.planted_first", first)
    monkeypatch.setitem(MODULES, "stars.planted_second", second)
    monkeypatch.setattr(f"{__name__}.EDGES", _edges())
    assert ["stars.planted_first", "stars.planted_second"] in _cycles()


# -- the layers, read from the contributors' page ------------------------------------------

PAGE = Path(__file__).parents[1] / "docs" / "contributing.md"
_ROW = re.compile(r"^\| (\d+) \| ([^|]+) \|", re.M)


def _layers(page: str) -> dict[str, int]:
    """``stars.<module>`` -> its layer, from the table on docs/contributing.md."""
    layers = {}
    for number, cell in _ROW.findall(page):
        for name in re.findall(r"`([a-z_]+)`", cell):
            layers[f"stars.{name}"] = int(number)
    return layers


def _public_of(module: str) -> str | None:
    """The public module a module belongs to (``stars.recovery._plan`` -> ``stars.recovery``)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1].startswith("_"):
        return None
    return ".".join(parts[:2])


def _upward(layers: dict[str, int]) -> list[str]:
    found = []
    for module, out in sorted(EDGES.items()):
        mine = _public_of(module)
        if mine is None:
            continue
        for target, _ in sorted(out, key=lambda edge: (edge[0], edge[1] or "")):
            theirs = _public_of(target) if target in MODULES else None
            if theirs is None or theirs == mine:
                continue
            if layers[theirs] > layers[mine]:
                found.append(
                    f"{module} (layer {layers[mine]}) imports {target} (layer {layers[theirs]})"
                )
    return found


def test_every_public_module_has_a_layer_on_the_page() -> None:
    layers = _layers(PAGE.read_text(encoding="utf-8"))
    public = {p for p in (_public_of(m) for m in MODULES) if p is not None} - {"stars.__main__"}
    assert sorted(public - set(layers)) == []
    assert sorted(set(layers) - public) == []


def test_imports_go_down_the_layers() -> None:
    assert _upward(_layers(PAGE.read_text(encoding="utf-8"))) == []


def test_an_upward_import_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    layers = _layers(PAGE.read_text(encoding="utf-8"))
    monkeypatch.setitem(EDGES, "stars.health", {*EDGES["stars.health"], ("stars.report", None)})
    assert any(
        line.startswith("stars.health (layer 2) imports stars.report") for line in _upward(layers)
    )


def test_every_module_of_the_package_is_named_on_the_page() -> None:
    page = PAGE.read_text(encoding="utf-8")
    missing = []
    for module in MODULES:
        parts = module.split(".")
        if module in ("stars", "stars.__main__"):
            continue
        if len(parts) == 2:
            named = f"`{module}`" in page or f"`{parts[1]}`" in page
        else:
            named = f"`{parts[-1]}`" in page and f"`{'.'.join(parts[:2])}`" in page
        if not named:
            missing.append(module)
    assert missing == []
