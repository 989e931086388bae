from django.urls import path, register_converter

from analysis import views


class TableFormat:
    """The download formats of a report table."""

    regex = "csv|xlsx"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TableFormat, "table_format")

urlpatterns = [
    path("reports/impact/", views.impact_report, name="impact-report"),
    path("reports/impact/report.pdf", views.impact_report_pdf, name="impact-report-pdf"),
    path(
        "reports/impact/tables/<slug:key>.<table_format:fmt>", views.impact_report_table, name="impact-table"
    ),
]
