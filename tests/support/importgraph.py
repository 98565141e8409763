"""The import graph of the project's own packages, read from the source with `ast`.

Nothing is imported or run, so the graph holds every import a module can make: those at
module level and those inside functions, which Python runs later but which still tie the
two modules together. Imports under `if TYPE_CHECKING:` are left out: they never run.
A module is named by its dotted path (`app.store.db`; a package by its `__init__.py`), and
an import points at the module it names: `from app.store import stats` at
`app.store.stats`, `from app.store import open_store` at `app.store`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

LAZY_MARK = re.compile(r"#\s*lazy:\s*\S")


@dataclass(frozen=True)
class Site:
    """Where one import stands: the file, the line, and whether it runs inside a function."""

    path: Path
    line: int
    in_function: bool
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


@dataclass
class Graph:
    """Modules of the packages read, and who imports whom, with where each import is."""

    root: Path
    modules: dict[str, Path] = field(default_factory=dict)
    edges: dict[str, dict[str, list[Site]]] = field(default_factory=dict)
    function_imports: list[Site] = field(default_factory=list)

    def targets(self, module: str) -> set[str]:
        return set(self.edges.get(module, {}))

    def package_edges(self, depth: int = 2) -> set[tuple[str, str]]:
        """Edges between the first `depth` parts of the names (`app.store.db` ->
        `app.store`), leaving out those inside one package."""
        out = set()
        for a, targets in self.edges.items():
            for b in targets:
                pa, pb = package_of(a, depth), package_of(b, depth)
                if pa != pb:
                    out.add((pa, pb))
        return out


def package_of(module: str, depth: int = 2) -> str:
    return ".".join(module.split(".")[:depth])


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
    """Every import statement that can run, and whether it is inside a function."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, in_function
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for other in node.orelse:
                yield from _imports(ast.Module(body=[other], type_ignores=[]), in_function)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _imports(node, True)
        else:
            yield from _imports(node, in_function)


def _named(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: Iterable[str]
) -> list[str]:
    """The modules of the graph that one import statement names."""
    known = set(known)
    out = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                out.append(name)
        return out
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        origin = ".".join(base + ([node.module] if node.module else []))
    else:
        origin = node.module or ""
    for alias in node.names:
        full = f"{origin}.{alias.name}"
        if full in known:
            out.append(full)
        elif origin in known:
            out.append(origin)
    return out


def build(root: Path, packages: Iterable[str]) -> Graph:
    """Read every module of `packages` (folders under `root`) into one graph."""
    graph = Graph(root)
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            graph.modules[module_name(root, path)] = path
    for module, path in graph.modules.items():
        source = path.read_text()
        lines = source.splitlines()
        tree = ast.parse(source, filename=str(path))
        for node, in_function in _imports(tree):
            assert isinstance(node, ast.Import | ast.ImportFrom)
            site = Site(
                path.relative_to(root), node.lineno, in_function, lines[node.lineno - 1].strip()
            )
            if in_function:
                graph.function_imports.append(site)
            is_package = path.name == "__init__.py"
            for target in _named(node, module, is_package, graph.modules):
                if target != module:
                    graph.edges.setdefault(module, {}).setdefault(target, []).append(site)
        for call, names in _dynamic(tree, graph.modules):
            site = Site(path.relative_to(root), call.lineno, True, lines[call.lineno - 1].strip())
            for target in names - {module}:
                graph.edges.setdefault(module, {}).setdefault(target, []).append(site)
    return graph


def _dynamic(tree: ast.AST, known: Iterable[str]) -> Iterator[tuple[ast.Call, set[str]]]:
    """Calls of `__import__` / `importlib.import_module`, with the modules they can load:
    the one a literal names, or else every module of the graph that a string constant of
    the file names (a loop over a tuple of names, a table of lazy attributes)."""
    known = set(known)
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in known}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        if name not in ("__import__", "import_module"):
            continue
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            yield node, {arg.value} & known
        else:
            yield node, set(strings)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it starts, or None if it has none."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {v: WHITE for v in edges}
    for targets in edges.values():
        for t in targets:
            colour.setdefault(t, WHITE)
    for start in sorted(colour):
        if colour[start] != WHITE:
            continue
        path = [start]
        colour[start] = GREY
        stack = [iter(sorted(edges.get(start, ())))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                colour[path.pop()] = BLACK
                stack.pop()
            elif colour[nxt] == GREY:
                return path[path.index(nxt) :] + [nxt]
            elif colour[nxt] == WHITE:
                colour[nxt] = GREY
                path.append(nxt)
                stack.append(iter(sorted(edges.get(nxt, ()))))
    return None


def describe_cycle(graph: Graph, cycle: list[str]) -> str:
    """A cycle with the import line behind each of its arrows."""
    steps = []
    for a, b in zip(cycle, cycle[1:], strict=False):
        steps.append(f"  {a} -> {b}   ({graph.edges[a][b][0]})")
    return "\n".join(steps)


def unexplained_lazy(graph: Graph) -> list[Site]:
    """Function-level imports with no `# lazy: why` comment: on the import's first line, or
    in the comment lines just above it or above the group of imports it stands in."""
    out = []
    for site in graph.function_imports:
        path = graph.root / site.path
        source = path.read_text()
        lines = source.splitlines()
        import_lines = {
            n
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Import | ast.ImportFrom)
            for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)
        }
        if LAZY_MARK.search(lines[site.line - 1]) or _mark_above(lines, site.line, import_lines):
            continue
        out.append(site)
    return out


def _mark_above(lines: list[str], line: int, import_lines: set[int]) -> bool:
    """Whether the comment block above `line` (1-based), passing over the other imports of
    its group and blank lines between them, says why the import is lazy."""
    n = line - 1
    while n >= 1:
        text = lines[n - 1].strip()
        if text.startswith("#"):
            if LAZY_MARK.search(text):
                return True
        elif text and n not in import_lines:
            return False
        n -= 1
    return False


def unit_of(module: str) -> str:
    """The part of the product a module belongs to, as docs/architecture.md draws it: a
    subpackage or module of app (`app.store`, `app.cli`), or a top-level package."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "app" else parts[0]


def unit_edges(graph: Graph) -> set[tuple[str, str]]:
    """Who imports whom between the product's parts (imports inside one part left out)."""
    return {
        (unit_of(a), unit_of(b))
        for a, targets in graph.edges.items()
        for b in targets
        if unit_of(a) != unit_of(b)
    }


def unit_label(unit: str, graph: Graph) -> str:
    """A part's path as the doc names it: `app/store/`, `app/cli.py`, `firmware_sim/`."""
    path = graph.modules[unit].relative_to(graph.root)
    return f"{path.parent}/" if path.name == "__init__.py" and unit != "app" else str(path)


def mermaid(graph: Graph) -> str:
    """The mermaid flowchart of `unit_edges`, one node per part labelled by its path."""
    edges = sorted(unit_edges(graph))
    units = sorted({u for e in edges for u in e})
    ident = {u: u.replace("app.", "").replace(".", "_").replace("__", "") or "app" for u in units}
    ident["app"] = "app_pkg"
    lines = ["flowchart TD"]
    lines += [f'    {ident[u]}["{unit_label(u, graph)}"]' for u in units]
    lines += [f"    {ident[a]} --> {ident[b]}" for a, b in edges]
    return "\n".join(lines)


def doc_edges(text: str) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """The edges of the first mermaid block in `text`, as (label, label) pairs, and its
    node labels by id."""
    block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    labels = dict(re.findall(r'^\s*(\w+)\["([^"]+)"\]', block, re.M))
    edges = {(labels[a], labels[b]) for a, b in re.findall(r"^\s*(\w+) --> (\w+)", block, re.M)}
    return edges, labels
