"""Websocket endpoints: provider sessions (and, later, dashboard streams)."""
