"""``python -m bench.sync [--engine sqlite|postgres|both] [--rows 60000] [--server inprocess|uvicorn]``.

For each engine and each data size (``--rows`` and a tenth of it, to show the incremental pull is
flat), in a fresh database: bulk-load the data (bench/sync/seed.py), start the real app — in-process
(``create_app`` behind ``httpx.ASGITransport``, the default) or as ``outpost serve`` (uvicorn) in a
subprocess — log rep1 in, then measure

1. the first pull of rep1's whole scope, from ``cookie: null`` to the last page;
2. an incremental pull with nothing changed (median of ``--inc`` pulls);
3. push throughput: batches of 100 mutations (50 customer.update, 25 contact.create,
   25 customer.create), sent one after the other by one device;

and, as a by-product, the incremental pull that brings those pushed changes back.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import uvloop

from backend.db.engine import Database
from bench.sync import cases
from bench.sync.env import (
    DEFAULT_PG_URL,
    bench_settings,
    database,
    load,
    login,
    machine,
    running_app,
    uvicorn_server,
)
from bench.sync.seed import PASSWORD, Seeded, seed

TARGET_FIRST_PULL_S = 3.0
TARGET_INC_PULL_MS = 10.0
TARGET_PUSH_PER_S = 2000.0


@dataclass
class Result:
    engine: str
    load: str  # 1-minute load average before and after
    seeded: Seeded
    first: cases.FirstPull
    inc: cases.Timings
    push: cases.Push
    changes: tuple[float, int, int]


async def run_one(engine: str, rows: int, args: argparse.Namespace) -> Result:
    load_before = load()
    async with database(engine, args.pg_url) as url, AsyncExitStack() as stack:
        var = stack.enter_context(tempfile.TemporaryDirectory(prefix="outpost-bench-var-"))
        settings = bench_settings(url, Path(var))
        db = Database(url, pool_size=settings.db.pool_size, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
        try:
            seeded = await seed(db, settings, rows)
        finally:
            await db.dispose()
        print(
            f"  [{engine} {rows:>7,}] seeded {seeded.customers:,} customers + {seeded.contacts:,} contacts for rep1, "
            f"{seeded.other_rows:,} rows for rep2, version {seeded.version:,} in {seeded.seconds:.1f} s",
            flush=True,
        )
        checks = Database(url)  # the benchmark's own connection, to check that no mutation was rejected
        stack.push_async_callback(checks.dispose)
        if args.server == "uvicorn":
            http = await stack.enter_async_context(uvicorn_server(settings))
        else:
            _, http = await stack.enter_async_context(running_app(settings))
        dev = await login(http, "rep1", PASSWORD, "bench-phone")
        first = await cases.first_pull(dev, seeded.rows, args.runs)
        print(f"  [{engine} {rows:>7,}] first pull {first.seconds:.2f} s, {first.pages} pages", flush=True)
        inc = await cases.incremental_pull(dev, first.cookie, args.inc)
        print(f"  [{engine} {rows:>7,}] incremental pull {inc.median_ms:.2f} ms", flush=True)
        pushed = await cases.push(checks, dev, seeded, args.push_batches)
        print(f"  [{engine} {rows:>7,}] push {pushed.per_s:,.0f} mutations/s", flush=True)
        changes = await cases.changes_pull(dev, first.cookie)
    return Result(engine, f"{load_before}→{load()}", seeded, first, inc, pushed, changes)


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISS"


def report(info: dict[str, str], results: list[Result], args: argparse.Namespace) -> str:
    lines = ["", "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), ""]
    server = (
        "in-process: backend.app.create_app behind httpx.ASGITransport"
        if args.server == "inprocess"
        else "`outpost serve` (uvicorn) in a subprocess, HTTP over loopback"
    )
    lines.append(f"Server {server}; one device (rep1), sequential requests; pull page size 5000 (default).")
    lines.append(
        f"Scope: rows/2 customers + rows/2 contacts assigned to rep1, plus rows/10 rows of rep2 outside it. "
        f"First pull: median of {args.runs}; incremental: median/p95 of {args.inc}; push: "
        f"{args.push_batches} timed batches of 100 (50 customer.update, 25 contact.create, 25 customer.create)."
    )
    lines.append("")
    header = (
        "engine",
        "rows",
        "first pull s",
        "pages",
        "rows/s",
        "MB",
        "json dec s",
        "inc pull ms (p95)",
        "push mut/s",
        "batch ms (p95)",
        "changes pull",
        "load",
    )
    table: list[tuple[str, ...]] = [header]
    for r in results:
        f = r.first
        table.append(
            (
                r.engine,
                f"{r.seeded.rows:,}",
                f"{f.seconds:.2f} {_mark(f.seconds <= TARGET_FIRST_PULL_S)}",
                str(f.pages),
                f"{f.rows_per_s:,.0f}",
                f"{f.mbytes:.1f}",
                f"{f.decode_seconds:.2f}",
                f"{r.inc.median_ms:.2f} ({r.inc.p95_ms:.2f}) {_mark(r.inc.median_ms <= TARGET_INC_PULL_MS)}",
                f"{r.push.per_s:,.0f} {_mark(r.push.per_s >= TARGET_PUSH_PER_S)}",
                f"{r.push.batch_ms.median_ms:.0f} ({r.push.batch_ms.p95_ms:.0f})",
                f"{r.changes[2]:,} ops/{r.changes[1]} pg {r.changes[0] * 1000:.0f} ms",
                r.load,
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for n, row in enumerate(table):
        lines.append(
            "  ".join(
                cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(
        f"Targets: first pull ≤ {TARGET_FIRST_PULL_S:.0f} s, incremental pull ≤ {TARGET_INC_PULL_MS:.0f} ms, "
        f"push ≥ {TARGET_PUSH_PER_S:,.0f} mutations/s. 'json dec s' is client-side decoding included in the "
        "first-pull time; 'changes pull' is the incremental pull that brings the pushed changes back; "
        "'load' is the 1-minute load average before→after (figures taken under load are not comparable)."
    )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    sizes = sorted({min(max(args.rows // 10, 1000), args.rows), args.rows}) if not args.only_rows else [args.rows]
    info = await machine(args.pg_url if "postgres" in engines else None)
    results: list[Result] = []
    for engine in engines:
        for rows in sizes:
            results.append(await run_one(engine, rows, args))
    print(report(info, results, args))
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__.split("\n\n")[0])
    p.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--rows", type=int, default=60_000, help="rows in rep1's scope (half customers, half contacts)")
    p.add_argument(
        "--server",
        choices=("inprocess", "uvicorn"),
        default="inprocess",
        help="the app in this process behind httpx.ASGITransport, or `outpost serve` (uvicorn) in a subprocess",
    )
    p.add_argument("--only-rows", action="store_true", help="skip the run at a tenth of --rows")
    p.add_argument("--runs", type=int, default=3, help="first pulls per size (median reported)")
    p.add_argument("--inc", type=int, default=200, help="incremental pulls per size (median reported)")
    p.add_argument("--push-batches", type=int, default=50, help="timed push batches of 100 mutations")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("OUTPOST_BENCH_POSTGRES_URL", DEFAULT_PG_URL),
        help="PostgreSQL server to create a scratch database on (dropped afterwards)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    for name in ("httpx", "alembic"):  # a line per request / per migration otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    args = parse(argv)
    # The event loop `outpost serve` runs on (uvicorn picks uvloop when it is installed, as it is).
    return uvloop.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
