"""Audit.criterion_grades: each submitted audit's criterion grades as one digit per criterion, so the
impact report reads one short string per audit instead of an answer row per criterion.

Existing submitted audits are filled in from their answers, which remain the record; an audit with
no stored answers keeps an empty string, as the demo seeder leaves it. The rubric order and the
encoding are copied from ``practice.grading`` (``rubric_items``, ``criterion_grades_string``) as
they are today, because a migration must not import app code that may change after it; a test
checks that this gives the same strings as ``services.audit_save``. Audits are read 2,000 at a
time so the backfill works on a national database. Reversing it drops the field.
"""

from collections import defaultdict

from django.db import migrations, models

CHUNK = 2000
RUBRIC_4 = "rubric_4"
GRADE_DIGITS = frozenset("1234")


def backfill_criterion_grades(apps, schema_editor):
    Audit = apps.get_model("practice", "Audit")
    Answer = apps.get_model("surveys", "Answer")
    Item = apps.get_model("surveys", "Item")
    db = schema_editor.connection.alias if schema_editor is not None else "default"
    criteria = defaultdict(list)  # version id -> its criteria's ids in rubric order
    for version_id, item_id in (
        Item.objects.using(db)
        .filter(kind=RUBRIC_4)
        .order_by("position", "id")
        .values_list("version_id", "id")
    ):
        criteria[version_id].append(item_id)
    submitted = Audit.objects.using(db).filter(status="submitted").order_by("pk")
    last = 0
    while chunk := list(submitted.filter(pk__gt=last).values_list("pk", "version_id", "response_id")[:CHUNK]):
        first, last = chunk[0][0], chunk[-1][0]
        # By a range of audit ids rather than a list of 2,000 response ids (SQLite's variable limit).
        answered = defaultdict(dict)  # response id -> {item id: value}
        for response_id, item_id, value in (
            Answer.objects.using(db)
            .filter(
                response__audit__pk__gte=first,
                response__audit__pk__lte=last,
                response__audit__status="submitted",
                item__kind=RUBRIC_4,
            )
            .values_list("response_id", "item_id", "value")
        ):
            if value and value not in GRADE_DIGITS:
                raise ValueError(f"Response {response_id} has {value!r} for item {item_id}: not a grade.")
            answered[response_id][item_id] = value
        changed = [
            Audit(pk=pk, criterion_grades="".join(values.get(i) or "0" for i in criteria[version_id]))
            for pk, version_id, response_id in chunk
            if (values := answered.get(response_id))
        ]
        Audit.objects.using(db).bulk_update(changed, ["criterion_grades"])


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0003_referral_updated_at"),
        ("surveys", "0006_remove_invitation_response"),
    ]

    operations = [
        migrations.AddField(
            model_name="audit",
            name="criterion_grades",
            field=models.CharField(
                blank=True,
                default="",
                help_text=(
                    "The grade of each criterion, one digit per criterion in the rubric version's order, 0 "
                    "where one was left ungraded; empty for drafts and for audits whose answers are not "
                    "stored. Derived from the audit's answers at submission: the answers remain the record."
                ),
                max_length=64,
            ),
        ),
        # Before the backfill, so the database checks every string it writes.
        migrations.AddConstraint(
            model_name="audit",
            constraint=models.CheckConstraint(
                condition=models.Q(criterion_grades__regex="^[0-4]*$"), name="audit_criterion_grades_digits"
            ),
        ),
        migrations.RunPython(backfill_criterion_grades, migrations.RunPython.noop),
    ]
