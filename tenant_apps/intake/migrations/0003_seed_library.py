"""Seed the built-in form library in every practice schema.

Runs in the template schema (and so is copied to every new practice) and in each existing
practice. Idempotent: a library key already present is left alone, whatever it holds now.
"""

from django.db import migrations

from tenant_apps.intake.canonical import sha256_hex
from tenant_apps.intake.library import LIBRARY


def seed(apps, schema_editor):
    FormTemplate = apps.get_model("intake_forms", "FormTemplate")
    FormVersion = apps.get_model("intake_forms", "FormVersion")
    for key, (definition, is_standard) in LIBRARY.items():
        if FormTemplate.objects.filter(library_key=key).exists():
            continue
        template = FormTemplate.objects.create(
            name=definition["title"],
            kind=definition["kind"],
            library_key=key,
            is_standard=is_standard,
        )
        version = FormVersion.objects.create(
            template=template,
            number=1,
            definition=definition,
            content_hash=sha256_hex(definition),
        )
        template.current_version = version
        template.save(update_fields=["current_version"])


class Migration(migrations.Migration):
    dependencies = [("intake_forms", "0002_immutable_rows")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
