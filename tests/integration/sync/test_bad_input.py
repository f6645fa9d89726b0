"""Malformed sync envelopes (ARCHITECTURE.md §3, wire contract v1): bad JSON, wrong types, missing
fields, too large (413), unknown protocol version, too old a schema (426), someone else's clientId
(403), no login (401). Each is a 4xx with an ``error`` code and a detail a person can act on, and
nothing is stored — checked in the database and through a pull that shows nothing new.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from backend.auth.models import Device
from sync_protocol.envelopes import MAX_MUTATIONS_PER_PUSH, MIN_SCHEMA_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION
from tests.support import Session, new_uuid

TABLES = ("sync_client", "sync_rejection", "audit_log", "change_log", "customer", "contact")
MAX_BODY = 256 * 1024  # settings.app.max_body_bytes in tests
_REMOVE = object()


def good_mutation(s: Session, mutation_id: int = 1) -> dict[str, Any]:
    return {
        "clientId": s.device_id,
        "id": mutation_id,
        "name": "customer.create",
        "args": {"id": new_uuid(), "name": f"不该存在 must not exist {mutation_id}"},
        "hlc": s.sync.clock.now(),
    }


def push_body(s: Session, **change: Any) -> dict[str, Any]:
    """A push that would be accepted and store a customer, with ``change`` applied on top."""
    return {**s.envelope(mutations=[good_mutation(s)]), **change}


def with_second(s: Session, **fields: Any) -> dict[str, Any]:
    """A push whose first mutation is good and whose second has ``fields`` changed (or removed: None)."""
    second = good_mutation(s, 2)
    for key, value in fields.items():
        if value is _REMOVE:
            del second[key]
        else:
            second[key] = value
    return s.envelope(mutations=[good_mutation(s), second])


def without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


async def db_state(app: Any, device_id: str) -> dict[str, Any]:
    async with app.state.services.db.read() as s:
        state: dict[str, Any] = {t: (await s.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}
        state["version"] = (await s.execute(text("SELECT version FROM sync_state WHERE id = 1"))).scalar_one()
        state["lastSyncAt"] = (await s.execute(select(Device.last_sync_at).where(Device.id == device_id))).scalar_one()
    return state


@pytest.fixture
async def rep(login: Callable[..., Any]) -> Session:
    s = await login("rep1", "phone")
    await s.sync.pull()  # up to date: the next pull from this cookie shows only what is new
    assert s.sync.cookie
    return s


@pytest.fixture
async def unchanged(app: Any, rep: Session) -> AsyncIterator[None]:
    """Asserts after the test that nothing was stored and a pull brings nothing new."""
    before = await db_state(app, rep.device_id)
    yield
    assert await db_state(app, rep.device_id) == before
    r = await rep.post("/api/sync/pull", rep.envelope(cookie=rep.sync.cookie))
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["patch"] == [] and page["rejections"] == []
    assert page["lastMutationIds"] == {rep.device_id: 0}


def check_problem(r: httpx.Response, status: int, code: str, *mentions: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code, body
    assert body["status"] == status
    detail = body["detail"]
    assert isinstance(detail, str) and len(detail) > 10, body
    for m in mentions:
        assert m in detail, (m, detail)
    assert r.headers["content-type"].startswith("application/problem+json")
    return body


# ------------------------------------------------------------------------------------------ push

Case = Callable[[Session], dict[str, Any]]

PUSH_BAD_TYPES: dict[str, tuple[Case, tuple[str, ...]]] = {
    # name: (body, words the detail must contain so a person knows what to fix)
    "mutations is an object": (lambda s: push_body(s, mutations={"0": good_mutation(s)}), ("mutations", "list")),
    "mutations is null": (lambda s: push_body(s, mutations=None), ("mutations",)),
    "mutations missing": (lambda s: without(push_body(s), "mutations"), ("mutations", "required")),
    "id is a word": (lambda s: with_second(s, id="two"), ("mutations.1.id", "integer")),
    "id is a numeric string": (lambda s: with_second(s, id="2"), ("mutations.1.id", "integer")),
    "id is a boolean": (lambda s: with_second(s, id=True), ("mutations.1.id", "integer")),
    "id is a fraction": (lambda s: with_second(s, id=2.5), ("mutations.1.id",)),
    "id is zero": (lambda s: with_second(s, id=0), ("mutations.1.id",)),
    "id missing": (lambda s: with_second(s, id=_REMOVE), ("mutations.1.id", "required")),
    "args is a list": (lambda s: with_second(s, args=[1, 2]), ("mutations.1.args", "dictionary")),
    "args is a string": (lambda s: with_second(s, args="{}"), ("mutations.1.args",)),
    "args missing": (lambda s: with_second(s, args=_REMOVE), ("mutations.1.args", "required")),
    "name missing": (lambda s: with_second(s, name=_REMOVE), ("mutations.1.name", "required")),
    "name empty": (lambda s: with_second(s, name=""), ("mutations.1.name",)),
    "hlc missing": (lambda s: with_second(s, hlc=_REMOVE), ("mutations.1.hlc", "required")),
    "mutation is a number": (lambda s: push_body(s, mutations=[good_mutation(s), 7]), ("mutations.1",)),
    "clientId missing": (lambda s: without(push_body(s), "clientId"), ("clientId", "required")),
    "clientId is a number": (lambda s: push_body(s, clientId=12345), ("clientId",)),
    "clientId has bad characters": (lambda s: push_body(s, clientId="../etc/passwd"), ("clientId",)),
    "schemaVersion missing": (lambda s: without(push_body(s), "schemaVersion"), ("schemaVersion", "required")),
    "schemaVersion is a string": (lambda s: push_body(s, schemaVersion=str(SCHEMA_VERSION)), ("schemaVersion",)),
    "too many mutations": (
        lambda s: push_body(s, mutations=[good_mutation(s, i + 1) for i in range(MAX_MUTATIONS_PER_PUSH + 1)]),
        ("mutations", str(MAX_MUTATIONS_PER_PUSH)),
    ),
}


@pytest.mark.parametrize("case", list(PUSH_BAD_TYPES), ids=list(PUSH_BAD_TYPES))
async def test_push_with_wrong_types_or_missing_fields_is_400(rep, unchanged, case):
    make, mentions = PUSH_BAD_TYPES[case]
    r = await rep.post("/api/sync/push", make(rep))
    body = check_problem(r, 400, "bad-request", *mentions)
    assert "lastMutationId" not in body


RAW_BODIES = {
    "malformed JSON": (b'{"protocolVersion": 1, "mutations": [', "not valid JSON"),
    "empty body": (b"", "not valid JSON"),
    "not UTF-8": (b'{"protocolVersion": 1, "clientId": "\xff\xfe"}', "not valid JSON"),
    "a JSON array": (b'[{"protocolVersion": 1}]', "JSON object"),
    "a JSON string": (b'"push please"', "JSON object"),
    "JSON null": (b"null", "JSON object"),
}


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/sync/pull"])
@pytest.mark.parametrize("case", list(RAW_BODIES), ids=list(RAW_BODIES))
async def test_body_that_is_not_a_json_object_is_400(rep, unchanged, path, case):
    raw, mention = RAW_BODIES[case]
    r = await rep.http.post(path, content=raw, headers={**rep.headers, "content-type": "application/json"})
    check_problem(r, 400, "bad-request", mention)


async def test_push_array_of_good_envelopes_is_400(rep, unchanged):
    r = await rep.post("/api/sync/push", [push_body(rep)])
    check_problem(r, 400, "bad-request", "JSON object")


# ------------------------------------------------------------------------------------------ versions


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/sync/pull"])
@pytest.mark.parametrize("version", [PROTOCOL_VERSION + 1, 0, "1", None], ids=["next", "zero", "string", "null"])
async def test_unknown_protocol_version_is_400_unsupported_protocol_version(rep, unchanged, path, version):
    body = push_body(rep, protocolVersion=version, cookie=None)
    r = await rep.post(path, body)
    problem = check_problem(r, 400, "unsupported-protocol-version", str(PROTOCOL_VERSION))
    assert problem["supported"] == [PROTOCOL_VERSION]


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/sync/pull"])
async def test_missing_protocol_version_is_400_unsupported_protocol_version(rep, unchanged, path):
    r = await rep.post(path, without(push_body(rep, cookie=None), "protocolVersion"))
    check_problem(r, 400, "unsupported-protocol-version")


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/sync/pull"])
async def test_schema_version_below_the_minimum_is_426_update_required(rep, unchanged, path):
    r = await rep.post(path, push_body(rep, schemaVersion=MIN_SCHEMA_VERSION - 1, cookie=None))
    problem = check_problem(r, 426, "update-required", "update")
    assert problem["minSchemaVersion"] == MIN_SCHEMA_VERSION
    assert problem["schemaVersion"] == SCHEMA_VERSION


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/sync/pull"])
async def test_schema_version_newer_than_the_server_is_400(rep, unchanged, path):
    r = await rep.post(path, push_body(rep, schemaVersion=SCHEMA_VERSION + 1, cookie=None))
    check_problem(r, 400, "unsupported-schema-version", str(SCHEMA_VERSION))


# ------------------------------------------------------------------------------------------ size


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/sync/pull"])
async def test_oversized_body_is_413(rep, unchanged, path):
    body = push_body(rep, cookie=None, padding="x" * (MAX_BODY + 1))  # unknown fields are ignored: size alone
    r = await rep.post(path, body)
    check_problem(r, 413, "payload-too-large", "too large")


async def test_oversized_body_without_content_length_is_413(rep, unchanged):
    raw = json.dumps(push_body(rep, padding="x" * (MAX_BODY + 1))).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(raw), 16 * 1024):
            yield raw[i : i + 16 * 1024]

    r = await rep.http.post(
        "/api/sync/push", content=chunks(), headers={**rep.headers, "content-type": "application/json"}
    )
    assert "content-length" not in r.request.headers
    check_problem(r, 413, "payload-too-large", "too large")


async def test_body_just_under_the_limit_is_accepted(rep, app):
    body = push_body(rep)
    size = len(httpx.Request("POST", "/", json=body).content)
    body["padding"] = "x" * (MAX_BODY - size - 100)
    r = await rep.post("/api/sync/push", body)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "lastMutationId": 1}


# ------------------------------------------------------------------------------------------ identity


async def test_push_with_another_devices_client_id_is_403_client_mismatch(rep, unchanged, login):
    tablet = await login("rep1", "tablet")  # same user, other install
    other = await login("rep2", "rep2-phone")
    for client_id in (tablet.device_id, other.device_id, "not-a-device"):
        body = rep.envelope(mutations=[{**good_mutation(rep), "clientId": client_id}])
        body["clientId"] = client_id
        check_problem(await rep.post("/api/sync/push", body), 403, "client-mismatch", "clientId")


async def test_pull_with_another_devices_client_id_is_403_client_mismatch(rep, unchanged, login):
    other = await login("rep2", "rep2-phone")
    body = {**rep.envelope(cookie=None), "clientId": other.device_id}
    check_problem(await rep.post("/api/sync/pull", body), 403, "client-mismatch", "clientId")


AUTH_HEADERS = {
    "no header": {},
    "empty bearer": {"authorization": "Bearer "},
    "garbage token": {"authorization": "Bearer not.a.jwt"},
    "basic auth": {"authorization": "Basic cmVwMTpkZW1vLXBhc3MtMTIz"},
}


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/sync/pull"])
@pytest.mark.parametrize("case", list(AUTH_HEADERS), ids=list(AUTH_HEADERS))
async def test_no_or_invalid_token_is_401(rep, unchanged, path, case):
    r = await rep.http.post(path, json=push_body(rep, cookie=None), headers=AUTH_HEADERS[case])
    check_problem(r, 401, "not-authenticated")


async def test_refresh_token_is_not_an_access_token(rep, unchanged):
    r = await rep.http.post("/api/sync/push", json=push_body(rep), headers={"authorization": f"Bearer {rep.refresh}"})
    check_problem(r, 401, "not-authenticated")


# ------------------------------------------------------------------------------------------ pull


PULL_BAD: dict[str, tuple[Case, tuple[str, ...]]] = {
    "cookie missing": (lambda s: s.envelope(), ("cookie", "required")),
    "cookie is a number": (lambda s: s.envelope(cookie=42), ("cookie",)),
    "cookie is an object": (lambda s: s.envelope(cookie={"v": 1}), ("cookie",)),
    "cookie too long": (lambda s: s.envelope(cookie="a" * 5000), ("cookie",)),
    "clientId missing": (lambda s: without(s.envelope(cookie=None), "clientId"), ("clientId", "required")),
    "clientId is a list": (lambda s: {**s.envelope(cookie=None), "clientId": [s.device_id]}, ("clientId",)),
    "schemaVersion missing": (
        lambda s: without(s.envelope(cookie=None), "schemaVersion"),
        ("schemaVersion", "required"),
    ),
}


@pytest.mark.parametrize("case", list(PULL_BAD), ids=list(PULL_BAD))
async def test_pull_with_wrong_types_or_missing_fields_is_400(rep, unchanged, case):
    make, mentions = PULL_BAD[case]
    r = await rep.post("/api/sync/pull", make(rep))
    body = check_problem(r, 400, "bad-request", *mentions)
    assert "patch" not in body and "cookie" not in body


@pytest.mark.parametrize("cookie", ["garbage!!", "eyJtIjoiaW5jIn0", "e30"], ids=["not-base64", "no-version", "empty"])
async def test_pull_with_a_cookie_this_server_did_not_issue_is_409_reset_required(rep, unchanged, cookie):
    r = await rep.post("/api/sync/pull", rep.envelope(cookie=cookie))
    check_problem(r, 409, "reset-required", "start")


# ------------------------------------------------------------------------------------------ inside a good envelope

NUL_ARGS = {
    "in a field value": {"name": "NUL \x00 in the name"},
    "in an unknown field's name": {"name": "fine", "\x00": 1},
    "in a nested value": {"name": "fine", "tags": ["ok", "bad\x00tag"]},
}


@pytest.mark.parametrize("case", list(NUL_ARGS), ids=list(NUL_ARGS))
async def test_mutation_with_a_nul_character_is_rejected_not_a_server_error(rep, app, case):
    """Invariant 3 inside a good envelope: the push answers 200 and the counter advances. PostgreSQL
    cannot store U+0000 in text or JSONB, so a NUL must not reach it as is (not even in the rejection)."""
    bad = {**good_mutation(rep, 1), "args": {"id": new_uuid(), **NUL_ARGS[case]}}
    good = good_mutation(rep, 2)
    r = await rep.post("/api/sync/push", rep.envelope(mutations=[bad, good]))
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "lastMutationId": 2}
    pulled = await rep.post("/api/sync/pull", rep.envelope(cookie=rep.sync.cookie))
    assert pulled.status_code == 200, pulled.text
    page = pulled.json()
    put = {op["id"] for op in page["patch"] if op["op"] == "put"}
    assert good["args"]["id"] in put
    rejected = [(x["mutationId"], x["code"]) for x in page["rejections"]]
    # Either recorded as rejected (the better answer) or applied as sent; never lost, never a 500.
    assert rejected == [(1, "bad-args")] or (rejected == [] and bad["args"]["id"] in put), (rejected, put)
