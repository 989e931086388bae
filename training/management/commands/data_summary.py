import hashlib

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Print a deterministic summary of the database: for every model, its row count and an MD5 of "
        "its primary keys and rows in key order. Two databases with the same data print the same "
        "text, which is how `make backup-restore-drill` compares a restore with its source."
    )

    def handle(self, *args, **options):
        for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
            if not model._meta.managed or model._meta.proxy:
                continue
            digest = hashlib.md5(usedforsecurity=False)
            count = 0
            columns = [field.attname for field in model._meta.concrete_fields]
            for row in model._base_manager.order_by("pk").values_list(*columns).iterator():
                digest.update(repr(row).encode())
                count += 1
            self.stdout.write(f"{model._meta.label}\t{count}\t{digest.hexdigest()}")
