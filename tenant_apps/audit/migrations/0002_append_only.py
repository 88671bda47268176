"""Audit events are append-only: the database refuses UPDATE and DELETE in every schema.

The function lives in public so that cloned practice schemas share it.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION public.audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION public.audit_event_append_only();
"""

BACKWARD = "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;"


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
