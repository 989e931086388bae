"""`make security-scan` never counts a package pip-audit could not audit as a pass.

pip-audit itself exits 0 and prints "No known vulnerabilities found" when it skipped every package,
so the verdict comes from its JSON report (.ci/pip_audit_gate.py). The reports below have the shape
pip-audit 2.10 writes with ``-f json``.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("pip_audit_gate", ROOT / ".ci" / "pip_audit_gate.py")
gate = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = gate  # dataclasses look their module up there
_spec.loader.exec_module(gate)


def _report(*dependencies) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def _audited(name, version="1.0", vulns=()):
    return {"name": name, "version": version, "vulns": list(vulns)}


def _skipped(name, version="1.0"):
    return {
        "name": name,
        "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} ({version})",
    }


def _exits(verdict):
    return (verdict.exit_status(unreachable_ok=False), verdict.exit_status(unreachable_ok=True))


def test_every_package_audited_and_clean_passes():
    verdict = gate.verdict(report=_report(_audited("django"), _audited("requests")), log="")
    assert verdict.outcome == gate.PASSED
    assert _exits(verdict) == (0, 0)


def test_a_known_vulnerability_fails_even_where_the_network_is_excused():
    vuln = {"id": "PYSEC-2099-1", "fix_versions": ["1.1"], "aliases": [], "description": ""}
    verdict = gate.verdict(report=_report(_audited("django", vulns=[vuln]), _audited("requests")), log="")
    assert verdict.outcome == gate.FAILED
    assert "django 1.0: PYSEC-2099-1" in verdict.message
    assert _exits(verdict) == (1, 1)


def test_a_package_skipped_while_others_were_audited_fails_even_where_the_network_is_excused():
    verdict = gate.verdict(report=_report(_audited("django"), _skipped("in-house-lib")), log="")
    assert verdict.outcome == gate.FAILED
    assert "in-house-lib" in verdict.message
    assert _exits(verdict) == (1, 1)


def test_every_package_skipped_is_not_audited_and_never_a_pass():
    # What this machine's network gives: PyPI answers 404 for every per-release JSON URL.
    verdict = gate.verdict(report=_report(_skipped("django"), _skipped("requests")), log="")
    assert verdict.outcome == gate.NOT_AUDITED
    assert _exits(verdict) == (1, 0)


def test_every_package_skipped_for_another_reason_fails():
    skipped = {"name": "django", "skip_reason": "could not resolve the dependency"}
    verdict = gate.verdict(report=_report(skipped, _skipped("requests")), log="")
    assert verdict.outcome == gate.FAILED
    assert _exits(verdict) == (1, 1)


def test_no_connection_is_not_audited():
    log = "Could not connect to PyPI's vulnerability feed\nTip: your network may be blocking this service."
    verdict = gate.verdict(report=None, log=log)
    assert verdict.outcome == gate.NOT_AUDITED
    assert _exits(verdict) == (1, 0)


@pytest.mark.parametrize("report", [None, "", "not json", json.dumps({"fixes": []}), _report()])
def test_a_missing_unreadable_or_empty_report_fails(report):
    verdict = gate.verdict(report=report, log="Traceback (most recent call last): ...")
    assert verdict.outcome == gate.FAILED
    assert _exits(verdict) == (1, 1)


def test_output_when_nothing_was_audited_says_so_and_claims_no_pass(tmp_path, capsys):
    report = tmp_path / "pip-audit.json"
    report.write_text(_report(_skipped("django"), _skipped("requests")))
    log = tmp_path / "pip-audit.txt"
    log.write_text("No known vulnerabilities found\n")
    assert gate.main([str(report), str(log), "--unreachable-ok"]) == 0
    out = capsys.readouterr().out
    assert "DID NOT AUDIT" in out and "This is not a pass" in out
    # pip-audit's own misleading line is not repeated, and the gate never says "passed".
    assert "No known vulnerabilities found" not in out
    assert "passed" not in out
    assert gate.main([str(report), str(log)]) == 1


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("setting", "excused"), [("", False), ("PIP_AUDIT_UNREACHABLE=warn", True)])
def test_the_make_target_excuses_the_network_only_when_asked(setting, excused):
    # -n prints the recipe without running it; -o install skips the (slow) install prerequisite.
    command = ["make", "-n", "-o", "install", "security-scan"] + ([setting] if setting else [])
    recipe = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert ".ci/pip_audit_gate.py" in recipe
    assert ("--unreachable-ok" in recipe) is excused
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make security-scan PIP_AUDIT_UNREACHABLE=warn" in ci
