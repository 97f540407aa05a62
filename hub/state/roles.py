"""The record roles written once for both engines, built on an engine's ``Db``: what each
records store is, besides its connections and its dispatch."""

from __future__ import annotations

from hub.state.accounts import Audit, Users
from hub.state.after_commit import AfterCommitSteps
from hub.state.beneficiaries import Beneficiaries
from hub.state.clients import Clients, Plans
from hub.state.db import Db
from hub.state.events import Attendances, Events
from hub.state.idempotency import IdempotencyKeys
from hub.state.providers import AppendChunks, Providers, Tracks
from hub.state.reports import Reports
from hub.state.track_pages import TrackPages


class RecordRoles:
    def __init__(self, db: Db, append_chunks: AppendChunks) -> None:
        self.providers = Providers(db)
        self.tracks = Tracks(db, append_chunks)
        self.users = Users(db)
        self.audit = Audit(db)
        self.clients = Clients(db)
        self.plans = Plans(db)
        self.beneficiaries = Beneficiaries(db)
        self.events = Events(db)
        self.attendances = Attendances(db)
        self.track_pages = TrackPages(db)
        self.reports = Reports(db)
        self.idempotency = IdempotencyKeys(db.fetch, db.execute)
        self.after_commit = AfterCommitSteps(db)
