"""Engines: live state (memory | redis) and records (sqlite | postgres)."""
