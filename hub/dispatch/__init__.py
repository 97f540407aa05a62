"""Dispatch: offers with deadlines, cascades, the four modes, the attendance lifecycle."""
