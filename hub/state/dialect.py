"""What differs between the two records engines' SQL, declared once.

Every statement of the records roles is written once (hub/state/rows.py and the role
modules beside it), with ``?`` placeholders, and read back by column name.  The engines'
schemas differ in a few declared places only:

- PostgreSQL numbers its placeholders (``$1, $2, ...``): ``numbered`` rewrites ``?``
  outside string literals, quoted names and comments;
- a handful of PostgreSQL columns are ``timestamptz`` where SQLite keeps Unix ms under an
  ``_ms`` name (``TIMES``): ``read_ms``, ``column`` and ``ms_value`` spell them;
- the name search's byte-order comparison and its substring index (FTS5 trigram in
  SQLite, pg_trgm in PostgreSQL), null-safe equality, and rows as a JSON array.

How each engine runs a dispatch decision's writes (one trip either way) is its own:
hub/state/sqlite/dispatch.py and hub/state/postgres/dispatch.py.

JSON columns need no spelling: both engines take and give JSON as text (asyncpg reads
``jsonb`` as ``str`` and infers it for a parameter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

# table.column (Unix ms, SQLite's name) -> PostgreSQL's timestamptz column
TIMES = {
    "providers.created_ms": "created_at",
    "users.created_ms": "created_at",
    "clients.created_ms": "created_at",
    "audit_log.at_ms": "at",
    "track_chunks.t_first_ms": "t_first",
    "track_chunks.t_last_ms": "t_last",
}


@dataclass(frozen=True)
class Dialect:
    name: str
    dollar: bool  # placeholders are $1, $2, ... (PostgreSQL), not ?
    times: dict[str, str] = field(default_factory=dict)  # TIMES, where the engine has them
    binary: str = ""  # the collation that compares text byte by byte
    same: str = "IS"  # null-safe equality
    # ids of beneficiaries whose folded name contains a piece: a ?, then {scope} (the
    # client's, where the index can take it: ``names_scoped``), then a LIMIT ?
    names_containing: str = ""
    names_scoped: bool = False
    fts: bool = False  # names_containing takes an FTS5 phrase, not a LIKE pattern
    # rows as one JSON array of objects ({pairs}: 'name', column, ...), ordered by id
    json_rows: str = ""

    def sql(self, text: str) -> str:
        """A statement written with ``?`` as this engine takes it."""
        return numbered(text) if self.dollar else text

    def column(self, table: str, ms_column: str) -> str:
        """The stored name of a time column."""
        return self.times.get(f"{table}.{ms_column}", ms_column)

    def read_ms(self, table: str, ms_column: str) -> str:
        """A time column in a select list, as Unix ms under its ``_ms`` name."""
        stored = self.times.get(f"{table}.{ms_column}")
        if stored is None:
            return ms_column
        return f"(extract(epoch from {stored}) * 1000)::bigint AS {ms_column}"

    def ms_value(self, table: str, ms_column: str) -> str:
        """The placeholder of a time column's value, given in Unix ms."""
        stored = f"{table}.{ms_column}" in self.times
        return "to_timestamp(?::bigint / 1000.0)" if stored else "?"

    def objects_json(self, columns: str, table: str, where: str) -> str:
        """A subquery: the rows of ``table`` matching ``where``, by id, as one JSON array of
        objects keyed by ``columns`` (text; ``[]`` for none)."""
        pairs = ", ".join(f"'{c.strip()}', {c.strip()}" for c in columns.split(","))
        return self.json_rows.format(pairs=pairs, columns=columns, table=table, where=where)

    def piece(self, fragment: str) -> str:
        """The argument of ``names_containing`` for a piece of a folded name."""
        if self.fts:  # an FTS5 phrase: the piece anywhere in the name
            return '"' + fragment.replace('"', '""') + '"'
        escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{escaped}%"  # a LIKE pattern, its own % and _ taken literally


SQLITE = Dialect(
    "sqlite",
    dollar=False,
    names_containing=(
        "SELECT rowid FROM beneficiary_names WHERE beneficiary_names MATCH ? LIMIT ?"
    ),
    fts=True,
    json_rows=(
        "(SELECT json_group_array(json_object({pairs}))"
        " FROM (SELECT {columns} FROM {table} WHERE {where} ORDER BY id))"
    ),
)
POSTGRES = Dialect(
    "postgres",
    dollar=True,
    times=TIMES,
    binary=' COLLATE "C"',
    same="IS NOT DISTINCT FROM",
    names_containing="SELECT id FROM beneficiaries WHERE name_folded LIKE ?{scope} LIMIT ?",
    names_scoped=True,
    json_rows=(
        "(SELECT coalesce(json_agg(json_build_object({pairs}) ORDER BY id), '[]')::text"
        " FROM {table} WHERE {where})"
    ),
)


@cache
def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...``; a ``?`` inside a string
    literal, a quoted name or a comment is left as it is."""
    out: list[str] = []
    count = 0
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":  # a literal or a quoted name, '' or "" escaping the quote
            end = i + 1
            while end < n:
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1])
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif ch == "?":
            count += 1
            out.append(f"${count}")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)
