"""Hybrid logical clock stamps.

A stamp is a string ``"<ms:015d>:<counter:05d>:<node>"`` so that plain string comparison is the
clock order: physical milliseconds first, then the logical counter, then the node id as tie-break.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

#: The stamp's format, ``"<ms, 15 digits>:<counter, 5 digits>:<node>"``: string order is clock order.
#: It is in the protocol's JSON Schema (``Mutation.hlc``), so a client written from the schema alone
#: sends stamps the server accepts.
HLC_PATTERN = r"^(\d{15}):(\d{5}):([A-Za-z0-9._-]{1,64})$"
_HLC_RE = re.compile(HLC_PATTERN)
MAX_COUNTER = 99_999
#: An HLC more than this far ahead of the server's clock is clamped (ARCHITECTURE §3).
MAX_AHEAD_MS = 5 * 60 * 1000


class HlcError(ValueError):
    """A string that is not an HLC stamp."""


@dataclass(frozen=True, order=True, slots=True)
class Hlc:
    ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.ms:015d}:{self.counter:05d}:{self.node}"

    @classmethod
    def parse(cls, text: str) -> Hlc:
        m = _HLC_RE.match(text) if isinstance(text, str) else None
        if not m:
            raise HlcError(f"not an HLC stamp: {text!r}")
        return cls(int(m.group(1)), int(m.group(2)), m.group(3))


def is_valid(text: object) -> bool:
    return isinstance(text, str) and _HLC_RE.match(text) is not None


def clamp(stamp: str, server_ms: int, max_ahead_ms: int = MAX_AHEAD_MS) -> str:
    """Clamp a stamp that runs more than ``max_ahead_ms`` ahead of the server's clock.

    The clamped stamp takes the server's time and keeps its counter and node, so a phone whose clock
    is an hour fast cannot win every later conflict.
    """
    h = Hlc.parse(stamp)
    if h.ms > server_ms + max_ahead_ms:
        return str(Hlc(server_ms, h.counter, h.node))
    return stamp


class HybridClock:
    """A clock for one node: ``now()`` for local events, ``observe()`` for received stamps."""

    def __init__(self, node: str, wall_ms: object = None) -> None:
        if not re.match(r"^[A-Za-z0-9._-]{1,64}$", node):
            raise HlcError(f"bad node id: {node!r}")
        self.node = node
        self._wall = wall_ms if callable(wall_ms) else (lambda: int(time.time() * 1000))
        self._ms = 0
        self._counter = 0

    def now(self) -> str:
        wall = int(self._wall())
        if wall > self._ms:
            self._ms, self._counter = wall, 0
        else:
            self._counter += 1
            if self._counter > MAX_COUNTER:
                self._ms, self._counter = self._ms + 1, 0
        return str(Hlc(self._ms, self._counter, self.node))

    def observe(self, stamp: str) -> None:
        remote = Hlc.parse(stamp)
        wall = int(self._wall())
        top = max(wall, self._ms, remote.ms)
        if top == self._ms and top == remote.ms:
            self._counter = max(self._counter, remote.counter) + 1
        elif top == self._ms:
            self._counter += 1
        elif top == remote.ms:
            self._counter = remote.counter + 1
        else:
            self._counter = 0
        self._ms = top
        if self._counter > MAX_COUNTER:
            self._ms, self._counter = self._ms + 1, 0
