"""Where the time goes: SQL statements per request and, optionally, a cProfile of one phase.

``python -m bench.sync.profile [--engine sqlite|postgres] [--rows 60000] [--phase push|first|inc]
[--cprofile out.prof]`` seeds a database like the benchmark, runs the phase through the real app and
prints each distinct statement's count and time (measured around the DBAPI call, so it includes the
driver and, for aiosqlite, the hop to its thread), and the share of the phase's wall time they take.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import logging
import os
import pstats
import re
import tempfile
import time
from collections import defaultdict
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import event

from backend.db.engine import Database
from bench.sync import cases
from bench.sync.env import DEFAULT_PG_URL, bench_settings, database, login, running_app
from bench.sync.seed import PASSWORD, seed


class SqlStats:
    def __init__(self) -> None:
        self.on = False
        self.count: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self._t: list[float] = []

    def attach(self, db: Database) -> None:
        eng = db.engine.sync_engine

        @event.listens_for(eng, "before_cursor_execute")
        def _before(*_: Any) -> None:
            self._t.append(time.perf_counter())

        @event.listens_for(eng, "after_cursor_execute")
        def _after(_conn: Any, _cur: Any, statement: str, *_: Any) -> None:
            t = self._t.pop() if self._t else time.perf_counter()
            if self.on:
                key = _normalise(statement)
                self.count[key] += 1
                self.seconds[key] += time.perf_counter() - t

    def report(self, wall: float, requests: int, top: int = 25) -> str:
        total = sum(self.seconds.values())
        n = sum(self.count.values())
        lines = [
            f"{requests} requests in {wall:.2f} s; {n} statements ({n / max(requests, 1):.1f} per request) "
            f"taking {total:.2f} s = {100 * total / wall:.0f}% of the wall time",
            f"{'count':>7} {'total s':>8} {'ms each':>8}  statement",
        ]
        for key in sorted(self.seconds, key=self.seconds.get, reverse=True)[:top]:  # type: ignore[arg-type]
            c, s = self.count[key], self.seconds[key]
            lines.append(f"{c:>7} {s:>8.3f} {1000 * s / c:>8.3f}  {key[:150]}")
        return "\n".join(lines)


@functools.lru_cache(maxsize=4096)
def _normalise(sql: str) -> str:
    sql = " ".join(sql.split())
    sql = re.sub(r"\(\$\d+(?:::\w+)?(?:, \$\d+(?:::\w+)?)*\)", "(…)", sql)  # asyncpg IN-lists
    sql = re.sub(r"\((?:\?, )+\?\)", "(…)", sql)  # sqlite IN-lists
    sql = re.sub(r"\b(sa_savepoint_)\d+", r"\1N", sql)
    return re.sub(r"__\[POSTCOMPILE_\w+\]", "(…)", sql)


async def run(args: argparse.Namespace) -> None:
    async with database(args.engine, args.pg_url) as url, AsyncExitStack() as stack:
        var = stack.enter_context(tempfile.TemporaryDirectory(prefix="outpost-bench-var-"))
        settings = bench_settings(url, Path(var))
        db = Database(url, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
        try:
            seeded = await seed(db, settings, args.rows)
        finally:
            await db.dispose()
        async with running_app(settings) as (app, http):
            stats = SqlStats()
            stats.attach(app.state.services.db)
            dev = await login(http, "rep1", PASSWORD, "bench-phone")
            cookie = (await cases.first_pull(dev, seeded.rows, 1)).cookie if args.phase == "inc" else ""
            profiler = cProfile.Profile() if args.cprofile else None
            print(f"phase {args.phase} starts in pid {os.getpid()}", flush=True)  # e.g. for py-spy --pid
            await asyncio.sleep(args.pause)
            stats.on = True
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            if args.phase == "first":
                result: Any = await cases.first_pull(dev, seeded.rows, 1)
                requests = result.pages
            elif args.phase == "inc":
                result = await cases.incremental_pull(dev, cookie, args.n, warmup=0)
                requests = args.n
            else:
                result = await cases.push(app.state.services.db, dev, seeded, args.n, warmup=0)
                requests = args.n
            if profiler:
                profiler.disable()
            wall = time.perf_counter() - t0
            stats.on = False
    print(f"{args.engine} {args.rows:,} rows, phase {args.phase}: {result}")
    print(stats.report(wall, requests))
    if profiler:
        profiler.dump_stats(args.cprofile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.sync.profile", description=__doc__.split("\n\n")[0])
    p.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--rows", type=int, default=60_000)
    p.add_argument("--phase", choices=("push", "first", "inc"), default="push")
    p.add_argument("-n", type=int, default=20, help="push batches or incremental pulls")
    p.add_argument("--cprofile", metavar="FILE", help="also run cProfile over the phase and save it here")
    p.add_argument("--pause", type=float, default=0.0, help="seconds to wait before the phase (to attach py-spy)")
    p.add_argument("--pg-url", default=os.environ.get("OUTPOST_BENCH_POSTGRES_URL", DEFAULT_PG_URL))
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name in ("httpx", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import uvloop

    uvloop.run(run(args))


if __name__ == "__main__":
    main()
