from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from analysis import rendering
from analysis.frames import selection_from_params
from analysis.reports import impact_report_get
from training.demo import DEMO_PARTNERSHIP_SLUG
from training.models import Partnership, Role, User

RENDERERS = {
    "html": lambda report: rendering.report_print_html(report).encode(),
    "pdf": rendering.report_pdf,
    "json": lambda report: rendering.report_json(report).encode(),
    "csv": lambda report: rendering.report_csv(report).encode(),
}


class Command(BaseCommand):
    help = (
        "Write the impact report for a selection to a file. Without a selection it reports on the "
        "whole demo partnership. The report is produced with an administrator's scope unless --user "
        "names someone, whose scope then applies."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", help="Course slug")
        parser.add_argument("--organisation", help="Organisation slug")
        parser.add_argument("--team", help="Team slug")
        parser.add_argument("--from", dest="date_from", help="First day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="Last day, YYYY-MM-DD")
        parser.add_argument("--format", required=True, choices=sorted(RENDERERS))
        parser.add_argument("--output", required=True, help="File to write")
        parser.add_argument("--user", help="Username whose scope the report uses (default: an administrator)")

    def handle(self, *args, **options):
        user = self._user(options["user"])
        params = {
            "course": options["course"],
            "organisation": options["organisation"],
            "team": options["team"],
            "from": options["date_from"],
            "to": options["date_to"],
        }
        if not any(params.values()) and Partnership.objects.filter(slug=DEMO_PARTNERSHIP_SLUG).exists():
            params["partnership"] = DEMO_PARTNERSHIP_SLUG
        try:
            selection = selection_from_params(user=user, params=params)
        except ValidationError as error:
            raise CommandError(
                " ".join(m for messages in error.message_dict.values() for m in messages)
            ) from None
        drawn = options["format"] in ("html", "pdf")  # JSON and CSV carry each chart's data, not its drawing
        report = impact_report_get(user=user, selection=selection, charts=drawn)
        output = Path(options["output"])
        try:
            output.write_bytes(RENDERERS[options["format"]](report))
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}.") from None
        self.stdout.write(f"Wrote the {options['format']} report on {report.scope} to {output}.")

    def _user(self, username: str | None) -> User:
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user called {username!r}.")
            return user
        admin = (
            User.objects.filter(is_active=True).filter(is_superuser=True).first()
            or User.objects.filter(role=Role.ADMINISTRATOR, is_active=True).first()
        )
        if admin is None:
            raise CommandError("No administrator exists to produce the report; pass --user.")
        return admin
