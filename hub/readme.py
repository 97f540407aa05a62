"""``python -m hub.readme README.md``: put the current settings table into the README.

The table sits right after the ``<!-- settings table`` marker and ends at a blank line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hub.config import markdown_table

MARKER = "<!-- settings table"


def refresh(text: str) -> str:
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(MARKER)) + 1
    end = start
    while end < len(lines) and lines[end].strip():
        end += 1
    return "".join([*lines[:start], markdown_table() + "\n", *lines[end:]])


if __name__ == "__main__":
    path = Path(sys.argv[1])
    path.write_text(refresh(path.read_text()))
