"""On PostgreSQL, a trigger makes the access log append-only for every client of the database,
not just Django: UPDATE is always refused and DELETE only inside the retention purge, which sets
the transaction-local flag ``closing_the_loop.access_log_purge``. SQLite relies on the model's guard.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION training_accesslog_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('closing_the_loop.access_log_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'training_accesslog is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER training_accesslog_append_only
    BEFORE UPDATE OR DELETE ON training_accesslog
    FOR EACH ROW EXECUTE FUNCTION training_accesslog_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS training_accesslog_append_only ON training_accesslog;
DROP FUNCTION IF EXISTS training_accesslog_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("training", "0002_security")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
