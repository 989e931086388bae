"""An index on updated_at, so that the report cache's data stamp reads the latest edit from the
end of the index rather than by scanning the table."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('practice', '0004_audit_criterion_grades'),
        ('surveys', '0007_drop_answer_item_cover'),
        ('training', '0004_updated_at_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='audit',
            index=models.Index(fields=['updated_at'], name='practice_au_updated_ca90a2_idx'),
        ),
        migrations.AddIndex(
            model_name='referral',
            index=models.Index(fields=['updated_at'], name='practice_re_updated_864101_idx'),
        ),
    ]
