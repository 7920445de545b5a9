"""On PostgreSQL, a GIN trigram index for the fuzzy step of name search.

Serves ``PublishedName.objects.filter(key__trigram_similar=...)`` (the indexed
``%`` operator) in ``public.search``. SQLite has no trigram index; the search
there ranks a bounded set of candidates in Python instead.
"""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS workflow_publishedname_key_trgm "
        "ON workflow_publishedname USING gin (key gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS workflow_publishedname_key_trgm")


class Migration(migrations.Migration):
    dependencies = [("workflow", "0003_search_index")]

    operations = [migrations.RunPython(create_index, drop_index)]
