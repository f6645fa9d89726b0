from __future__ import annotations

from typing import Annotated, cast

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.deps import CurrentActor, Svc
from backend.domain.customers import services as svc
from backend.domain.customers.schemas import (
    AssignIn,
    AssignmentEntry,
    ContactCreate,
    ContactUpdate,
    ContactValue,
    CustomerCreate,
    CustomerPage,
    CustomerUpdate,
    CustomerValue,
    HistoryEntry,
)
from backend.errors import NotFound
from backend.kernel.tx import write_tx


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
    ) -> CustomerPage:
        async with services.db.read() as s:
            items, total = await svc.list_customers(s, actor, q=q, limit=limit, offset=offset)
        return cast("CustomerPage", {"items": items, "total": total})

    @get("/{customer_id:str}")
    async def get_customer(self, customer_id: FromPath[str], actor: CurrentActor, services: Svc) -> CustomerValue:
        async with services.db.read() as s:
            return cast("CustomerValue", svc.customer_value(await svc.get_customer(s, actor, customer_id)))

    @post("/", status_code=201)
    async def create(self, data: JSONBody[CustomerCreate], actor: CurrentActor, services: Svc) -> CustomerValue:
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            return cast("CustomerValue", svc.customer_value(await svc.create_customer(tx, data)))

    @patch("/{customer_id:str}")
    async def update(
        self, customer_id: FromPath[str], data: JSONBody[CustomerUpdate], actor: CurrentActor, services: Svc
    ) -> CustomerValue:
        if data.id != customer_id:
            raise NotFound("The id in the body differs from the URL.", params={"entity": "customer"})
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            tx.hlc = _server_hlc()
            return cast("CustomerValue", svc.customer_value(await svc.update_customer(tx, data)))

    @post("/{customer_id:str}/assign", status_code=200)
    async def assign(
        self, customer_id: FromPath[str], data: JSONBody[AssignIn], actor: CurrentActor, services: Svc
    ) -> CustomerValue:
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            return cast(
                "CustomerValue", svc.customer_value(await svc.reassign(tx, customer_id, data.rep_id, data.reason))
            )

    @get("/{customer_id:str}/assignments")
    async def assignments(
        self, customer_id: FromPath[str], actor: CurrentActor, services: Svc
    ) -> list[AssignmentEntry]:
        async with services.db.read() as s:
            return cast("list[AssignmentEntry]", await svc.assignment_history(s, actor, customer_id))

    @get("/{customer_id:str}/contacts")
    async def contacts(self, customer_id: FromPath[str], actor: CurrentActor, services: Svc) -> list[ContactValue]:
        async with services.db.read() as s:
            return cast("list[ContactValue]", await svc.list_contacts(s, actor, customer_id))

    @get("/{customer_id:str}/history")
    async def history(self, customer_id: FromPath[str], actor: CurrentActor, services: Svc) -> list[HistoryEntry]:
        """The audit trail of the customer and its contacts: who changed what, when, from which device."""
        async with services.db.read() as s:
            return cast("list[HistoryEntry]", await svc.audit_history(s, actor, customer_id))


class ContactController(Controller):
    path = "/api/contacts"
    tags = ["customers"]

    @post("/", status_code=201)
    async def create(self, data: JSONBody[ContactCreate], actor: CurrentActor, services: Svc) -> ContactValue:
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            tx.hlc = _server_hlc()
            return cast("ContactValue", svc.contact_value(await svc.create_contact(tx, data)))

    @patch("/{contact_id:str}")
    async def update(
        self, contact_id: FromPath[str], data: JSONBody[ContactUpdate], actor: CurrentActor, services: Svc
    ) -> ContactValue:
        if data.id != contact_id:
            raise NotFound("The id in the body differs from the URL.", params={"entity": "contact"})
        async with write_tx(services.db, actor, "api", services.poke) as tx:
            tx.hlc = _server_hlc()
            return cast("ContactValue", svc.contact_value(await svc.update_contact(tx, data)))


def _server_hlc() -> str:
    import time

    from sync_protocol.hlc import Hlc

    return str(Hlc(int(time.time() * 1000), 0, "server"))
