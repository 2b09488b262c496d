"""The house's floors (issue 30): every import points down. core/ imports nothing of ours; vectorstore/ only core;
ingest/ core and vectorstore; assistant/ stands above all three; prompts/ imports nothing of ours. Imports inside
functions count too (they used to hide loops), and no two modules may import each other."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLOORS = {"core": 0, "prompts": 0, "vectorstore": 1, "ingest": 2, "assistant": 3}
OURS = tuple(FLOORS)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module of ours that a file imports, at the top or inside a function (relative imports resolved)."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in OURS}


def modules() -> dict[str, Path]:
    return {module_name(path): path for package in OURS for path in (ROOT / package).rglob("*.py")}


def known(name: str, every: dict[str, Path]) -> str | None:
    """The module an imported name is (or lives in): `core.errors.GovDataError` is core.errors."""
    while name and name not in every:
        name = name.rsplit(".", 1)[0] if "." in name else ""
    return name or None


def test_every_import_points_down() -> None:
    every = modules()
    upward = []
    for name, path in every.items():
        floor = FLOORS[name.split(".")[0]]
        for imported in imports_of(path):
            target = imported.split(".")[0]
            if target != name.split(".")[0] and FLOORS[target] >= floor:
                upward.append(f"{name} imports {imported}")
    assert upward == []


def test_no_two_modules_import_each_other() -> None:
    every = modules()
    graph = {name: {known(i, every) for i in imports_of(path)} - {None, name} for name, path in every.items()}
    pairs = sorted({tuple(sorted((a, b))) for a, targets in graph.items() for b in targets
                    if b is not None and a in graph.get(b, set())})
    assert pairs == []


def test_the_checker_sees_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    sample = ROOT / "ingest" / "catalogs" / "datapackage.py"
    assert "ingest.catalogs.common" in imports_of(sample)
    assert any(i.startswith("assistant.register") for i in imports_of(ROOT / "assistant" / "usecases" / "register.py"))
