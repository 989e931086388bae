"""The statistics core must stay importable without Django (DESIGN.md: "a statistics core that imports no
Django"), so it can be reused in notebooks and benchmarks and tested without a database."""

import ast
from pathlib import Path

import analysis.stats

STATS_DIR = Path(analysis.stats.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_statistics_core_does_not_import_django():
    files = sorted(STATS_DIR.glob("*.py"))
    assert files, "no modules found in analysis/stats"
    offenders = {
        f.name: sorted(m for m in imported_modules(f) if m == "django" or m.startswith("django."))
        for f in files
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_statistics_core_does_not_import_gpl_packages():
    # pingouin and krippendorff are GPL: allowed as test oracles only, never in product code.
    for f in STATS_DIR.glob("*.py"):
        modules = imported_modules(f)
        assert not {m.split(".")[0] for m in modules} & {"pingouin", "krippendorff"}, f.name
