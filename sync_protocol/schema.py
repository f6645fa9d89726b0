"""Export the protocol's JSON Schema to ``sync_protocol/schema/`` (the PWA generates types from it).

``python -m sync_protocol.schema`` writes the files; ``--check`` fails when they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from . import base, envelopes
from .entities import ENTITIES
from .mutations import MUTATIONS

SCHEMA_DIR = Path(__file__).parent / "schema"


def documents() -> dict[str, str]:
    models: dict[str, type[BaseModel]] = {
        "PushRequest": envelopes.PushRequest,
        "PushResponse": envelopes.PushResponse,
        "PullRequest": envelopes.PullRequest,
        "PullResponse": envelopes.PullResponse,
        "ErrorBody": envelopes.ErrorBody,
    }
    out: dict[str, str] = {}
    for name, model in models.items():
        out[f"{name}.json"] = _dump(model.model_json_schema(by_alias=True, mode="serialization"))
    for entity, model in ENTITIES.items():
        out[f"entity.{entity}.json"] = _dump(model.model_json_schema(by_alias=True, mode="serialization"))
    for name, model in MUTATIONS.items():
        out[f"mutation.{name}.json"] = _dump(model.model_json_schema(by_alias=True, mode="validation"))
    meta = {
        "protocolVersion": envelopes.PROTOCOL_VERSION,
        "schemaVersion": envelopes.SCHEMA_VERSION,
        "minSchemaVersion": envelopes.MIN_SCHEMA_VERSION,
        "maxMutationsPerPush": envelopes.MAX_MUTATIONS_PER_PUSH,
        "maxPushBytes": envelopes.MAX_PUSH_BYTES,
        "maxArgsDepth": base.MAX_ARGS_DEPTH,
        "maxArgsBytes": base.MAX_ARGS_BYTES,
        "mutations": sorted(MUTATIONS),
        "entities": sorted(ENTITIES),
        "refusals": envelopes.REFUSALS,
    }
    out["protocol.json"] = _dump(meta)
    return out


def _dump(doc: object) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stale() -> list[str]:
    want = documents()
    have = {p.name: p.read_text("utf-8") for p in SCHEMA_DIR.glob("*.json")} if SCHEMA_DIR.exists() else {}
    return sorted(n for n in set(want) | set(have) if want.get(n) != have.get(n))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        bad = stale()
        if bad:
            print("sync_protocol/schema is stale; run: python -m sync_protocol.schema", file=sys.stderr)
            print("  " + ", ".join(bad), file=sys.stderr)
            return 1
        return 0
    SCHEMA_DIR.mkdir(exist_ok=True)
    for old in SCHEMA_DIR.glob("*.json"):
        old.unlink()
    for name, text in documents().items():
        (SCHEMA_DIR / name).write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
