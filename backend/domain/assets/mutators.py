"""Pulled entities of the assets context: locations and assets (written through the API for now)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from backend.domain.assets import services
from backend.domain.assets.models import Asset, Location
from backend.domain.assets.scope import RULE, asset_scope
from backend.domain.org.models import OrgUnit
from backend.kernel.actor import Actor
from backend.kernel.registry import EntityView, register_view
from backend.kernel.scope import register_scope

_asset = Asset.__table__
_location = Location.__table__


def _assets(actor: Actor) -> Any:
    """Assets of the org subtree the actor reads, and those they are custodian of."""
    return (
        select(_asset)
        .join(OrgUnit, OrgUnit.id == _asset.c.org_unit_id)
        .where(or_(asset_scope(actor).path_clause(OrgUnit.path), _asset.c.custodian_id == actor.user_id))
    )


def _locations(actor: Actor) -> Any:
    return (
        select(_location)
        .join(OrgUnit, OrgUnit.id == _location.c.org_unit_id)
        .where(asset_scope(actor).path_clause(OrgUnit.path))
    )


register_view(EntityView("location", _locations, _location.c.id, services.location_value))
register_view(EntityView("asset", _assets, _asset.c.id, services.asset_value))
register_scope(RULE)
