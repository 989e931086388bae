"""Move the link between an invitation and its response onto the response, where it is unique.

Before, ``Invitation.response`` (a nullable one-to-one) was set by a conditional UPDATE, so a second
submission was refused by application code, and the column could be pointed at another response.
Now ``Response.invitation`` is a nullable one-to-one: its unique index refuses a second response
to the same invitation on every database, whichever code path inserts it.

Here the old field's reverse name is freed and the new column is added and filled from the old
one; 0006 drops the old column. On PostgreSQL the filling UPDATE queues deferred foreign-key checks
until commit, and a table with checks pending cannot be altered ("pending trigger events"), so the
checks are run straight away. Reversible: going back copies the links home.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def _check_foreign_keys_now(schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def links_to_responses(apps, schema_editor):
    Invitation = apps.get_model("surveys", "Invitation")
    Response = apps.get_model("surveys", "Response")
    # One UPDATE on the database, not one per row: there may be millions of responses.
    linked = Invitation.objects.filter(response_id=OuterRef("pk")).values("pk")[:1]
    Response.objects.filter(
        pk__in=Invitation.objects.filter(response__isnull=False).values("response_id")
    ).update(invitation_id=Subquery(linked))
    _check_foreign_keys_now(schema_editor)


def links_to_invitations(apps, schema_editor):
    Invitation = apps.get_model("surveys", "Invitation")
    Response = apps.get_model("surveys", "Response")
    linked = Response.objects.filter(invitation_id=OuterRef("pk")).values("pk")[:1]
    Invitation.objects.filter(
        pk__in=Response.objects.filter(invitation__isnull=False).values("invitation_id")
    ).update(response_id=Subquery(linked))
    _check_foreign_keys_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0004_answer_item_cover_index"),
    ]

    operations = [
        # Frees the name "invitation" on Response for the new field (no change to the database).
        migrations.AlterField(
            model_name="invitation",
            name="response",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="surveys.response",
            ),
        ),
        migrations.AddField(
            model_name="response",
            name="invitation",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="surveys.invitation",
            ),
        ),
        migrations.RunPython(links_to_responses, links_to_invitations),
    ]
