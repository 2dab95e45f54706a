"""The house: which part may import which is a contract CI checks (import-linter, pyproject.toml)."""

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PARTS = CONFIG["root_packages"]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# The project package's edges: they compose the apps, so they are no kernel.
EDGES = {"aftersales", "aftersales.settings", "aftersales.urls", "aftersales.wsgi", "aftersales.celery"}


def contract(name_start: str) -> dict:
    return next(c for c in CONFIG["contracts"] if c["name"].startswith(name_start))


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          capture_output=True, text=True, timeout=120)


def copy_of_the_project(tmp_path: Path) -> Path:
    for part in PARTS:
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", "*.html"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_every_module_of_the_project_package_is_either_kernel_or_edge():
    """A new module in aftersales/ must be put in the kernel contract (imports no app) or named an edge."""
    kernel = set(contract("The shared kernel")["source_modules"])
    modules = {"aftersales." + p.stem for p in (ROOT / "aftersales").glob("*.py") if p.stem != "__init__"}
    modules |= {"aftersales." + p.name for p in (ROOT / "aftersales").iterdir()
                if p.is_dir() and (p / "__init__.py").exists()}
    assert modules - EDGES == kernel


def test_the_contracts_hold_on_the_project_and_a_wrong_arrow_breaks_them(tmp_path):
    project = copy_of_the_project(tmp_path)
    assert lint_imports(project).returncode == 0

    selectors = project / "tickets" / "selectors.py"
    selectors.write_text(selectors.read_text() + "\nimport refunds.models  # an arrow the wrong way\n")
    broken = lint_imports(project)

    assert broken.returncode == 1
    assert "tickets is not allowed to import refunds" in broken.stdout


def test_another_part_may_not_reach_into_the_state_machine(tmp_path):
    project = copy_of_the_project(tmp_path)
    services = project / "warehouse" / "services.py"
    services.write_text(services.read_text() + "\nfrom tickets.machine import move  # piece by piece\n")

    broken = lint_imports(project)

    assert broken.returncode == 1
    assert "warehouse.services -> tickets.machine" in broken.stdout


def test_another_part_may_not_import_tickets_screens(tmp_path):
    """Refunds and warehouse extend tickets' screens through its doors (tickets.panel, tickets.queue) and take
    helpers from its public modules: importing tickets.admin or tickets.api.views breaks the fourth contract."""
    project = copy_of_the_project(tmp_path)
    screens = project / "refunds" / "screens.py"
    screens.write_text(screens.read_text() + "\nfrom tickets.admin import TicketAdmin  # to subclass it\n")

    broken = lint_imports(project)

    assert broken.returncode == 1
    assert "refunds.screens -> tickets.admin" in broken.stdout


def _function_local_imports(path: Path):
    source = path.read_text()
    lines = source.splitlines()
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                # The block of imports it stands in must be preceded by a comment saying why.
                first = node.lineno - 1
                while first > 0 and lines[first - 1].strip().startswith(("from ", "import ")):
                    first -= 1
                if not lines[first - 1].strip().startswith("#"):
                    yield f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}"


def test_no_function_local_import_in_production_code_without_a_comment_saying_why():
    """Each one hides an arrow; the only ones kept are those an app's ready() needs (the registry first)."""
    found = [hit for part in PARTS for path in sorted((ROOT / part).rglob("*.py"))
             if "migrations" not in path.parts for hit in _function_local_imports(path)]
    assert found == []
