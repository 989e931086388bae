"""This app's entries in the service navigation (added by training.context_processors)."""

from __future__ import annotations

from training.models import Role, User


def nav_links(user: User) -> list[tuple[str, str]]:
    links = []
    if user.has_role(Role.MANAGER):
        links += [
            ("Referrals", "referral-list"),
            ("Audits due", "audits-due"),
            ("Moderation", "moderation-list"),
        ]
    elif user.has_role(Role.WORKFORCE_LEAD):
        links.append(("Referrals", "referral-list"))
    if user.has_role(Role.MANAGER, Role.WORKFORCE_LEAD):
        links.append(("Audit coverage", "audit-coverage"))
    return links
