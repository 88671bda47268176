from django.db import migrations


def seed_plans(apps, schema_editor):
    Plan = apps.get_model("plans", "Plan")
    Plan.objects.update_or_create(
        code="starter",
        defaults={"name": "Starter", "features": ["client_portal"], "sort_order": 1},
    )
    Plan.objects.update_or_create(
        code="professional",
        defaults={
            "name": "Professional",
            "features": ["client_portal", "online_booking"],
            "sort_order": 2,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(seed_plans, migrations.RunPython.noop)]
