"""A zygote for ``outpost serve`` processes (``python -m tests.sim.launcher``).

Importing the app takes seconds on the test machine, and the crash test restarts the server several
times. This process imports everything once, then forks one server process per request: each child
runs exactly what ``outpost serve --port N`` runs (``backend.cli.main``, settings from the
``OUTPOST_*`` environment) as a process of its own, so killing it with SIGKILL is killing a server.

Line protocol. stdin: ``start <port> <log file>``. stdout: ``pid <pid>`` once a child is forked,
``exit <pid> <code>`` when one ends (``code`` is ``-<signal>`` when a signal ended it). At the end of
stdin every child still running is killed and the zygote exits. No threads, so forking is safe.
"""

from __future__ import annotations

import os
import select
import signal
import sys

import uvicorn  # noqa: F401  (imported once, before forking)

import backend.app  # noqa: F401  (imported once, before forking)
from backend import cli


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def serve(port: str, log: str) -> None:
    """In the child: output to its own log, no stdin, then the real command."""
    code = 1
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        code = cli.main(["serve", "--host", "127.0.0.1", "--port", port, "--log-level", "warning"])
    finally:
        os._exit(code)


def reap(children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        say(f"exit {pid} {code}")


def main() -> int:
    children: set[int] = set()
    buf = b""
    say("ready")
    try:
        while True:
            readable, _, _ = select.select([0], [], [], 0.02)
            reap(children)
            if not readable:
                continue
            chunk = os.read(0, 4096)
            if not chunk:
                return 0
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                parts = line.decode().split()
                if len(parts) == 3 and parts[0] == "start":
                    sys.stdout.flush()
                    pid = os.fork()
                    if pid == 0:
                        serve(parts[1], parts[2])
                    children.add(pid)
                    say(f"pid {pid}")
    finally:
        for pid in sorted(children):
            try:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                say(f"exit {pid} {-os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)}")
            except (ProcessLookupError, ChildProcessError, BrokenPipeError):
                pass


if __name__ == "__main__":
    raise SystemExit(main())
