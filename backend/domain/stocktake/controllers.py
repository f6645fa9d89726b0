from __future__ import annotations

from typing import Annotated, Any, cast

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from backend import tabular
from backend.deps import CurrentActor, Services, Svc
from backend.domain.stocktake import reconciliation
from backend.domain.stocktake import services as svc
from backend.domain.stocktake.schemas import (
    Followup,
    Reconciliation,
    StocktakeAssigneesIn,
    StocktakeCloseIn,
    StocktakeCreate,
    StocktakeValue,
)
from backend.kernel.actor import Actor
from backend.kernel.tx import write_tx
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
    ) -> list[StocktakeValue]:
        async with services.db.read() as s:
            return cast("list[StocktakeValue]", await svc.list_stocktakes(s, actor, status=status))

    @post("/", status_code=201)
    async def create(self, data: JSONBody[StocktakeCreate], actor: CurrentActor, services: Svc) -> StocktakeValue:
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            st = await svc.create_stocktake(
                tx,
                name=data.name,
                org_unit_id=data.org_unit_id,
                location_ids=data.location_ids,
                assignee_ids=data.assignee_ids,
                start=data.start,
            )
        return cast("StocktakeValue", svc.stocktake_value(st))

    @get("/{stocktake_id:str}")
    async def get_stocktake(self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc) -> StocktakeValue:
        async with services.db.read() as s:
            return cast("StocktakeValue", svc.stocktake_value(await svc.get_stocktake(s, actor, stocktake_id)))

    @post("/{stocktake_id:str}/start", status_code=200)
    async def start(self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc) -> StocktakeValue:
        async with services.db.read() as s:
            await svc.get_stocktake(s, actor, stocktake_id)
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            st = await svc.start_stocktake(tx, stocktake_id)
        return cast("StocktakeValue", svc.stocktake_value(st))

    @post("/{stocktake_id:str}/assignees", status_code=200)
    async def assignees(
        self, stocktake_id: FromPath[str], data: JSONBody[StocktakeAssigneesIn], actor: CurrentActor, services: Svc
    ) -> StocktakeValue:
        """Who counts: the campaign reaches the phones of stocktakers added and leaves those removed."""
        async with services.db.read() as s:
            await svc.get_stocktake(s, actor, stocktake_id)
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            st = await svc.set_assignees(tx, stocktake_id, data.assignee_ids)
        return cast("StocktakeValue", svc.stocktake_value(st))

    @post("/{stocktake_id:str}/close", status_code=200)
    async def close(
        self, stocktake_id: FromPath[str], data: JSONBody[StocktakeCloseIn], actor: CurrentActor, services: Svc
    ) -> StocktakeValue:
        """Close (manager): when every stocktaker has finished, or earlier with a reason."""
        async with services.db.read() as s:
            await svc.get_stocktake(s, actor, stocktake_id)
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            st = await svc.close(tx, m.StocktakeClose(stocktake_id=stocktake_id, reason=data.reason))
        return cast("StocktakeValue", svc.stocktake_value(st))

    @get("/{stocktake_id:str}/reconciliation")
    async def reconciliation(self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc) -> Reconciliation:
        """Matched, missing, surplus, mislocated, seen twice, condition problems and the match rate
        (账实相符率), as the scans synced so far have it."""
        async with services.db.read() as s:
            await svc.get_stocktake(s, actor, stocktake_id)
            return cast("Reconciliation", await reconciliation.reconcile(s, stocktake_id))

    @get("/{stocktake_id:str}/reconciliation.csv", media_type=tabular.CSV_MEDIA_TYPE)
    async def reconciliation_csv(
        self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc
    ) -> Response[bytes]:
        """The reconciliation's lines as CSV (UTF-8)."""
        rows = await _report_table(services, actor, stocktake_id)
        return tabular.csv_response(rows, f"stocktake-{stocktake_id[:8]}.csv")

    @get("/{stocktake_id:str}/reconciliation.xlsx", media_type=tabular.XLSX_MEDIA_TYPE)
    async def reconciliation_xlsx(
        self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc
    ) -> Response[bytes]:
        """The reconciliation's lines as an Excel workbook."""
        rows = await _report_table(services, actor, stocktake_id)
        return tabular.xlsx_response(rows, f"stocktake-{stocktake_id[:8]}.xlsx", "盘点 Stocktake")

    @get("/{stocktake_id:str}/followups")
    async def followups(self, stocktake_id: FromPath[str], actor: CurrentActor, services: Svc) -> list[Followup]:
        """Discrepancies found when the campaign closed: the follow-up work."""
        async with services.db.read() as s:
            await svc.get_stocktake(s, actor, stocktake_id)
            return cast("list[Followup]", await reconciliation.followups(s, stocktake_id))


async def _report_table(services: Services, actor: Actor, stocktake_id: str) -> list[list[Any]]:
    """The reconciliation as a table (heading first), for a campaign the actor sees."""
    async with services.db.read() as s:
        await svc.get_stocktake(s, actor, stocktake_id)
        return await reconciliation.report_table(s, stocktake_id)
