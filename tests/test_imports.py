"""The package's import structure: modules import at module level (only optional dependencies inside functions),
and no two modules import each other, directly or through others."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gtalign.cli.lazy import LazyChoices, command, resolve

SRC = Path(__file__).resolve().parents[1] / "src"

#: Imports allowed inside a function: dependencies that may be missing, imported where they are needed.
OPTIONAL = {
    "mediapipe.python.solutions",   # the `pose` extra
    "triton.runtime.interpreter",   # only with triton (GPU backend)
    "numba.np.ufunc",               # a numba internal, guarded
}


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted((SRC / "gtalign").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def _imported(node: ast.Import | ast.ImportFrom, modules: dict) -> list[str]:
    """The modules an import statement loads (`from package import submodule` loads the submodule; importing a
    name from a package loads its `__init__`)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    return [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module or ""
            for a in node.names]


def test_library_modules_import_at_module_level():
    inside = []
    for name, tree in _modules().items():
        for func in ast.walk(tree):
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(func):
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                        if module not in OPTIONAL:
                            inside.append(f"{name}:{node.lineno} {module}")
    assert inside == []


def test_no_import_cycle():
    modules = _modules()
    edges = {name: set() for name in modules}
    for name, tree in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _imported(node, modules):
                    while target and target not in modules:
                        target = target.rpartition(".")[0]
                    if target and target != name:
                        edges[name].add(target)
    # depth-first search for a back edge
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in sorted(modules):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_commands_and_choices_are_loaded_when_used():
    assert resolve("gtalign.registry:choices").__name__ == "choices"
    with pytest.raises(ValueError, match="package.module:name"):
        resolve("gtalign.registry")
    run = command("gtalign.errors:describe")  # any function of one argument stands in for a command
    assert run([1, 2]) == "[1, 2]"
    values = LazyChoices("gtalign.ops.smoothmin:RELAXATIONS")  # a sequence, not a function
    assert "hard" in values and "soft" not in values and len(values) == 3 and list(values)[0] == "smoothmin"
