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


def values(name: str) -> dict[str, str]:
    text = (WEB / "messages" / f"{name}.js").read_text()
    return dict(re.findall(r'^\s+([a-z_][a-z0-9_]*): "((?:[^"\\]|\\.)*)",?$', text, re.MULTILINE))


LANGUAGES = ("pt-BR", "en")


def missing(prefix: str, names) -> dict[str, list[str]]:
    """Per language, the ``prefix + name`` keys its catalogue lacks."""
    return {
        lang: sorted(f"{prefix}{n}" for n in names if f"{prefix}{n}" not in values(lang))
        for lang in LANGUAGES
        if any(f"{prefix}{n}" not in values(lang) for n in names)
    }


def test_every_error_code_the_hub_can_send_has_its_text():
    from hub.errors import CODES

    assert missing("error_", CODES) == {}
    # and no text for a code the hub no longer has (besides the console's own two)
    for lang in LANGUAGES:
        own = {k[len("error_") :] for k in values(lang) if k.startswith("error_")}
        assert own - set(CODES) == {"http_error", "network"}, lang


def test_every_problem_field_and_detail_an_error_names_has_its_text():
    import ast

    from hub.errors import CODES

    described = CODES["bad_request"].meaning
    problems = {p for p in re.findall(r"``([a-z_]+)``", described)} - set(
        CODES["bad_request"].details
    )
    assert {"invalid", "required", "too_short", "weak"} <= problems
    assert missing("problem_", problems) == {}
    # every field a hub error names, as written in the source
    fields = set()
    for path in (WEB.parent / "hub").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            named = isinstance(node, ast.keyword) and node.arg == "field"
            if named and isinstance(node.value, ast.Constant):
                fields.add(node.value.value)
    assert {"requester_name", "cpf", "reason"} <= fields
    assert missing("field_", fields) == {}


def test_every_service_rule_note_state_mode_and_step_has_its_text():
    from hub.dispatch.cascade import NOTES
    from hub.dispatch.lifecycle import Step
    from hub.matching.eligibility import RULE_NAMES
    from hub.operations.attendances import AttendanceState
    from hub.operations.events import EventAction
    from hub.operations.providers import Channel
    from hub.operations.services import CATALOGUE

    assert missing("service_", CATALOGUE) == {}
    for code, kind in CATALOGUE.items():  # the hub's own names, in each language
        assert (values("pt-BR")[f"service_{code}"], values("en")[f"service_{code}"]) == (
            kind.name_pt,
            kind.name_en,
        )
    assert missing("rule_", RULE_NAMES) == {}
    assert missing("note_", NOTES) == {}
    assert missing("state_", [s.value for s in AttendanceState]) == {}
    assert missing("mode_", [c.value for c in Channel]) == {}
    assert missing("step_verb_", [*(s.value for s in Step), *(a.value for a in EventAction)]) == {}


def test_every_action_the_attendance_log_writes_has_a_sentence():
    import ast

    actions = {"create", "origin_confirmed"}  # written by the records (state/*.py)
    for path in (WEB.parent / "hub" / "dispatch").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            is_log = isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "log"
            if is_log and node.args and isinstance(node.args[0], ast.Constant):
                actions.add(node.args[0].value)
    from hub.dispatch.lifecycle import Step
    from hub.dispatch.offers import OfferState

    actions |= {s.value for s in Step} - {"offer", "no_taker", "assign"}  # steps log as themselves
    actions |= {OfferState.EXPIRED.value, OfferState.WITHDRAWN.value}
    assert {"offer", "refused", "assign", "no_provider", "auto"} <= actions
    assert missing("log_", actions) == {}
