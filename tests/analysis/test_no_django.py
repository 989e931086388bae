"""The statistics core must stay importable without Django (DESIGN.md: "a statistics core that imports no
Django"), so it can be reused in notebooks and benchmarks and tested without a database; and no product
code may import the GPL packages that the tests use as oracles."""

import ast
import subprocess
import sys
from pathlib import Path

import analysis.stats

STATS_DIR = Path(analysis.stats.__file__).parent
REPO = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("training", "surveys", "practice", "analysis", "config")
GPL_PACKAGES = {"pingouin", "krippendorff"}


def imported_modules(path: Path) -> set[str]:
    """Modules a file imports: import statements, plus importlib.import_module / __import__ with a
    literal name (a dynamic import would otherwise slip past the scan)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"import_module", "__import__"} and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def test_statistics_core_does_not_import_django():
    files = sorted(STATS_DIR.glob("*.py"))
    assert files, "no modules found in analysis/stats"
    offenders = {
        f.name: sorted(m for m in imported_modules(f) if m == "django" or m.startswith("django."))
        for f in files
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_no_first_party_package_imports_gpl_packages():
    # pingouin and krippendorff are GPL: allowed as test oracles only, never in product code. Every
    # Python file of every first-party package is scanned, migrations and management commands included.
    files = [f for package in FIRST_PARTY for f in sorted((REPO / package).rglob("*.py"))]
    assert len(files) > 50, "the scan found too few files; has the layout changed?"
    assert {f.relative_to(REPO).parts[0] for f in files} == set(FIRST_PARTY)
    offenders = {
        str(f.relative_to(REPO)): sorted(m for m in imported_modules(f) if m.split(".")[0] in GPL_PACKAGES)
        for f in files
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_imported_modules_sees_every_import_form(tmp_path):
    # the scanner itself: each form below must be reported, or the test above proves nothing
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import pingouin\nimport krippendorff as k\nfrom pingouin.reliability import x\n"
        "import importlib\nimportlib.import_module('krippendorff.core')\n__import__('pingouin')\n"
    )
    assert {"pingouin", "krippendorff", "pingouin.reliability", "krippendorff.core"} <= imported_modules(
        probe
    )


def test_statistics_core_and_cli_import_without_django_in_a_fresh_interpreter():
    # The AST scan above cannot see an indirect import (a module importing a helper that imports Django),
    # so import everything in a clean process and look at sys.modules.
    code = (
        "import importlib, pkgutil, sys\n"
        "import analysis.stats\n"
        "names = [f'analysis.stats.{m.name}' for m in pkgutil.iter_modules(analysis.stats.__path__)]\n"
        "for name in names + ['analysis.cli']:\n"
        "    importlib.import_module(name)\n"
        "print(len(names))\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "gpl = sorted(m for m in sys.modules if m.split('.')[0] in ('pingouin', 'krippendorff'))\n"
        "print(loaded, gpl)\n"
        "sys.exit(1 if loaded or gpl else 0)\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    n_modules = int(result.stdout.split()[0])
    assert n_modules >= 10  # every module in analysis/stats was imported
