"""The floors (STYLE.md, README's Layout): core ← brands ← notifications ← codes ← distributors ← scans, epcis ←
vrs, owners ←
back office / api ← demo, serialize_saas. No module imports a floor above its own, at module level or inside a
function: an upward import is a cycle waiting to happen and a domain app that knows its callers."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each of our top-level packages and its floor; packages on one floor may not import each other either.
FLOORS = [
    ("core",),
    ("brands",),
    ("notifications",),
    ("codes",),
    ("distributors",),
    ("scans", "epcis"),
    # the DSCSA responder (machine-facing like verify, beside the API; its log pages are the back office's) and
    # product registrations (building on verify and detection)
    ("vrs", "owners"),
    ("backoffice", "api"),
    ("demo", "serialize_saas"),
]
FLOOR = {package: n for n, packages in enumerate(FLOORS) for package in packages}


def imported_modules(tree: ast.AST):
    """(line, module) for every absolute import anywhere in the tree, functions and classes included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imported_modules(ast.parse(path.read_text(), str(path))):
            target = module.split(".")[0]
            if target != package and target in FLOOR and FLOOR[target] >= FLOOR[package]:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


def test_no_module_imports_a_floor_above_its_own():
    present = [package for package in FLOOR if (ROOT / package).is_dir()]  # `backoffice`, `api` may not exist yet
    assert {"core", "brands", "scans", "serialize_saas"} <= set(present)
    assert [v for package in present for v in violations(package)] == []


def test_the_walker_sees_imports_inside_functions():
    tree = ast.parse("import os\n\ndef f():\n    from scans.services import verify\n    import codes.models\n")
    assert [module for _, module in imported_modules(tree)] == ["os", "scans.services", "codes.models"]


def test_every_app_of_ours_has_a_floor():
    """A new app must be placed on a floor here, or its imports go unchecked."""
    ours = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert ours <= set(FLOOR), f"place {sorted(ours - set(FLOOR))} on a floor in FLOORS"
