import random
import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from training.demo import DEMO_ADMIN_TOTP_SECRET, DEMO_PARTNERSHIP_SLUG, DEMO_PASSWORD, SCALES, seed_training
from training.models import Partnership

# Each later part of the product adds its demo data after the training records, in this order.
# A seeder is called as seeder(demo=..., rng=...) and returns a one-line summary.
LATER_SEEDERS: list[str] = [
    "surveys.demo.seed_surveys",
    "practice.demo.seed_practice",
]


class Command(BaseCommand):
    help = (
        "Load the fictional Northbridge safeguarding partnership: organisations, teams, staff, "
        "courses, 18 months of sessions and attendance, and the demo sign-ins. Deterministic for a "
        "seed; running it again when the demo is already loaded changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2014, help="Random seed (default 2014).")
        parser.add_argument(
            "--scale",
            choices=list(SCALES),
            default="demo",
            help=(
                "demo (default): the small Northbridge partnership. la: a whole local authority, about "
                "2,000 staff, 300 sessions, 25,000 questionnaire responses, 40,000 referrals and 20,000 "
                "audits. national: about 150,000 staff in 150 organisations (item answers for a sample "
                "of organisations). The larger scales are for benchmarks/."
            ),
        )

    def handle(self, *args, seed: int, scale: str = "demo", **options):
        if Partnership.objects.filter(slug=DEMO_PARTNERSHIP_SLUG).exists():
            self.stdout.write("The demo partnership is already loaded; nothing was added.")
        else:
            rng = random.Random(seed)
            started = time.perf_counter()
            with transaction.atomic():
                demo = seed_training(rng=rng, today=timezone.localdate(), scale=SCALES[scale])
                self.stdout.write(
                    f"Loaded {len(demo.organisations)} organisations, {len(demo.teams)} teams, "
                    f"{len(demo.staff)} staff, {len(demo.courses)} courses and {len(demo.sessions)} sessions."
                )
                for dotted in LATER_SEEDERS:
                    self.stdout.write(import_string(dotted)(demo=demo, rng=rng))
            if scale == "demo":
                self.stdout.write(self.style.SUCCESS(f"Demo loaded (seed {seed})."))
            else:
                seconds = time.perf_counter() - started
                self.stdout.write(
                    self.style.SUCCESS(f"Demo loaded (seed {seed}, scale {scale}, {seconds:.0f} s).")
                )
        self.stdout.write(
            "Demo sign-ins (password for all: "
            f"{DEMO_PASSWORD}): trainer, trainer2, manager, manager2 (another team), lead, admin"
        )
        self.stdout.write(
            f"admin also needs an authenticator code: add the setup key {DEMO_ADMIN_TOTP_SECRET} to an "
            "authenticator app, or run `python manage.py totp_code admin` for the current code."
        )
