from sync_protocol import schema


def test_committed_json_schema_is_current():
    assert schema.stale() == [], "run: .venv/bin/python -m sync_protocol.schema"


def test_schema_names_every_mutation_and_entity():
    docs = schema.documents()
    assert {"mutation.customer.create.json", "mutation.contact.update.json", "entity.conflict.json"} <= set(docs)
    assert '"lastMutationIds"' in docs["PullResponse.json"]
