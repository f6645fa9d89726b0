from __future__ import annotations

from typing import Annotated, Any, cast

from anyio import CapacityLimiter, to_thread
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, QueryParameter

from backend import tabular
from backend.deps import CurrentActor, Svc
from backend.domain.assets import imports, labels
from backend.domain.assets import services as svc
from backend.domain.assets.schemas import (
    AssetCreate,
    AssetHistory,
    AssetPage,
    AssetUpdate,
    AssetValue,
    ImportReport,
    LabelBatchValue,
    LabelRequest,
    LocationCreate,
    LocationValue,
)
from backend.errors import TooLarge, ValidationFailed
from backend.kernel.tx import write_tx

MAX_IMPORT_BYTES = 20 * 1024 * 1024
#: Uploads read at once (a thread each, competing with the event loop for the GIL); later ones wait
#: their turn. A thread holds its token until it ends, even when its request is dropped.
IMPORT_READERS = CapacityLimiter(1)


class AssetController(Controller):
    path = "/api/assets"
    tags = ["assets"]

    @get("/")
    async def list_assets(
        self,
        actor: CurrentActor,
        services: Svc,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> AssetPage:
        async with services.db.read() as s:
            items, total = await svc.list_assets(s, actor, q=q, limit=limit, offset=offset)
        return cast("AssetPage", {"items": items, "total": total})

    @get("/{asset_id:str}")
    async def get_asset(self, asset_id: FromPath[str], actor: CurrentActor, services: Svc) -> AssetValue:
        async with services.db.read() as s:
            return cast("AssetValue", svc.asset_value(await svc.get_asset(s, actor, asset_id=asset_id)))

    @get("/by-tag/{tag:str}")
    async def by_tag(self, tag: FromPath[str], actor: CurrentActor, services: Svc) -> AssetValue:
        """The asset a label's tag names (what a phone camera opens from the QR's URL)."""
        async with services.db.read() as s:
            return cast("AssetValue", svc.asset_value(await svc.get_asset(s, actor, tag=svc.valid_tag(tag))))

    @get("/{asset_id:str}/history")
    async def history(self, asset_id: FromPath[str], actor: CurrentActor, services: Svc) -> AssetHistory:
        """Every change of the asset (audit trail) and its movements."""
        async with services.db.read() as s:
            return cast("AssetHistory", await svc.asset_history(s, actor, asset_id))

    @post("/", status_code=201)
    async def create(self, data: JSONBody[AssetCreate], actor: CurrentActor, services: Svc) -> AssetValue:
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            row = await svc.create_asset(tx, data.model_dump())
        return cast("AssetValue", svc.asset_value(row))

    @patch("/{asset_id:str}")
    async def update(
        self, asset_id: FromPath[str], data: JSONBody[AssetUpdate], actor: CurrentActor, services: Svc
    ) -> AssetValue:
        changes = data.model_dump(exclude_unset=True)
        reason = changes.pop("reason", None)
        for name in ("name", "category_code", "status", "lifecycle", "org_unit_id"):
            if name in changes and changes[name] is None:
                raise ValidationFailed(f"{name} cannot be cleared.", code="invalid-value")
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            row = await svc.update_asset(tx, asset_id, changes, reason)
        return cast("AssetValue", svc.asset_value(row))

    @post("/import", status_code=200, request_max_body_size=MAX_IMPORT_BYTES + 64 * 1024)
    async def import_book(self, request: Request, actor: CurrentActor, services: Svc) -> ImportReport:
        """Import an asset book (.csv or .xlsx, form field ``file``): all rows or none, with a
        row-by-row error report."""
        imports.require_importer(actor)  # before the body is read: nobody else makes the server parse a file
        if not request.content_type[0].startswith("multipart/form-data"):
            raise ValidationFailed("Send the file as multipart/form-data in the field 'file'.", code="no-file")
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("Send the file as multipart/form-data in the field 'file'.", code="no-file")
        content = await upload.read()
        if len(content) > MAX_IMPORT_BYTES:
            raise TooLarge("The file is larger than 20 MB; split it.", code="file-too-large")
        filename = upload.filename or "upload.csv"
        rows = await to_thread.run_sync(  # before the write lock; one file at a time
            tabular.read_table, filename, content, limiter=IMPORT_READERS
        )
        async with write_tx(services.db, actor, "import", services.poke) as tx:
            return cast("ImportReport", await imports.import_assets(tx, rows))

    @post("/labels", status_code=200, media_type="application/pdf")
    async def labels(self, data: JSONBody[LabelRequest], actor: CurrentActor, services: Svc) -> Response[bytes]:
        """A PDF of labels; the print batch (which tags, when, by whom, reprints) is recorded."""
        if not data.all and not data.tags:
            raise ValidationFailed("Give the tags to print, or all: true.", code="no-labels")
        labels.require_label_printer(actor)
        async with services.db.read() as s:  # drawing takes seconds: not while holding the write lock
            wanted = None if data.all else data.tags
            found: list[Any] = (
                await labels.assets_for_labels(s, actor, wanted)
                if data.kind == "asset"
                else await labels.locations_for_labels(s, actor, wanted)
            )
            pdf = await labels.render_labels(s, services.settings, found, layout=data.layout)
        async with services.db.write() as s:
            batch = await labels.record_label_batch(s, actor, found, source="app", layout=data.layout, fmt="pdf")
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="labels-{batch["id"][:8]}.pdf"',
                "X-Label-Batch": batch["id"],
                # tags asked for that were not labelled (assets one may see but whose unit one does not manage)
                "X-Labels-Skipped": str(len(set(data.tags)) - len(found) if not data.all else 0),
            },
        )


class LabelBatchController(Controller):
    path = "/api/label-batches"
    tags = ["assets"]

    @get("/")
    async def list_batches(self, actor: CurrentActor, services: Svc) -> list[LabelBatchValue]:
        """Print runs of the units whose assets the caller manages (the command line's: admins only)."""
        labels.require_label_printer(actor)
        async with services.db.read() as s:
            return cast("list[LabelBatchValue]", await labels.list_label_batches(s, actor))


class LocationController(Controller):
    path = "/api/locations"
    tags = ["assets"]

    @get("/")
    async def list_locations(self, actor: CurrentActor, services: Svc) -> list[LocationValue]:
        async with services.db.read() as s:
            return cast("list[LocationValue]", await svc.list_locations(s, actor))

    @post("/", status_code=201)
    async def create(self, data: JSONBody[LocationCreate], actor: CurrentActor, services: Svc) -> LocationValue:
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            row = await svc.create_location(tx, data.name, data.org_unit_id, data.code)
        return cast("LocationValue", svc.location_value(row))
