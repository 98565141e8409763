"""No import cycles in the product, counting the imports made inside functions; and an
import is made inside a function only for a reason written beside it (`# lazy: why`).

The graph is read from the source (tests/support/importgraph.py), so an import that only
runs in one command still counts: a cycle through it is a cycle the day that command runs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.support.importgraph import (
    Graph,
    build,
    describe_cycle,
    doc_edges,
    find_cycle,
    mermaid,
    unexplained_lazy,
    unit_edges,
    unit_label,
)

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("app", "firmware_sim")


def product_graph() -> Graph:
    return build(ROOT, PRODUCT)


def test_the_product_has_no_import_cycle() -> None:
    graph = product_graph()
    assert "app.core.engine" in graph.modules and "app.cli" in graph.targets("app.__main__")
    cycle = find_cycle({m: graph.targets(m) for m in graph.modules})
    assert cycle is None, "an import cycle:\n" + describe_cycle(graph, cycle or [])


def test_every_import_inside_a_function_says_why_it_is_lazy() -> None:
    missing = unexplained_lazy(product_graph())
    assert not missing, (
        "imports inside functions without a '# lazy: why' comment (move them to the top of "
        "the module, or say what loading them late buys):\n" + "\n".join(map(str, missing))
    )


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_a_cycle_through_a_function_level_import_is_found_and_named(tmp_path: Path) -> None:
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.sub import b\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/b.py": """
                def later():
                    # lazy: a test of the checker
                    from ..c import thing
                    return thing
                """,
            "pkg/c.py": "import pkg.a\nthing = 1\n",
        },
    )
    graph = build(tmp_path, ["pkg"])
    cycle = find_cycle({m: graph.targets(m) for m in graph.modules})
    assert cycle is not None
    assert set(cycle) == {"pkg.a", "pkg.sub.b", "pkg.c"} and cycle[0] == cycle[-1]
    text = describe_cycle(graph, cycle)
    assert "pkg.sub.b -> pkg.c" in text and "pkg/sub/b.py:4: from ..c import thing" in text
    assert unexplained_lazy(graph) == []


def test_imports_that_never_run_make_no_cycle(tmp_path: Path) -> None:
    """TYPE_CHECKING imports are for the type checker only; the cycle test ignores them."""
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from pkg.a import Thing
                else:
                    import json
                """,
        },
    )
    graph = build(tmp_path, ["pkg"])
    assert graph.targets("pkg.a") == {"pkg.b"} and graph.targets("pkg.b") == set()
    assert find_cycle({m: graph.targets(m) for m in graph.modules}) is None


def test_an_unexplained_function_level_import_is_reported(tmp_path: Path) -> None:
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": """
                def fast():
                    import json  # lazy: a trailing reason counts

                    # lazy: one comment covers its group,
                    # over several lines
                    import csv

                    from pkg import b
                    return json, csv, b

                def slow():
                    # this comment gives no reason
                    import zipfile
                    return zipfile

                class Holder:
                    async def method(self):
                        import gzip
                        return gzip
                """,
            "pkg/b.py": "",
        },
    )
    missing = unexplained_lazy(build(tmp_path, ["pkg"]))
    assert [(str(s.path), s.line, s.text) for s in missing] == [
        ("pkg/a.py", 14, "import zipfile"),
        ("pkg/a.py", 19, "import gzip"),
    ]


def test_the_architecture_diagram_has_the_codes_arrows() -> None:
    """docs/architecture.md's mermaid diagram names each part by its path; its arrows must
    be the code's arrows between parts, no more and no fewer."""
    graph = product_graph()
    drawn, _ = doc_edges((ROOT / "docs" / "architecture.md").read_text())
    real = {(unit_label(a, graph), unit_label(b, graph)) for a, b in unit_edges(graph)}
    assert drawn == real, (
        f"drawn but not in the code: {sorted(drawn - real)}\n"
        f"in the code but not drawn: {sorted(real - drawn)}\n"
        f"the diagram as the code has it:\n```mermaid\n{mermaid(graph)}\n```"
    )


def test_a_module_loaded_by_name_is_an_arrow_too(tmp_path: Path) -> None:
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/cli.py": """
                import importlib
                def build():
                    for name in ("pkg.a", "pkg.b"):
                        __import__(name)
                    return importlib.import_module("pkg.c")
                """,
            "pkg/a.py": "",
            "pkg/b.py": "",
            "pkg/c.py": "",
        },
    )
    assert build(tmp_path, ["pkg"]).targets("pkg.cli") == {"pkg.a", "pkg.b", "pkg.c"}


def test_a_drawn_arrow_the_code_lacks_is_caught() -> None:
    text = """
        ```mermaid
        flowchart TD
            a["app/core/"]
            b["app/cli.py"]
            a --> b
        ```
        """
    drawn, labels = doc_edges(textwrap.dedent(text))
    assert drawn == {("app/core/", "app/cli.py")} and labels == {
        "a": "app/core/",
        "b": "app/cli.py",
    }
    graph = product_graph()
    real = {(unit_label(a, graph), unit_label(b, graph)) for a, b in unit_edges(graph)}
    assert ("app/cli.py", "app/core/") in real and ("app/core/", "app/cli.py") not in real
