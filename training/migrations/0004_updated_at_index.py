"""An index on updated_at, so that the report cache's data stamp reads the latest edit from the
end of the index rather than by scanning the table."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('training', '0003_access_log_append_only'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='attendance',
            index=models.Index(fields=['updated_at'], name='training_at_updated_ea7ea0_idx'),
        ),
    ]
