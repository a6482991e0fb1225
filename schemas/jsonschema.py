"""JSON Schema files for every event type, generated from the pydantic models.

`python -m schemas.jsonschema` rewrites `schemas/json/`; a test fails when the
committed files differ from what the models generate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from schemas.events import DATA_MODELS, EventType

SCHEMA_DIR: Final = Path(__file__).parent / "json"
_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


def cloudevent_schema(event_type: EventType) -> dict[str, Any]:
    """A structured-mode CloudEvent of `event_type`, `data` validated by its model."""
    data_schema = DATA_MODELS[event_type].model_json_schema(mode="validation")
    definitions = data_schema.pop("$defs", {})
    return {
        "$schema": _DIALECT,
        "$id": f"{event_type.value}.schema.json",
        "title": f"CloudEvent {event_type.value}",
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "minLength": 1},
            "source": {"type": "string", "minLength": 1},
            "type": {"const": event_type.value},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"type": "string"},
            "partitionkey": {"type": "string"},
            "outcomesbackfill": {
                "type": "boolean",
                "description": "History import: counted in its period however long ago it"
                " closed, and never twice.",
            },
            "data": data_schema,
        },
        **({"$defs": definitions} if definitions else {}),
    }


def render_all() -> dict[str, str]:
    """File name -> file text for every event type."""
    return {
        f"{event_type.value}.schema.json": json.dumps(
            cloudevent_schema(event_type), indent=2, sort_keys=True
        )
        + "\n"
        for event_type in EventType
    }


def write_all(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(path)
