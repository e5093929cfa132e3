"""The package layout: no import circles (function-level and TYPE_CHECKING imports count too), no
module importing its own stage package back up, a fast CLI import, a docstring on every module."""
from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SYNTH = Path(__file__).resolve().parents[1] / "synth"
SPINE = {"records", "errors", "config", "rundir", "pipeline", "status", "files", "hashing",
         "templates", "experts", "tokenizer", "__init__", "strict", "modelrecords", "llmconfig"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SYNTH.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in SYNTH.rglob("*.py") if "scripts" not in p.parts}


def import_statements(path: Path, name: str) -> Iterator[tuple[str, list[str]]]:
    """(module named, names taken from it) for every synth import in `path`, anywhere in the file;
    relative imports resolved; `import a.b` gives ("a.b", [])."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((a.name, []) for a in node.names if a.name.startswith("synth"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if base.startswith("synth"):
                yield base, [alias.name for alias in node.names]


def imported(path: Path, name: str, known: set[str]) -> Iterator[str]:
    """Every synth module `path` imports, anywhere in the file; `from pkg import mod` counts as mod."""
    for base, names in import_statements(path, name):
        if not names:
            yield base
        for alias in names:
            sub = f"{base}.{alias}"
            yield sub if sub in known else base


def own_package_imports(path: Path, name: str) -> list[str]:
    """Imports in which a module below a stage package names a package above it (`from synth.llm
    import ray_worker`, `from . import x`, `import synth.llm`): that runs the package's __init__
    from inside it (a circle the module graph cannot see when the name is a submodule). Import a
    sibling by its own module path instead (`from synth.llm.ray_worker import HttpWorker`)."""
    if path.name == "__init__.py":
        return []
    parts = name.split(".")
    above = {".".join(parts[:i]) for i in range(2, len(parts))}  # synth.llm, synth.llm.x, ...
    return [f"{name}: from {base} import {', '.join(names)}" if names else f"{name}: import {base}"
            for base, names in import_statements(path, name) if base in above]


def with_parents(name: str, deps: set[str], known: set[str]) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first: outside its own package, a module
    depends on the packages above what it imports (a package __init__ that re-exports its stage
    closes a circle that way)."""
    out = set(deps)
    for dep in deps:
        parts = dep.split(".")
        for i in range(2, len(parts)):
            parent = ".".join(parts[:i])
            if parent in known and parent != name and not name.startswith(parent + "."):
                out.add(parent)
    return out


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: with_parents(name, {m for m in imported(path, name, known) if m in known and m != name},
                               known)
            for name, path in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for node in graph:
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)  # other tests rely on the default (deeply nested JSON)
    return found


def test_no_import_circles() -> None:
    assert cycles(import_graph()) == []


def test_cycle_finder_sees_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_no_module_imports_its_own_stage_package() -> None:
    graph = import_graph()
    offenders = []
    for name, deps in graph.items():
        parts = name.split(".")
        if len(parts) < 3:
            continue  # the package __init__ itself and the spine
        package = ".".join(parts[:2])
        if package in deps:
            offenders.append(f"{name} imports {package}")
    assert offenders == []


def test_no_module_names_its_own_package_from_below() -> None:
    offenders = [line for name, path in modules().items() for line in own_package_imports(path, name)]
    assert offenders == []


def test_own_package_finder_sees_both_forms(tmp_path: Path) -> None:
    module = tmp_path / "ray_dispatch.py"
    module.write_text("from synth.llm import ray_worker\nfrom . import retry\nimport synth.llm\n"
                      "from synth.llm.sender import Sent\nfrom synth.config import LLMConfig\n")
    assert own_package_imports(module, "synth.llm.ray_dispatch") == [
        "synth.llm.ray_dispatch: from synth.llm import ray_worker",
        "synth.llm.ray_dispatch: from synth.llm import retry",
        "synth.llm.ray_dispatch: import synth.llm"]


STAGES = ("ingest", "generate", "judge", "curate", "export", "router", "validate", "review",
          "train", "compare")


def test_pipeline_and_cli_call_only_the_stage_packages() -> None:
    graph = import_graph()
    callers = [n for n in graph if n == "synth.pipeline" or n.startswith("synth.cli")]
    reaching_in = sorted(f"{caller} -> {dep}" for caller in callers for dep in graph[caller]
                         if dep.count(".") > 1 and dep.split(".")[1] in STAGES)
    assert reaching_in == []


def test_only_the_spine_sits_flat() -> None:
    flat = {p.stem for p in SYNTH.glob("*.py")}
    assert flat <= SPINE, sorted(flat - SPINE)


def test_every_module_has_a_docstring() -> None:
    missing = [name for name, path in modules().items()
               if path.read_text().strip() and ast.get_docstring(ast.parse(path.read_text())) is None]
    assert missing == []


@pytest.mark.parametrize("module", ["synth.cli", "synth.status"])
def test_cli_import_pulls_no_heavy_library(module: str) -> None:
    heavy = ["openai", "transformers", "torch", "sklearn", "matplotlib", "instructor", "pyarrow",
             "datasketch", "tokenizers", "aiohttp", "numpy"]
    code = (f"import sys, {module}; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
