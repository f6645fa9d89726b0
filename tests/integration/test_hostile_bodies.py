"""Every JSON endpoint, taken from the OpenAPI document, against bodies no handler could read: nested
thousands deep, invalid UTF-8, an encoded lone surrogate, truncated, a number out of range, empty,
and JSON sent as text/plain or as a form. Each gets a 4xx problem answer from the one error mapping
— 400 for a body that is not JSON, 415 for a body that is not sent as JSON — with and without a
token, never a 500. (Mutation arguments inside a good push: test_hostile_mutations.py.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support import new_uuid

GOOD = b'{"name": "ok"}'
MALFORMED: dict[str, tuple[bytes, str]] = {
    # name: (body, words the detail must hold)
    "nested 5,000 deep in a list": (b"[" * 5000 + b"]" * 5000, "deep"),
    "nested 5,000 deep in an object": (b'{"a":' * 5000 + b"1" + b"}" * 5000, "deep"),
    "nested deep inside a field": (b'{"username": ' + b"[" * 5000 + b"]" * 5000 + b"}", "deep"),
    "invalid UTF-8": (b'{"username": "\xff\xfe", "password": "x"}', "UTF-8"),
    "a UTF-8-encoded surrogate": (b'{"username": "\xed\xa0\x80"}', "UTF-8"),
    "an escaped lone surrogate then garbage": (b'{"username": "\\ud800\\', "JSON"),
    "truncated": (b'{"username": ', "JSON"),
    "a number out of range": (b'{"base": 1e400}', "JSON"),
    "NaN": (b'{"base": NaN}', "JSON"),
    "empty": (b"", "JSON"),
    "only spaces": (b"   \n ", "JSON"),
}
WRONG_TYPES = {
    "text/plain": "text/plain",
    "form": "application/x-www-form-urlencoded",
    "multipart": "multipart/form-data; boundary=x",
    "xml": "application/xml",
}


async def json_operations(http: Any) -> list[tuple[str, str]]:
    doc = (await http.get("/schema/openapi.json")).json()
    ops = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            content = (op.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                ops.append((method.upper(), re.sub(r"\{[^}]+\}", new_uuid(), path)))
    return ops


def check(r: Any, status: int, *words: str) -> None:
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    problem = r.json()
    assert problem["status"] == status and problem["error"] and len(problem["detail"]) > 10, problem
    for w in words:
        assert w in problem["detail"], (w, problem["detail"])


@pytest.mark.parametrize("logged_in", [True, False], ids=["token", "no-token"])
async def test_every_json_endpoint_refuses_unreadable_bodies_with_400(http, login, logged_in):
    headers = (await login("admin")).headers if logged_in else {}
    ops = await json_operations(http)
    assert len(ops) >= 12 and ("POST", "/api/auth/login") in ops and ("POST", "/api/sync/push") in ops
    for method, path in ops:
        for name, (raw, words) in MALFORMED.items():
            r = await http.request(method, path, content=raw, headers={**headers, "content-type": "application/json"})
            try:
                check(r, 400, words)
            except AssertionError as e:
                raise AssertionError(f"{name}: {e}") from None


@pytest.mark.parametrize("logged_in", [True, False], ids=["token", "no-token"])
async def test_every_json_endpoint_refuses_json_sent_as_another_media_type_with_415(http, login, logged_in):
    headers = (await login("admin")).headers if logged_in else {}
    for method, path in await json_operations(http):
        for media in WRONG_TYPES.values():
            r = await http.request(method, path, content=GOOD, headers={**headers, "content-type": media})
            check(r, 415, "application/json")
        r = await http.request(method, path, content=GOOD, headers=headers)  # no Content-Type at all
        check(r, 415, "application/json")


async def test_json_with_a_charset_or_a_json_suffix_is_read(http, login):
    rep = await login("rep1")
    for media in ("application/json; charset=utf-8", "application/problem+json", "Application/JSON"):
        r = await http.post(
            "/api/customers",
            content=f'{{"id": "{new_uuid()}", "name": "charset ok"}}'.encode(),
            headers={**rep.headers, "content-type": media},
        )
        assert r.status_code == 201, (media, r.text)


async def test_an_escaped_lone_surrogate_in_a_form_field_is_400_with_what_to_fix(http, login):
    rep = await login("rep1")
    raw = f'{{"id": "{new_uuid()}", "name": "cut \\ud83d"}}'.encode()
    r = await http.post("/api/customers", content=raw, headers={**rep.headers, "content-type": "application/json"})
    check(r, 400, "surrogate")
    r = await http.post(
        "/api/auth/login",
        content=b'{"username": "\\udc00", "password": "whatever1"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"], r.text


async def test_multipart_limits_and_garbage_are_clear_4xx(http, login):
    admin = await login("assetadmin")
    many = (
        "".join(f'--b\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nv\r\n' for i in range(2000)) + "--b--\r\n"
    )
    r = await http.post(
        "/api/assets/import",
        content=many.encode(),
        headers={**admin.headers, "content-type": "multipart/form-data; boundary=b"},
    )
    check(r, 413, "too many fields")
    r = await http.post(
        "/api/assets/import",
        content=b"--b\r\nthis is not a part",
        headers={**admin.headers, "content-type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 400 and r.json()["error"], r.text
