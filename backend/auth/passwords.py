"""argon2id password hashing; the cost comes from settings (tests use cheap values).

A hash at the production cost takes ~0.1-0.3 s of CPU and 64 MiB. The service computes them with
``verify_in_worker``/``hash_in_worker``: in a worker thread (argon2 releases the GIL), never on the
event loop nor inside a database transaction, and at most ``hash_concurrency`` at once, so a rush of
logins queues behind itself instead of stalling every other request. The hashing threads also run at a
lower CPU priority (Linux: niceness is per thread, and the threads argon2 starts for its lanes inherit
it), so the event loop's thread gets a core first when both want one.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.settings import AuthSettings

MIN_PASSWORD_LENGTH = 8
#: How much nicer than the rest of the process the hashing threads are (0-19).
HASH_NICENESS = 10


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: the semaphore still bounds them
        pass


class Passwords:
    def __init__(self, s: AuthSettings):
        self._hasher = PasswordHasher(
            time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib, parallelism=s.argon2_parallelism
        )
        self._concurrency = max(1, s.hash_concurrency)
        self._gate: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._executor: ThreadPoolExecutor | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        return self._hasher.check_needs_rehash(hashed)

    #: A hash to verify against when the user does not exist, so timing does not reveal usernames.
    def dummy(self) -> str:
        if not hasattr(self, "_dummy"):
            self._dummy = self._hasher.hash("not-a-real-password")
        return self._dummy

    # ------------------------------------------------------------ off the event loop, bounded

    def _semaphore(self) -> asyncio.Semaphore:
        """One gate per event loop (the CLI runs several ``asyncio.run`` one after another)."""
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate[0] is not loop:
            self._gate = (loop, asyncio.Semaphore(self._concurrency))
        return self._gate[1]

    async def _in_worker(self, fn: Callable[[], Any]) -> Any:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._concurrency, thread_name_prefix="argon2", initializer=_lower_priority
            )
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def hash_in_worker(self, password: str) -> str:
        async with self._semaphore():
            return str(await self._in_worker(lambda: self.hash(password)))

    async def verify_in_worker(
        self, hashed: str | None, password: str, before: Callable[[], Awaitable[None]] | None = None
    ) -> tuple[bool, str | None]:
        """Check ``password`` against ``hashed`` (``None``: an unknown user, checked against the dummy hash
        so the answer takes as long). Returns whether it matched and, when the stored hash was made with
        other parameters, a new hash to store. ``before`` runs once the slot is ours (it may raise)."""

        def work() -> tuple[bool, str | None]:
            if hashed is None:
                self.verify(self.dummy(), password)
                return False, None
            if not self.verify(hashed, password):
                return False, None
            return True, (self.hash(password) if self.needs_rehash(hashed) else None)

        async with self._semaphore():
            if before is not None:
                await before()
            result: tuple[bool, str | None] = await self._in_worker(work)
            return result
