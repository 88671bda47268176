"""The database itself keeps signed records unchanged, whatever code runs against it.

- form versions: no UPDATE, no DELETE;
- signatures: no UPDATE, no DELETE;
- submissions: once submitted, the answers, version, hash, score and who/when of the submission
  cannot change, and the row cannot be deleted (review fields may still be set).

The functions live in public so that cloned practice schemas share them.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION public.intake_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION public.intake_freeze_submitted() RETURNS trigger AS $$
BEGIN
    IF OLD.submitted_at IS NULL THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' OR
       (NEW.answers, NEW.version_id, NEW.template_id, NEW.client_id, NEW.request_id,
        NEW.document_hash, NEW.submitted_at, NEW.submitted_by_id, NEW.score, NEW.score_band,
        NEW.alerts)
       IS DISTINCT FROM
       (OLD.answers, OLD.version_id, OLD.template_id, OLD.client_id, OLD.request_id,
        OLD.document_hash, OLD.submitted_at, OLD.submitted_by_id, OLD.score, OLD.score_band,
        OLD.alerts)
    THEN
        RAISE EXCEPTION 'a submitted form is immutable' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER intake_version_immutable BEFORE UPDATE OR DELETE ON intake_forms_formversion
    FOR EACH ROW EXECUTE FUNCTION public.intake_refuse_change();
CREATE TRIGGER intake_signature_immutable BEFORE UPDATE OR DELETE ON intake_forms_signature
    FOR EACH ROW EXECUTE FUNCTION public.intake_refuse_change();
CREATE TRIGGER intake_submission_frozen BEFORE UPDATE OR DELETE ON intake_forms_submission
    FOR EACH ROW EXECUTE FUNCTION public.intake_freeze_submitted();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS intake_version_immutable ON intake_forms_formversion;
DROP TRIGGER IF EXISTS intake_signature_immutable ON intake_forms_signature;
DROP TRIGGER IF EXISTS intake_submission_frozen ON intake_forms_submission;
"""


class Migration(migrations.Migration):
    dependencies = [("intake_forms", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
