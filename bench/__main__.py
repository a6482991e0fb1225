"""`make bench`: every benchmark in turn (takes several minutes on 2 cores)."""

from __future__ import annotations

import uuid

import psycopg

from bench import freshness, memory, render, restart, scale, throughput
from tests.conftest import POSTGRES

if __name__ == "__main__":
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        throughput.main(500_000, f"{POSTGRES}?options=-csearch_path%3D{schema}")
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
    freshness.main()
    render.main()
    restart.main()
    memory.main()
    scale.main()
