from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import select

from backend import tabular
from backend.deps import CurrentActor, Svc
from backend.domain.assets.models import Location
from backend.domain.assets.schemas import StocktakeAssigneesIn, StocktakeCloseIn, StocktakeCreate
from backend.domain.stocktake import services as svc
from backend.domain.stocktake.models import Stocktake
from backend.sync.changes import write_tx
from sync_protocol import mutations as m


class StocktakeController(Controller):
    path = "/api/stocktakes"
    tags = ["stocktake"]

    @get("/")
    async def list_stocktakes(
        self,
        actor: CurrentActor,
        services: Svc,
        status: Annotated[str | None, QueryParameter(pattern="^(draft|open|closed)$")] = None,
    ) -> list[dict[str, Any]]:
        async with services.db.read() as s:
            q = svc.scoped_stocktakes(actor)
            if status:
                q = q.where(Stocktake.state == status)
            rows = (await s.execute(q.order_by(Stocktake.created_at.desc()).limit(200))).scalars()
            return [svc.stocktake_value(st) for st in rows]

    @post("/", status_code=201)
    async def create(self, data: JSONBody[StocktakeCreate], actor: CurrentActor, services: Svc) -> dict[str, Any]:
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            st = await svc.create_stocktake(
                tx,
                name=data.name,
                org_unit_id=data.org_unit_id,
                location_ids=data.location_ids,
                assignee_ids=data.assignee_ids,
                start=data.start,
            )
        return svc.stocktake_value(st)

    @get("/{stocktake_id:str}")
    async def get_stocktake(self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc) -> dict[str, Any]:
        async with services.db.read() as s:
            return svc.stocktake_value(await svc.get_stocktake(s, actor, stocktake_id))

    @post("/{stocktake_id:str}/start", status_code=200)
    async def start(self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc) -> dict[str, Any]:
        async with services.db.read() as s:
            await svc.get_stocktake(s, actor, stocktake_id)
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            st = await svc.start_stocktake(tx, stocktake_id)
        return svc.stocktake_value(st)

    @post("/{stocktake_id:str}/assignees", status_code=200)
    async def assignees(
        self, stocktake_id: FromPath[str], data: JSONBody[StocktakeAssigneesIn], actor: CurrentActor, services: Svc
    ) -> dict[str, Any]:
        """Who counts: the campaign reaches the phones of stocktakers added and leaves those removed."""
        async with services.db.read() as s:
            await svc.get_stocktake(s, actor, stocktake_id)
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            st = await svc.set_assignees(tx, stocktake_id, data.assignee_ids)
        return svc.stocktake_value(st)

    @post("/{stocktake_id:str}/close", status_code=200)
    async def close(
        self, stocktake_id: FromPath[str], data: JSONBody[StocktakeCloseIn], actor: CurrentActor, services: Svc
    ) -> dict[str, Any]:
        """Close (manager): when every stocktaker has finished, or earlier with a reason."""
        async with services.db.read() as s:
            await svc.get_stocktake(s, actor, stocktake_id)
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            st = await svc.close(tx, m.StocktakeClose(stocktake_id=stocktake_id, reason=data.reason))
        return svc.stocktake_value(st)

    @get("/{stocktake_id:str}/reconciliation")
    async def reconciliation(self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc) -> dict[str, Any]:
        """Matched, missing, surplus, mislocated, seen twice, condition problems and the match rate
        (账实相符率), as the scans synced so far have it."""
        async with services.db.read() as s:
            await svc.get_stocktake(s, actor, stocktake_id)
            return await svc.reconcile(s, stocktake_id)

    @get("/{stocktake_id:str}/reconciliation.csv", media_type=tabular.CSV_MEDIA_TYPE)
    async def reconciliation_csv(self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc) -> Response:
        rows = await _report_rows(services, actor, stocktake_id)
        return tabular.csv_response(rows, f"stocktake-{stocktake_id[:8]}.csv")

    @get("/{stocktake_id:str}/reconciliation.xlsx", media_type=tabular.XLSX_MEDIA_TYPE)
    async def reconciliation_xlsx(self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc) -> Response:
        rows = await _report_rows(services, actor, stocktake_id)
        return tabular.xlsx_response(rows, f"stocktake-{stocktake_id[:8]}.xlsx", "盘点 Stocktake")

    @get("/{stocktake_id:str}/followups")
    async def followups(self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc) -> list[dict[str, Any]]:
        """Discrepancies found when the campaign closed: the follow-up work."""
        async with services.db.read() as s:
            await svc.get_stocktake(s, actor, stocktake_id)
            return await svc.followups(s, stocktake_id)


async def _report_rows(services: Any, actor: Any, stocktake_id: str) -> list[list[Any]]:
    async with services.db.read() as s:
        await svc.get_stocktake(s, actor, stocktake_id)
        report = await svc.reconcile(s, stocktake_id)
        names = {
            i: f"{c} {n}" for i, c, n in (await s.execute(select(Location.id, Location.code, Location.name))).all()
        }
    return svc.report_rows(report, names)
