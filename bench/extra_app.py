"""A throwaway tenant app with N real migrations, written into a temporary folder.

Every tenth migration creates a table; the nine after it each add a column to that table: text
columns, indexed integers, and a foreign key to the practice's users (with its index and
constraint). The models module matches the final state, so Django sees no pending changes.
The app lives outside the repository; bench/settings_provisioning.py puts it on TENANT_APPS.
"""

from dataclasses import dataclass, field
from pathlib import Path

APP_LABEL = "bench_extra"

_HEADER = "from django.conf import settings\nfrom django.db import migrations, models\n"


@dataclass
class _Column:
    name: str
    migration: str  # the field's source in a migration
    model: str  # the same field's source in models.py


@dataclass
class _Table:
    name: str
    columns: list[_Column] = field(default_factory=list)


def _column(number: int) -> _Column:
    name = f"field_{number:03d}"
    step = (number - 1) % 10
    if step == 5:
        source = (
            "models.ForeignKey(null=True, blank=True, on_delete=models.SET_NULL, "
            "related_name='+', to=settings.AUTH_USER_MODEL)"
        )
    elif step in (3, 7):
        source = "models.IntegerField(default=0, db_index=True)"
    else:
        source = "models.CharField(max_length=64, blank=True, default='')"
    return _Column(name, source, source.replace("to=settings.AUTH_USER_MODEL", "to=USER"))


def _migration(number: int, table: _Table, column: _Column | None) -> str:
    dependencies = ["migrations.swappable_dependency(settings.AUTH_USER_MODEL)"]
    if number > 1:
        dependencies.append(f"('{APP_LABEL}', '{number - 1:04d}_step')")
    if column is None:
        operation = (
            f"migrations.CreateModel(name='{table.name}', fields=[\n"
            "            ('id', models.BigAutoField(auto_created=True, primary_key=True, "
            "serialize=False, verbose_name='ID')),\n"
            "            ('created_at', models.DateTimeField(auto_now_add=True)),\n"
            "        ])"
        )
    else:
        operation = (
            f"migrations.AddField(model_name='{table.name.lower()}', name='{column.name}', "
            f"field={column.migration})"
        )
    return (
        f"{_HEADER}\n\nclass Migration(migrations.Migration):\n"
        f"    dependencies = [{', '.join(dependencies)}]\n"
        f"    operations = [\n        {operation},\n    ]\n"
    )


def _models(tables: list[_Table]) -> str:
    lines = [_HEADER, "USER = settings.AUTH_USER_MODEL", ""]
    for table in tables:
        lines += ["", f"class {table.name}(models.Model):"]
        lines.append("    created_at = models.DateTimeField(auto_now_add=True)")
        lines += [f"    {column.name} = {column.model}" for column in table.columns]
        lines.append("")
    return "\n".join(lines)


def write_extra_app(parent: Path, migrations: int) -> Path:
    """Write the app as `parent/bench_extra` and return `parent` (the folder for sys.path)."""
    app = parent / APP_LABEL
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    (app / "apps.py").write_text(
        "from django.apps import AppConfig\n\n\n"
        "class BenchExtraConfig(AppConfig):\n"
        f"    name = '{APP_LABEL}'\n"
        "    default_auto_field = 'django.db.models.BigAutoField'\n"
    )

    tables: list[_Table] = []
    for number in range(1, migrations + 1):
        if (number - 1) % 10 == 0:
            tables.append(_Table(f"Extra{len(tables) + 1:02d}"))
            column = None
        else:
            column = _column(number)
            tables[-1].columns.append(column)
        source = _migration(number, tables[-1], column)
        (app / "migrations" / f"{number:04d}_step.py").write_text(source)

    (app / "models.py").write_text(_models(tables))
    return parent
