"""Dispatch: offers, cascades and deadlines (coming with the dispatch issue)."""
