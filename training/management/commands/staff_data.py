import json

from django.core.management.base import BaseCommand, CommandError

from training.models import StaffMember
from training.staff_data import staff_data_erase, staff_data_export


class Command(BaseCommand):
    help = (
        "One staff member's data on request: `export --email X --output F.json` writes everything held "
        "about them; `erase --email X` pseudonymises them and closes their sign-in, keeping the "
        "unnamed rows that count in aggregate results."
    )

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["export", "erase"])
        parser.add_argument("--email", required=True, help="The person's work email.")
        parser.add_argument("--output", help="export: the JSON file to write.")

    def handle(self, *args, operation: str, email: str, output: str | None, **options):
        try:
            person = StaffMember.objects.select_related("team__organisation", "user").get(
                work_email__iexact=email
            )
        except StaffMember.DoesNotExist:
            raise CommandError(f"No staff member has the work email {email}.") from None
        if operation == "export":
            if not output:
                raise CommandError("export needs --output F.json")
            data = staff_data_export(person=person, by=None)
            with open(output, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, ensure_ascii=False)
            self.stdout.write(f"Wrote the data held about staff member {person.pk} to {output}.")
        else:
            changed = staff_data_erase(person=person, by=None)
            extra = ", ".join(f"{label}: {count}" for label, count in changed.items())
            self.stdout.write(f"Erased staff member {person.pk} ({extra}).")
