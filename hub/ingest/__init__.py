"""GPS ingest: the fix filter, ack window and flood guard (pure), the track writer (async)."""
