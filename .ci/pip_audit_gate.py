"""The verdict of `make security-scan` on pip-audit's JSON report.

pip-audit exits 0 when it skipped a package it could not look up ("could not be audited"), and
prints "No known vulnerabilities found" even when it skipped every one. This reads its report and
gives one of three verdicts, never counting an unaudited package as a pass:

- **passed** (exit 0): every package in the lock file was looked up and none has a known
  vulnerability;
- **failed** (exit 1): a known vulnerability, a package that could not be audited while the
  vulnerability data answered for others, or a report that cannot be read;
- **not audited** (exit 1, or 0 with ``--unreachable-ok``): the vulnerability data could not be
  reached at all, so nothing was audited. CI on a machine whose network blocks it passes this
  flag: the run says, loudly, that the dependencies were not audited, and does not claim a pass.

Usage: python .ci/pip_audit_gate.py REPORT.json LOG.txt [--unreachable-ok]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

# pip-audit's messages when it cannot reach the service at all (it then writes no report).
CONNECTION_MESSAGES = (
    "Could not connect to PyPI's vulnerability feed",
    "PyPI is not redirecting properly",
    "your network may be blocking this service",
)

# pip-audit's reason for skipping a package when PyPI answers 404 for its release.
NOT_FOUND = "Dependency not found on PyPI"

PASSED, FAILED, NOT_AUDITED = "passed", "failed", "not audited"


@dataclass(frozen=True)
class Verdict:
    outcome: str
    message: str

    def exit_status(self, *, unreachable_ok: bool) -> int:
        if self.outcome == PASSED or (self.outcome == NOT_AUDITED and unreachable_ok):
            return 0
        return 1


def verdict(*, report: str | None, log: str) -> Verdict:
    """The verdict for pip-audit's JSON report (None if it wrote none) and its console output."""
    if report is None or not report.strip():
        if any(message in log for message in CONNECTION_MESSAGES):
            return Verdict(NOT_AUDITED, "pip-audit could not connect to the vulnerability data.")
        return Verdict(FAILED, "pip-audit wrote no report (see its output above).")
    try:
        dependencies = json.loads(report)["dependencies"]
    except (ValueError, KeyError, TypeError):
        return Verdict(FAILED, "pip-audit's report cannot be read.")
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    if vulnerable:
        lines = [
            f"  {d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}" for d in vulnerable
        ]
        return Verdict(FAILED, "Known vulnerabilities in the pinned dependencies:\n" + "\n".join(lines))
    if not dependencies:
        return Verdict(FAILED, "pip-audit found no dependencies to audit.")
    if not skipped:
        return Verdict(
            PASSED,
            f"{len(audited)} packages audited against PyPI's vulnerability data: none is known vulnerable.",
        )
    names = ", ".join(sorted(d["name"] for d in skipped))
    if audited or not all(d["skip_reason"].startswith(NOT_FOUND) for d in skipped):
        # The service answered for some packages, so a skip is a real gap (a package PyPI does not
        # know, for example), not the network; or packages were skipped for another reason.
        return Verdict(
            FAILED, f"{len(skipped)} of {len(dependencies)} packages could not be audited: {names}."
        )
    return Verdict(
        NOT_AUDITED,
        f"the vulnerability data could not be reached: none of the {len(dependencies)} packages was "
        "audited (PyPI's per-release JSON API, https://pypi.org/pypi/<name>/<version>/json, answered "
        "'not found' for every one).",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("log", type=Path)
    parser.add_argument("--unreachable-ok", action="store_true")
    args = parser.parse_args(argv)
    report = args.report.read_text() if args.report.exists() else None
    log = args.log.read_text() if args.log.exists() else ""
    result = verdict(report=report, log=log)
    if result.outcome == PASSED:
        print(f"pip-audit passed: {result.message}")
    elif result.outcome == FAILED:
        print(log, end="")
        print(f"pip-audit FAILED: {result.message}")
    else:
        print("=" * 78)
        print(f"pip-audit DID NOT AUDIT THE DEPENDENCIES: {result.message}")
        print("This is not a pass: no package was checked for known vulnerabilities.")
        if args.unreachable_ok:
            print("Carrying on because PIP_AUDIT_UNREACHABLE=warn (this machine's network).")
        print("=" * 78)
    return result.exit_status(unreachable_ok=args.unreachable_ok)


if __name__ == "__main__":
    sys.exit(main())
