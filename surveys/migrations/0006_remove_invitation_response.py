"""The second half of 0005: drop ``Invitation.response`` (now ``Response.invitation``) and its index,
and give the new field its reverse name, ``invitation.response``."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0005_response_invitation_unique"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="invitation", name="surveys_inv_adminis_636ecd_idx"),
        migrations.RemoveField(model_name="invitation", name="response"),
        # Now that Invitation has no field called "response", that can be the reverse name.
        migrations.AlterField(
            model_name="response",
            name="invitation",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="response",
                to="surveys.invitation",
            ),
        ),
    ]
