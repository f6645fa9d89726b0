"""Wire shapes declared once: a synced entity's JSON value, built in Python for one row and in SQL
for many.

A first sync sends tens of thousands of rows. Building each row's dict in Python (SQLAlchemy row
access, datetime parsing and ``isoformat``, JSON decoding of lists) cost ~12 µs a row — most of the
server's time per page. ``WireShape.put_op`` has the database write each ``put`` op as JSON text
(SQLite's ``json_object``, PostgreSQL's ``json_build_object``); the page is those texts joined and
sent as they are. ``WireShape.value`` is the same shape for one row in Python (REST answers, rows a
transaction holds). tests/integration/kernel/test_wire.py checks both agree, on both engines.

Value kinds: ``value`` (text, number or null as stored), ``datetime`` (UTC, ``datetime.isoformat``),
``date`` (ISO), ``list`` (a JSON list column; null or not a list reads as ``[]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, Table, Text, case, func, literal_column, select, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

Kind = Literal["value", "datetime", "date", "list"]


@dataclass(frozen=True)
class Field:
    key: str  # on the wire (camelCase)
    column: str  # in the table
    kind: Kind = "value"


class WireShape:
    """The wire value of one entity: ``(key, column[, kind])`` in the order they are sent."""

    def __init__(self, entity: str, table: Table, fields: Iterable[tuple[str, str] | tuple[str, str, Kind]]):
        self.entity = entity
        self.table = table
        self.fields = tuple(Field(*f) for f in fields)
        for f in self.fields:
            if f.column not in table.c:
                raise ValueError(f"{entity}: no column {f.column!r} in {table.name}")

    # ------------------------------------------------------------ one row, in Python

    def value(self, row: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            v = getattr(row, f.column)
            if f.kind == "datetime" or f.kind == "date":
                v = v.isoformat() if v is not None else None
            elif f.kind == "list":
                v = list(v) if isinstance(v, (list, tuple)) else []
            out[f.key] = v
        return out

    # ------------------------------------------------------------ many rows, in SQL

    def page(self, ids: Select[Any], dialect: str, *, ordered: bool = False) -> Select[Any]:
        """``(id, put op JSON)`` of the rows whose ids ``ids`` selects (``ordered``: by id). The ids are chosen
        first and only those rows are written as JSON: with the JSON in the same query, the database
        may build it for every row in scope before sorting and keeping a page of them."""
        chosen = ids.subquery("chosen")
        q = select(self.table.c.id, self.put_op(dialect)).join_from(chosen, self.table, self.table.c.id == chosen.c[0])
        return q.order_by(chosen.c[0]) if ordered else q

    def joined(self, ids: Select[Any], dialect: str) -> Select[Any]:
        """One row for the rows whose ids ``ids`` selects, in id order: how many (``n``), the last id
        (``last``) and their put ops joined by commas (``ops``, null when none) — a page of a first
        sync arrives as one text instead of thousands of rows for Python to handle one by one."""
        page = self.page(ids, dialect, ordered=True).subquery("page")
        op, row_id = page.c[1], page.c[0]
        if dialect == "postgresql":
            ops = func.string_agg(op, aggregate_order_by(literal_column("','"), row_id))
        else:
            ops = func.group_concat(op, literal_column("','"))  # in the page's order (an ordered subquery)
        return select(func.count().label("n"), func.max(row_id).label("last"), type_coerce(ops, Text).label("ops"))

    def put_op(self, dialect: str) -> ColumnElement[str]:
        """SQL for this row's ``{"op": "put", "entity", "id", "value"}`` as JSON text."""
        build = func.json_build_object if dialect == "postgresql" else func.json_object
        value = build(*(part for f in self.fields for part in (_const(f.key), self._sql(f, dialect))))
        op = build(
            _const("op"), _const("put"), _const("entity"), _const(self.entity),
            _const("id"), self.table.c.id, _const("value"), value,
        )  # fmt: skip
        return type_coerce(op.cast(Text) if dialect == "postgresql" else op, Text)

    def _sql(self, f: Field, dialect: str) -> ColumnElement[Any]:
        col = self.table.c[f.column]
        # Read as stored: type_coerce to Text, so SQLAlchemy applies none of the column type's processing.
        raw = type_coerce(col, Text)
        pg = dialect == "postgresql"
        if f.kind == "datetime":
            # Stored in UTC ('YYYY-MM-DD HH:MM:SS.ffffff' on SQLite); isoformat drops a zero fraction.
            text = (
                func.to_char(func.timezone("UTC", col), 'YYYY-MM-DD"T"HH24:MI:SS.US', type_=Text)
                if pg
                else func.replace(raw, " ", "T", type_=Text)
            )
            return func.replace(text, ".000000", "", type_=Text) + "+00:00"
        if f.kind == "date":
            return func.to_char(col, "YYYY-MM-DD", type_=Text) if pg else raw
        if f.kind == "list":
            if pg:
                return case((func.jsonb_typeof(col) == "array", col), else_=literal_column("'[]'::jsonb"))
            return case((func.json_type(raw) == "array", func.json(raw)), else_=func.json_array())
        return col


def _const(word: str) -> ColumnElement[str]:
    """A key or fixed word, written into the SQL (not a parameter: asyncpg cannot type one in json_build_object)."""
    if not word.replace("_", "").isalnum() or not word.isascii():
        raise ValueError(f"not a plain word: {word!r}")
    return literal_column(f"'{word}'", Text)
