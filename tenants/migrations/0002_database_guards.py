"""Invariants the database enforces whatever path a write takes (service, console, shell).

- A practice's schema name never changes.
- While a practice's portal address is locked, its domains cannot be added, renamed or
  removed. Only unlocking (an operator action, audited) lifts this.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION tenants_practice_guard() RETURNS trigger AS $$
BEGIN
    IF NEW.schema_name <> OLD.schema_name THEN
        RAISE EXCEPTION 'a practice''s schema name is immutable' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tenants_practice_guard BEFORE UPDATE ON tenants_practice
    FOR EACH ROW EXECUTE FUNCTION tenants_practice_guard();

CREATE OR REPLACE FUNCTION tenants_domain_lock_guard() RETURNS trigger AS $$
DECLARE
    practice_id bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.domain = OLD.domain AND NEW.tenant_id = OLD.tenant_id
       AND NEW.is_primary = OLD.is_primary THEN
        RETURN NEW;
    END IF;
    practice_id := CASE WHEN TG_OP = 'INSERT' THEN NEW.tenant_id ELSE OLD.tenant_id END;
    IF EXISTS (SELECT 1 FROM tenants_practice
               WHERE id = practice_id AND portal_locked_at IS NOT NULL) THEN
        RAISE EXCEPTION 'the portal address of practice % is locked', practice_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tenants_domain_lock_guard BEFORE INSERT OR UPDATE OR DELETE ON tenants_domain
    FOR EACH ROW EXECUTE FUNCTION tenants_domain_lock_guard();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS tenants_domain_lock_guard ON tenants_domain;
DROP FUNCTION IF EXISTS tenants_domain_lock_guard();
DROP TRIGGER IF EXISTS tenants_practice_guard ON tenants_practice;
DROP FUNCTION IF EXISTS tenants_practice_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
