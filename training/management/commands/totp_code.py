from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from training import totp
from training.mfa import device_secret
from training.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Demo only (refused unless DEBUG): print the current authenticator code for a user, so a "
        "newcomer can sign in as the demo administrator without a phone."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        if not settings.DEBUG:
            raise CommandError("totp_code is for the demo and works only with DJANGO_DEBUG on.")
        device = TOTPDevice.objects.filter(user__username=username, confirmed_at__isnull=False).first()
        if device is None:
            raise CommandError(f"{username} has no authenticator set up.")
        self.stdout.write(totp.totp(device_secret(device)))
