"""The ``outpost`` command: serve, db upgrade, demo, user, labels."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import os
import sys
from typing import Any

from backend.settings import Settings


def _services(settings: Settings) -> tuple[Any, Any]:
    from backend.auth.passwords import Passwords
    from backend.auth.services import AuthService
    from backend.auth.tokens import Tokens
    from backend.db.engine import Database

    db = Database(settings.database_url, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
    a = settings.auth
    return db, AuthService(db, a, Passwords(a), Tokens(a.jwt_secret, a.access_token_minutes))


def _password(args: argparse.Namespace) -> str:
    if getattr(args, "password_env", None):
        value = os.environ.get(args.password_env)
        if not value:
            raise SystemExit(f"environment variable {args.password_env} is empty or not set")
        return value
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            raise SystemExit("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_upgrade(settings: Settings, _: argparse.Namespace) -> int:
    from backend.db.migrate import upgrade

    upgrade(settings.database_url)
    print("database is at the latest schema")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from backend import demo

    cmd_upgrade(settings, args)
    db, auth = _services(settings)
    password = demo.demo_password(settings.app.var_dir)

    async def run() -> bool:
        try:
            return await demo.load(db, auth, password)
        finally:
            await db.dispose()

    loaded = asyncio.run(run())
    print("demo data loaded" if loaded else "demo data already present")
    print(demo.banner(settings.app.public_url, password))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from backend import demo
    from backend.app import create_app

    url = f"http://{args.host}:{args.port}"
    creds = demo.credentials_path(settings.app.var_dir)
    if creds.exists() or os.environ.get("OUTPOST_DEMO_PASSWORD"):
        print(demo.banner(url, demo.demo_password(settings.app.var_dir)), flush=True)
    else:
        print(f"\n  Outpost is running at {url}\n", flush=True)
    app = create_app(settings)
    # Everything loaded at start-up lives as long as the server: keep it out of the garbage
    # collector's full passes, which a first sync of 60,000 rows otherwise triggers ~7 times over
    # every object (measured with bench.sync: first pull 3.05 -> 2.07 s on PostgreSQL).
    gc.collect()
    gc.freeze()
    # X-Forwarded-For is believed inside the app, from OUTPOST_TRUSTED_PROXIES only (backend/auth/proxies.py),
    # so every ASGI server behaves alike; uvicorn must not apply it a second time.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
        proxy_headers=False,
    )
    return 0


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    from backend.errors import DomainError

    db, auth = _services(settings)

    async def run() -> Any:
        try:
            if args.user_cmd == "create":
                return await auth.create_user(
                    args.username, _password(args), args.role, args.org_unit, args.display_name
                )
            if args.user_cmd in ("disable", "enable"):
                return await auth.set_disabled(args.username, args.user_cmd == "disable")
            if args.user_cmd == "reset-password":
                return await auth.reset_password(args.username, _password(args))
            if args.user_cmd == "move":
                return await auth.move_user(args.username, args.org_unit, args.role or None)
            return await auth.list_users()
        finally:
            await db.dispose()

    try:
        result = asyncio.run(run())
    except DomainError as e:
        print(f"error: {e.detail}", file=sys.stderr)
        return 2
    if args.user_cmd == "list":
        for u in result:
            state = "disabled" if u["disabled"] else "active"
            print(f"{u['username']:<16} {','.join(u['roles']):<24} {u['orgUnit']:<10} {state}")
    elif args.user_cmd == "create":
        print(f"created {result['username']} ({', '.join(result['roles'])}) in {result['orgUnit']['code']}")
    else:
        print("done")
    return 0


def cmd_labels(settings: Settings, args: argparse.Namespace) -> int:
    """Print labels to a PDF file or a folder of PNG pages, and record the print batch."""
    from pathlib import Path

    from backend.db.engine import Database
    from backend.domain.assets import labels
    from backend.domain.assets import services as assets
    from backend.errors import DomainError, ValidationFailed

    assets.configure(settings.assets)
    db = Database(settings.database_url, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
    out = Path(args.out)
    if args.format == "pdf" and out.is_dir():
        print(f"error: {out} is a folder; for --format pdf give a file name", file=sys.stderr)
        return 2
    if args.format == "png" and out.exists() and not out.is_dir():
        print(f"error: {out} is a file; for --format png give a folder", file=sys.stderr)
        return 2
    tags = None if args.all else [t.strip() for t in args.tags.split(",") if t.strip()]

    async def run() -> tuple[list[Any], dict[str, Any]]:
        try:
            async with db.read() as s:  # drawing takes seconds: not while holding the write lock
                found: list[Any] = (
                    await labels.locations_for_labels(s, None, tags)
                    if args.locations
                    else await labels.assets_for_labels(s, None, tags)
                )
                if not found:
                    raise ValidationFailed("There are no assets to label.", code="no-labels")
                items = await labels.label_items(s, settings.app.public_url, found)
                written = await asyncio.to_thread(
                    labels.write_labels, items, args.layout, args.format, out, settings.assets.label_font
                )
            async with db.write() as s:
                batch = await labels.record_label_batch(
                    s, None, found, source="cli", layout=args.layout, fmt=args.format
                )
                return written, batch
        finally:
            await db.dispose()

    try:
        written, batch = asyncio.run(run())
    except DomainError as e:
        print(f"error: {e.detail}", file=sys.stderr)
        return 2
    where = written[0] if args.format == "pdf" else f"{out} ({len(written)} pages)"
    what = "location labels" if args.locations else "labels"
    print(f"{batch['count']} {what} ({batch['reprints']} reprints) written to {where}; batch {batch['id']}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="outpost", description="Outpost: offline-first field app server.")
    sub = p.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(fn=cmd_serve)
    db = sub.add_parser("db", help="database schema")
    dbsub = db.add_subparsers(dest="db_cmd", required=True)
    dbsub.add_parser("upgrade", help="migrate to the latest schema").set_defaults(fn=cmd_upgrade)
    sub.add_parser("demo", help="load demo data (idempotent) and print the demo logins").set_defaults(fn=cmd_demo)
    user = sub.add_parser("user", help="manage users")
    usub = user.add_subparsers(dest="user_cmd", required=True)
    create = usub.add_parser("create", help="create a user; password from --password-env VAR or stdin")
    create.add_argument("username")
    create.add_argument("--role", action="append", required=True, help="repeat for several roles")
    create.add_argument("--org-unit", required=True, help="org unit code, e.g. GZ")
    create.add_argument("--display-name")
    create.add_argument("--password-env", metavar="VAR")
    for name in ("disable", "enable"):
        usub.add_parser(name, help=f"{name} a user").add_argument("username")
    reset = usub.add_parser("reset-password", help="set a new password (from --password-env VAR or stdin)")
    reset.add_argument("username")
    reset.add_argument("--password-env", metavar="VAR")
    move = usub.add_parser("move", help="move a user to another org unit or change roles")
    move.add_argument("username")
    move.add_argument("--org-unit")
    move.add_argument("--role", action="append")
    usub.add_parser("list", help="list users")
    user.set_defaults(fn=cmd_user)
    labels = sub.add_parser("labels", help="print asset labels (PDF file or PNG pages); the batch is recorded")
    which = labels.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every asset of the book (every location with --locations)")
    which.add_argument(
        "--tags", metavar="T1,T2,…", help="these tags (location codes with --locations), comma-separated"
    )
    labels.add_argument("--locations", action="store_true", help="location labels, scanned first at each place")
    labels.add_argument("--layout", choices=["a4", "50x30"], default="a4", help="A4 sheet of 3 x 8, or 50 x 30 mm")
    labels.add_argument("--format", choices=["pdf", "png"], default="pdf")
    labels.add_argument("--out", required=True, metavar="PATH", help="a file for PDF, a folder for PNG")
    labels.set_defaults(fn=cmd_labels)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run a command. Whatever goes wrong is one line on stderr and a non-zero exit: 2 for something
    the person can fix (bad input, a setting), 1 for anything else (``OUTPOST_DEBUG=1`` shows the
    traceback of those)."""
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from backend.errors import DomainError

    args = parser().parse_args(argv)
    try:
        settings = Settings()
        return int(args.fn(settings, args) or 0)
    except DomainError as e:
        print(f"error: {e.detail}", file=sys.stderr)
        return 2
    except (ValidationError, ValueError) as e:  # settings, or values given on the command line
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except (SQLAlchemyError, OSError) as e:
        print(f"error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        if os.environ.get("OUTPOST_DEBUG"):
            raise
        return 1


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= 300 else text[:299] + "…"


if __name__ == "__main__":
    raise SystemExit(main())
