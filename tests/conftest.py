"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    """A DSN whose search_path is a fresh schema of the local test database (dropped after)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL at {POSTGRES} is required: {error}")
    admin.execute(f"CREATE SCHEMA {schema}")
    yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    admin.execute(f"DROP SCHEMA {schema} CASCADE")
    admin.close()
