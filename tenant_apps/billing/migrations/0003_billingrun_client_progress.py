from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_refunds_and_disputes"),
    ]

    operations = [
        migrations.AddField(
            model_name="billingrun",
            name="clients_total",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="billingrun",
            name="clients_checked",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
    ]
