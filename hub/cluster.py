"""``hub cluster``: N hub nodes and an nginx load balancer on this machine's loopback, on
the configured Redis + PostgreSQL, until Ctrl-C.

The nodes are ``hub serve`` processes (``HUB_NODE_ID`` node-1..N, ports after the load
balancer's); nginx runs with the repo's ``deploy/nginx/upgrade.conf`` and ``proxy.conf``,
the same two files compose.yaml mounts, around an upstream of these nodes.  A node that
dies is reported and the others go on (its apps come back through them); stopping sends
SIGTERM to every node, which drains, and waits for them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from hub.config import Settings
from hub.errors import BadRequest

NGINX_DIR = Path(__file__).resolve().parent.parent / "deploy" / "nginx"
READY_TIMEOUT_S = 60.0


@dataclass
class Node:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    reported: bool = False  # its exit was said


def nginx_conf(work: Path, listen_port: int, node_ports: list[int], read_timeout_s: int) -> str:
    """A whole nginx.conf for local nodes around the repo's shared upgrade and proxy
    parts; everything nginx writes stays in ``work``."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in node_ports)
    temp = "\n".join(
        f"    {kind}_temp_path {work / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# written by `hub cluster`; the shared parts are the repo's deploy/nginx/*.conf
daemon off;
worker_processes 1;
pid {work / "nginx.pid"};
error_log {work / "error.log"} warn;
events {{
    worker_connections 16384;
}}
http {{
    access_log off;
{temp}
    include {NGINX_DIR / "upgrade.conf"};
    upstream hub_nodes {{
        least_conn;
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{listen_port};
        proxy_read_timeout {read_timeout_s}s;
        proxy_send_timeout {read_timeout_s}s;
        include {NGINX_DIR / "proxy.conf"};
    }}
}}
"""


def _say(line: str) -> None:
    sys.stdout.write(f"hub cluster: {line}\n")
    sys.stdout.flush()


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait_ready(node: Node) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not _ready(node.port):
        if node.process.poll() is not None:
            raise BadRequest(f"{node.name} exited with code {node.process.returncode} at start")
        if time.monotonic() > deadline:
            raise BadRequest(f"{node.name} did not answer /healthz in {READY_TIMEOUT_S:.0f} s")
        time.sleep(0.2)


def _check(settings: Settings) -> str:
    if not settings.database_url or not settings.redis_url:
        raise BadRequest(
            "hub cluster needs HUB_DATABASE_URL and HUB_REDIS_URL: the nodes share their"
            " records (PostgreSQL) and live state (Redis)"
        )
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if nginx is None:
        raise BadRequest("nginx not found: install it (Debian: apt-get install nginx)")
    if not (NGINX_DIR / "proxy.conf").exists():
        raise BadRequest(f"the shared nginx configuration is missing: {NGINX_DIR}")
    return nginx


def run(settings: Settings, nodes: int, port: int, read_timeout_s: int) -> None:
    """Start the cluster, report, and hold it until SIGINT or SIGTERM."""
    nginx = _check(settings)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    started: list[Node] = []
    balancer: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="hub-cluster-") as tmp:
        work = Path(tmp)
        try:
            for i in range(1, nodes + 1):
                name, node_port = f"node-{i}", port + i
                env = {
                    **os.environ,
                    "HUB_NODE_ID": name,
                    "HUB_HOST": "127.0.0.1",
                    "HUB_PORT": str(node_port),
                }
                command = [sys.executable, "-m", "hub", "serve"]
                # Its own session: a terminal's Ctrl-C reaches this process only, which then
                # sends each node one SIGTERM (a second signal would stop it undrained).
                process = subprocess.Popen(command, env=env, start_new_session=True)
                started.append(Node(name, node_port, process))
            for node in started:
                _wait_ready(node)
                _say(f"{node.name} ready at http://127.0.0.1:{node.port} (pid {node.process.pid})")
            conf = work / "nginx.conf"
            conf.write_text(nginx_conf(work, port, [n.port for n in started], read_timeout_s))
            checked = subprocess.run(
                [nginx, "-t", "-q", "-c", str(conf)], capture_output=True, check=False
            )
            if checked.returncode != 0:
                raise BadRequest(f"nginx refused the configuration: {checked.stderr.decode()}")
            balancer = subprocess.Popen([nginx, "-c", str(conf)], start_new_session=True)
            while not _ready(port):
                if balancer.poll() is not None:
                    log = (work / "error.log").read_text(errors="replace")
                    raise BadRequest(f"nginx exited with code {balancer.returncode}: {log}")
                time.sleep(0.1)
            _say(f"{nodes} nodes behind http://127.0.0.1:{port} (nginx pid {balancer.pid})")
            _say("console at /console/; Ctrl-C stops everything")
            while not stopping:
                for node in started:
                    if not node.reported and node.process.poll() is not None:
                        node.reported = True
                        _say(f"{node.name} exited with code {node.process.returncode}")
                if balancer.poll() is not None:
                    raise BadRequest(f"nginx exited with code {balancer.returncode}")
                time.sleep(0.2)
        finally:
            _stop(balancer, started, settings.drain_s)


def _stop(balancer: subprocess.Popen[bytes] | None, nodes: list[Node], drain_s: float) -> None:
    """nginx at once, then every node drained together (SIGTERM), killed if they outlast
    the drain by 10 s."""
    if balancer is not None and balancer.poll() is None:
        balancer.terminate()
        balancer.wait(10)
    running = [n for n in nodes if n.process.poll() is None]
    if running:
        _say(f"stopping {len(running)} nodes (they drain for up to {drain_s:g} s)")
    for node in running:
        node.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + drain_s + 10
    for node in running:
        try:
            node.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()
    _say("stopped")
