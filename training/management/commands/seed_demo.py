import datetime as dt
import random
import time
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from training.demo import (
    DEMO_ADMIN_TOTP_SECRET,
    DEMO_LOADING_SLUG,
    DEMO_PARTNERSHIP_SLUG,
    DEMO_PASSWORD,
    SCALES,
    DemoScale,
    DemoTraining,
    seed_training,
)
from training.models import Partnership

# Each later part of the product adds its demo data after the training records, in this order.
# A seeder is a class: seeder(demo=..., rng=...) with the first partnership's records, then
# .add(demo=..., rng=...) for each partnership and .finish(rng=...), which returns a one-line summary.
LATER_SEEDERS: list[str] = [
    "surveys.demo.SurveysSeeder",
    "practice.demo.PracticeSeeder",
]


def load_demo(
    *, rng: random.Random, today: dt.date, scale: DemoScale, write: Callable[[str], object] = print
) -> DemoTraining:
    """The command's steps: returns the first partnership's (Northbridge's) training records.

    Partnerships are written one at a time, each in its own transaction, so that memory, and the
    foreign-key checks PostgreSQL defers to the commit, stay the size of one partnership's data.
    The shared records (courses, demo sign-ins, every organisation) come with the first; the
    summaries, the audit schedule (over all partnerships) and the mark that the demo is loaded
    with the last. A one-partnership scale is therefore a single transaction, as it always was."""
    first: DemoTraining | None = None
    seeders: list = []
    summaries: list[str] = []
    totals = {"organisations": 0, "teams": 0, "staff": 0, "sessions": 0}
    for index in range(scale.partnerships):
        started = time.perf_counter()
        with transaction.atomic():
            demo = seed_training(rng=rng, today=today, scale=scale, index=index, first=first)
            first = first or demo
            for n, dotted in enumerate(LATER_SEEDERS):
                # Each seeder is made just before its first partnership, so the random numbers are
                # drawn in the order they always were for the one-partnership scales.
                if index == 0:
                    seeders.append(import_string(dotted)(demo=demo, rng=rng))
                seeders[n].add(demo=demo, rng=rng)
            for key, records in (
                ("organisations", demo.organisations),
                ("teams", demo.teams),
                ("staff", demo.staff),
                ("sessions", demo.sessions),
            ):
                totals[key] += len(records)
            if index == scale.partnerships - 1:
                summaries = [seeder.finish(rng=rng) for seeder in seeders]
                Partnership.objects.filter(pk=first.partnership.pk).update(slug=DEMO_PARTNERSHIP_SLUG)
                first.partnership.slug = DEMO_PARTNERSHIP_SLUG
        if scale.partnerships > 1:
            write(
                f"Partnership {index + 1} of {scale.partnerships} ({demo.partnership.name}): "
                f"{len(demo.staff)} staff, {len(demo.sessions)} sessions, "
                f"{time.perf_counter() - started:.0f} s."
            )
    write(
        f"Loaded {totals['organisations']} organisations, {totals['teams']} teams, "
        f"{totals['staff']} staff, {len(first.courses)} courses and {totals['sessions']} sessions."
    )
    for summary in summaries:
        write(summary)
    return first


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
                "audits. national: 38 partnerships of 4 organisations (152), each with 4,000 staff and its "
                "own 600 sessions of the shared courses: about 150,000 staff, 2 million questionnaire "
                "responses, 1.4 million referrals and 600,000 audits, with item answers for 5%% of the "
                "organisations (scale scores for all); written and committed one partnership at a time "
                "(about 11 minutes on PostgreSQL, under 1 GB). The larger scales are for benchmarks/."
            ),
        )

    def handle(self, *args, seed: int, scale: str = "demo", **options):
        if Partnership.objects.filter(slug=DEMO_PARTNERSHIP_SLUG).exists():
            self.stdout.write("The demo partnership is already loaded; nothing was added.")
        elif Partnership.objects.filter(slug=DEMO_LOADING_SLUG).exists():
            raise CommandError(
                "An earlier seed_demo stopped part-way (the larger scales commit one partnership at a "
                "time): start again from an empty database, for example after `manage.py flush`."
            )
        else:
            rng = random.Random(seed)
            started = time.perf_counter()
            load_demo(rng=rng, today=timezone.localdate(), scale=SCALES[scale], write=self.stdout.write)
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
