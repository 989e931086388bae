"""Turning an impact report into what people take away: JSON, CSV, XLSX and PDF."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pandas as pd
from django.template.loader import render_to_string

from analysis.impact import ImpactReport
from analysis.suppression import SUPPRESSED, suppress_figures


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def table_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_plain(row) for row in frame.astype(object).where(frame.notna(), None).to_dict(orient="records")]


def report_to_dict(report: ImpactReport) -> dict[str, Any]:
    """The whole report as JSON-ready data. Suppressed figures are the string "c", in the tables
    and in each section's ``figures`` alike (see `suppress_figures`)."""
    return {
        "title": report.title,
        "scope": report.scope,
        "generated_at": report.generated_at.isoformat(),
        "suppressed_marker": SUPPRESSED,
        "sections": [
            {
                "key": s.key,
                "level": s.level,
                "title": s.title,
                "verdict": s.verdict,
                "direction": s.direction,
                "figures": _plain(suppress_figures(s.figures)),
                "notes": list(s.notes),
                "tables": [
                    {"key": t.key, "title": t.title, "note": t.note, "rows": table_records(t.frame)}
                    for t in s.tables
                ],
                "charts": [
                    {
                        "key": c.key,
                        "title": c.title,
                        "text_alternative": c.alt_text,
                        "rows": table_records(c.table),
                    }
                    for c in s.charts
                ],
            }
            for s in report.sections
        ],
    }


def report_json(report: ImpactReport) -> str:
    return json.dumps(report_to_dict(report), indent=2)


def table_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False)


def table_xlsx(frame: pd.DataFrame, title: str) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=title[:31] or "Table")
    return buffer.getvalue()


def report_csv(report: ImpactReport) -> str:
    """Every table of the report in one CSV, each headed by its key (for ``impact_report --format csv``)."""
    parts = []
    for key, table in report.tables().items():
        parts.append(f"# {key}: {table.title}\n{table.frame.to_csv(index=False)}")
    return "\n".join(parts)


def report_print_html(report: ImpactReport) -> str:
    """A standalone HTML document laid out for A4 printing (the PDF's source)."""
    return render_to_string("analysis/report_print.html", {"report": report})


def report_pdf(report: ImpactReport) -> bytes:
    # Imported here because WeasyPrint loads Pango at import, which only PDF requests need.
    from weasyprint import HTML

    return HTML(string=report_print_html(report)).write_pdf()
