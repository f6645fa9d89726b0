"""The shared protocol test vectors (sync_protocol/vectors), as the PWA's Vitest suite runs them too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from sync_protocol import hlc
from sync_protocol.client import PendingMutation, SyncClient
from sync_protocol.envelopes import PullRequest, PushRequest
from sync_protocol.mutations import MUTATIONS

VECTORS = Path(__file__).resolve().parents[3] / "sync_protocol" / "vectors"


def load(name: str) -> dict:
    return json.loads((VECTORS / name).read_text("utf-8"))


HLC = load("hlc.json")
ENV = load("envelopes.json")
MUT = load("mutations.json")
CLIENT = load("client.json")


@pytest.mark.parametrize("stamp", HLC["valid"])
def test_valid_stamps_parse_and_round_trip(stamp):
    assert hlc.is_valid(stamp) and str(hlc.Hlc.parse(stamp)) == stamp


@pytest.mark.parametrize("stamp", HLC["invalid"])
def test_invalid_stamps_are_refused(stamp):
    assert not hlc.is_valid(stamp)
    with pytest.raises(hlc.HlcError):
        hlc.Hlc.parse(stamp)


@pytest.mark.parametrize("case", HLC["order"])
def test_string_order_is_clock_order(case):
    a, b = hlc.Hlc.parse(case["a"]), hlc.Hlc.parse(case["b"])
    assert (a > b) - (a < b) == case["cmp"]
    assert (case["a"] > case["b"]) - (case["a"] < case["b"]) == case["cmp"]


@pytest.mark.parametrize("case", HLC["clamp"])
def test_clamp(case):
    assert hlc.clamp(case["stamp"], case["serverMs"]) == case["expected"]


@pytest.mark.parametrize("model,kind", [(PushRequest, "push"), (PullRequest, "pull")])
def test_envelopes(model, kind):
    for body in ENV[kind]["valid"]:
        model.model_validate(body)
    for body in ENV[kind]["invalid"]:
        with pytest.raises(ValidationError):
            model.model_validate(body)


@pytest.mark.parametrize("case", MUT["valid"], ids=lambda c: c["name"])
def test_valid_mutation_args(case):
    MUTATIONS[case["name"]].model_validate(case["args"])


@pytest.mark.parametrize("case", MUT["invalid"], ids=lambda c: f"{c['name']}-{c['field']}")
def test_invalid_mutation_args_name_the_field(case):
    with pytest.raises(ValidationError) as err:
        MUTATIONS[case["name"]].model_validate(case["args"])
    fields = {str(e["loc"][0]) for e in err.value.errors()}
    assert case["field"] in fields or any(case["field"] == f for f in fields)


def _key(k: str) -> tuple[str, str]:
    entity, _, rid = k.partition("/")
    return entity, rid


@pytest.mark.parametrize("case", CLIENT["scenarios"], ids=lambda c: c["name"][:40])
def test_client_scenarios(case):
    async def unused(path, body):
        raise AssertionError("no I/O in a vector")

    c = SyncClient(CLIENT["clientId"], unused)
    c.base = {_key(k): v for k, v in case["base"].items()}
    c.pending = [PendingMutation(m["id"], m["name"], m["args"], "001700000000000:00000:dev-1") for m in case["pending"]]
    c._apply_page(case["page"])
    exp = case["expect"]
    assert c.cookie == exp["cookie"]
    assert [m.id for m in c.pending] == exp["pendingIds"]
    assert [{"mutationId": r.mutation.id, "code": r.code} for r in c.rejected] == exp["rejected"]
    assert c.base == {_key(k): v for k, v in exp["base"].items()}
    assert c.view() == {_key(k): v for k, v in exp["view"].items()}
