"""The house: which part may import which is a contract CI checks (import-linter, pyproject.toml)."""

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import django.contrib.admin
import pytest
from django.template import loader

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PARTS = CONFIG["root_packages"]
PRODUCTION = [part for part in PARTS if part not in ("tests", "bench")]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


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


def test_the_kernel_is_a_whole_package_and_the_edges_live_in_config():
    """The kernel's contract names the package, so a module added to it is held at once; what composes the
    apps (settings, urls, wsgi, asgi, the Celery app) stands at the top of the house, in config/."""
    assert contract("The shared kernel")["source_modules"] == ["aftersales"]
    assert set(contract("The shared kernel")["forbidden_modules"]) >= set(PARTS) - {"aftersales"}
    assert contract("Parts import only")["layers"][:2] == ["bench", "config"]
    for edge in ("settings", "urls", "wsgi", "asgi", "celery", "celery_app"):
        assert not (ROOT / "aftersales" / f"{edge}.py").exists()
    for edge in ("settings", "urls", "wsgi", "asgi", "celery_app"):
        assert (ROOT / "config" / f"{edge}.py").exists()


def test_the_contracts_hold_on_the_project_and_a_wrong_arrow_breaks_them(tmp_path):
    project = copy_of_the_project(tmp_path)
    assert lint_imports(project).returncode == 0

    selectors = project / "tickets" / "selectors.py"
    selectors.write_text(selectors.read_text() + "\nimport refunds.models  # an arrow the wrong way\n")
    broken = lint_imports(project)

    assert broken.returncode == 1
    assert "tickets is not allowed to import refunds" in broken.stdout


WRONG_ARROWS = [
    # (the module that gets the wrong import, the line, what lint-imports then says)
    pytest.param("warehouse/services.py", "from tickets.machine import move  # piece by piece",
                 "warehouse.services -> tickets.machine", id="state-machine-glue"),
    pytest.param("aftersales/money.py", "import tickets.models  # the kernel reaching up",
                 "aftersales.money -> tickets.models", id="kernel-imports-an-app"),
    pytest.param("aftersales/clock.py", "import config.settings  # the kernel reaching for the edge",
                 "aftersales.clock -> config.settings", id="kernel-imports-the-edge"),
    pytest.param("access/tokens.py", "import tickets.models  # logins knowing claims",
                 "access is not allowed to import tickets", id="logins-below-tickets"),
    pytest.param("demo/journeys.py", "import config.urls  # the demo reaching for the edge",
                 "demo is not allowed to import config", id="config-above-demo"),
    pytest.param("bench/seed.py", "import tests.factories  # borrowing the tests' data",
                 "bench.seed -> tests.factories", id="bench-imports-no-tests"),
    pytest.param("events/outbox.py", "import refunds.models  # events reading the money's tables",
                 "events is not allowed to import refunds", id="events-beside-refunds"),
    pytest.param("warehouse/services.py", "import events.outbox  # goods writing events themselves",
                 "warehouse is not allowed to import events", id="warehouse-beside-events"),
    pytest.param("tickets/services/review.py", "import events.models  # claims knowing their listeners",
                 "tickets is not allowed to import events", id="tickets-below-events"),
]


@pytest.mark.parametrize(("module", "line", "said"), WRONG_ARROWS)
def test_each_contract_fails_on_a_deliberate_wrong_import(tmp_path, module, line, said):
    project = copy_of_the_project(tmp_path)
    target = project / module
    target.write_text(target.read_text() + f"\n{line}\n")

    broken = lint_imports(project)

    assert broken.returncode == 1
    assert said in broken.stdout


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
    found = [hit for part in PRODUCTION for path in sorted((ROOT / part).rglob("*.py"))
             if "migrations" not in path.parts for hit in _function_local_imports(path)]
    assert found == []


# ------------------------------------------------------------------------------------ each part's screens

ADMIN_TEMPLATES = Path(django.contrib.admin.__file__).parent / "templates"
TEMPLATE_TAG = re.compile(r"""\{%\s*(?:extends|include)\s+["']([^"']+)["']""")


def rank(part: str) -> int:
    """Where a part stands in the house: the kernel at 0, then the layers contract from the bottom up."""
    layers = list(reversed(contract("Parts import only")["layers"]))
    return 0 if part == "aftersales" else 1 + next(i for i, layer in enumerate(layers) if part in layer.split(" | "))


def our_templates():
    """(part, template name, file) of every template the project holds: under <part>/templates/ only."""
    for part in PRODUCTION:
        for path in sorted((ROOT / part / "templates").rglob("*.html")):
            yield part, path.relative_to(ROOT / part / "templates").as_posix(), path


def test_each_part_carries_its_templates_and_each_is_the_one_django_finds(settings):
    """No project-wide templates/ folder: a screen's template lives in its part, an admin screen's under its
    own app label, and each is the template Django's loader finds by its name. So an override of the admin's
    own templates (the logins' base_site.html, login.html) comes from a part listed before the admin."""
    assert [engine["DIRS"] for engine in settings.TEMPLATES] == [[]]
    assert not (ROOT / "templates").exists()
    found = list(our_templates())
    assert len(found) >= 20
    for part, name, path in found:
        label = name.split("/")[1] if name.startswith("admin/") and name.count("/") >= 2 else None
        assert label in (None, part), f"{part}/templates/{name} is {label}'s screen"
        assert Path(loader.get_template(name).origin.name) == path, f"{name} is shadowed"
        if (ADMIN_TEMPLATES / name).exists():
            assert settings.INSTALLED_APPS.index(part) < settings.INSTALLED_APPS.index(
                "access.apps.BackOfficeAdminConfig"), f"{part} overrides the admin's {name} from below it"


def test_a_template_extends_or_includes_only_its_own_part_or_those_below():
    """Refunds' section of the ticket page may include tickets' panel form; a tickets template including a
    warehouse one would be an arrow the wrong way (the admin's own templates, overridden or not, are Django's)."""
    owner = {name: part for part, name, _path in our_templates()}
    wrong = []
    for part, name, path in our_templates():
        for used in TEMPLATE_TAG.findall(path.read_text()):
            if used in owner and not (ADMIN_TEMPLATES / used).exists() and owner[used] != part \
                    and rank(owner[used]) >= rank(part):
                wrong.append(f"{part}/templates/{name} uses {owner[used]}'s {used}")
    assert wrong == []
    assert rank("aftersales") < rank("access") == rank("orders") < rank("tickets") < rank("refunds") == rank(
        "warehouse")
