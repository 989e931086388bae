from django.core.management.base import BaseCommand

from surveys.services import invitations_send


class Command(BaseCommand):
    help = (
        "Email questionnaire invitations for every questionnaire that is open now, to attendees not yet "
        "invited. Safe to run as often as you like (for example hourly from cron): nobody is sent the "
        "same invitation twice."
    )

    def handle(self, *args, **options):
        sent = invitations_send()
        self.stdout.write(f"Sent {sent} invitation{'s' if sent != 1 else ''}.")
