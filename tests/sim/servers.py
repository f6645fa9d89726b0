"""Real server processes for the crash and two-process tests, and devices that reach them over HTTP.

A ``Server`` is ``outpost serve`` on a fixed free port, forked by a ``Zygote`` (tests.sim.launcher,
which imports the app once): it can be SIGKILLed and started again on the same database. Closing
the zygote kills every server it forked. Each server process writes its own log file, whose tail is
shown when it fails to start and which is searched for unhandled errors at the end.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from backend.auth.passwords import Passwords
from backend.auth.services import AuthService
from backend.auth.tokens import Tokens
from backend.db.engine import Database
from backend.demo import load
from tests import support
from tests.sim.harness import FaultyNetwork, NetStats, SimDevice, World, watch_pull_pages

ROOT = Path(__file__).resolve().parents[2]
JWT_SECRET = "sim-secret-" + "s" * 40
PASSWORD = "demo-pass-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(db_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    env.update(
        OUTPOST_DATABASE_URL=db_url,
        OUTPOST_AUTH_JWT_SECRET=JWT_SECRET,
        OUTPOST_AUTH_ARGON2_TIME_COST="1",
        OUTPOST_AUTH_ARGON2_MEMORY_KIB="8",
        OUTPOST_AUTH_ARGON2_PARALLELISM="1",
        OUTPOST_ENVIRONMENT="test",
        OUTPOST_VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


async def load_demo(db_url: str, var_dir: Path, extra_users: list[tuple[str, list[str], str]]) -> None:
    """Demo org, users and 30 customers, loaded into the server's database before it starts."""
    settings = support.test_settings(db_url, var_dir)
    a = settings.auth
    db = Database(db_url)
    try:
        auth = AuthService(db, a, Passwords(a), Tokens(a.jwt_secret, a.access_token_minutes))
        await load(db, auth, PASSWORD, customers_count=30)
        for username, roles, org in extra_users:
            await auth.create_user(username, PASSWORD, roles, org)
    finally:
        await db.dispose()


class Zygote:
    """The ``tests.sim.launcher`` process: imports the app once, forks a server process per start."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.proc: asyncio.subprocess.Process | None = None
        self.exits: dict[int, int] = {}
        self.children: set[int] = set()
        self._forked: asyncio.Queue[int] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        self._stderr = (self.log_dir / "zygote.log").open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.sim.launcher",
            cwd=ROOT,
            env=self.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr,
        )
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._ready.wait(), 120)

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            parts = raw.decode().split()
            if parts == ["ready"]:
                self._ready.set()
            elif len(parts) == 2 and parts[0] == "pid":
                self.children.add(int(parts[1]))
                await self._forked.put(int(parts[1]))
            elif len(parts) == 3 and parts[0] == "exit":
                self.exits[int(parts[1])] = int(parts[2])

    async def fork(self, port: int, log: Path) -> int:
        assert self.proc is not None and self.proc.stdin is not None
        async with self._lock:
            self.proc.stdin.write(f"start {port} {log}\n".encode())
            await self.proc.stdin.drain()
            return await asyncio.wait_for(self._forked.get(), 30)

    async def close(self) -> None:
        """Ends the zygote; it SIGKILLs every server it forked that still runs."""
        if self.proc is None:
            return
        if self.proc.returncode is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                await asyncio.wait_for(self.proc.wait(), 20)
            except (TimeoutError, BrokenPipeError, ConnectionResetError):
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        for pid in self.children - set(self.exits):  # only if the zygote died before its children
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._stderr.close()


class Server:
    """One ``outpost serve`` process at a time on a fixed port, restartable on the same database."""

    def __init__(self, name: str, zygote: Zygote, *, port: int | None = None) -> None:
        self.name, self.zygote = name, zygote
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.pid: int | None = None
        self.starts = 0
        self.logs: list[Path] = []

    async def start(self) -> None:
        assert not self.running, "the server is already running"
        self.starts += 1
        log = self.zygote.log_dir / f"{self.name}-{self.starts}.log"
        self.logs.append(log)
        self.pid = await self.zygote.fork(self.port, log)
        await self.wait_healthy()

    async def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while True:
                if not self.running:
                    raise AssertionError(f"{self.name} exited with {self.exit_code}:\n{self.log_tail()}")
                try:
                    r = await client.get("/api/health")
                    if r.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} did not become healthy in {timeout}s:\n{self.log_tail()}")
                await asyncio.sleep(0.05)

    @property
    def exit_code(self) -> int | None:
        return None if self.pid is None else self.zygote.exits.get(self.pid)

    @property
    def running(self) -> bool:
        return self.pid is not None and self.pid not in self.zygote.exits

    def kill(self) -> None:
        if self.running:
            assert self.pid is not None
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    async def wait_exit(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while self.running:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not exit in {timeout}s")
            await asyncio.sleep(0.02)
        code = self.exit_code
        assert code is not None
        return code

    def log_tail(self, lines: int = 40) -> str:
        if not self.logs or not self.logs[-1].exists():
            return "(no log)"
        return "\n".join(self.logs[-1].read_text(errors="replace").splitlines()[-lines:])

    def logged_errors(self) -> list[str]:
        """Unhandled errors any process of this server logged (a 500 is always a bug)."""
        found = []
        for path in self.logs:
            text = path.read_text(errors="replace") if path.exists() else ""
            if "Traceback" in text or "unhandled error" in text:
                found.append(f"{path.name}:\n" + "\n".join(text.splitlines()[-30:]))
        return found


class Http:
    """Clients for one or more servers; a device may talk to a different one on every request."""

    def __init__(self, servers: list[Server]) -> None:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        self.clients = [httpx.AsyncClient(base_url=s.base_url, timeout=30.0, limits=limits) for s in servers]
        self._rest_rng = random.Random(0)
        self.used = [0] * len(servers)  # sync requests sent to each server

    async def aclose(self) -> None:
        for c in self.clients:
            await c.aclose()

    async def login(self, username: str, device: str) -> dict[str, Any]:
        r = await self.clients[0].post(
            "/api/auth/login", json={"username": username, "password": PASSWORD, "deviceName": device}
        )
        assert r.status_code == 200, r.text
        return r.json()

    def sender(self, access: str, rng: random.Random):
        """A raw transport for one device: real HTTP, a random server each request, ConnectionError
        for anything the network or a dying server does."""

        async def send(path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
            n = rng.randrange(len(self.clients))
            self.used[n] += 1
            client = self.clients[n]
            try:
                r = await client.post(path, json=body, headers={"authorization": f"Bearer {access}", **headers})
            except httpx.TransportError as e:
                raise ConnectionError(f"{type(e).__name__}: {e}") from e
            try:
                return r.status_code, r.json()
            except ValueError:
                return r.status_code, {"raw": r.text[:300]}

        return send

    async def rest(self, access: str, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        client = self._rest_rng.choice(self.clients)
        if body is not None:
            kw["json"] = body
        return await client.request(method, path, headers={"authorization": f"Bearer {access}"}, **kw)


class RestUser:
    """A logged-in REST user over real HTTP, shaped like tests.support.Session for the reassigner."""

    def __init__(self, http: Http, access: str) -> None:
        self.http, self.access = http, access

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.rest(self.access, "GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return await self.http.rest(self.access, "POST", path, body, **kw)

    async def patch(self, path: str, body: Any) -> httpx.Response:
        return await self.http.rest(self.access, "PATCH", path, body)


async def http_devices(
    http: Http, world: World, fleet: list[tuple[str, int]], seed: int, stats: NetStats, **net: Any
) -> list[SimDevice]:
    """Log each device in over HTTP and give it a sync client on a (possibly faulty) network."""
    devices = []
    for username, count in fleet:
        user = world.users[username]
        for i in range(count):
            b = await http.login(username, f"{username}-phone-{i}")
            rng = random.Random(f"{seed}:net:{username}:{i}")
            dev = SimDevice(
                label=f"{username}#{i}",
                username=username,
                user_id=user["id"],
                role=user["roles"][0],
                org_code=user["org_code"],
                device_id=b["deviceId"],
                net=FaultyNetwork(http.sender(b["accessToken"], rng), rng, stats, **net),
            )
            watch_pull_pages(dev, world)
            devices.append(dev)
    return devices
