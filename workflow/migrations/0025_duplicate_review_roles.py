from django.db import migrations

from workflow.roles import apply_roles


def update_roles(apps, schema_editor):
    """Caseworkers and editors, who know the cases, review the possible duplicates."""
    apply_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0024_published_source_capture"),
        ("linkage", "0001_candidate_pairs"),
    ]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
