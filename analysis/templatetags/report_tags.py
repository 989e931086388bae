"""Display helpers for report tables: readable column names and empty cells for missing numbers."""

import math

from django import template

register = template.Library()

COLUMN_LABELS = {
    "n": "People",
    "ci_low": "95% CI from",
    "ci_high": "95% CI to",
    "d_z": "d_z",
    "d_z_ci_low": "d_z CI from",
    "d_z_ci_high": "d_z CI to",
    "g_av": "g_av",
    "hake_gain": "Hake's gain",
    "alpha": "Cronbach's alpha",
    "reliably_improved": "Reliably improved",
    "reliably_worse": "Reliably worse",
    "att": "Effect",
    "se": "Standard error",
    "p_holm": "p (Holm)",
    "clear_after_correction": "Clear after correction",
    "n_before": "Referrals before",
    "n_after": "Referrals after",
    "n_comparison": "Comparison staff",
    "event_time": "Quarters since training",
    "group": "Cohort (quarter trained)",
    "time": "Quarter",
    "delivery_mode": "Delivery",
    "label": "Course",
}


@register.filter
def column_label(name: str) -> str:
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if name.startswith("retained_"):
        return f"Change kept, {name.removeprefix('retained_')}"
    return name.replace("_", " ").capitalize()


@register.filter
def cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2013"  # an en dash, as GOV.UK tables show an empty figure
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return value
