"""The science apart from the lab: `sentiment/` is exactly what the stages run (and the
installed `sentiment-predict`), `lab/` is the tools around the pipeline, which no stage
runs; no module of either imports its way back to itself."""

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINTS = {"sentiment/predict.py"}  # installed: pyproject.toml [project.scripts]


def stage_code() -> set[str]:
    """Every Python file some stage of dvc.yaml depends on."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return {dep for stage in stages.values() for dep in stage.get("deps", [])
            if dep.endswith(".py")}


def imports(path: Path) -> set[str]:
    """The project modules a file imports, at the top or inside a function, as paths."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            file = name.replace(".", "/") + ".py"
            if (ROOT / file).is_file():
                found.add(file)
    return found


def package(name: str) -> set[str]:
    return {f"{name}/{p.name}" for p in (ROOT / name).glob("*.py") if p.name != "__init__.py"}


def test_every_science_module_is_some_stages_code_and_no_lab_module_is():
    code = stage_code()
    assert package("sentiment") - ENTRY_POINTS <= code, "not a stage's code: move it to lab/"
    assert not {dep for dep in code if dep.startswith("lab/")}


def test_no_stage_and_no_science_module_imports_the_lab():
    for path in [*package("stages"), *package("sentiment")]:
        assert not {m for m in imports(ROOT / path) if m.startswith("lab/")}, path


def test_the_import_graph_has_no_circle():
    modules = package("sentiment") | package("lab")
    graph = {m: imports(ROOT / m) & modules for m in modules}
    done, path = set(), []

    def visit(module: str) -> None:
        assert module not in path, " -> ".join([*path[path.index(module):], module])
        if module in done:
            return
        path.append(module)
        for dependency in sorted(graph[module]):
            visit(dependency)
        path.pop()
        done.add(module)

    for module in sorted(modules):
        visit(module)
