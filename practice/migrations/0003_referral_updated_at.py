import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """Referral.updated_at, so that an edited referral (a new outcome) changes the impact report's
    data stamp. Existing referrals are stamped with the time of the migration."""

    dependencies = [
        ("practice", "0002_default_rubric"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
    ]
