"""The console's message catalogues: one per language, the same keys in each."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).parents[2] / "web"
KEY = re.compile(r"^\s+([a-z_][a-z0-9_]*):", re.MULTILINE)


def keys(name: str) -> list[str]:
    return KEY.findall((WEB / "messages" / f"{name}.js").read_text())


def test_every_language_has_every_message():
    portuguese, english = keys("pt-BR"), keys("en")
    assert len(portuguese) == len(set(portuguese)) > 100
    assert set(portuguese) == set(english)


def test_every_key_the_pages_ask_for_exists():
    known = set(keys("pt-BR"))
    asked = set()
    for source in [*WEB.glob("*.js"), *WEB.glob("pages/*.js"), *WEB.glob("*.html")]:
        text = source.read_text()
        asked |= set(re.findall(r'\bt\("([a-z_0-9]+)"', text))
        asked |= set(re.findall(r'data-i18n="([a-z_0-9]+)"', text))
    assert asked and asked <= known, sorted(asked - known)
