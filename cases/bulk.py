"""Writing many rows at once, each with the history row its save() would have written.

The import (:mod:`exchange.importer`) and the synthetic data generator write
hundreds of thousands of rows; a row at a time, through save(), that takes
hours. :class:`BulkWriter` writes them in bulk and keeps what save() keeps:

* every row written gets its history row, naming the user, the reason and the
  time, and a person's history row its categories (the many-to-many snapshot
  simple-history keeps);
* on PostgreSQL rows and history rows go in by COPY, with their pks drawn
  from the tables' own sequences (Django's bulk_create spends most of its
  time preparing values one by one); elsewhere (SQLite) bulk_create and
  simple-history's own bulk_history_create() do it.

What save() derives is the caller's to derive first, through ``prepare`` or
the model's own functions (name keys: ``set_name_keys``; the derived status:
``Person.objects.refresh_statuses``); what save() raises, the version of an
edited row, :meth:`BulkWriter.update` raises.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from functools import cache, partial

from django.db import connection
from django.db.models import FileField

from .history import VersionedModel
from .models import Person

# Rows in one INSERT or UPDATE statement (SQLite).
BATCH_SIZE = 1000


class BulkWriter:
    """Inserts and updates rows in bulk, with their history rows, as ``by`` for ``reason`` at ``now``.

    ``memberships`` maps a person's pk to its category memberships (pk of
    the membership row, category pk): a person's history rows carry them.
    Memberships inserted through the writer are added to it.
    """

    def __init__(self, *, by, reason: str, now, memberships: dict[int, list[tuple[int, int]]] | None = None) -> None:
        self.by, self.reason, self.now = by, reason, now
        self.memberships = {} if memberships is None else memberships
        self.copy = connection.vendor == "postgresql"

    def add_memberships(self, through_rows: Iterable) -> None:
        for membership in through_rows:
            self.memberships.setdefault(membership.person_id, []).append((membership.pk, membership.category_id))

    def analyze(self, models: Iterable) -> None:
        """Refresh PostgreSQL's statistics of these models' tables, and of their history tables, after a bulk write.

        Without them, the planner keeps the row counts it had before and may
        read a whole table where an index would do (a publication took 360 ms
        instead of 95 after 100,000 generated cases), until autovacuum comes by.
        """
        if not self.copy:
            return
        tables = []
        for model in models:
            tables.append(model._meta.db_table)
            if hasattr(model, "history"):
                tables.append(model.history.model._meta.db_table)
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {_qn(table)}")  # quoted table name, not user input

    def update(self, model, objs: list, field_names: Iterable[str], *, edited: bool = False) -> None:
        """Write ``field_names`` of existing rows, as save(update_fields=…) would; the caller writes the history rows.

        An edit raises each row's version by one, here and nowhere else in a
        bulk write: writing a field the system does not derive
        (:meth:`cases.history.VersionedModel.edits`), or, with ``edited``,
        a change the row's form holds in other tables (a person's categories,
        other names). Fields set on every save (``auto_now``) are set to ``now``.
        """
        if not objs:
            return
        fields = set(field_names)
        if issubclass(model, VersionedModel) and (edited or model.edits(fields)):
            for obj in objs:
                obj.version += 1
            fields.add("version")
        for field in model._meta.concrete_fields:
            if getattr(field, "auto_now", False):
                for obj in objs:
                    setattr(obj, field.attname, self.now)
                fields.add(field.name)
        field_names = sorted(fields)
        if not self.copy:
            model.objects.bulk_update(objs, field_names, batch_size=BATCH_SIZE)
        else:
            self.copy_changes(model, objs, field_names)

    def insert(self, model, objs: list, *, prepare: Callable | None = None, history: bool = True) -> list | None:
        """Insert new rows, setting their pks, and (unless ``history`` is false) their history rows.

        ``prepare(obj)`` derives what the model's save() would (the name
        keys). With COPY it runs as each row is sent, so that the database
        stores one row while Python derives the next. Returns the values
        written by COPY, for the history rows written later.
        """
        if not objs:
            return []
        rows: list | None = None
        if not self.copy:
            list(_prepared(objs, prepare))
            model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
        else:
            meta, fields = model._meta, model._meta.concrete_fields
            for obj, pk in zip(objs, _next_values(meta.db_table, meta.pk.column, len(objs)), strict=True):
                obj.pk = pk
            values, kept = _column_values(fields, adding=True), list[list]()
            _copy(
                meta.db_table,
                [f.column for f in fields],
                (_kept(values(obj), kept) for obj in _prepared(objs, prepare)),
            )
            rows = kept
            for obj in objs:
                obj._state.adding, obj._state.db = False, connection.alias
        if history:
            self.history(model, objs, created=True, rows=rows)
        return rows

    def copy_changes(self, model, objs: list, field_names: list[str]) -> None:
        """Write ``field_names`` of existing rows on PostgreSQL (their history rows are written by the caller).

        The new values go by COPY into a temporary table, and one UPDATE …
        FROM applies them: bulk_update's CASE expressions, one per row and
        field, take many minutes for 100,000 rows.
        """
        meta = model._meta
        fields = [meta.pk, *(meta.get_field(name) for name in field_names)]
        columns = [_qn(field.column) for field in fields]
        values = _column_values(fields, adding=False)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE exchange_update ON COMMIT DROP AS "  # noqa: S608 (quoted names)
                f"SELECT {', '.join(columns)} FROM {_qn(meta.db_table)} WITH NO DATA"
            )
            _copy("exchange_update", [field.column for field in fields], (values(obj) for obj in objs))
            assignments = ", ".join(f"{column} = exchange_update.{column}" for column in columns[1:])
            cursor.execute(
                f"UPDATE {_qn(meta.db_table)} SET {assignments} FROM exchange_update "  # noqa: S608 (quoted names)
                f"WHERE {_qn(meta.db_table)}.{columns[0]} = exchange_update.{columns[0]}"
            )
            cursor.execute("DROP TABLE exchange_update")

    def history(self, model, objs: list, *, created: bool, rows: list | None = None) -> None:
        """The history rows of rows just written: "+" for new ones, "~" for changed ones.

        ``rows`` are the values COPY wrote for ``objs``, when there are any.
        """
        if not objs:
            return
        history_model = model.history.model
        if not self.copy:
            records = model.history.bulk_history_create(
                objs,
                batch_size=BATCH_SIZE,
                update=not created,
                default_user=self.by,
                default_change_reason=self.reason,
                default_date=self.now,
            )
            if model is Person:
                snapshot = history_model.categories.model
                snapshot.objects.bulk_create(
                    snapshot(history=record, id=pk, person_id=record.id, category_id=category_id)
                    for record in records
                    for pk, category_id in self.memberships.get(record.id, [])
                )
            return
        fields = model._meta.concrete_fields
        meta = history_model._meta
        columns = [meta.get_field(field.name).column for field in fields]
        columns += ["history_date", "history_change_reason", "history_type", "history_user_id"]
        extra = [self.now, self.reason, "+" if created else "~", (self.by.pk if self.by else None)]
        if rows is None:
            values = _column_values(fields, adding=False)
            rows = [values(obj) for obj in objs]
        if model is not Person:
            _copy(meta.db_table, columns, ([*row, *extra] for row in rows))
            return
        history_ids = _next_values(meta.db_table, meta.pk.column, len(objs))
        _copy(
            meta.db_table,
            [*columns, meta.pk.column],
            ([*row, *extra, history_id] for row, history_id in zip(rows, history_ids, strict=True)),
        )
        snapshot = history_model.categories.model._meta
        _copy(
            snapshot.db_table,
            [snapshot.get_field(name).column for name in ("id", "person", "category", "history")],
            (
                [pk, obj.pk, category_id, history_id]
                for obj, history_id in zip(objs, history_ids, strict=True)
                for pk, category_id in self.memberships.get(obj.pk, [])
            ),
        )


def _prepared(objs: list, prepare: Callable | None) -> Iterator:
    for obj in objs:
        if prepare:
            prepare(obj)
        yield obj


def _kept(row: list, rows: list) -> list:
    rows.append(row)
    return row


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _next_values(table: str, column: str, count: int) -> list[int]:
    """``count`` values from the sequence behind ``table.column`` (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
        )
        return [value for (value,) in cursor.fetchall()]


def _copy(table: str, columns: list[str], rows: Iterable[list]) -> None:
    """COPY ``rows`` into ``table`` (PostgreSQL)."""
    qn = connection.ops.quote_name
    statement = f"COPY {qn(table)} ({', '.join(map(qn, columns))}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


# Django's own field types whose Python values psycopg takes as they are.
_PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BooleanField",
        "CharField",
        "DateTimeField",
        "ForeignKey",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "SlugField",
        "TextField",
        "URLField",
    }
)


def _column_values(fields, *, adding: bool) -> Callable[[object], list]:
    """A function giving an object's column values for PostgreSQL, as bulk_create would prepare them.

    Values are read from the instance's dict in one go (a field's stored
    value, not what a descriptor makes of it); a field of its own type (a
    partial date, a country) is prepared by its get_db_prep_save(). When
    ``adding``, a field whose pre_save() sets the value (auto_now,
    auto_now_add, a file to store) runs it first, as on an insert; a history
    row reads the values as they were written.
    """
    read = operator.itemgetter(*(field.attname for field in fields))
    special = []
    for index, model_field in enumerate(fields):
        internal_type = model_field.get_internal_type()
        plain = type(model_field).__module__.startswith("django.db.models") and internal_type in _PLAIN_TYPES
        sets_value = isinstance(model_field, FileField) or any(
            getattr(model_field, option, False) for option in ("auto_now", "auto_now_add")
        )
        if adding and sets_value:
            special.append((index, partial(_pre_saved, model_field, plain)))
        elif not plain:
            # The same partial date or country recurs on many rows: prepare each value once.
            special.append((index, partial(_prepared_value, cache(partial(_db_value, model_field)))))

    def values(obj) -> list:
        row = list(read(obj.__dict__))
        for index, prepare in special:
            row[index] = prepare(obj, row[index])
        return row

    return values


def _db_value(field, value):
    return field.get_db_prep_save(value, connection)


def _pre_saved(field, plain: bool, obj, raw):
    value = field.pre_save(obj, True)
    return value if plain else field.get_db_prep_save(value, connection)


def _prepared_value(prepare: Callable, obj, raw):
    try:
        return prepare(raw)
    except TypeError:  # not hashable: prepared every time
        return prepare.__wrapped__(raw)  # type: ignore[attr-defined]  # (functools.cache keeps it)
