"""The ``hub`` command: serve, migrate, and the admin actions of the provider registry."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import uvicorn

from hub import logs
from hub.config import ConfigError, Settings, load_settings, markdown_table
from hub.errors import BadRequest, HubError
from hub.operations import accounts, registry
from hub.operations.providers import NewProvider
from hub.operations.users import NewUser, Role, User
from hub.state.records import Records


def uvicorn_config(settings: Settings) -> uvicorn.Config:
    from hub.app import create_app
    from hub.channels.lean_ws import LeanWebSocketProtocol

    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        ws=LeanWebSocketProtocol,  # uvicorn's websockets-sansio, lighter per held socket
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False,  # provider links: deflate costs ~64 KiB per socket
        ws_ping_interval=settings.ws_ping_interval_s or None,
        ws_ping_timeout=settings.ws_ping_interval_s or None,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )


def _print(value: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value)).decode() + "\n")


async def _with_records(
    settings: Settings, work: Callable[[Records], Awaitable[Any]], migrate: bool
) -> Any:
    from hub.engines import open_records

    records = await open_records(settings, migrate=migrate)
    try:
        return await work(records)
    finally:
        await records.close()


def _run(
    settings: Settings, work: Callable[[Records], Awaitable[Any]], *, migrate: bool = True
) -> None:
    _print(asyncio.run(_with_records(settings, work, migrate)))


def serve(settings: Settings, args: argparse.Namespace) -> None:
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = msgspec.structs.replace(settings, **overrides)
    logs.configure(settings.log_level)
    from hub.serving import HubServer

    HubServer(uvicorn_config(settings), settings.drain_s).run()


def cluster(settings: Settings, args: argparse.Namespace) -> None:
    from hub import cluster

    logs.configure(settings.log_level)
    cluster.run(settings, args.nodes, args.port, args.proxy_read_timeout)


def migrate(settings: Settings, args: argparse.Namespace) -> None:
    async def work(records: Records) -> dict[str, Any]:
        return {"engine": settings.records_engine, "applied": await records.migrate()}

    _run(settings, work, migrate=False)


def provider_add(settings: Settings, args: argparse.Namespace) -> None:
    new = NewProvider(name=args.name, phone=args.phone, active=not args.inactive)
    _run(settings, lambda records: registry.register(records, new))


def _csv_import(
    path: str, settings: Settings, work: Callable[[Records, str], Awaitable[Any]]
) -> None:
    """Read a CSV file and import it; every refused row on stderr, one line each."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRequest(f"cannot read {path}: {exc}") from None
    try:
        _run(settings, lambda records: work(records, text))
    except registry.ImportRefused as exc:
        for row in exc.rows:
            where = f"line {row.row}" + (f", column {row.column}" if row.column else "")
            sys.stderr.write(f"{path}: {where}: {row.message}\n")
        raise


def provider_import(settings: Settings, args: argparse.Namespace) -> None:
    async def work(records: Records, text: str) -> registry.ImportReport:
        return registry.report(await registry.import_csv(records, text))

    _csv_import(args.file, settings, work)


def beneficiary_import(settings: Settings, args: argparse.Namespace) -> None:
    from hub.operations.beneficiary_csv import import_base_file

    async def work(records: Records, text: str) -> dict[str, Any]:
        if await records.clients.get(args.client) is None:
            raise BadRequest(f"no client {args.client}")
        made = await import_base_file(records, args.client, text)
        return {"imported": len(made), "ids": [b.id for b in made]}

    _csv_import(args.file, settings, work)


def provider_export(settings: Settings, args: argparse.Namespace) -> None:
    async def work(records: Records) -> str:
        return await registry.export_csv(records)

    text = asyncio.run(_with_records(settings, work, True))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def provider_list(settings: Settings, args: argparse.Namespace) -> None:
    _run(settings, lambda records: records.providers.page(after_id=args.after, limit=args.limit))


def outbox(settings: Settings, args: argparse.Namespace) -> None:
    _run(
        settings,
        lambda records: records.dispatch.notifications(after_id=args.after, limit=args.limit),
    )


def provider_token(settings: Settings, args: argparse.Namespace) -> None:
    from hub.engines import token_issuer

    async def work(records: Records) -> registry.IssuedToken:
        return await registry.issue_token(
            records, await token_issuer(settings, records), args.provider_id
        )

    _run(settings, work)


def provider_revoke(settings: Settings, args: argparse.Namespace) -> None:
    _run(settings, lambda records: registry.revoke_tokens(records, args.provider_id))


def provider_rotate_key(settings: Settings, args: argparse.Namespace) -> None:
    _run(settings, lambda records: registry.rotate_device_key(records, args.provider_id))


def provider_active(settings: Settings, args: argparse.Namespace) -> None:
    active = args.state == "on"
    _run(settings, lambda records: registry.set_active(records, args.provider_id, active))


def user_add(settings: Settings, args: argparse.Namespace) -> None:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.login}: ")
    new = NewUser(login=args.login, name=args.name, role=Role(args.role), password=password)

    async def work(records: Records) -> User:
        created = await accounts.add_user(records, new)
        await accounts.audit(
            records, "cli:local", "user.add", f"user:{created.id}", created.role.value
        )
        return created

    _run(settings, work)


def user_set(settings: Settings, args: argparse.Namespace) -> None:
    role = None if args.role is None else Role(args.role)
    active = None if args.active is None else args.active == "on"
    patch = accounts.UserPatch(role=role, active=active)

    async def work(records: Records) -> User:
        changed = await accounts.change_user(records, args.user_id, patch)
        detail = ",".join(
            f"{k}={v}" for k, v in (("role", args.role), ("active", active)) if v is not None
        )
        await accounts.audit(records, "cli:local", "user.change", f"user:{changed.id}", detail)
        return changed

    _run(settings, work)


def user_logout(settings: Settings, args: argparse.Namespace) -> None:
    async def work(records: Records) -> User:
        ended = await accounts.end_sessions(records, args.user_id)
        await accounts.audit(records, "cli:local", "user.logout", f"user:{ended.id}")
        return ended

    _run(settings, work)


def user_delete(settings: Settings, args: argparse.Namespace) -> None:
    async def work(records: Records) -> dict[str, Any]:
        await accounts.delete_user(records, args.user_id)
        await accounts.audit(records, "cli:local", "user.delete", f"user:{args.user_id}")
        return {"deleted": args.user_id}

    _run(settings, work)


def demo(settings: Settings, args: argparse.Namespace) -> None:
    from hub.demo import load

    def progress(line: str) -> None:
        sys.stderr.write(f"hub demo: {line}\n")

    _run(
        settings,
        lambda records: load(
            records, beneficiaries=args.beneficiaries, providers=args.providers, progress=progress
        ),
    )


def admin_token(settings: Settings, args: argparse.Namespace) -> None:
    from hub.engines import admin_version, token_issuer

    async def work(records: Records) -> dict[str, Any]:
        tokens = await token_issuer(settings, records)
        now = int(time.time())
        token = tokens.admin_token(args.subject, now, await admin_version(records))
        return {"token": token, "expires_at_s": now + tokens.admin_ttl_s}

    _run(settings, work)


def admin_revoke(settings: Settings, args: argparse.Namespace) -> None:
    from hub.engines import revoke_admin_tokens

    async def work(records: Records) -> dict[str, Any]:
        version = await revoke_admin_tokens(records)
        await accounts.audit(records, "cli:local", "admin.revoke", "admin tokens", str(version))
        return {"revoked": True, "admin_token_version": version}

    _run(settings, work)


def config(settings: Settings, args: argparse.Namespace) -> None:
    sys.stdout.write(markdown_table() + "\n")


def openapi(settings: Settings, args: argparse.Namespace) -> None:
    from hub.api.openapi import render
    from hub.app import rest_operations

    sys.stdout.write(render(rest_operations()))


def asyncapi(settings: Settings, args: argparse.Namespace) -> None:
    from hub.asyncapi import render

    sys.stdout.write(render())


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="hub", description="Real-time dispatch hub.")
    commands = top.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="run the hub (HUB_* variables configure it)")
    p.add_argument("--host", help="interface to bind (default HUB_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default HUB_PORT, 8000)")
    p.set_defaults(func=serve)

    p = commands.add_parser(
        "cluster",
        help="run N nodes + nginx on loopback, on HUB_DATABASE_URL and HUB_REDIS_URL",
    )
    p.add_argument(
        "--nodes",
        type=int,
        default=2,
        choices=range(1, 17),
        metavar="N",
        help="hub nodes (1-16, default 2)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=8080,
        help="the load balancer's port; nodes take the next N (default 8080)",
    )
    p.add_argument(
        "--proxy-read-timeout",
        type=int,
        default=3600,
        metavar="S",
        help="nginx's proxy_read_timeout in seconds (default 3600)",
    )
    p.set_defaults(func=cluster)

    commands.add_parser("migrate", help="apply pending migrations").set_defaults(func=migrate)
    commands.add_parser("config", help="print the settings table").set_defaults(func=config)
    commands.add_parser("asyncapi", help="print the provider protocol as AsyncAPI 3").set_defaults(
        func=asyncapi
    )
    commands.add_parser("openapi", help="print the REST API as OpenAPI 3.1").set_defaults(
        func=openapi
    )

    provider = commands.add_parser("provider", help="the provider registry")
    actions = provider.add_subparsers(dest="action", required=True)
    p = actions.add_parser("add", help="register a provider; prints it with its device key")
    p.add_argument("--name", required=True)
    p.add_argument("--phone", required=True)
    p.add_argument("--inactive", action="store_true")
    p.set_defaults(func=provider_add)
    p = actions.add_parser("import", help="register the providers of a CSV file (all or none)")
    p.add_argument("file")
    p.set_defaults(func=provider_import)
    p = actions.add_parser("export", help="all providers as CSV")
    p.add_argument("--output", help="file to write (default: standard output)")
    p.set_defaults(func=provider_export)
    p = actions.add_parser("list", help="list providers")
    p.add_argument("--after", type=int, default=0)
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=provider_list)
    p = actions.add_parser("token", help="issue an app token")
    p.add_argument("provider_id", type=int)
    p.set_defaults(func=provider_token)
    p = actions.add_parser(
        "revoke", help="revoke every token and the device key (prints the new key, once)"
    )
    p.add_argument("provider_id", type=int)
    p.set_defaults(func=provider_revoke)
    p = actions.add_parser("rotate-key", help="a new device key (printed once); tokens stay")
    p.add_argument("provider_id", type=int)
    p.set_defaults(func=provider_rotate_key)
    p = actions.add_parser("active", help="activate or deactivate")
    p.add_argument("provider_id", type=int)
    p.add_argument("state", choices=["on", "off"])
    p.set_defaults(func=provider_active)

    beneficiary = commands.add_parser("beneficiary", help="a client's beneficiaries")
    beneficiary_actions = beneficiary.add_subparsers(dest="action", required=True)
    p = beneficiary_actions.add_parser(
        "import", help="a client's base file (CSV: beneficiaries, vehicles, plans), all or none"
    )
    p.add_argument("--client", type=int, required=True, help="the client's id")
    p.add_argument("file")
    p.set_defaults(func=beneficiary_import)
    p = commands.add_parser(
        "outbox", help="SMS and e-mail the hub sent, failed to send or kept (no gateway set)"
    )
    p.add_argument("--after", type=int, default=0, help="only those with a greater id")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=outbox)
    p = commands.add_parser("demo", help="load fictional demo data (once)")
    p.add_argument("--beneficiaries", type=int, default=1000)
    p.add_argument("--providers", type=int, default=300)
    p.set_defaults(func=demo)

    user = commands.add_parser("user", help="console users")
    user_actions = user.add_subparsers(dest="action", required=True)
    p = user_actions.add_parser("add", help="add a console user (the first admin, say)")
    p.add_argument("--login", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=[r.value for r in Role], default=Role.OPERATOR.value)
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of prompting",
    )
    p.set_defaults(func=user_add)
    p = user_actions.add_parser("set", help="change a user's role or active flag (off: logs out)")
    p.add_argument("user_id", type=int)
    p.add_argument("--role", choices=[r.value for r in Role])
    p.add_argument("--active", choices=["on", "off"])
    p.set_defaults(func=user_set)
    p = user_actions.add_parser("logout", help="end every session of a user")
    p.add_argument("user_id", type=int)
    p.set_defaults(func=user_logout)
    p = user_actions.add_parser("delete", help="remove a user (its audit entries stay)")
    p.add_argument("user_id", type=int)
    p.set_defaults(func=user_delete)

    admin = commands.add_parser("admin", help="admin credentials")
    admin_actions = admin.add_subparsers(dest="action", required=True)
    p = admin_actions.add_parser("token", help="issue an admin token for the REST API")
    p.add_argument("--subject", default="cli")
    p.set_defaults(func=admin_token)
    p = admin_actions.add_parser("revoke", help="revoke every admin token issued so far")
    p.set_defaults(func=admin_revoke)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        args.func(settings, args)
    except (ConfigError, HubError) as exc:
        code = getattr(exc, "code", "config")
        sys.stderr.write(f"hub: {code}: {exc}\n")
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
