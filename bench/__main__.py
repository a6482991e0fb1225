"""`make bench`: every benchmark in turn (takes several minutes on 2 cores)."""

from __future__ import annotations

import shutil

from bench import (
    cpu,
    focus,
    freshness,
    gateway,
    ingest,
    instructions,
    memory,
    otlp,
    render,
    restart,
    rss,
    scale,
    throughput,
)
from tests.support.postgres import postgres_database

if __name__ == "__main__":
    with postgres_database() as database:
        throughput.main(500_000, database)
    ingest.main()
    if shutil.which("valgrind"):
        instructions.main()
    else:
        print("bench.instructions skipped: it counts with valgrind (apt-get install valgrind)")
    cpu.main(300_000, "embedded", ["kafka-python", "confluent"], "auto")
    freshness.main()
    render.main()
    restart.main()
    memory.main()
    rss.main(10_000)
    scale.main()
    otlp.main()
    gateway.main()
    focus.main(1_000_000)
