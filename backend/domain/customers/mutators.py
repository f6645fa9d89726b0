"""Sync mutations of the customers context and its pulled entities (customer, contact, conflict)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.domain.customers import services
from backend.domain.customers.models import Contact, Customer
from backend.domain.customers.scope import RULE, CustomerScope, read_scope
from backend.domain.org.models import OrgUnit
from backend.kernel.models import Conflict
from backend.kernel.registry import EntityView, register_mutator, register_preloader, register_view
from backend.kernel.scope import register_scope
from sync_protocol import mutations as m

register_mutator("customer.create", m.CustomerCreate, services.create_customer)
register_mutator("customer.update", m.CustomerUpdate, services.update_customer)
register_mutator("contact.create", m.ContactCreate, services.create_contact)
register_mutator("contact.update", m.ContactUpdate, services.update_contact)
register_preloader(services.preload)
register_scope(RULE)

_customer = Customer.__table__
_contact = Contact.__table__
_conflict = Conflict.__table__


def _wire_columns(table: Any) -> list[Any]:
    """The columns a device receives: never field_meta (server-side conflict bookkeeping, and a JSON
    decode per row that a first sync of 60,000 rows would pay for nothing)."""
    return [c for c in table.c if c.name != "field_meta"]


def _customers(scope: CustomerScope):
    return select(*_wire_columns(_customer)).join(OrgUnit, OrgUnit.id == _customer.c.org_unit_id).where(scope.clause())


def _contacts(scope: CustomerScope):
    return (
        select(*_wire_columns(_contact))
        .join(Customer, Customer.id == _contact.c.customer_id)
        .join(OrgUnit, OrgUnit.id == Customer.org_unit_id)
        .where(scope.clause())
    )


def _conflicts(scope: CustomerScope):
    return (
        select(_conflict)
        .join(Customer, Customer.id == _conflict.c.customer_id)
        .join(OrgUnit, OrgUnit.id == Customer.org_unit_id)
        .where(scope.clause())
    )


register_view(
    EntityView(
        "customer", lambda a: _customers(read_scope(a)), _customer.c.id, services.customer_value, wire=services.CUSTOMER
    )
)
register_view(
    EntityView(
        "contact", lambda a: _contacts(read_scope(a)), _contact.c.id, services.contact_value, wire=services.CONTACT
    )
)
register_view(EntityView("conflict", lambda a: _conflicts(read_scope(a)), _conflict.c.id, services.conflict_value))
