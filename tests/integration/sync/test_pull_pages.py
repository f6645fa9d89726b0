"""First sync in pages: progress, resumption, page + cookie (small pages to exercise paging)."""

from __future__ import annotations

import pytest


@pytest.fixture
def sync_options():
    return {"pull_page_size": 7}


async def test_first_pull_streams_pages_with_progress_and_resumes(login):
    rep = await login("rep1")
    cookie, pages, seen, progress = None, 0, {}, []
    while True:
        r = await rep.post("/api/sync/pull", rep.envelope(cookie=cookie))
        page = r.json()
        pages += 1
        if pages == 1:
            assert page["patch"][0] == {"op": "clear"}
        for op in page["patch"]:
            if op["op"] == "put":
                assert (op["entity"], op["id"]) not in seen
                seen[(op["entity"], op["id"])] = op["value"]
        progress.append((page["progress"]["done"], page["progress"]["total"]))
        if pages == 2:
            # interrupted: the same cookie again gives the same page (resumable)
            same = (await rep.post("/api/sync/pull", rep.envelope(cookie=cookie))).json()
            assert [op.get("id") for op in same["patch"]] == [op.get("id") for op in page["patch"]]
        cookie = page["cookie"]
        if not page["more"]:
            break
    assert pages >= 3
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert progress[-1][0] == progress[-1][1] == len(seen)
    await rep.sync.pull()
    assert rep.sync.base == seen


async def test_incremental_pull_of_many_changes_comes_in_pages_and_misses_none(login):
    rep, admin = await login("rep1"), await login("admin")
    await rep.sync.pull()
    await admin.sync.pull()
    mine = [k[1] for k in rep.sync.base if k[0] == "customer"]
    for i, cid in enumerate(mine):
        admin.sync.update("customer", cid, address=f"Road {i}")
    await admin.sync.sync()
    pages, cookie = 0, rep.sync.cookie
    got = {}
    while True:
        page = (await rep.post("/api/sync/pull", rep.envelope(cookie=cookie))).json()
        pages += 1
        got.update({op["id"]: op["value"] for op in page["patch"] if op["op"] == "put"})
        cookie = page["cookie"]
        if not page["more"]:
            break
    assert pages >= 2
    assert {cid: got[cid]["address"] for cid in mine} == {cid: f"Road {i}" for i, cid in enumerate(mine)}
    final = (await rep.post("/api/sync/pull", rep.envelope(cookie=cookie))).json()
    assert final["patch"] == [] and not final["more"]


async def test_every_page_that_reports_last_mutation_ids_carries_its_rejections(login):
    """A client drops pending mutations up to lastMutationIds on each page; the rejections among them
    must be on that same page or the rejected change would look applied."""
    rep = await login("rep1")
    await rep.sync.pull()
    rep.sync.mutate("customer.update", {"id": "11111111-1111-4111-8111-111111111111", "base": 0, "name": "Nope"})
    await rep.sync.push()
    pages = []
    cookie = None  # a full resync spanning several pages
    while True:
        page = (await rep.post("/api/sync/pull", rep.envelope(cookie=cookie))).json()
        pages.append(page)
        cookie = page["cookie"]
        if not page["more"]:
            break
    assert len(pages) >= 3
    for page in pages:
        assert page["lastMutationIds"] == {rep.device_id: 1}
        assert [(r["mutationId"], r["code"]) for r in page["rejections"]] == [(1, "not-found")]
    # and the reference client, pulling in pages, ends with the change rejected, not applied
    rep.sync.cookie = None
    await rep.sync.pull()
    assert [(r.mutation.id, r.code) for r in rep.sync.rejected] == [(1, "not-found")]
