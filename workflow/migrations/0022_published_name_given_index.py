"""On PostgreSQL, a GIN index on the family name and the trigrams of the given name, for the name search.

Serves ``cases.search``'s "contained" and fuzzy steps over ``PublishedName``:
``family = 'kim' AND substring(folded, length(family) + 1) % 'kukki'`` (and
``LIKE '%kukki%'``). The trigram index on the whole key (migration 0004) made
every name of the family a candidate, since all share its first trigrams ("kim"):
46 ms a search at 100,000 persons, growing with the family; the given name's
trigrams within the family take 2 ms. ``btree_gin`` lets the family name be a
column of the same GIN index. The expression is the one ``NameTable.given_names``
writes, so that the planner recognises it. SQLite has no such index.
"""

from django.db import migrations

INDEX = "workflow_publishedname_family_given_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON workflow_publishedname "
        "USING gin (family, (substring(folded, length(family) + 1)) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("workflow", "0021_published_rendering")]

    operations = [migrations.RunPython(create_index, drop_index)]
