"""Sync mutations of stocktakes (scan, undo, finish, close) and their pulled entities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.domain.org.models import OrgUnit
from backend.domain.stocktake import scan, services
from backend.domain.stocktake.models import Stocktake, StocktakeItem, StocktakeScan
from backend.kernel.actor import Actor
from backend.kernel.registry import EntityView, register_mutator, register_view
from sync_protocol import mutations as m

register_mutator("stocktake.scan", m.StocktakeScan, scan.scan)
register_mutator("stocktake.undo", m.StocktakeUndo, scan.undo)
register_mutator("stocktake.finish", m.StocktakeFinish, scan.finish)
register_mutator("stocktake.close", m.StocktakeClose, services.close)

_stocktake = Stocktake.__table__
_item = StocktakeItem.__table__
_scan = StocktakeScan.__table__


def _stocktakes(actor: Actor) -> Any:
    return (
        select(_stocktake)
        .join(OrgUnit, OrgUnit.id == _stocktake.c.org_unit_id)
        .where(services.visible(actor, _stocktake.c.id))
    )


def _of_campaigns(table: Any, actor: Actor) -> Any:
    """Rows of the campaigns the actor sees (expected lists, scans)."""
    return (
        select(table)
        .join(_stocktake, _stocktake.c.id == table.c.stocktake_id)
        .join(OrgUnit, OrgUnit.id == _stocktake.c.org_unit_id)
        .where(services.visible(actor, _stocktake.c.id))
    )


register_view(EntityView("stocktake", _stocktakes, _stocktake.c.id, services.stocktake_value))
register_view(EntityView("stocktake_item", lambda a: _of_campaigns(_item, a), _item.c.id, services.item_value))
register_view(EntityView("stocktake_scan", lambda a: _of_campaigns(_scan, a), _scan.c.id, scan.scan_value))
