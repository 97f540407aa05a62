# The hub's image: compose.yaml builds it for every node (target `hub`) and for the locust
# service (target `load`).  Nothing here is pulled at run time: the console's Leaflet is
# installed at build time, the compiled index and fix filter are built here.

# Leaflet for the console's map (web/package.json), as `make install` gets it.
FROM node:22-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# The package and its compiled modules (Cython needs a C compiler: build stage only).
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY hub ./hub
RUN python -m venv /opt/hub && /opt/hub/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm AS hub
COPY --from=build /opt/hub /opt/hub
COPY web /opt/hub-web
COPY --from=web /src/web/node_modules /opt/hub-web/node_modules
RUN useradd --system --uid 10001 --no-create-home hub
USER hub
WORKDIR /tmp
# HUB_HOST stays loopback by default: compose sets 0.0.0.0 on its private network only.
ENV PATH=/opt/hub/bin:$PATH HUB_WEB_DIR=/opt/hub-web HUB_PORT=8000 PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# SIGTERM drains (HUB_DRAIN_S, 10 s): give the container longer than that to stop.
STOPSIGNAL SIGTERM
CMD ["hub", "serve"]

# Locust with the hub's users (bench/locustfile.py); the hub package gives it tokens' shapes
# and the wire schema.
FROM hub AS load
USER root
RUN /opt/hub/bin/pip install --no-cache-dir "locust>=2.30" "websockets>=15"
COPY bench/locustfile.py /opt/hub-load/locustfile.py
USER hub
EXPOSE 8089
ENTRYPOINT ["locust", "-f", "/opt/hub-load/locustfile.py"]
CMD ["--help"]
