"""The contract hub/channels/lean_ws.py keeps with uvicorn's private internals.

``LeanWebSocketProtocol`` subclasses uvicorn's websockets-sansio protocol and reads its
private state to take a provider's messages as they are parsed (bench ingest: 3.2 -> 2.6
us of CPU per fix) and to write pre-framed console updates.  pyproject.toml bounds uvicorn
to the releases checked here; these tests fail, saying what moved, when a release changes
what the subclass relies on.
"""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from hub.channels.provider import ProviderSession
from tests.channels.test_provider_socket import new_provider
from tests.client import ProviderClient, fixes
from tests.conftest import engine_settings, serve

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"

# What the subclass reads or writes of uvicorn's protocol, and why.
SEAMS = {
    "def send_receive_event_to_app(self)": "the hook a whole parsed message goes through",
    "self.frames": "the parsed message's fragments, emptied once it is taken",
    "self.curr_msg_data_type": "whether the message is text or bytes",
    "self.read_paused": "set while a message waits in the ASGI queue (order of messages)",
    "self.close_sent": "no message is taken, nor frame written, once closing",
    "self.handshake_complete": "the handshake's request and response are dropped after it",
    "self.request": "dropped after the handshake (~3 KiB per held socket)",
    "self.response": "dropped after the handshake",
    "self.transport": "pre-framed console updates are written to it",
    "self.disconnected": "no frame is written once the peer is gone",
    "self.conn.send_close(": "a text message that is not UTF-8 is closed with 1007",
    "def handle_parser_exception(self)": "the close after that, as uvicorn does it",
}


def uvicorn_requirement() -> Requirement:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    found = [Requirement(r) for r in project["dependencies"] if r.startswith("uvicorn")]
    assert len(found) == 1
    return found[0]


def test_uvicorn_is_bounded_to_releases_this_contract_was_checked_on():
    requirement = uvicorn_requirement()
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), (
        "lean_ws.py relies on uvicorn's private internals: pyproject.toml must bound uvicorn"
    )
    installed = version("uvicorn")
    assert requirement.specifier.contains(installed), (
        f"uvicorn {installed} is outside {requirement}: run this module's tests on it"
    )


@pytest.mark.parametrize("seam", list(SEAMS))
def test_the_private_seams_lean_ws_uses_are_still_there(seam):
    source = inspect.getsource(WebSocketsSansIOProtocol)
    assert seam in source, (
        f"uvicorn {version('uvicorn')} no longer has `{seam}` ({SEAMS[seam]}): "
        "hub/channels/lean_ws.py must follow it before the bound in pyproject.toml moves"
    )


def test_the_hook_is_called_for_each_parsed_message():
    source = inspect.getsource(WebSocketsSansIOProtocol)
    assert source.count("self.send_receive_event_to_app()") >= 2, (
        "uvicorn's protocol no longer hands each parsed message (and each last fragment) to "
        "send_receive_event_to_app: lean_ws.py's listener would never be called"
    )


async def test_on_the_hubs_protocol_fixes_are_taken_as_they_are_parsed(tmp_path, monkeypatch):
    """The fast path is really taken: the provider's messages reach the session's listener
    without the ASGI queue, and every fix is acked and stored."""
    taken: list[int] = []
    listener = ProviderSession.on_frame

    def counting(self: ProviderSession, data: str | bytes) -> bool:
        handled = listener(self, data)
        taken.append(handled)
        return handled

    monkeypatch.setattr(ProviderSession, "on_frame", counting)
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        pid, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            await app.alive()  # the session reads: the listener is set
            stream = fixes(1, 60)
            for start in range(0, 60, 20):
                await app.send({"type": "fixes", "fixes": stream[start : start + 20]})
                await app.acked(start + 20)
        assert await running.hub.records.tracks.count([pid]) == 60
    assert sum(taken) == 3, f"the listener took {sum(taken)} of {len(taken)} messages"
