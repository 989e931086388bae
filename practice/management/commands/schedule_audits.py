from django.core.management.base import BaseCommand
from django.utils import timezone

from practice.services import schedule_audits


class Command(BaseCommand):
    help = (
        "Propose referrals to audit: for each trained staff member a baseline (before training) and "
        "follow-ups about 3 and 6 months after, plus a comparison sample from colleagues not yet "
        "trained, chosen at random within referral outcome. Reproducible for a seed; running it "
        "again proposes only what is new."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--course", default="", help="Time samples from this course's training (slug).")
        parser.add_argument(
            "--second-share", type=float, default=0.10, help="Share also given a second audit."
        )

    def handle(self, *args, seed: int, course: str, second_share: float, **options):
        result = schedule_audits(
            seed=seed, today=timezone.localdate(), course_slug=course or None, second_share=second_share
        )
        detail = ", ".join(f"{n} {reason}" for reason, n in sorted(result.created.items())) or "nothing new"
        self.stdout.write(f"Proposed {result.total} audits (seed {seed}): {detail}.")
