"""Importing cases from the exchange CSV: check everything first, then write all of it or nothing.

:func:`import_cases` reads the file (:mod:`exchange.csv_format`), then, in
one transaction, plans what each row would do against the database
(:mod:`exchange.plan`) and, when no problem was found and this is not a dry
run, locks the persons it changes and writes the plan in bulk
(:mod:`exchange.write`). What it did, or would do, comes back as an
:class:`ImportResult`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy

from . import csv_format
from .csv_format import Problem
from .plan import Plan
from .write import write_plan

SYSTEM_USERNAME = "import"
# New rows of a preview whose possible duplicates are looked for: the rows the preview page shows.
MATCHED_ROWS = 500
# What a row does, as the preview's "Action" column says it.
ACTION_LABELS = {
    "create": pgettext_lazy("import action", "create"),
    "update": pgettext_lazy("import action", "update"),
    "unchanged": pgettext_lazy("import action", "unchanged"),
}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    status_events: int = 0
    sources: int = 0
    citations: int = 0
    other_names: int = 0


@dataclass
class RowOutcome:
    """What one row does (or would do): shown in the preview and the command's report."""

    line: int
    pk: int | None
    case_id: str
    label: str
    action: str  # "create", "update" or "unchanged"
    changes: list[str]
    # In a preview, the existing cases a new row may be (linkage.matching.Candidate), best first.
    candidates: list = dataclass_field(default_factory=list)

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS[self.action])


@dataclass
class ImportResult:
    filename: str
    dry_run: bool
    problems: list[Problem]
    rows: list[RowOutcome] = dataclass_field(default_factory=list)
    counts: Counts = dataclass_field(default_factory=Counts)

    @property
    def written(self) -> bool:
        return not self.dry_run and not self.problems

    def summary(self) -> str:
        c = self.counts
        if self.problems:
            count = len(self.problems)
            return ngettext(
                "%(filename)s: %(count)d problem found; nothing was written.",
                "%(filename)s: %(count)d problems found; nothing was written.",
                count,
            ) % {"filename": self.filename, "count": count}
        persons = _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged") % {
            "created": c.created,
            "updated": c.updated,
            "unchanged": c.unchanged,
        }
        added = _("%(status_events)s, %(sources)s, %(citations)s, %(other_names)s") % {
            "status_events": ngettext("%(count)d status event", "%(count)d status events", c.status_events)
            % {"count": c.status_events},
            "sources": ngettext("%(count)d source", "%(count)d sources", c.sources) % {"count": c.sources},
            "citations": ngettext("%(count)d citation", "%(count)d citations", c.citations) % {"count": c.citations},
            "other_names": ngettext("%(count)d other name", "%(count)d other names", c.other_names)
            % {"count": c.other_names},
        }
        values = {"filename": self.filename, "persons": persons, "added": added}
        if self.dry_run:
            return _("Dry run of %(filename)s, nothing was written. Persons %(persons)s; would add %(added)s.") % values
        return _("Imported %(filename)s. Persons %(persons)s; added %(added)s.") % values


class _NoProgress:
    def __init__(self, **kwargs) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def system_user():
    """The named, inactive user that imports from the command line are recorded under."""
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"is_active": False, "first_name": "Import (command line)"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def import_cases(
    data: bytes,
    *,
    filename: str,
    by=None,
    dry_run: bool = False,
    can_add_sources: bool = True,
    progress: Callable | None = None,
) -> ImportResult:
    """Check ``data`` (a CSV file's bytes) and, unless there is a problem or ``dry_run``, import it.

    ``by`` is the user the history names; without one, the system user
    :data:`SYSTEM_USERNAME`. A row that would change a case ``by`` may not
    change (``Person.may_be_changed_by``: a withdrawn case, for a
    caseworker) is a problem; without a user (the command line) every case
    may be changed. ``can_add_sources`` is false for a user who may not add
    sources: a row that would add one is then a problem.
    ``progress(desc=…, total=…)`` makes a progress bar (tqdm's signature).
    Nothing is written when any problem is found, on a dry run, or when
    anything fails on the way: the whole import is one transaction.
    """
    filename = Path(filename).name
    progress = progress or _NoProgress
    rows, problems = csv_format.read(data)
    # A dry run only reads: it need not hold the write lock (SQLite) while it checks.
    with nullcontext() if dry_run else transaction.atomic():
        plan = Plan(rows, by=by, can_add_sources=can_add_sources)
        plan.build(progress)
        if not (problems or plan.problems or dry_run):
            plan.lock()
        problems = sorted({*problems, *plan.problems})
        result = ImportResult(filename, dry_run, problems, _outcomes(plan), _counts(plan))
        if dry_run and not problems:
            matches = plan.possible_matches(MATCHED_ROWS)
            for outcome in result.rows:
                outcome.candidates = matches.get(outcome.line, [])
        if problems or dry_run or all(item.action == "unchanged" for item in plan.items):
            return result
        write_plan(plan, by=by or system_user(), reason=f"Imported from {filename}", progress=progress)
    result.rows = _outcomes(plan)
    return result


def _outcomes(plan: Plan) -> list[RowOutcome]:
    return [
        RowOutcome(
            line=item.row.line,
            pk=item.person.pk,
            case_id=item.person.case_id,
            label=item.person.display_name,
            action=item.action,
            changes=item.changes,
        )
        for item in plan.items
    ]


def _counts(plan: Plan) -> Counts:
    counts = Counts(sources=len(plan.new_sources))
    for item in plan.items:
        action = item.action
        counts.created += action == "create"
        counts.updated += action == "update"
        counts.unchanged += action == "unchanged"
        counts.status_events += item.event is not None
        counts.citations += item.cites
        counts.other_names += len(item.other_names)
    return counts
