"""SQL fragments the PostgreSQL record stores share."""

MS = "to_timestamp({} / 1000.0)"  # Unix ms -> timestamptz, in SQL
