"""The `hub` command, run as a real subprocess against a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hub.state.migrations import scripts
from tests.conftest import need, postgres_schema


def hub(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def registry_round_trip(env: dict[str, str]) -> None:
    migrated = hub("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    engine = "postgres" if "HUB_DATABASE_URL" in env else "sqlite"
    assert json.loads(migrated.stdout)["applied"] == [name for name, _ in scripts(engine)]
    assert len(scripts(engine)) >= 3
    assert json.loads(hub("migrate", env=env).stdout)["applied"] == []
    added = json.loads(
        hub("provider", "add", "--name", "Guincho", "--phone", "+5511912345678", env=env).stdout
    )
    assert added["name"] == "Guincho" and added["token_version"] == 1
    token = json.loads(hub("provider", "token", str(added["id"]), env=env).stdout)
    assert token["provider_id"] == added["id"] and token["token"].count(".") == 2
    revoked = json.loads(hub("provider", "revoke", str(added["id"]), env=env).stdout)
    assert revoked["token_version"] == 2
    listed = json.loads(hub("provider", "list", env=env).stdout)
    assert [p["id"] for p in listed] == [added["id"]]
    off = json.loads(hub("provider", "active", str(added["id"]), "off", env=env).stdout)
    assert off["active"] is False
    admin = json.loads(hub("admin", "token", env=env).stdout)
    assert admin["token"].count(".") == 2


def test_registry_commands_on_sqlite(tmp_path):
    registry_round_trip({"HUB_SQLITE_PATH": str(tmp_path / "cli.sqlite3")})


async def test_registry_commands_on_postgres():
    async with postgres_schema() as schema:
        registry_round_trip({"HUB_DATABASE_URL": need("postgres"), "HUB_POSTGRES_SCHEMA": schema})


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["provider", "token", "99"], {}, "not_found: no provider 99"),
        (["provider", "add", "--name", "x", "--phone", "1"], {}, "is not a phone number"),
        (["serve"], {"HUB_PORT": "huge"}, "HUB_PORT"),
        (["migrate"], {"HUB_NOT_A_SETTING": "1"}, "unknown setting HUB_NOT_A_SETTING"),
        (
            ["migrate"],
            {"HUB_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"},
            "store_unavailable",
        ),
    ],
)
def test_errors_are_one_clear_line_and_exit_2(tmp_path, args, env, message):
    result = hub(*args, env={"HUB_SQLITE_PATH": str(tmp_path / "e.sqlite3"), **env})
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_config_prints_the_settings_table(tmp_path):
    result = hub("config", env={})
    assert result.returncode == 0
    assert "| `HUB_REDIS_URL` |" in result.stdout


def test_csv_import_and_export(tmp_path):
    env = {"HUB_SQLITE_PATH": str(tmp_path / "csv.sqlite3")}
    good = tmp_path / "good.csv"
    good.write_text("name;phone;services\nGuincho;11999990000;light_tow\nTáxi;11988887777;taxi\n")
    result = hub("provider", "import", str(good), env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["imported"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("name;phone;services\nOk;11999990000;taxi\nNo;12;rocket\n")
    refused = hub("provider", "import", str(bad), env=env)
    assert refused.returncode == 2
    assert f"{bad}: line 3, column phone: " in refused.stderr
    assert f"{bad}: line 3, column services: unknown service 'rocket'" in refused.stderr
    out = tmp_path / "out.csv"
    assert hub("provider", "export", "--output", str(out), env=env).returncode == 0
    assert [line.split(";")[1] for line in out.read_text().splitlines()[1:]] == ["Guincho", "Táxi"]
    missing = hub("provider", "import", str(tmp_path / "nope.csv"), env=env)
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr


def test_first_admin_from_the_cli(tmp_path):
    env = {"HUB_SQLITE_PATH": str(tmp_path / "users.sqlite3")}
    add = ("user", "add", "--name", "Root", "--password-stdin")
    result = hub(
        *add, "--login", "root", "--role", "admin", env=env, stdin="correct horse battery\n"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["role"] == "admin"
    weak = hub(*add, "--login", "other", env=env, stdin="short\n")
    assert weak.returncode == 2
    assert "password must have at least 10 characters" in weak.stderr


def test_a_base_file_from_the_command_line(tmp_path):
    env = {"HUB_SQLITE_PATH": str(tmp_path / "hub.sqlite3")}
    assert hub("migrate", env=env).returncode == 0
    import asyncio

    from hub.config import load_settings
    from hub.engines import open_records
    from hub.operations.beneficiaries import NewPlan
    from hub.operations.clients import NewClient

    async def seed() -> int:
        records = await open_records(load_settings(env))
        client = await records.clients.add(NewClient(name="C"), 0)
        await records.plans.add(NewPlan(client_id=client.id, name="Ouro", coverage={}))
        await records.close()
        return client.id

    client_id = asyncio.run(seed())
    good = tmp_path / "base.csv"
    good.write_text("cpf;name;plan;plate\n529.982.247-25;João;Ouro;ABC1234\n", encoding="utf-8")
    done = hub("beneficiary", "import", "--client", str(client_id), str(good), env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["imported"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("cpf;name;plan\n123;X;Ouro\n", encoding="utf-8")
    refused = hub("beneficiary", "import", "--client", str(client_id), str(bad), env=env)
    assert refused.returncode == 2
    assert "bad.csv: line 2, column cpf:" in refused.stderr
