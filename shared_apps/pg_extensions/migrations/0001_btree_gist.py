from django.db import migrations


class Migration(migrations.Migration):
    """btree_gist lets one exclusion constraint combine equality on a clinician with overlap
    of a time range (tenant_apps.booking's no-double-booking rule)."""

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.RunSQL(
            "CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
