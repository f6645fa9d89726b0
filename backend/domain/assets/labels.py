"""Labels of assets and locations: which to print, rendering them (PDF or PNG pages), and the
recorded print batches (who printed which tags, when, and which were reprints)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.base import new_id, utcnow
from backend.domain.assets import services as book
from backend.domain.assets.models import Asset, LabelBatch, LabelBatchItem, Location
from backend.domain.assets.scope import asset_write_scope
from backend.domain.org.models import OrgUnit
from backend.errors import NotFound, OutOfScope, PermissionDenied, ValidationFailed
from backend.kernel.actor import Actor
from scanner.tags import InvalidTag

#: Layout names of the command line and the API, to the scanner's layouts.
LABEL_LAYOUTS = {"a4": "a4-3x8", "50x30": "thermal-50x30"}


def require_label_printer(actor: Actor) -> None:
    """Printing labels (a recorded batch) is the asset administrators' work."""
    scope = asset_write_scope(actor)
    if not (scope.everything or scope.subtrees):
        raise PermissionDenied("Only an asset administrator may print labels.", code="forbidden")


# ---------------------------------------------------------------- label batches


async def list_label_batches(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """Print runs of the units whose assets the actor manages, newest first, at most 200 (the command
    line's have no unit: admins see them)."""
    q = select(LabelBatch).outerjoin(OrgUnit, OrgUnit.id == LabelBatch.org_unit_id)
    if not asset_write_scope(actor).everything:
        q = q.where(asset_write_scope(actor).path_clause(OrgUnit.path))
    rows = (await session.execute(q.order_by(LabelBatch.created_at.desc()).limit(200))).scalars()
    return [batch_value(b) for b in rows]


async def record_label_batch(
    session: AsyncSession,
    actor: Actor | None,
    printed: list[Asset] | list[Location],
    *,
    source: str,
    layout: str,
    fmt: str,
) -> dict[str, Any]:
    """Record a print run (which tags, when, by whom); a tag printed before counts as a reprint."""
    kind = "location" if printed and isinstance(printed[0], Location) else "asset"
    tags = [_printed_tag(x) for x in printed]
    before: set[str] = set()
    for i in range(0, len(tags), 500):
        found = await session.execute(
            select(LabelBatchItem.tag).where(LabelBatchItem.tag.in_(tags[i : i + 500])).distinct()
        )
        before.update(found.scalars())
    batch = LabelBatch(
        id=new_id(),
        created_at=utcnow(),
        created_by=actor.user_id if actor else None,
        org_unit_id=actor.org_unit_id if actor else None,
        source=source,
        kind=kind,
        layout=layout,
        format=fmt,
        count=len(printed),
        reprints=sum(1 for t in tags if t in before),
    )
    session.add(batch)
    await session.flush()
    if printed:
        await session.execute(
            LabelBatchItem.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "batch_id": batch.id,
                    "tag": _printed_tag(x),
                    "asset_id": x.id if kind == "asset" else None,
                    "location_id": x.id if kind == "location" else None,
                    "reprint": _printed_tag(x) in before,
                }
                for x in printed
            ],
        )
    return batch_value(batch)


def _printed_tag(x: Asset | Location) -> str:
    return x.tag if isinstance(x, Asset) else x.code


def batch_value(b: LabelBatch) -> dict[str, Any]:
    return {
        "id": b.id,
        "createdAt": b.created_at.isoformat(),
        "createdBy": b.created_by,
        "source": b.source,
        "kind": b.kind,
        "layout": b.layout,
        "format": b.format,
        "count": b.count,
        "reprints": b.reprints,
    }


# ---------------------------------------------------------------- labels


async def assets_for_labels(session: AsyncSession, actor: Actor | None, tags: list[str] | None) -> list[Asset]:
    """The assets to label, in tag order: all the actor manages (every one from the command line), or
    the given tags — every one of which must be an asset the actor may see, or nothing is printed.
    Of those, the ones in units the actor manages are labelled: custody of an asset is no right to
    print its label (the app's list holds both; the skipped are counted by the caller), and when it
    leaves none, the request is refused."""
    managed = select(Asset)
    if actor is not None:
        managed = managed.join(OrgUnit, OrgUnit.id == Asset.org_unit_id).where(
            asset_write_scope(actor).path_clause(OrgUnit.path)
        )
    if tags is None:
        return list((await session.execute(managed.order_by(Asset.tag))).scalars())
    wanted = list(dict.fromkeys(book.valid_tag(t) for t in tags))
    visible = book.scoped_assets(actor) if actor is not None else select(Asset)
    seen: dict[str, Asset] = {}
    found: dict[str, Asset] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        for a in (await session.execute(visible.where(Asset.tag.in_(chunk)))).scalars():
            seen[a.tag] = a
        for a in (await session.execute(managed.where(Asset.tag.in_(chunk)))).scalars():
            found[a.tag] = a
    _all_found(wanted, seen, "asset")
    if not found:
        raise OutOfScope(
            "You may see these assets but not print their labels: they belong to units you do not manage.",
            params={"entity": "asset", "tags": wanted[:20]},
        )
    return [found[t] for t in sorted(found)]


async def locations_for_labels(session: AsyncSession, actor: Actor | None, codes: list[str] | None) -> list[Location]:
    """Location labels to print (what a stocktaker scans first at a place): all of the actor's
    subtree (every one from the command line), or the given codes, all of which must exist."""
    q = select(Location).join(OrgUnit, OrgUnit.id == Location.org_unit_id)
    if actor is not None:
        q = q.where(asset_write_scope(actor).path_clause(OrgUnit.path))
    if codes is None:
        return list((await session.execute(q.order_by(Location.code))).scalars())
    wanted = []
    for c in dict.fromkeys(codes):
        try:
            wanted.append(book.CODES.locations.validate(c))
        except InvalidTag as e:
            raise ValidationFailed(
                f"{c} is not a valid location code ({e.reason}).",
                code="invalid-tag",
                params={"tag": c, "reason": e.reason},
            ) from None
    found = {loc.code: loc for loc in (await session.execute(q.where(Location.code.in_(wanted)))).scalars()}
    _all_found(wanted, found, "location")
    return [found[c] for c in sorted(found)]


def _all_found(wanted: list[str], found: dict[str, Any], entity: str) -> None:
    missing = [t for t in wanted if t not in found]
    if missing:
        raise NotFound(
            f"No {entity} in your scope has the code{'s' if len(missing) > 1 else ''} {', '.join(missing[:20])}.",
            params={"entity": entity, "tags": missing},
        )


async def label_items(session: AsyncSession, public_url: str, printed: list[Asset] | list[Location]) -> list[Any]:
    from scanner.labels import Label
    from scanner.payload import encode_url

    units = dict(tuple(r) for r in (await session.execute(select(OrgUnit.id, OrgUnit.name))).all())
    out = []
    for x in printed:
        fmt = book.CODES.assets if isinstance(x, Asset) else book.CODES.locations
        tag = _printed_tag(x)
        out.append(
            Label(tag=tag, url=encode_url(public_url, tag, fmt), name=x.name, org_unit=units.get(x.org_unit_id, ""))
        )
    return out


def write_labels(items: list[Any], layout: str, fmt: str, out: Any, font: str | None) -> list[Any]:
    """Render labels to ``out`` (a PDF file, or a folder of PNG pages); the files written."""
    from pathlib import Path

    from scanner.labels import LAYOUTS, write_pdf, write_png

    chosen = LAYOUTS[LABEL_LAYOUTS[layout]]
    if fmt == "pdf":
        write_pdf(items, out, chosen, font=font or None)
        return [Path(out)]
    return write_png(items, out, chosen, font=font or None)


async def render_labels(
    session: AsyncSession, settings: Any, assets: list[Asset] | list[Location], *, layout: str
) -> bytes:
    """One PDF of the labels (rendered in a worker thread: it is CPU work)."""
    import asyncio
    import tempfile
    from pathlib import Path

    if not assets:
        raise ValidationFailed("There are no assets to label.", code="no-labels")
    items = await label_items(session, settings.app.public_url, assets)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "labels.pdf"
        await asyncio.to_thread(write_labels, items, layout, "pdf", out, settings.assets.label_font)
        return out.read_bytes()
