from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import select

from backend.deps import CurrentActor, Svc
from backend.domain.audit.models import AuditEntry
from backend.domain.customers import services as svc
from backend.domain.customers.models import Contact
from backend.domain.customers.schemas import (
    AssignIn,
    ContactCreate,
    ContactUpdate,
    CustomerCreate,
    CustomerUpdate,
)
from backend.errors import NotFound
from backend.sync.changes import write_tx


class CustomerController(Controller):
    path = "/api/customers"
    tags = ["customers"]

    @get("/")
    async def list_customers(
        self,
        actor: CurrentActor,
        services: Svc,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> dict[str, Any]:
        async with services.db.read() as s:
            items, total = await svc.list_customers(s, actor, q=q, limit=limit, offset=offset)
        return {"items": items, "total": total}

    @get("/{customer_id:str}")
    async def get_customer(self, customer_id: FromPath[str], actor: CurrentActor, services: Svc) -> dict[str, Any]:
        async with services.db.read() as s:
            return svc.customer_value(await svc.get_customer(s, actor, customer_id))

    @post("/", status_code=201)
    async def create(self, data: JSONBody[CustomerCreate], actor: CurrentActor, services: Svc) -> dict[str, Any]:
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            return svc.customer_value(await svc.create_customer(tx, data))

    @patch("/{customer_id:str}")
    async def update(
        self, customer_id: FromPath[str], data: JSONBody[CustomerUpdate], actor: CurrentActor, services: Svc
    ) -> dict[str, Any]:
        if data.id != customer_id:
            raise NotFound("The id in the body differs from the URL.", params={"entity": "customer"})
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            tx.hlc = _server_hlc()
            return svc.customer_value(await svc.update_customer(tx, data))

    @post("/{customer_id:str}/assign", status_code=200)
    async def assign(
        self, customer_id: FromPath[str], data: JSONBody[AssignIn], actor: CurrentActor, services: Svc
    ) -> dict[str, Any]:
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            return svc.customer_value(await svc.reassign(tx, customer_id, data.rep_id, data.reason))

    @get("/{customer_id:str}/assignments")
    async def assignments(self, customer_id: FromPath[str], actor: CurrentActor, services: Svc) -> list[dict[str, Any]]:
        async with services.db.read() as s:
            return await svc.assignment_history(s, actor, customer_id)

    @get("/{customer_id:str}/contacts")
    async def contacts(self, customer_id: FromPath[str], actor: CurrentActor, services: Svc) -> list[dict[str, Any]]:
        async with services.db.read() as s:
            return await svc.list_contacts(s, actor, customer_id)

    @get("/{customer_id:str}/history")
    async def history(self, customer_id: FromPath[str], actor: CurrentActor, services: Svc) -> list[dict[str, Any]]:
        """The audit trail of the customer and its contacts: who changed what, when, from which device."""
        async with services.db.read() as s:
            await svc.get_customer(s, actor, customer_id)
            contact_ids = select(Contact.id).where(Contact.customer_id == customer_id).scalar_subquery()
            rows = (
                await s.execute(
                    select(AuditEntry)
                    .where(
                        ((AuditEntry.entity == "customer") & (AuditEntry.entity_id == customer_id))
                        | ((AuditEntry.entity == "contact") & AuditEntry.entity_id.in_(contact_ids))
                    )
                    .order_by(AuditEntry.id)
                )
            ).scalars()
            return [
                {
                    "at": a.at.isoformat(),
                    "userId": a.user_id,
                    "deviceId": a.device_id,
                    "source": a.source,
                    "entity": a.entity,
                    "entityId": a.entity_id,
                    "action": a.action,
                    "changes": a.changes,
                }
                for a in rows
            ]


class ContactController(Controller):
    path = "/api/contacts"
    tags = ["customers"]

    @post("/", status_code=201)
    async def create(self, data: JSONBody[ContactCreate], actor: CurrentActor, services: Svc) -> dict[str, Any]:
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            tx.hlc = _server_hlc()
            return svc.contact_value(await svc.create_contact(tx, data))

    @patch("/{contact_id:str}")
    async def update(
        self, contact_id: FromPath[str], data: JSONBody[ContactUpdate], actor: CurrentActor, services: Svc
    ) -> dict[str, Any]:
        if data.id != contact_id:
            raise NotFound("The id in the body differs from the URL.", params={"entity": "contact"})
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            tx.hlc = _server_hlc()
            return svc.contact_value(await svc.update_contact(tx, data))


def _server_hlc() -> str:
    import time

    from sync_protocol.hlc import Hlc

    return str(Hlc(int(time.time() * 1000), 0, "server"))
