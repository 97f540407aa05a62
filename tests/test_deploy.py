"""compose.yaml, the Dockerfile and the nginx configuration, checked against the repo and
the hub's settings (no registry is reachable here, so nothing is pulled or run): Debian's
`docker-compose config` accepts the file, Debian's `nginx -t` the configuration compose
mounts, and what the file promises (health checks, one secret, node ids, drain before the
kill, no published port but nginx's) holds."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

from hub.config import Settings
from tests.conftest import need_program

ROOT = Path(__file__).resolve().parent.parent
NGINX = ROOT / "deploy" / "nginx"


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def hubs(services: dict) -> dict[str, dict]:
    return {name: s for name, s in services.items() if name.startswith("hub-")}


def seconds(text: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * (60 if unit == "m" else 1)


def test_compose_has_every_service_with_a_health_check():
    services = compose()["services"]
    assert {"redis", "postgres", "nginx", "locust"} <= set(services)
    assert len(hubs(services)) >= 2
    for name in ("redis", "postgres", *hubs(services)):
        assert services[name]["healthcheck"]["test"], name
    assert "--appendonly" in services["redis"]["command"]
    assert (
        services["redis"]["command"][services["redis"]["command"].index("--appendonly") + 1]
        == "yes"
    )
    assert services["locust"]["profiles"] == ["load"]


def test_hub_nodes_share_one_secret_have_their_own_ids_and_drain_before_the_kill():
    services = compose()["services"]
    nodes = hubs(services)
    ids = [n["environment"]["HUB_NODE_ID"] for n in nodes.values()]
    assert len(set(ids)) == len(ids) == len(nodes)
    secrets = {n["environment"]["HUB_TOKEN_SECRET"] for n in nodes.values()}
    assert len(secrets) == 1 and secrets.pop().startswith("${HUB_TOKEN_SECRET:?")
    for name, node in nodes.items():
        env = node["environment"]
        assert env["HUB_HOST"] == "0.0.0.0" and "ports" not in node, name
        Settings(**{k[4:].lower(): v for k, v in env.items() if "${" not in v})  # all real
        assert seconds(node["stop_grace_period"]) > float(env["HUB_DRAIN_S"])
        assert "/healthz" in " ".join(node["healthcheck"]["test"])  # liveness, not /readyz
        for needed in ("redis", "postgres"):
            assert node["depends_on"][needed]["condition"] == "service_healthy"
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"nginx", "locust"}


def test_nginx_in_compose_mounts_the_repos_configuration_and_balances_every_node():
    services = compose()["services"]
    mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in services["nginx"]["volumes"])
    assert mounts == {
        "./deploy/nginx/compose.conf": "/etc/nginx/conf.d/default.conf",
        "./deploy/nginx/upgrade.conf": "/etc/nginx/hub/upgrade.conf",
        "./deploy/nginx/proxy.conf": "/etc/nginx/hub/proxy.conf",
    }
    for local in mounts:
        assert (ROOT / local).is_file(), local
    site = (NGINX / "compose.conf").read_text()
    upstream = re.findall(r"server (hub-\d+):8000 max_fails=0;", site)
    assert sorted(upstream) == sorted(hubs(services))
    assert "least_conn;" in site
    proxy = (NGINX / "proxy.conf").read_text()
    for needed in (
        "proxy_set_header Host $http_host;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_buffering off;",
    ):
        assert needed in proxy
    assert "map $http_upgrade $connection_upgrade" in (NGINX / "upgrade.conf").read_text()


def test_nginx_accepts_the_configuration_compose_mounts(tmp_path):
    need_program("nginx", "Debian's nginx (apt-get install nginx)")
    site = (NGINX / "compose.conf").read_text()
    site = re.sub(r"server hub-\d+:8000", "server 127.0.0.1:8000", site)  # no compose DNS here
    site = site.replace("/etc/nginx/hub/", f"{NGINX}/").replace("listen 80;", "listen 127.0.0.1:1;")
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\n{site}\n}}\n"
    )
    checked = subprocess.run(
        ["nginx", "-t", "-c", str(conf)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr


def test_docker_compose_accepts_the_file_and_refuses_it_without_the_secret():
    need_program("docker-compose", "Debian's docker-compose (apt-get install docker-compose)")
    env = {k: v for k, v in os.environ.items() if k != "HUB_TOKEN_SECRET"}
    run = ["docker-compose", "-f", str(ROOT / "compose.yaml")]
    ok = subprocess.run(
        [*run, "--profile", "load", "config", "-q"],
        env={**env, "HUB_TOKEN_SECRET": "s" * 64},
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run([*run, "config", "-q"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "HUB_TOKEN_SECRET" in refused.stderr


def test_the_dockerfile_builds_every_stage_from_files_in_the_repo():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)$", text, re.M)
    assert stages == ["web", "build", "hub", "load"]
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        for source in line.split()[:-1]:
            assert (ROOT / source).exists(), source
    assert 'CMD ["hub", "serve"]' in text and "HUB_WEB_DIR=/opt/hub-web" in text
