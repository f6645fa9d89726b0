"""Attachments (invariant 9): photos stored by the SHA-256 of their bytes, uploaded apart from the
mutation stream, idempotently — the same photo sent twice (a retry, a second device) is stored once.

A mutation may name a photo before it has arrived (the phone uploads after pushing); who may read a
photo: its uploader, and whoever sees a row that names it (a stocktake scan, for now).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.auth.models import User
from backend.db.base import utcnow
from backend.deps import CurrentActor, Svc
from backend.errors import NotFound, TooLarge, ValidationFailed
from backend.kernel.actor import Actor
from backend.sync.models import Attachment, AttachmentHolder
from sync_protocol.base import WireModel

SHA256 = re.compile(r"^[0-9a-f]{64}$")
TYPES = {"image/jpeg", "image/png", "image/webp"}
MAX_BYTES = 10 * 1024 * 1024


def store_path(var_dir: Path, sha256: str) -> Path:
    return Path(var_dir) / "attachments" / sha256[:2] / sha256


def _write(path: Path, data: bytes) -> None:
    """Write atomically: a half-written file never sits under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class QuotaExceeded(TooLarge):
    code = "quota-exceeded"
    title = "Photo storage used up"


async def may_read(session: Any, actor: Actor, sha256: str) -> bool:
    """Whether the actor may read a photo: they sent its bytes, or they see a row that names it whose
    author sent its bytes (naming someone else's hash in one's own row grants nothing)."""
    from backend.domain.org.models import OrgUnit
    from backend.domain.stocktake.models import Stocktake, StocktakeScan
    from backend.domain.stocktake.services import visible

    held = select(AttachmentHolder.user_id).where(AttachmentHolder.sha256 == sha256)
    if actor.user_id in set((await session.execute(held)).scalars()):
        return True
    named = (
        await session.execute(
            select(StocktakeScan.id)
            .join(Stocktake, Stocktake.id == StocktakeScan.stocktake_id)
            .join(OrgUnit, OrgUnit.id == Stocktake.org_unit_id)
            .where(
                StocktakeScan.photo == sha256,
                StocktakeScan.scanned_by.in_(held.scalar_subquery()),
                visible(actor, Stocktake.id),
            )
            .limit(1)
        )
    ).first()
    return named is not None


async def _hold(session: Any, sha256: str, user_id: str) -> None:
    """Record that this user sent the photo's bytes (once)."""
    if await session.get(AttachmentHolder, (sha256, user_id)) is None:
        session.add(AttachmentHolder(sha256=sha256, user_id=user_id, at=utcnow()))


async def _check_quota(session: Any, user_id: str, adding: int, quota: int) -> None:
    """Refuse a photo that would take the user past their quota. The user's row is locked first
    (PostgreSQL; SQLite's writers already take turns), so uploads in parallel cannot each see the old
    total and together pass it."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())
    used = (
        await session.execute(
            select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.uploaded_by == user_id)
        )
    ).scalar_one()
    if int(used) + adding > quota:
        mib = 1024 * 1024
        raise QuotaExceeded(
            f"Your photos already use {int(used) // mib} MiB of your {quota // mib} MiB; this one does not fit. "
            "It stays on your phone; ask an administrator for more room.",
            params={"usedBytes": int(used), "quotaBytes": quota, "photoBytes": adding},
        )


class AttachmentStored(WireModel):
    """The upload's answer: ``stored`` false when the server had the photo already (200), true when
    this upload stored it (201)."""

    sha256: str
    stored: bool


class AttachmentController(Controller):
    path = "/api/attachments"
    tags = ["sync"]

    @put(
        "/{sha256:str}",
        status_code=201,
        request_max_body_size=MAX_BYTES + 1024,
        responses={200: ResponseSpec(AttachmentStored, description="The server had this photo already.")},
    )
    async def upload(
        self, sha256: FromPath[str], request: Request, actor: CurrentActor, services: Svc
    ) -> Response[AttachmentStored]:
        """Store a photo under the SHA-256 of its bytes (the body). Sending it again is harmless: 200."""
        if not SHA256.fullmatch(sha256):
            raise ValidationFailed("The address must end in the SHA-256 of the photo, 64 hex digits.", code="bad-hash")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in TYPES:
            raise ValidationFailed(
                "Send a JPEG, PNG or WebP photo with its Content-Type.",
                code="unsupported-type",
                params={"type": content_type},
            )
        data = await request.body()
        if not data:
            raise ValidationFailed("The photo is empty.", code="empty-file")
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValidationFailed(
                "The photo's bytes do not match its SHA-256 (damaged on the way?); send it again.", code="hash-mismatch"
            )
        path = store_path(services.settings.app.var_dir, sha256)
        try:
            async with services.db.write() as s:
                known = await s.get(Attachment, sha256) is not None
                if known and path.exists():
                    await _hold(s, sha256, actor.user_id)
                    return Response(AttachmentStored(sha256=sha256, stored=False), status_code=200)
                if not known:
                    await _check_quota(s, actor.user_id, len(data), services.settings.sync.attachment_quota_bytes)
                await asyncio.to_thread(_write, path, data)  # before the row: a row never names a missing file
                if not known:
                    s.add(
                        Attachment(
                            sha256=sha256,
                            content_type=content_type,
                            size=len(data),
                            uploaded_by=actor.user_id,
                            uploaded_at=utcnow(),
                        )
                    )
                await _hold(s, sha256, actor.user_id)
        except IntegrityError:  # the same photo from two devices at once: the other one stored it
            async with services.db.write() as s:
                await _hold(s, sha256, actor.user_id)
            return Response(AttachmentStored(sha256=sha256, stored=False), status_code=200)
        return Response(AttachmentStored(sha256=sha256, stored=True), status_code=201)

    @get("/{sha256:str}", media_type="image/*", response_description="The photo, in the type it was sent as.")
    async def download(self, sha256: FromPath[str], actor: CurrentActor, services: Svc) -> Response[bytes]:
        if not SHA256.fullmatch(sha256):
            raise NotFound("No such photo.", params={"entity": "attachment"})
        async with services.db.read() as s:
            row = await s.get(Attachment, sha256)
            if row is None or not await may_read(s, actor, sha256):
                raise NotFound("No such photo, or not one you may see.", params={"entity": "attachment"})
            content_type = row.content_type
        data = store_path(services.settings.app.var_dir, sha256).read_bytes()
        return Response(
            data, media_type=content_type, headers={"Cache-Control": "private, max-age=31536000, immutable"}
        )
