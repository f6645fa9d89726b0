"""The pull answer in two lines (``application/vnd.outpost.pull+jsonl``), which the phone asks for:
the envelope with the page's clear/del ops, then its put ops as one JSON array. It must carry
exactly what the JSON answer carries, and applying the puts after the other ops must give the same
rows as applying the JSON patch in order - which holds because a page names each row at most once
and a clear comes first."""

from __future__ import annotations

import json
from typing import Any

import pytest

LINES = "application/vnd.outpost.pull+jsonl"


@pytest.fixture
def sync_options():
    return {"pull_page_size": 7}


def _split(r: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(LINES)
    head, sep, tail = r.content.partition(b"\n")
    assert sep and b"\n" not in tail.strip()  # two lines: the envelope holds no raw newline
    return json.loads(head), json.loads(tail)


def _apply(rows: dict[tuple[str, str], Any], ops: list[dict[str, Any]]) -> None:
    for op in ops:
        if op["op"] == "clear":
            rows.clear()
        elif op["op"] == "put":
            rows[(op["entity"], op["id"])] = op["value"]
        else:
            rows.pop((op["entity"], op["id"]), None)


async def _both(rep: Any, cookie: str | None) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """The JSON answer and the two-line answer for the same cookie (nothing changes in between)."""
    plain = await rep.post("/api/sync/pull", rep.envelope(cookie=cookie))
    assert plain.headers["content-type"].startswith("application/json")
    head, puts = _split(await rep.post("/api/sync/pull", rep.envelope(cookie=cookie), headers={"accept": LINES}))
    return plain.json(), head, puts


def _check_page(page: dict[str, Any], head: dict[str, Any], puts: list[dict[str, Any]]) -> None:
    assert {k: v for k, v in head.items() if k != "patch"} == {k: v for k, v in page.items() if k != "patch"}
    assert head["patch"] == [op for op in page["patch"] if op["op"] != "put"]
    assert puts == [op for op in page["patch"] if op["op"] == "put"]
    keys = [(op["entity"], op["id"]) for op in page["patch"] if op["op"] != "clear"]
    assert len(keys) == len(set(keys))  # each row at most once per page
    assert all(op["op"] != "clear" for op in page["patch"][1:])  # a clear only ever comes first


async def test_two_line_answers_carry_what_json_answers_carry_through_a_first_sync(login):
    rep = await login("rep1")
    cookie, in_order, split, pages = None, {}, {}, 0
    while True:
        page, head, puts = await _both(rep, cookie)
        _check_page(page, head, puts)
        _apply(in_order, page["patch"])
        _apply(split, head["patch"] + puts)
        pages += 1
        cookie = page["cookie"]
        if not page["more"]:
            break
    assert pages >= 3
    assert split == in_order and len(in_order) > 20
    await rep.sync.pull()
    assert split == rep.sync.base


async def test_an_incremental_two_line_answer_puts_and_deletes_like_the_json_one(login):
    rep1, rep2, manager = await login("rep1"), await login("rep2"), await login("manager")
    await rep1.sync.pull()
    before = dict(rep1.sync.base)
    customers = [k[1] for k in before if k[0] == "customer"]
    gone, changed = customers[0], customers[1:4]
    r = await manager.post(f"/api/customers/{gone}/assign", {"repId": rep2.user["id"], "reason": "territory"})
    assert r.status_code == 200
    await manager.sync.pull()
    for i, cid in enumerate(changed):
        manager.sync.update("customer", cid, address=f"New Road {i}")
    await manager.sync.sync()

    page, head, puts = await _both(rep1, rep1.sync.cookie)
    _check_page(page, head, puts)
    assert {op["id"] for op in head["patch"]} >= {gone} and all(op["op"] == "del" for op in head["patch"])
    assert {op["id"] for op in puts if op["entity"] == "customer"} == set(changed)
    in_order, split = dict(before), dict(before)
    _apply(in_order, page["patch"])
    _apply(split, head["patch"] + puts)
    assert split == in_order
    assert ("customer", gone) not in split and split[("customer", changed[0])]["address"] == "New Road 0"


async def test_a_refusal_is_json_whatever_was_asked_for(login):
    rep = await login("rep1")
    r = await rep.post("/api/sync/pull", rep.envelope(cookie="not-a-cookie"), headers={"accept": LINES})
    assert r.status_code == 409 and r.json()["error"] == "reset-required"
