"""Telling a provider without the app about an offer: SMS and e-mail, or the outbox.

Two transports at the true outside boundary: an HTTP SMS gateway (JSON ``{"to", "text"}``
POSTed with a bearer key; most gateways take that shape or sit behind a relay that does)
and SMTP e-mail (aiosmtplib).  Without configuration a message is not sent anywhere: it is
recorded in the notifications table with outcome ``outbox``, where an admin
(``GET /notifications``) and ``hub outbox`` read it to pass it on.  Every message, sent or
not, is recorded with its outcome; a link's secret only while it waits in the outbox
(hub/dispatch/links.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from email.message import EmailMessage

import aiosmtplib
import httpx
import msgspec

from hub.clock import now_ms
from hub.dispatch.links import redacted
from hub.dispatch.records import DispatchRecords, Notification

log = logging.getLogger(__name__)

OUTBOX = "outbox"


class HttpSms:
    def __init__(self, url: str, key: str, timeout_s: float = 5.0) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.url = url
        self.client = httpx.AsyncClient(timeout=timeout_s, headers=headers)

    async def send(self, phone: str, text: str) -> None:
        response = await self.client.post(self.url, json={"to": phone, "text": text})
        response.raise_for_status()

    async def close(self) -> None:
        await self.client.aclose()


class SmtpEmail:
    def __init__(
        self, host: str, port: int, sender: str, username: str = "", password: str = ""
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username or None, password or None

    async def send(self, to: str, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(text)
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            start_tls=None,  # STARTTLS when the server offers it
            timeout=10,
        )


class Notifier:
    def __init__(
        self, records: DispatchRecords, sms: HttpSms | None, email: SmtpEmail | None
    ) -> None:
        self.records, self.sms, self.email = records, sms, email

    async def sms_to(self, phone: str, text: str, offer_id: int | None) -> Notification:
        outcome = OUTBOX
        if self.sms is not None:
            outcome = await _attempt(self.sms.send(phone, text))
        return await self._record("sms", phone, "", text, offer_id, outcome)

    async def email_to(
        self, address: str, subject: str, text: str, offer_id: int | None
    ) -> Notification:
        outcome = OUTBOX
        if self.email is not None:
            outcome = await _attempt(self.email.send(address, subject, text))
        return await self._record("email", address, subject, text, offer_id, outcome)

    async def _record(
        self, channel: str, to: str, subject: str, body: str, offer_id: int | None, outcome: str
    ) -> Notification:
        note = Notification(
            at_ms=now_ms(),
            channel=channel,
            recipient=to,
            subject=subject,
            body=body if outcome == OUTBOX else redacted(body),  # sent: the phone has it
            offer_id=offer_id,
            outcome=outcome,
        )
        note_id = await self.records.notify(note)
        if outcome.startswith("failed"):
            log.warning("notification failed", extra={"channel": channel, "outcome": outcome})
        return msgspec.structs.replace(note, id=note_id)

    async def close(self) -> None:
        if self.sms is not None:
            await self.sms.close()


async def _attempt(sending: Awaitable[None]) -> str:
    try:
        await sending
    except (httpx.HTTPError, aiosmtplib.SMTPException, OSError) as exc:
        return f"failed: {type(exc).__name__}: {exc}"[:500]
    return "sent"
