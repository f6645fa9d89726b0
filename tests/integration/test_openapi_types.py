"""The OpenAPI document types every 2xx response (issue 15: "a test fails on an untyped response"), and
the answers the server really sends are what it declares.

Answers are built as dicts by the services and sent as built; the handlers' return annotations (the
schemas) are what the document says. ``test_answers_are_what_the_document_declares`` holds the two
together: real answers, on each engine, are checked against the document — every declared property
there and required, no property that is not declared, each value of its declared type.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from backend.app import create_app
from tests import support
from tests.support import Session

SCHEMA_PATH = "/schema/openapi.json"

#: Answers that are not JSON documents: files, photos and the event stream.
NOT_JSON = ("application/pdf", "application/octet-stream", "text/csv", "text/event-stream", "image/")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("openapi")
    app = create_app(support.test_settings(f"sqlite+aiosqlite:///{tmp / 'unused.db'}", tmp / "var"))
    with TestClient(app) as client:
        r = client.get(SCHEMA_PATH)
    assert r.status_code == 200, r.text
    yield r.json()


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _untyped(doc: dict[str, Any], schema: dict[str, Any] | None) -> str | None:
    """Why a response schema says nothing of the answer's shape, or None when it does."""
    if not schema:
        return "no schema"
    schema = _resolve(doc, schema)
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants:
        return next((why for v in variants if (why := _untyped(doc, v))), None)
    kind = schema.get("type")
    if kind == "array":
        why = _untyped(doc, schema.get("items"))
        return f"array of {why}" if why else None
    if kind == "object" or "properties" in schema or "additionalProperties" in schema:
        if not schema.get("properties"):
            only_extra = " (additionalProperties only)" if "additionalProperties" in schema else ""
            return "an object without properties" + only_extra
        return None
    if kind is None:
        return "no type"
    return None


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if isinstance(op, dict) and "responses" in op:
                yield f"{method.upper()} {path}", op


def test_every_2xx_response_has_a_schema(doc: dict[str, Any]) -> None:
    untyped = []
    operations = list(_operations(doc))
    assert len(operations) >= 40
    for label, op in operations:
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            content = response.get("content")
            if not content:
                untyped.append(f"{label} {status}: no content declared")
                continue
            for media_type, body in content.items():
                if media_type.startswith(NOT_JSON) or media_type == XLSX:
                    continue
                why = _untyped(doc, body.get("schema"))
                if why:
                    untyped.append(f"{label} {status} {media_type}: {why}")
    assert not untyped, "untyped responses:\n" + "\n".join(untyped)


def _props(doc: dict[str, Any], path: str, method: str, status: str = "200") -> dict[str, Any]:
    schema = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    schema = _resolve(doc, schema)
    if schema.get("type") == "array":
        schema = _resolve(doc, schema["items"])
    return schema


@pytest.mark.parametrize(
    ("path", "method", "status", "expected"),
    [
        ("/api/customers", "get", "200", {"items", "total"}),
        ("/api/assets", "get", "200", {"items", "total"}),
        ("/api/auth/login", "post", "200", {"accessToken", "expiresIn", "refreshToken", "deviceId", "user"}),
        ("/api/auth/refresh", "post", "200", {"accessToken", "expiresIn", "refreshToken", "deviceId"}),
        ("/api/auth/me", "get", "200", {"id", "username", "displayName", "roles", "orgUnit", "deviceId"}),
        ("/api/customers/{customer_id}", "get", "200", {"id", "name", "orgUnitId", "version", "updatedAt"}),
        ("/api/customers/{customer_id}/history", "get", "200", {"at", "userId", "deviceId", "action", "changes"}),
        ("/api/stocktakes/{stocktake_id}/reconciliation", "get", "200", {"totals", "matchRate", "lines", "late"}),
        ("/api/stocktakes/{stocktake_id}/followups", "get", "200", {"kind", "tag", "assetId", "detail", "state"}),
        ("/api/label-batches", "get", "200", {"id", "createdAt", "count", "reprints"}),
        ("/api/org-units", "get", "200", {"id", "code", "path", "parentId"}),
        ("/api/sync/ticket", "post", "200", {"ticket", "expiresIn"}),
        ("/api/attachments/{sha256}", "put", "201", {"sha256", "stored"}),
        ("/api/attachments/{sha256}", "put", "200", {"sha256", "stored"}),
        ("/api/health", "get", "200", {"ok", "protocolVersion", "schemaVersion"}),
    ],
)
def test_schemas_name_the_answers_fields(
    doc: dict[str, Any], path: str, method: str, status: str, expected: set[str]
) -> None:
    schema = _props(doc, path, method, status)
    assert expected <= set(schema["properties"]), (path, sorted(schema["properties"]))
    assert expected <= set(schema.get("required", [])), (path, schema.get("required"))


def test_files_and_streams_declare_their_media_types(doc: dict[str, Any]) -> None:
    def media(path: str, method: str) -> set[str]:
        return set(doc["paths"][path][method]["responses"]["200"]["content"])

    assert media("/api/assets/labels", "post") == {"application/pdf"}
    assert media("/api/stocktakes/{stocktake_id}/reconciliation.csv", "get") == {"text/csv"}
    assert media("/api/stocktakes/{stocktake_id}/reconciliation.xlsx", "get") == {XLSX}
    assert media("/api/sync/events", "get") == {"text/event-stream"}
    assert media("/api/attachments/{sha256}", "get") == {"image/*"}


# ------------------------------------------------------------------------------ answers against the document

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "array": (list,),
    "object": (dict,),
}


def _mismatches(doc: dict[str, Any], schema: dict[str, Any], value: Any, at: str) -> list[str]:
    """Where ``value`` differs from ``schema``; objects with declared properties must have exactly them."""
    schema = _resolve(doc, schema)
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants:
        tries = [_mismatches(doc, v, value, at) for v in variants]
        return [] if any(not t for t in tries) else min(tries, key=len)
    if "const" in schema and value != schema["const"]:
        return [f"{at}: {value!r} is not {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: {value!r} is not one of {schema['enum']}"]
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds:
        ok = any(
            isinstance(value, JSON_TYPES[k]) and not (isinstance(value, bool) and k in ("integer", "number"))
            for k in kinds
        )
        if not ok:
            return [f"{at}: {value!r} is not {kind}"]
    out: list[str] = []
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += _mismatches(doc, schema["items"], item, f"{at}[{i}]")
    if isinstance(value, dict) and schema.get("properties"):
        props = schema["properties"]
        out += [f"{at}: {k!r} is not declared" for k in value if k not in props]
        out += [f"{at}: {k!r} is missing" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            if k in props:
                out += _mismatches(doc, props[k], v, f"{at}.{k}")
    return out


class Checked:
    """Calls the API and checks each JSON answer against what the document declares for it."""

    def __init__(self, doc: dict[str, Any], session: Session) -> None:
        self.doc, self.session, self.seen = doc, session, set[str]()

    async def call(self, method: str, template: str, body: Any = None, **ids: str) -> Any:
        path = template.format(**ids)
        headers = self.session.headers
        if method == "get":
            r = await self.session.http.get(path, headers=headers)
        else:
            r = await self.session.http.request(method.upper(), path, json=body, headers=headers)
        assert 200 <= r.status_code < 300, (method, path, r.status_code, r.text)
        op = self.doc["paths"][template][method]["responses"][str(r.status_code)]
        schema = op["content"]["application/json"]["schema"]
        value = r.json()
        problems = _mismatches(self.doc, schema, value, f"{method.upper()} {template}")
        assert not problems, "\n".join(problems) + "\n" + json.dumps(value, ensure_ascii=False)[:2000]
        self.seen.add(f"{method.upper()} {template}")
        return value


async def test_answers_are_what_the_document_declares(http: Any, login: Any, tmp_path: Path) -> None:
    doc = (await http.get(SCHEMA_PATH)).json()
    admin = await login("admin")
    api = Checked(doc, admin)

    await api.call("get", "/api/health")
    await api.call("get", "/api/auth/me")
    await api.call("get", "/api/auth/devices")
    await api.call("get", "/api/org-units")
    await api.call("post", "/api/sync/ticket")
    tokens = await api.call("post", "/api/auth/refresh", {"refreshToken": admin.refresh})
    admin.access = tokens["accessToken"]

    page = await api.call("get", "/api/customers")
    assert page["items"] and page["total"] >= len(page["items"])
    customer = page["items"][0]
    customer = await api.call("get", "/api/customers/{customer_id}", customer_id=customer["id"])
    changed = await api.call(
        "patch",
        "/api/customers/{customer_id}",
        {"id": customer["id"], "name": customer["name"] + " (typed)", "base": customer["version"]},
        customer_id=customer["id"],
    )
    assert changed["version"] > customer["version"]
    await api.call("get", "/api/customers/{customer_id}/contacts", customer_id=customer["id"])
    await api.call("get", "/api/customers/{customer_id}/assignments", customer_id=customer["id"])
    history = await api.call("get", "/api/customers/{customer_id}/history", customer_id=customer["id"])
    assert history, "the change above is in the customer's history"

    assets = await api.call("get", "/api/assets")
    asset = assets["items"][0]
    await api.call("get", "/api/assets/{asset_id}", asset_id=asset["id"])
    await api.call("get", "/api/assets/by-tag/{tag}", tag=asset["tag"])
    await api.call("patch", "/api/assets/{asset_id}", {"serial": "SN-TYPED-1"}, asset_id=asset["id"])
    moved = await api.call("get", "/api/assets/{asset_id}/history", asset_id=asset["id"])
    assert moved["changes"]
    await api.call("get", "/api/locations")
    labels = await admin.post("/api/assets/labels", {"tags": [asset["tag"]]})
    assert labels.status_code == 200 and labels.headers["content-type"] == "application/pdf"
    batches = await api.call("get", "/api/label-batches")
    assert batches

    stocktakes = await api.call("get", "/api/stocktakes")
    assert stocktakes, "the demo has an open stocktake"
    st = stocktakes[0]
    await api.call("get", "/api/stocktakes/{stocktake_id}", stocktake_id=st["id"])
    closed = await api.call(
        "post", "/api/stocktakes/{stocktake_id}/close", {"reason": "typed answers"}, stocktake_id=st["id"]
    )
    assert closed["state"] == "closed"
    report = await api.call("get", "/api/stocktakes/{stocktake_id}/reconciliation", stocktake_id=st["id"])
    assert report["lines"]
    followups = await api.call("get", "/api/stocktakes/{stocktake_id}/followups", stocktake_id=st["id"])
    assert followups, "nothing was scanned: every expected asset is missing, each a follow-up"

    photo = b"\x89PNG\r\n\x1a\n typed"
    sha = hashlib.sha256(photo).hexdigest()
    for expected in (201, 200):
        r = await http.put(
            f"/api/attachments/{sha}", content=photo, headers={**admin.headers, "content-type": "image/png"}
        )
        assert r.status_code == expected, r.text
        schema = doc["paths"]["/api/attachments/{sha256}"]["put"]["responses"][str(expected)]["content"]
        assert not _mismatches(doc, schema["application/json"]["schema"], r.json(), "PUT attachment")
        assert r.json() == {"sha256": sha, "stored": expected == 201}

    await api.call("post", "/api/auth/logout")
    assert len(api.seen) >= 25
