"""Reading an import file row by row, the way every CSV import of the hub does. Pure.

One header row; ``;`` or ``,`` between fields (whichever the header uses more); a UTF-8
byte-order mark is ignored; blank lines are skipped; every problem names its line (the
header is line 1) and column.
"""

from __future__ import annotations

import csv
import io

import msgspec

MAX_ROWS = 50_000


class RowError(msgspec.Struct, frozen=True):
    row: int  # line of the file, the header being line 1
    column: str
    message: str


def read(
    text: str, columns: tuple[str, ...], required: tuple[str, ...]
) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """(line, stripped fields) of every row, and the problems found reading them.  With a
    bad header (unknown or missing columns) or unreadable CSV, no rows at all."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or not lines[0].strip():
        return [], [RowError(1, "", "the file is empty; the first line must be the header")]
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    problems = [
        RowError(1, h, f"unknown column; known: {', '.join(columns)}")
        for h in header
        if h not in columns
    ] + [RowError(1, c, "required column missing") for c in required if c not in header]
    if problems:
        return [], problems
    reader.fieldnames = header
    try:
        numbered = list(enumerate(reader, start=2))
    except csv.Error as exc:  # a field longer than the csv module allows, a stray NUL
        return [], [RowError(reader.line_num, "", f"not readable as CSV: {exc}")]
    found: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for number, row in numbered:
        if number - 1 > MAX_ROWS:
            errors.append(RowError(number, "", f"more than {MAX_ROWS} rows; split the file"))
            break
        if None in row:
            errors.append(RowError(number, "", "more fields than the header has columns"))
            continue
        fields = {k: (v or "").strip() for k, v in row.items()}
        if any(fields.values()):
            found.append((number, fields))
    return found, errors
