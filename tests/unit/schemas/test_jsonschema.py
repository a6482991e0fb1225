from __future__ import annotations

from schemas.jsonschema import SCHEMA_DIR, render_all


def test_committed_json_schemas_match_the_models() -> None:
    """Run `make schemas` when this fails: the models changed, the files did not."""
    expected = render_all()
    committed = {path.name: path.read_text() for path in SCHEMA_DIR.glob("*.schema.json")}
    assert committed == expected


def test_every_event_type_has_a_schema_forbidding_unknown_fields() -> None:
    import json

    for text in render_all().values():
        schema = json.loads(text)
        assert schema["properties"]["data"]["additionalProperties"] is False
