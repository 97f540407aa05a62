"""What differs between the engines' SQL, declared in one place (hub/state/dialect.py)."""

from __future__ import annotations

from hub.state.dialect import POSTGRES, SQLITE, numbered


def test_placeholders_are_numbered_outside_literals_quoted_names_and_comments():
    sql = "SELECT '?', 'it''s ?', ? AS a, \"we?rd\" FROM t -- why?\nWHERE b = ? AND c IN (?, ?)"
    assert numbered(sql) == (
        "SELECT '?', 'it''s ?', $1 AS a, \"we?rd\" FROM t -- why?\nWHERE b = $2 AND c IN ($3, $4)"
    )


def test_sqlite_takes_the_statement_as_written():
    sql = "SELECT id FROM t WHERE a = ? AND b = ?"
    assert SQLITE.sql(sql) == sql
    assert POSTGRES.sql(sql) == "SELECT id FROM t WHERE a = $1 AND b = $2"


def test_time_columns_are_unix_ms_in_sqlite_and_timestamptz_in_postgres():
    assert SQLITE.read_ms("users", "created_ms") == "created_ms"
    assert SQLITE.column("users", "created_ms") == "created_ms"
    assert SQLITE.ms_value("users", "created_ms") == "?"
    assert POSTGRES.read_ms("users", "created_ms") == (
        "(extract(epoch from created_at) * 1000)::bigint AS created_ms"
    )
    assert POSTGRES.column("users", "created_ms") == "created_at"
    assert POSTGRES.ms_value("users", "created_ms") == "to_timestamp(?::bigint / 1000.0)"
    # a column that is Unix ms in both is left alone
    assert POSTGRES.read_ms("attendances", "at_ms") == "at_ms"
    assert POSTGRES.ms_value("attendances", "at_ms") == "?"


def test_a_name_piece_is_a_phrase_for_fts5_and_a_literal_like_pattern_for_postgres():
    assert SQLITE.piece('ana "b"') == '"ana ""b"""'
    assert POSTGRES.piece("50%_a\\b") == "%50\\%\\_a\\\\b%"
