"""Invariant 3 against hostile mutation arguments: whatever a mutation holds — nested hundreds deep,
huge, NUL characters, lone surrogates, wrong types at every level, in known and unknown mutations —
it is rejected alone, with a code, the counter advances and the next mutation of the same push is
applied. The rejection itself is stored and pulled back without fail, and a retry of the push is a
no-op. Runs on SQLite and PostgreSQL (the ``engine_kind`` fixture).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from backend.sync.models import Rejection
from sync_protocol.base import MAX_ARGS_BYTES, MAX_ARGS_DEPTH
from tests.support import Session, new_uuid


def nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for _ in range(depth - 1):
        value = {"n": value}
    return value


def name_args(**extra: Any) -> dict[str, Any]:
    return {"id": new_uuid(), "name": "ok", **extra}


# name: (mutation name, args, expected rejection code)
HOSTILE: dict[str, tuple[str, Callable[[], Any], str]] = {
    "nested 800 deep in a field": ("customer.create", lambda: name_args(tags=[nested(800)]), "args-too-deep"),
    "nested 800 deep in an unknown field": ("customer.create", lambda: name_args(x=nested(800)), "args-too-deep"),
    "nested 800 deep in an unknown mutation": ("customer.explode", lambda: {"x": nested(800)}, "unknown-mutation"),
    "a list nested 800 deep": ("contact.create", lambda: name_args(customerId=[[[[[[[[[[[]]]]]]]]]]]), "bad-args"),
    "just past the depth bound": ("customer.create", lambda: name_args(x=nested(MAX_ARGS_DEPTH + 1)), "args-too-deep"),
    "a huge text": ("customer.create", lambda: name_args(address="长" * (MAX_ARGS_BYTES // 3 + 10)), "args-too-large"),
    "many small fields": ("customer.create", lambda: name_args(**{f"f{i}": i for i in range(6_000)}), "args-too-large"),
    "a huge unknown field name": ("customer.create", lambda: name_args(**{"k" * 40_000: 1}), "bad-args"),
    "NUL in a value": ("customer.create", lambda: name_args(name="a\x00b"), "bad-args"),
    "NUL in a key": ("customer.update", lambda: {"id": new_uuid(), "base": 0, "\x00": "x"}, "bad-args"),
    "NUL in the mutation name": ("customer.\x00", lambda: name_args(), "unknown-mutation"),
    "a lone high surrogate": ("customer.create", lambda: name_args(name="cut \ud83d"), "bad-args"),
    "a lone low surrogate in a tag": ("customer.create", lambda: name_args(tags=["\udc00"]), "bad-args"),
    "a lone surrogate in a key": ("customer.create", lambda: name_args(**{"\ud800": 1}), "bad-args"),
    "name is a list": ("customer.create", lambda: name_args(name=["a"]), "bad-args"),
    "name is an object": ("customer.create", lambda: name_args(name={"zh": "名"}), "bad-args"),
    "id is a number": ("customer.create", lambda: {"id": 12345, "name": "x"}, "bad-args"),
    "tags is an object": ("customer.create", lambda: name_args(tags={"a": 1}), "bad-args"),
    "a tag is a number": ("customer.create", lambda: name_args(tags=[1]), "bad-args"),
    "a tag is a list": ("customer.create", lambda: name_args(tags=[["a"]]), "bad-args"),
    "base is text": ("customer.update", lambda: {"id": new_uuid(), "base": "three", "name": "x"}, "bad-args"),
    "base is negative": ("customer.update", lambda: {"id": new_uuid(), "base": -1, "name": "x"}, "bad-args"),
    "a huge number": ("customer.update", lambda: {"id": new_uuid(), "base": 10**40, "name": "x"}, "bad-args"),
    "scannedAt is not a time": (
        "stocktake.scan",
        lambda: {"id": new_uuid(), "stocktakeId": new_uuid(), "tag": "AS1", "scannedAt": [2026]},
        "bad-args",
    ),
    "birthday is an object": (
        "contact.create",
        lambda: {"id": new_uuid(), "customerId": new_uuid(), "name": "x", "birthday": {"y": 1}},
        "bad-args",
    ),
}


def body(s: Session, mutations: list[tuple[str, Any]]) -> bytes:
    """A push as raw JSON text (lone surrogates go out escaped, as a phone's JSON.stringify writes them)."""
    ms = [
        {"clientId": s.device_id, "id": i + 1, "name": name, "args": args, "hlc": s.sync.clock.now()}
        for i, (name, args) in enumerate(mutations)
    ]
    text = json.dumps(s.envelope(mutations=ms), ensure_ascii=False)
    return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text).encode()


async def push_raw(s: Session, raw: bytes) -> Any:
    return await s.http.post("/api/sync/push", content=raw, headers={**s.headers, "content-type": "application/json"})


@pytest.fixture
async def rep(login: Callable[..., Any]) -> Session:
    s = await login("rep1", "phone")
    await s.sync.pull()
    return s


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
async def test_hostile_arguments_are_rejected_alone_with_a_code(app, rep, case):
    name, make, code = HOSTILE[case]
    good_id = new_uuid()
    raw = body(rep, [(name, make()), ("customer.create", {"id": good_id, "name": "after the bad one"})])
    r = await push_raw(rep, raw)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "lastMutationId": 2}

    again = await push_raw(rep, raw)  # a retry of the same push: nothing new, no failure
    assert again.status_code == 200 and again.json() == {"ok": True, "lastMutationId": 2}, again.text

    pulled = await rep.post("/api/sync/pull", rep.envelope(cookie=rep.sync.cookie))
    assert pulled.status_code == 200, pulled.text
    page = pulled.json()
    assert [(x["mutationId"], x["code"]) for x in page["rejections"]] == [(1, code)], page["rejections"]
    rejection = page["rejections"][0]
    assert isinstance(rejection["message"], str) and len(rejection["message"]) > 10
    assert len(json.dumps(rejection)) < 8 * 1024  # what comes back is bounded, however big the input
    assert good_id in {op["id"] for op in page["patch"] if op["op"] == "put"}

    # The next push carries on from 3: the queue is not stuck.
    r = await rep.post("/api/sync/push", rep.envelope(mutations=[]))
    assert r.json()["lastMutationId"] == 2
    nxt = json.loads(body(rep, [("customer.create", {"id": new_uuid(), "name": "third"})]))
    nxt["mutations"][0]["id"] = 3
    r = await rep.post("/api/sync/push", nxt)
    assert r.status_code == 200 and r.json()["lastMutationId"] == 3, r.text

    async with app.state.services.db.read() as s:
        stored = (await s.execute(select(Rejection).where(Rejection.client_id == rep.device_id))).scalars().one()
    assert stored.code == code
    assert len(json.dumps(stored.args)) <= MAX_ARGS_BYTES + 1024  # kept as far as it can be, bounded


async def test_a_push_of_many_hostile_mutations_is_judged_one_by_one(rep):
    cases = list(HOSTILE.values())
    mutations = [(name, make()) for name, make, _ in cases]
    ok_id = new_uuid()
    mutations.append(("customer.create", {"id": ok_id, "name": "the good one"}))
    raw = body(rep, mutations)
    assert len(raw) < 4 * 1024 * 1024
    r = await push_raw(rep, raw)
    assert r.status_code == 200, r.text
    assert r.json()["lastMutationId"] == len(mutations)
    page = (await rep.post("/api/sync/pull", rep.envelope(cookie=rep.sync.cookie))).json()
    assert [x["code"] for x in page["rejections"]] == [code for _, _, code in cases]
    assert ok_id in {op["id"] for op in page["patch"] if op["op"] == "put"}


async def test_a_body_too_deep_to_decode_is_refused_whole_with_400(rep, app):
    """Deeper than any decoder goes: the envelope is malformed and refused whole (the phone never
    sends one: it checks a change's depth before queuing it)."""
    raw = body(rep, [("customer.create", name_args(x="DEEP"))]).replace(b'"DEEP"', b"[" * 5000 + b"]" * 5000)
    r = await push_raw(rep, raw)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad-request" and "deep" in r.json()["detail"]
    r = await rep.post("/api/sync/push", rep.envelope(mutations=[]))
    assert r.json()["lastMutationId"] == 0  # nothing was stored


async def test_a_queue_of_big_changes_is_sent_in_batches_that_fit(rep):
    """Ten changes of ~60 KB each (under the per-change bound) against a server whose body limit is
    256 KiB: the reference client halves its batch on 413, every change is judged, none sticks."""
    for i in range(10):
        rep.sync.mutate("customer.create", {"id": new_uuid(), "name": f"big {i}", "notes": "长" * 20_000})
    await rep.sync.sync()
    assert rep.sync.last_mutation_id == 10
    assert [r.code for r in rep.sync.rejected] == ["bad-args"] * 10  # notes is no field of a customer
