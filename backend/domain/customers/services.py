"""Customer and contact rules. The same code serves REST requests and synced mutations.

Longer than about 400 lines on purpose: it is one concern. A contact lives under its customer (its
scope, audience and owner follow the customer's), and both share the wire shapes, the field-level
merge with conflicts, the server-owned stamps and the assignment rules below; split apart, each half
would import the other's private helpers.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import phonenumbers
from sqlalchemy import Select, Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.models import User
from backend.db.base import new_id, utcnow
from backend.domain.customers.models import Contact, Customer, CustomerAssignment
from backend.domain.customers.scope import read_scope, write_scope
from backend.domain.org.models import OrgUnit
from backend.domain.org.services import org_path
from backend.errors import Conflict, NotFound, OutOfScope, PermissionDenied, ValidationFailed
from backend.kernel.actor import Actor
from backend.kernel.conflicts import Merge, merge, stamp
from backend.kernel.models import AuditEntry
from backend.kernel.models import Conflict as ConflictRow
from backend.kernel.tx import Row, WriteTx
from backend.kernel.wire import WireShape
from sync_protocol import mutations as m

CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
CONFLICTS: Table = ConflictRow.__table__  # type: ignore[assignment]
ASSIGNMENTS: Table = CustomerAssignment.__table__  # type: ignore[assignment]
#: What every update of a synced row also writes.
SERVER_UPDATED = ("field_meta", "version", "updated_at", "updated_by")
CUSTOMER_FIELDS = ("name", "kind", "status", "tier", "phone", "address", "tags")
CONTACT_FIELDS = ("name", "title", "phone", "birthday")


# ---------------------------------------------------------------- wire shapes


CUSTOMER = WireShape(
    "customer",
    CUSTOMERS,
    [
        ("id", "id"),
        ("name", "name"),
        ("kind", "kind"),
        ("status", "status"),
        ("tier", "tier"),
        ("phone", "phone"),
        ("address", "address"),
        ("orgUnitId", "org_unit_id"),
        ("assignedRepId", "assigned_rep_id"),
        ("tags", "tags", "list"),
        ("version", "version"),
        ("createdAt", "created_at", "datetime"),
        ("updatedAt", "updated_at", "datetime"),
    ],
)
CONTACT = WireShape(
    "contact",
    CONTACTS,
    [
        ("id", "id"),
        ("customerId", "customer_id"),
        ("name", "name"),
        ("title", "title"),
        ("phone", "phone"),
        ("birthday", "birthday", "date"),
        ("version", "version"),
        ("createdAt", "created_at", "datetime"),
        ("updatedAt", "updated_at", "datetime"),
    ],
)
customer_value = CUSTOMER.value
contact_value = CONTACT.value


def conflict_value(c: Any) -> dict[str, Any]:
    return {
        "id": c.id,
        "entity": c.entity,
        "entityId": c.entity_id,
        "customerId": c.customer_id,
        "field": c.field,
        "keptValue": c.kept_value,
        "lostValue": c.lost_value,
        "keptHlc": c.kept_hlc,
        "lostHlc": c.lost_hlc,
        "keptBy": c.kept_by,
        "lostBy": c.lost_by,
        "lostDeviceId": c.lost_device_id,
        "createdAt": c.created_at.isoformat(),
        "version": c.version,
    }


# ---------------------------------------------------------------- validation


#: A mainland mobile number, 11 digits: what most phones here hold, and "possible" for phonenumbers
#: too (tests/unit check that they agree) — without the ~50 µs its parser takes per number. Not
#: 179xx00…: phonenumbers reads that as an IP long-distance prefix (China's 179xx) and then "00" as
#: a call abroad, so it goes to the parser like anything else.
_CN_MOBILE = re.compile(r"(?!179[0-9]{2}00)1[3-9][0-9]{9}")


def check_phone(phone: str | None) -> None:
    if phone is None or _CN_MOBILE.fullmatch(phone):
        return
    try:
        parsed = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise ValidationFailed(f"{phone} is not a valid phone number.", code="invalid-phone", params={"phone": phone})


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# ---------------------------------------------------------------- reads


def scoped_customers(actor: Actor, *, write: bool = False) -> Select:
    scope = write_scope(actor) if write else read_scope(actor)
    return select(Customer).join(OrgUnit, OrgUnit.id == Customer.org_unit_id).where(scope.clause())


async def get_customer(session: AsyncSession, actor: Actor, customer_id: str) -> Customer:
    row = (await session.execute(scoped_customers(actor).where(Customer.id == customer_id))).scalar_one_or_none()
    if row is None:
        raise NotFound("The customer does not exist or is not yours.", params={"entity": "customer"})
    return row


async def list_customers(
    session: AsyncSession, actor: Actor, *, q: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    query = scoped_customers(actor)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Customer.name.ilike(like), Customer.phone.ilike(like)))
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (await session.execute(query.order_by(Customer.name, Customer.id).limit(limit).offset(offset))).scalars()
    return [customer_value(c) for c in rows], int(total)


async def list_contacts(session: AsyncSession, actor: Actor, customer_id: str) -> list[dict[str, Any]]:
    await get_customer(session, actor, customer_id)
    rows = (
        await session.execute(
            select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.name, Contact.id)
        )
    ).scalars()
    return [contact_value(c) for c in rows]


async def assignment_history(session: AsyncSession, actor: Actor, customer_id: str) -> list[dict[str, Any]]:
    await get_customer(session, actor, customer_id)
    rows = (
        await session.execute(
            select(CustomerAssignment)
            .where(CustomerAssignment.customer_id == customer_id)
            .order_by(CustomerAssignment.id)
        )
    ).scalars()
    return [
        {
            "action": a.action,
            "fromUserId": a.from_user_id,
            "toUserId": a.to_user_id,
            "byUserId": a.by_user_id,
            "reason": a.reason,
            "at": a.at.isoformat(),
        }
        for a in rows
    ]


async def audit_history(session: AsyncSession, actor: Actor, customer_id: str) -> list[dict[str, Any]]:
    """The audit trail of the customer and its contacts: who changed what, when, from which device."""
    await get_customer(session, actor, customer_id)
    contact_ids = select(Contact.id).where(Contact.customer_id == customer_id).scalar_subquery()
    rows = (
        await session.execute(
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


# ---------------------------------------------------------------- writes


async def _path(tx: WriteTx, org_unit_id: str) -> str:
    """An org unit's path, looked up once per write transaction."""
    key = ("org-path", org_unit_id)
    if key not in tx.cache:
        tx.cache[key] = await org_path(tx.session, org_unit_id)
    return str(tx.cache[key])


async def _valid_rep(tx: WriteTx, user_id: str) -> str:
    """An active account manager's org unit id, looked up once per write transaction."""
    key = ("rep", user_id)
    if key not in tx.cache:
        user = await tx.session.get(User, user_id)
        if user is None or "rep" not in (user.roles or []) or user.disabled_at is not None:
            raise ValidationFailed(
                "The assigned account manager must be an active user with the rep role.",
                code="invalid-rep",
                params={"userId": user_id},
            )
        tx.cache[key] = user.org_unit_id
    return str(tx.cache[key])


async def _writable_customer(tx: WriteTx, customer_id: str) -> tuple[Row, str]:
    """A customer the actor may change, with its org path. The scope is checked in Python
    (``CustomerScope.contains``, the twin of the SQL clause) on the row as this transaction sees it —
    preloaded by a batch, or changed by an earlier mutation in it."""
    row = await tx.get(CUSTOMERS, customer_id)
    if row is None:
        raise NotFound("The customer does not exist or is not yours.", params={"entity": "customer"})
    path = await _path(tx, row.org_unit_id)
    if not write_scope(tx.actor).contains(assigned_rep_id=row.assigned_rep_id, org_path=path, kind=row.kind):
        if read_scope(tx.actor).contains(assigned_rep_id=row.assigned_rep_id, org_path=path, kind=row.kind):
            raise OutOfScope("You may read this customer but not change it.", params={"entity": "customer"})
        raise NotFound("The customer does not exist or is not yours.", params={"entity": "customer"})
    return row, path


async def _refuse_taken_id(tx: WriteTx, table: Table, row_id: str, entity: str) -> None:
    """A create's client-made id must be new (a batch looked its ids up beforehand, in one query)."""
    if await tx.get(table, row_id) is not None:
        raise Conflict(f"A {entity} with this id already exists.", code="already-exists", params={"entity": entity})


async def preload(tx: WriteTx, batch: dict[str, list[Any]]) -> None:
    """Read what a batch of customer and contact mutations touches, in three queries: the contacts it
    updates or creates, the customers it updates, creates or adds contacts to, and their org paths."""
    contacts = {a.id for a in batch.get("contact.update", ())} | {a.id for a in batch.get("contact.create", ())}
    customers = {a.id for a in batch.get("customer.update", ())} | {a.id for a in batch.get("customer.create", ())}
    customers |= {a.customer_id for a in batch.get("contact.create", ())}
    if contacts:
        customers |= {c["customer_id"] for c in await tx.load(CONTACTS, contacts)}
    if customers:
        units = {c["org_unit_id"] for c in await tx.load(CUSTOMERS, customers)}
        units -= {k[1] for k in tx.cache if k[0] == "org-path"}
        if units:
            for unit_id, path in (
                await tx.session.execute(select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(units)))
            ).all():
                tx.cache[("org-path", unit_id)] = path


def _assignment(
    tx: WriteTx, customer_id: str, action: str, from_user: str | None, to_user: str | None, reason: str | None
) -> None:
    """A line of the customer's assignment history (assign, reassign, reclaim)."""
    tx.record(
        ASSIGNMENTS,
        {
            "customer_id": customer_id,
            "action": action,
            "from_user_id": from_user,
            "to_user_id": to_user,
            "by_user_id": tx.actor.user_id,
            "reason": reason,
            "version": tx.version,
            "at": utcnow(),
        },
    )


def _server_owned(tx: WriteTx, now: datetime) -> dict[str, Any]:
    """The fields of a new row that only the server writes: version, audit fields, the field clock."""
    return {
        "version": tx.version,
        "created_at": now,
        "updated_at": now,
        "created_by": tx.actor.user_id,
        "updated_by": tx.actor.user_id,
        "field_meta": {"*": stamp(tx.version, tx.hlc, tx.actor.user_id, tx.actor.device_id)},
    }


async def _check_assignable(tx: WriteTx, rep_id: str) -> None:
    """Whether the actor may hand a customer to this account manager — the one check of every path
    that assigns (create, reassign): an active rep, and the actor themself or one of the reps of
    their team (their org subtree; an admin's is everything)."""
    rep_unit = await _valid_rep(tx, rep_id)
    if rep_id != tx.actor.user_id and not tx.actor.sees_org(await _path(tx, rep_unit)):
        raise OutOfScope("That account manager is outside your org unit.", params={"entity": "user"})


async def create_customer(tx: WriteTx, args: m.CustomerCreate) -> Row:
    actor = tx.actor
    org_unit_id = args.org_unit_id or actor.org_unit_id
    path = await _path(tx, org_unit_id)
    rep_id = args.assigned_rep_id
    if rep_id is None and actor.has("rep") and not actor.has("admin", "manager"):
        rep_id = actor.user_id
    if rep_id is not None:
        await _check_assignable(tx, rep_id)
    if not write_scope(actor).contains(assigned_rep_id=rep_id, org_path=path, kind=args.kind):
        raise OutOfScope("You may not create a customer there.", params={"entity": "customer"})
    if not actor.has("admin") and not path.startswith(actor.org_path):
        # A rep's own customers belong to their unit (or one below it), so their manager sees them.
        raise OutOfScope("A customer you create belongs to your own org unit.", params={"entity": "customer"})
    check_phone(args.phone)
    await _refuse_taken_id(tx, CUSTOMERS, args.id, "customer")
    row = tx.insert(
        CUSTOMERS,
        {
            "id": args.id,
            "name": args.name,
            "kind": args.kind,
            "status": args.status,
            "tier": args.tier,
            "phone": args.phone,
            "address": args.address,
            "org_unit_id": org_unit_id,
            "assigned_rep_id": rep_id,
            "tags": args.tags,
            **_server_owned(tx, utcnow()),
        },
    )
    if rep_id:
        _assignment(tx, row.id, "assign", None, rep_id, None)
    tx.changed("customer", row.id, None, (rep_id, path))
    tx.audit(
        "customer",
        row.id,
        "create",
        {f: [None, _jsonable(row[f])] for f in (*CUSTOMER_FIELDS, "org_unit_id", "assigned_rep_id")},
    )
    return row


def _changes(args: Any, not_nullable: frozenset[str], fields: tuple[str, ...]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in args.model_fields_set:
        if name in ("id", "base"):
            continue
        value = getattr(args, name)
        if value is None and name in not_nullable:
            raise ValidationFailed(
                f"{name} cannot be cleared.", code="bad-args", params={"errors": f"{name}: required"}
            )
        if name in fields:
            changes[name] = value
    return changes


async def update_customer(tx: WriteTx, args: m.CustomerUpdate) -> Row:
    actor = tx.actor
    row, path = await _writable_customer(tx, args.id)
    changes = _changes(args, m.NOT_NULLABLE["customer.update"], CUSTOMER_FIELDS)
    if "phone" in changes:
        check_phone(changes["phone"])
    if "kind" in changes and not write_scope(actor).contains(
        assigned_rep_id=row.assigned_rep_id, org_path=path, kind=changes["kind"]
    ):
        raise OutOfScope("This change would move the customer out of what you may edit.", params={"entity": "customer"})
    audience = (row.assigned_rep_id, path)
    result = _merge_and_apply(tx, "customer", CUSTOMERS, row, CUSTOMER_FIELDS, changes, args.base, row.id, audience)
    if "kind" in result.updates:  # care staff see guests only: the kind decides who sees it
        await _dependents_follow(tx, row.id, audience, audience)
    return row


def _merge_and_apply(
    tx: WriteTx,
    entity: str,
    table: Table,
    row: Row,
    fields: tuple[str, ...],
    changes: dict[str, Any],
    base: int,
    customer_id: str,
    audience: tuple[str | None, str | None],
) -> Merge:
    """Merge an update into a row field by field (backend/kernel/conflicts.py), write what won, keep what lost."""
    result = merge(
        {f: row[f] for f in fields},
        row.field_meta or {},
        changes,
        base=base,
        hlc=tx.hlc or "",
        version=tx.version,
        user_id=tx.actor.user_id,
        device_id=tx.actor.device_id,
    )
    if result.updates:
        tx.audit(entity, row.id, "update", {f: [_jsonable(row[f]), _jsonable(v)] for f, v in result.updates.items()})
        row.update(result.updates)
        row.update(field_meta=result.meta, version=tx.version, updated_at=utcnow(), updated_by=tx.actor.user_id)
        tx.update(table, row, (*result.updates, *SERVER_UPDATED))
        tx.changed(entity, row.id, audience, audience)
    for c in result.conflicts:
        conflict = tx.insert(
            CONFLICTS,
            {
                "id": new_id(),
                "entity": entity,
                "entity_id": row.id,
                "customer_id": customer_id,
                "field": c.field,
                "kept_value": _jsonable(c.kept_value),
                "lost_value": _jsonable(c.lost_value),
                "kept_hlc": c.kept_hlc,
                "lost_hlc": c.lost_hlc,
                "kept_by": c.kept_by,
                "lost_by": c.lost_by,
                "lost_device_id": c.lost_device_id,
                "created_at": utcnow(),
                "version": tx.version,
            },
        )
        tx.changed("conflict", conflict.id, audience, audience)
        tx.audit(
            entity, row.id, "conflict", {c.field: {"kept": _jsonable(c.kept_value), "lost": _jsonable(c.lost_value)}}
        )
    return result


async def _dependents_follow(
    tx: WriteTx, customer_id: str, old: tuple[str | None, str | None], new: tuple[str | None, str | None]
) -> None:
    """A customer's contacts and conflict entries follow it in and out of scopes: whenever what decides
    who sees the customer changes (assignment, kind, org unit), each of them gets a change-log entry."""
    await tx.write_rows()  # contacts and conflicts of this transaction included
    for cid in (await tx.session.execute(select(Contact.id).where(Contact.customer_id == customer_id))).scalars():
        tx.changed("contact", cid, old, new)
    for cid in (
        await tx.session.execute(select(ConflictRow.id).where(ConflictRow.customer_id == customer_id))
    ).scalars():
        tx.changed("conflict", cid, old, new)


async def create_contact(tx: WriteTx, args: m.ContactCreate) -> Row:
    customer, path = await _writable_customer(tx, args.customer_id)
    check_phone(args.phone)
    await _refuse_taken_id(tx, CONTACTS, args.id, "contact")
    row = tx.insert(
        CONTACTS,
        {
            "id": args.id,
            "customer_id": customer.id,
            "name": args.name,
            "title": args.title,
            "phone": args.phone,
            "birthday": args.birthday,
            **_server_owned(tx, utcnow()),
        },
    )
    tx.changed("contact", row.id, None, (customer.assigned_rep_id, path))
    tx.audit("contact", row.id, "create", {f: [None, _jsonable(row[f])] for f in CONTACT_FIELDS})
    return row


async def update_contact(tx: WriteTx, args: m.ContactUpdate) -> Row:
    row = await tx.get(CONTACTS, args.id)
    if row is None:
        raise NotFound("The contact does not exist or is not yours.", params={"entity": "contact"})
    customer, path = await _writable_customer(tx, row.customer_id)
    changes = _changes(args, m.NOT_NULLABLE["contact.update"], CONTACT_FIELDS)
    if "phone" in changes:
        check_phone(changes["phone"])
    audience = (customer.assigned_rep_id, path)
    _merge_and_apply(tx, "contact", CONTACTS, row, CONTACT_FIELDS, changes, args.base, customer.id, audience)
    return row


async def reassign(tx: WriteTx, customer_id: str, to_user_id: str | None, reason: str | None) -> Row:
    """Assign, reassign or reclaim (``to_user_id`` None) a customer — managers within their subtree."""
    actor = tx.actor
    if not actor.has("admin", "manager"):
        raise PermissionDenied("Only a manager or an admin may reassign customers.")
    row, path = await _writable_customer(tx, customer_id)
    if to_user_id is not None:
        await _check_assignable(tx, to_user_id)
    if to_user_id == row.assigned_rep_id:
        return row
    action = "reclaim" if to_user_id is None else ("assign" if row.assigned_rep_id is None else "reassign")
    old_rep = row.assigned_rep_id
    meta = dict(row.field_meta or {})
    meta["assigned_rep_id"] = stamp(tx.version, tx.hlc, actor.user_id, actor.device_id)
    row.update(
        assigned_rep_id=to_user_id, version=tx.version, updated_at=utcnow(), updated_by=actor.user_id, field_meta=meta
    )
    tx.update(CUSTOMERS, row, ("assigned_rep_id", *SERVER_UPDATED))
    _assignment(tx, row.id, action, old_rep, to_user_id, reason)
    tx.changed("customer", row.id, (old_rep, path), (to_user_id, path))
    await _dependents_follow(tx, row.id, (old_rep, path), (to_user_id, path))
    tx.audit("customer", row.id, action, {"assigned_rep_id": [old_rep, to_user_id], "reason": reason})
    return row
