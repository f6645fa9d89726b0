"""Photos by content address (invariant 9): checked against their hash, stored once however often
they are sent, readable by their uploader and by whoever sees a row that names them."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

from PIL import Image

from tests.support import new_uuid


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "JPEG", quality=80)
    return buf.getvalue()


async def _put(s, sha, data, content_type="image/jpeg"):
    return await s.http.put(
        f"/api/attachments/{sha}", content=data, headers={**s.headers, "content-type": content_type}
    )


async def test_upload_is_checked_idempotent_and_scoped(login, settings):
    a = await login("stocktaker")
    photo = _jpeg((200, 30, 30))
    sha = hashlib.sha256(photo).hexdigest()
    r = await _put(a, sha, photo[:-10])
    assert r.status_code == 400 and r.json()["error"] == "hash-mismatch"
    r = await _put(a, sha, photo, "text/plain")
    assert r.status_code == 400 and r.json()["error"] == "unsupported-type"
    r = await _put(a, "not-a-hash", photo)
    assert r.status_code == 400 and r.json()["error"] == "bad-hash"
    assert not (settings.app.var_dir / "attachments" / sha[:2] / sha).exists()
    r = await _put(a, sha, photo)
    assert r.status_code == 201 and r.json() == {"sha256": sha, "stored": True}
    r = await _put(a, sha, photo)  # a retry after a lost reply
    assert r.status_code == 200 and r.json()["stored"] is False
    assert (settings.app.var_dir / "attachments" / sha[:2] / sha).read_bytes() == photo
    got = await a.get(f"/api/attachments/{sha}")
    assert got.status_code == 200 and got.content == photo and got.headers["content-type"] == "image/jpeg"
    # nobody else reads it until a row they see names it
    manager, rep = await login("manager"), await login("rep1")
    assert (await manager.get(f"/api/attachments/{sha}")).status_code == 404
    await a.sync.pull()
    (st,) = [v for (e, _), v in a.sync.base.items() if e == "stocktake"]
    item = next(v for (e, _), v in a.sync.base.items() if e == "stocktake_item")
    a.sync.mutate(
        "stocktake.scan",
        {
            "id": new_uuid(),
            "stocktakeId": st["id"],
            "tag": item["tag"],
            "locationId": item["locationId"],
            "scannedAt": datetime.now(UTC).isoformat(),
            "condition": "damaged",
            "photo": sha,
        },
    )
    await a.sync.sync()
    assert a.sync.rejected == []
    report = (await manager.get(f"/api/stocktakes/{st['id']}/reconciliation")).json()
    assert {x["tag"]: x for x in report["lines"]}[item["tag"]]["photo"] == sha
    assert (await manager.get(f"/api/attachments/{sha}")).content == photo  # sees the campaign
    assert (await rep.get(f"/api/attachments/{sha}")).status_code == 404  # does not


def _scan(s, st, item, sha):
    s.sync.mutate(
        "stocktake.scan",
        {
            "id": new_uuid(),
            "stocktakeId": st["id"],
            "tag": item["tag"],
            "locationId": item["locationId"],
            "scannedAt": datetime.now(UTC).isoformat(),
            "photo": sha,
        },
    )


async def test_naming_someone_elses_photo_in_ones_own_scan_grants_nothing(login):
    """A photo is readable through a row only when the row's author sent its bytes: a stocktaker who
    learned another user's photo hash cannot read it by naming it in a scan of their own."""
    victim, thief = await login("assetadmin"), await login("stocktaker2")
    photo = _jpeg((10, 120, 240))
    sha = hashlib.sha256(photo).hexdigest()
    assert (await _put(victim, sha, photo)).status_code == 201
    await thief.sync.pull()
    (st,) = [v for (e, _), v in thief.sync.base.items() if e == "stocktake"]
    item = next(v for (e, _), v in thief.sync.base.items() if e == "stocktake_item")
    _scan(thief, st, item, sha)
    await thief.sync.sync()
    assert thief.sync.rejected == []  # the scan stands (a photo may be named before it arrives)
    assert (await thief.get(f"/api/attachments/{sha}")).status_code == 404
    other = await login("stocktaker")  # a fellow stocktaker who sees the thief's scan
    assert (await other.get(f"/api/attachments/{sha}")).status_code == 404
    # Sending the bytes proves holding them: then the scan shares the photo as before.
    r = await _put(thief, sha, photo)
    assert r.status_code == 200 and r.json()["stored"] is False
    assert (await thief.get(f"/api/attachments/{sha}")).content == photo
    assert (await other.get(f"/api/attachments/{sha}")).content == photo


async def test_each_users_photos_count_against_their_own_quota(app, login):
    app.state.services.settings.sync.attachment_quota_bytes = 1000
    a, b = await login("stocktaker"), await login("stocktaker2")
    first, second = _jpeg((1, 2, 3)), _jpeg((250, 250, 1))
    assert len(first) + len(second) > 1000 > max(len(first), len(second))
    sha1, sha2 = hashlib.sha256(first).hexdigest(), hashlib.sha256(second).hexdigest()
    assert (await _put(a, sha1, first)).status_code == 201
    r = await _put(a, sha2, second)
    assert r.status_code == 413 and r.json()["error"] == "quota-exceeded", r.text
    assert r.json()["params"]["quotaBytes"] == 1000 and "stays on your phone" in r.json()["detail"]
    assert (await a.get(f"/api/attachments/{sha2}")).status_code == 404  # nothing stored
    assert (await _put(b, sha2, second)).status_code == 201  # another user's room is their own
    # bytes already stored count against whoever sent them first, not again
    r = await _put(a, sha2, second)
    assert r.status_code == 200 and r.json()["stored"] is False
    assert (await a.get(f"/api/attachments/{sha2}")).content == second
