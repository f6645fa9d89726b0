"""The JSON examples in sync_protocol/README.md are valid protocol messages, so the README cannot go stale.

Each fenced ```json block preceded by ``<!-- schema: Name -->`` is checked against the protocol's model
of that name (the models sync_protocol/schema/ is exported from, which test_schema_export keeps
current): envelopes strictly, a push's mutation arguments against ``mutation.<name>``, a pull's put
values against ``entity.<name>``, and every HLC stamp against the ``pattern`` the schema publishes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from sync_protocol import envelopes
from sync_protocol.entities import ENTITIES
from sync_protocol.mutations import MUTATIONS
from sync_protocol.schema import SCHEMA_DIR

README = Path(__file__).resolve().parents[3] / "sync_protocol" / "README.md"
BLOCK = re.compile(r"<!--\s*schema:\s*(\w+)\s*-->\s*```json\n(.*?)```", re.S)
MODELS: dict[str, type[BaseModel]] = {
    "PushRequest": envelopes.PushRequest,
    "PushResponse": envelopes.PushResponse,
    "PullRequest": envelopes.PullRequest,
    "PullResponse": envelopes.PullResponse,
    "ErrorBody": envelopes.ErrorBody,
}


def aliases(model: type[BaseModel]) -> set[str]:
    return {f.alias or k for k, f in model.model_fields.items()}


def blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(README.read_text("utf-8"))]


def rejected_as_bad_args() -> set[int]:
    """Mutation ids the README's pulls report as ``bad-args``: their pushed arguments must be invalid."""
    out: set[int] = set()
    for name, text in blocks():
        if name == "PullResponse":
            out |= {r["mutationId"] for r in json.loads(text)["rejections"] if r["code"] == "bad-args"}
    return out


def hlc_pattern() -> str:
    doc = json.loads((SCHEMA_DIR / "PushRequest.json").read_text("utf-8"))
    return str(doc["$defs"]["Mutation"]["properties"]["hlc"]["pattern"])


def test_readme_has_an_example_of_each_message():
    assert {name for name, _ in blocks()} == set(MODELS)


def test_readme_quotes_the_current_numbers():
    meta = json.loads((SCHEMA_DIR / "protocol.json").read_text("utf-8"))
    text = README.read_text("utf-8")
    for key in ("protocolVersion", "schemaVersion", "maxMutationsPerPush", "maxArgsDepth", "maxArgsBytes"):
        assert f"`{key}` {meta[key]}" in text, key
    assert hlc_pattern() in text


@pytest.mark.parametrize(("name", "text"), blocks(), ids=[f"{i}-{n}" for i, (n, _) in enumerate(blocks())])
def test_readme_example_is_a_valid_message(name: str, text: str):
    body = json.loads(text)
    model = MODELS[name]
    model.model_validate(body, strict=name in ("PushRequest", "PullRequest"))
    if name != "ErrorBody":  # problem details may carry more members (type, title, params …)
        assert set(body) <= aliases(model), "a field the protocol does not have"
    if name == "PushRequest":
        ids = [m["id"] for m in body["mutations"]]
        assert ids == list(range(ids[0], ids[0] + len(ids))), "mutation ids are consecutive"
        for m in body["mutations"]:
            assert re.fullmatch(hlc_pattern(), m["hlc"]), m["hlc"]
            if m["id"] in rejected_as_bad_args():
                with pytest.raises(ValidationError):
                    MUTATIONS[m["name"]].model_validate(m["args"])
            else:
                MUTATIONS[m["name"]].model_validate(m["args"])
    if name == "PullResponse":
        for op in body["patch"]:
            if op["op"] == "put":
                ENTITIES[op["entity"]].model_validate(op["value"])
                assert set(op["value"]) == aliases(ENTITIES[op["entity"]]), "a pulled row is whole"
                assert op["value"]["id"] == op["id"]
        for r in body["rejections"]:
            assert r["mutationId"] <= body["lastMutationIds"][r["clientId"]]
    if name == "ErrorBody":
        assert envelopes.REFUSALS[body["error"]] == body["status"]
