"""CSV for spreadsheets: cells that never run as formulas, written a line at a time.

One neutraliser and one writer for every CSV the project makes (the public
export at ``/export/cases.csv`` and the exchange format of ``export_cases``),
so a formula-looking value is made harmless the same way everywhere, and the
import (``exchange.csv_format``) takes the mark away again with
:func:`unneutralise`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

# What a spreadsheet reads as the start of a formula (or of a cell it rewrites).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell a spreadsheet will not run as a formula: a leading ' before a formula character.

    A value that itself starts with ' and a formula character gets one more
    ', so that :func:`unneutralise` gives back exactly the value.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) or (text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS)):
        return "'" + text
    return text


def unneutralise(cell: str) -> str:
    """The cell without the one ' that :func:`neutralise` (or a spreadsheet user) put before a formula character."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


class _Line:
    """A file for csv.writer that hands each line back instead of keeping it."""

    def write(self, text: str) -> str:
        return text


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The CSV text a line at a time: a byte-order mark (so Excel reads UTF-8) and the header, then the rows.

    Every cell is neutralised; memory does not grow with the number of rows.
    """
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow(neutralise(value) for value in row)
