"""A Quix Streams application keeping a per-project sum of the events' money: the peer the
collector is measured against (bench/peers.py). Standalone (quixstreams and the standard
library only): it runs in the peers' own venv, `.venv-peers`.

    python bench/quix_app.py BOOTSTRAP TOPIC EXPECTED  ->  {"per_s": …} on stdout
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from typing import Any


def run(bootstrap: str, topic_name: str, expected: int) -> float:
    from quixstreams import Application, State

    with tempfile.TemporaryDirectory() as state_dir:
        app = Application(
            broker_address=bootstrap,
            consumer_group=f"quix-{uuid.uuid4().hex[:6]}",
            auto_offset_reset="earliest",
            state_dir=state_dir,
        )
        topic = app.topic(topic_name, value_deserializer="json")
        marks: dict[str, float] = {"seen": 0}

        def total(value: dict[str, Any], state: State[Any, Any]) -> None:
            """Per project (the record key): the sum of its money, as the collector keeps."""
            data = value.get("data", value)
            amount = data.get("amount", data.get("cost", 0.0))
            state.set("money", state.get("money", 0.0) + amount)
            marks["seen"] += 1
            if marks["seen"] == 1:
                marks["first"] = time.perf_counter()
            if marks["seen"] >= expected:
                marks["last"] = time.perf_counter()
                app.stop()

        app.dataframe(topic).update(total, stateful=True)
        app.run()
    return (marks["seen"] - 1) / (marks["last"] - marks["first"])


if __name__ == "__main__":
    bootstrap, topic, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps({"per_s": run(bootstrap, topic, expected)}))
