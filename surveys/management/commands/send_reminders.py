from django.core.management.base import BaseCommand

from surveys.conf import survey_setting
from surveys.services import reminders_send


class Command(BaseCommand):
    help = (
        "Remind people who have not answered an open questionnaire: at most SURVEY_MAX_REMINDERS per "
        "invitation, SURVEY_REMINDER_INTERVAL_DAYS apart, none after it closes and none to people who "
        "opted out. Safe to run repeatedly or concurrently from cron: no reminder is sent twice."
    )

    def handle(self, *args, **options):
        sent = reminders_send()
        self.stdout.write(
            f"Sent {sent} reminder{'s' if sent != 1 else ''} "
            f"(at most {survey_setting('SURVEY_MAX_REMINDERS')} per person, "
            f"{survey_setting('SURVEY_REMINDER_INTERVAL_DAYS')} days apart)."
        )
