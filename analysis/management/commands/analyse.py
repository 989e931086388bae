"""``python manage.py analyse``: run one analysis on a CSV file (see docs/analysis.md)."""

from django.core.management.base import BaseCommand, CommandError

from analysis import cli
from analysis.stats.errors import AnalysisInputError


class Command(BaseCommand):
    help = (
        "Run one analysis on a CSV file and print the result (JSON by default). Analyses: paired, did, "
        "agreement, reliability; see 'manage.py analyse <analysis> --help' and docs/analysis.md."
    )

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    def handle(self, *args, **options):
        try:
            output = cli.run(options)
        except AnalysisInputError as exc:
            raise CommandError(cli.one_line(exc)) from exc
        except Exception as exc:
            # Anything else is a bug, but the contract is one line on stderr and a non-zero exit;
            # --traceback (Django's standard option) shows the full trace for debugging.
            if options.get("traceback"):
                raise
            raise CommandError(cli.one_line(f"analysis failed: {type(exc).__name__}: {exc}")) from exc
        self.stdout.write(output)
