from django.core.management.base import BaseCommand
from django.utils import timezone

from training.retention import purge_expired


class Command(BaseCommand):
    help = (
        "Remove or anonymise data past its retention period (RETENTION_*_DAYS settings), using every "
        "app's registered purger. Run it daily, for example from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")

    def handle(self, *args, dry_run: bool, **options):
        verb = "would be purged" if dry_run else "purged"
        for outcome in purge_expired(now=timezone.now(), dry_run=dry_run):
            self.stdout.write(f"{outcome.label}: {outcome.count} {verb}")
