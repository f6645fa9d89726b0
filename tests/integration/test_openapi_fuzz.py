"""Schemathesis on our OpenAPI document: every operation, logged in, valid and invalid input, never a 5xx.

Schemathesis drives the ASGI app from its own event-loop thread, so this module builds its own app on
a database of its own (the ``http``/``db`` fixtures bind connections to pytest-asyncio's loop). The demo
data is loaded with ``asyncio.run`` on a separate engine that is disposed before the app starts.

``schemathesis.pytest.from_fixture`` fails on pytest 9 (``Function`` has no ``_nodeid``), so the
operations are driven with plain Hypothesis ``@given`` over ``operation.as_strategy()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi

from backend.app import create_app
from backend.auth.passwords import Passwords
from backend.auth.services import AuthService
from backend.auth.tokens import Tokens
from backend.db.engine import Database
from backend.demo import load
from backend.kernel.registry import MUTATORS
from backend.settings import Settings
from sync_protocol.envelopes import PROTOCOL_VERSION, SCHEMA_VERSION
from tests import support
from tests.conftest import DEMO_PASSWORD

MAX_EXAMPLES = 12  # per operation and generation mode: bounded, well under a minute in all
SCHEMA_PATH = "/schema/openapi.json"


async def _load_demo(s: Settings) -> None:
    db = Database(s.database_url)
    a = s.auth
    try:
        auth = AuthService(db, a, Passwords(a), Tokens(a.jwt_secret, a.access_token_minutes))
        await load(db, auth, DEMO_PASSWORD, customers_count=30)
    finally:
        await db.dispose()


@dataclass
class Target:
    app: Any
    token: str
    device_id: str
    path_ids: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def target(engine_kind: str, templates: dict[str, str], tmp_path: Path) -> Iterator[Target]:
    url, drop = asyncio.run(support.new_database(engine_kind, templates[engine_kind], tmp_path))
    s = support.test_settings(url, tmp_path / "var")
    asyncio.run(_load_demo(s))
    app = create_app(s)
    try:
        with asgi.get_client(app) as client:
            r = client.post("/api/auth/login", json={"username": "admin", "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
            login = r.json()
            auth = {"Authorization": f"Bearer {login['accessToken']}"}
            customers = client.get("/api/customers", headers=auth).json()["items"]
            assert customers, "demo customers are missing"
            with_contacts = next(
                (c for c in customers if client.get(f"/api/customers/{c['id']}/contacts", headers=auth).json()),
                None,
            )
            assert with_contacts is not None
            contact = client.get(f"/api/customers/{with_contacts['id']}/contacts", headers=auth).json()[0]
        yield Target(
            app,
            login["accessToken"],
            login["deviceId"],
            {"customer_id": with_contacts["id"], "contact_id": contact["id"]},
        )
    finally:
        asgi.shutdown_lifespans()
        asyncio.run(drop())


def _fix_sync_envelope(case: Any, target: Target, next_id: list[int]) -> None:
    """Positive push/pull cases with a valid envelope, so the generated mutations reach the server."""
    if not isinstance(case.body, dict):
        return
    case.body.update(protocolVersion=PROTOCOL_VERSION, schemaVersion=SCHEMA_VERSION, clientId=target.device_id)
    names = sorted(MUTATORS)
    for i, mutation in enumerate(case.body.get("mutations") or []):
        if isinstance(mutation, dict):
            mutation["id"] = next_id[0] + i
            mutation["clientId"] = target.device_id
            mutation["name"] = names[i % len(names)] if i % 3 else mutation.get("name", "x")


@dataclass
class FuzzRun:
    target: Target
    failures: list[str] = field(default_factory=list)
    seen: dict[str, set[int]] = field(default_factory=dict)
    next_id: list[int] = field(default_factory=lambda: [1])

    def check(self, op: Any, mode: GenerationMode, path_parameters: dict[str, str] | None) -> None:
        """Up to MAX_EXAMPLES generated requests to one operation; 5xx answers are collected."""

        @given(case=op.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {self.target.token}"}
            if mode is GenerationMode.POSITIVE and op.path in ("/api/sync/push", "/api/sync/pull"):
                _fix_sync_envelope(case, self.target, self.next_id)
            response = case.call()
            self.seen.setdefault(op.label, set()).add(response.status_code)
            if op.path == "/api/sync/push" and response.status_code == 200:
                self.next_id[0] = response.json()["lastMutationId"] + 1
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except (AssertionError, FailureGroup):
                self.failures.append(
                    f"{op.label} [{mode.value}] -> {response.status_code} {response.text[:300]}\n"
                    f"    {case.as_curl_command()}"
                )

        run()


def test_no_operation_answers_5xx(target: Target) -> None:
    schema = schemathesis.openapi.from_asgi(SCHEMA_PATH, target.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    # Signing out ends the run's access token: that operation goes last.
    operations.sort(key=lambda op: op.label == "POST /api/auth/logout")
    fuzz = FuzzRun(target)
    for op in operations:
        fuzz.check(op, GenerationMode.POSITIVE, None)
        fuzz.check(op, GenerationMode.NEGATIVE, None)
        wanted = {p.name for p in op.path_parameters} & set(target.path_ids)
        if wanted:  # also with ids that exist, so the handlers get past "not found"
            fuzz.check(op, GenerationMode.POSITIVE, {name: target.path_ids[name] for name in wanted})

    assert not fuzz.failures, "server errors:\n" + "\n".join(fuzz.failures)
    seen = fuzz.seen
    assert set(seen) == {op.label for op in operations}
    # The run reached past authentication and validation, not only the refusals.
    assert 200 in seen["GET /api/customers"] and 200 in seen["GET /api/customers/{customer_id}"]
    assert 200 in seen["POST /api/sync/push"] and 200 in seen["POST /api/sync/pull"]
    assert 201 in seen["POST /api/customers"]


def test_openapi_declares_413_and_429_as_problem_details(tmp_path: Path) -> None:
    app = create_app(support.test_settings(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", tmp_path / "var"))
    try:
        with asgi.get_client(app) as client:
            r = client.get(SCHEMA_PATH)
    finally:
        asgi.shutdown_lifespans()
    assert r.status_code == 200, r.text
    doc = r.json()
    problem = doc["components"]["schemas"]["ProblemDetails"]
    assert {"error", "detail", "status"} <= set(problem["required"])

    def responses(path: str, method: str) -> dict[str, Any]:
        return doc["paths"][path][method]["responses"]

    with_body = [
        (path, method) for path, ops in doc["paths"].items() for method, op in ops.items() if "requestBody" in op
    ]
    assert ("/api/sync/push", "post") in with_body and ("/api/sync/pull", "post") in with_body
    for path, method in with_body:
        declared = responses(path, method)
        assert "413" in declared, (path, method)
        assert declared["413"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/ProblemDetails")

    login = responses("/api/auth/login", "post")
    assert "429" in login
    assert "Retry-After" in login["429"]["description"]
    assert login["429"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/ProblemDetails")


# ------------------------------------------------------------------------------------------ found by the fuzz

NUL = "a\x00b"  # PostgreSQL cannot hold U+0000 in text: it must be refused as bad input, not reach the DB
NUL_REQUESTS: dict[str, tuple[str, str, dict[str, Any], bool]] = {
    # name: (method, path, request arguments, logged in)
    "customer search": ("GET", "/api/customers", {"params": {"q": NUL}}, True),
    "customer id in the path": ("GET", "/api/customers/a%00b", {}, True),
    "customer name": (
        "POST",
        "/api/customers",
        {"json": {"id": "7f1c1d52-3a53-4e0e-9d43-0d8a8f6f1a11", "name": NUL}},
        True,
    ),
    "customer address": (
        "POST",
        "/api/customers",
        {"json": {"id": "1b0c8a0e-8f0e-4a57-b6de-5b5f0d3b7c21", "name": "ok", "address": NUL}},
        True,
    ),
    "devices userId": ("GET", "/api/auth/devices", {"params": {"userId": NUL}}, True),
    "device id to revoke": ("POST", "/api/auth/devices/a%00b/revoke", {}, True),
    "login username": ("POST", "/api/auth/login", {"json": {"username": NUL, "password": "whatever1"}}, False),
    "login device name": (
        "POST",
        "/api/auth/login",
        {"json": {"username": "rep1", "password": DEMO_PASSWORD, "deviceName": NUL}},
        False,
    ),
    "login device id": (
        "POST",
        "/api/auth/login",
        {"json": {"username": "rep1", "password": DEMO_PASSWORD, "deviceId": NUL}},
        False,
    ),
}


@pytest.mark.parametrize("case", list(NUL_REQUESTS), ids=list(NUL_REQUESTS))
async def test_nul_character_in_input_is_not_a_server_error(http, login, case):
    method, path, kwargs, logged_in = NUL_REQUESTS[case]
    headers = (await login("admin")).headers if logged_in else {}
    r = await http.request(method, path, headers=headers, **kwargs)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["error"] and r.json()["detail"], r.text
