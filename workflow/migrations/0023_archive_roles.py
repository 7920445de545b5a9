from django.db import migrations

from workflow.roles import apply_roles


def update_roles(apps, schema_editor):
    """Researchers capture sources' pages, download the captures and follow the worker's jobs and the link
    checks; caseworkers see the captures and checks; editors withdraw a capture and let the public download one."""
    apply_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0022_published_name_given_index"),
        ("archive", "0001_captures_jobs_link_checks"),
    ]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
