"""``python -m bench <scenario>``: progress on stderr, one JSON object as the last stdout line."""

from __future__ import annotations

import argparse
import sys

import msgspec


def main(argv: list[str] | None = None) -> None:
    top = argparse.ArgumentParser(prog="python -m bench")
    scenarios = top.add_subparsers(dest="scenario", required=True)
    p = scenarios.add_parser("ingest", help="GPS ingest throughput vs a bare websocket server")
    p.add_argument(
        "--engine",
        choices=["memory", "redis"],
        default="memory",
        help="memory = memory+SQLite (embedded); redis = Redis+PostgreSQL",
    )
    p.add_argument("--quick", action="store_true", help="fewer sessions, shorter run")
    p = scenarios.add_parser("match", help="k nearest eligible providers vs Redis GEOSEARCH")
    p.add_argument("--quick", action="store_true", help="20,000 providers, fewer queries")
    p = scenarios.add_parser("search", help="beneficiary search by CPF, plate, name piece")
    p.add_argument("--quick", action="store_true", help="100,000 beneficiaries, not 1,000,000")
    p = scenarios.add_parser("offer", help="offer round trip and deadlines under auto dispatch")
    p.add_argument("--engine", choices=["memory", "redis"], default="memory")
    p.add_argument("--quick", action="store_true", help="30 apps, 60 attendances")
    p = scenarios.add_parser("fanout", help="status updates fanned out to console subscribers")
    p.add_argument("--subscribers", type=int, default=1000)
    p.add_argument("--quick", action="store_true", help="at most 200 subscribers, 200 changes")
    p = scenarios.add_parser("cluster", help="GPS load through nginx to 1 node, then 2")
    p.add_argument("--quick", action="store_true", help="50 sessions, 5 s per phase")
    p = scenarios.add_parser("reports", help="the report page's queries over 90 days of records")
    p.add_argument("--quick", action="store_true", help="100,000 attendances, not 1,000,000")
    p = scenarios.add_parser("fsync", help="a disk flush after an idle gap vs back to back")
    p.add_argument("--quick", action="store_true", help="100 flushes per gap, not 300")
    p = scenarios.add_parser("sessions", help="idle-but-alive sessions held by one hub")
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--quick", action="store_true", help="at most 1,000 sessions")
    args = top.parse_args(argv)
    if args.scenario == "ingest":
        from bench import ingest

        result = ingest.main(args.engine, args.quick)
    elif args.scenario == "search":
        from bench import search

        result = search.main(args.quick)
    elif args.scenario == "fanout":
        from bench import fanout

        result = fanout.main(args.quick, args.subscribers)
    elif args.scenario == "offer":
        from bench import offer

        result = offer.main(args.engine, args.quick)
    elif args.scenario == "reports":
        from bench import reports

        result = reports.main(args.quick)
    elif args.scenario == "cluster":
        from bench import cluster

        result = cluster.main(args.quick)
    elif args.scenario == "fsync":
        from bench import fsync

        result = fsync.main(args.quick)
    elif args.scenario == "match":
        from bench import match

        result = match.main(args.quick)
    else:
        from bench import sessions

        result = sessions.main(args.count, args.quick)
    sys.stdout.write(msgspec.json.encode(result).decode() + "\n")


if __name__ == "__main__":
    main()
