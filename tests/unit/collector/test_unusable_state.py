"""A state file that is not this collector's state — random bytes, a corrupt database,
another program's database — is refused with its path named, and never written to; the
collector and the report exit 2 saying so before they start anything."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from collector.retry import retry_until
from collector.state.open import check_store, open_store
from collector.state.sqlite import SqliteStore
from collector.state.store import UnusableStoreError


def _random(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 20)


def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER, total REAL)")


def _corrupt(path: Path) -> None:
    """A real collector state with its pages after the header overwritten."""
    SqliteStore(path).close()
    data = bytearray(path.read_bytes())
    data[100:] = b"\xa5" * (len(data) - 100)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make", "said"),
    [(_random, "not a SQLite database"), (_foreign, "another program's SQLite database"),
     (_corrupt, "corrupt SQLite database")],
    ids=["random-bytes", "foreign-database", "corrupt-pages"],
)  # fmt: skip
def test_refused_by_name_and_left_as_it_was(
    tmp_path: Path, make: Callable[[Path], None], said: str
) -> None:
    path = tmp_path / "state.db"
    make(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    files = sorted(p.name for p in tmp_path.iterdir())
    for attempt in (lambda: check_store(str(path)), lambda: open_store(str(path))):
        with pytest.raises(UnusableStoreError) as raised:
            attempt()
        assert str(path) in str(raised.value) and said in str(raised.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files  # no -wal or -shm added


def test_new_empty_and_own_state_files_are_accepted(tmp_path: Path) -> None:
    check_store(str(tmp_path / "new.db"))
    (tmp_path / "empty.db").touch()
    check_store(str(tmp_path / "empty.db"))
    SqliteStore(tmp_path / "own.db").close()
    check_store(str(tmp_path / "own.db"))
    SqliteStore(tmp_path / "own.db").close()


def test_the_store_retry_gives_up_at_once_on_an_unusable_file(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "state.db"
    _random(path)
    reports: list[str | None] = []
    with pytest.raises(UnusableStoreError):
        retry_until(
            threading.Event(), lambda: open_store(str(path)), reports.append, what="store",
            fatal=(UnusableStoreError,),
        )  # fmt: skip
    assert reports == []


@pytest.mark.parametrize("verb", ["collect", "report"])
def test_the_cli_exits_2_naming_the_file(tmp_path: Path, verb: str) -> None:
    path = tmp_path / "state.db"
    _foreign(path)
    before = path.read_bytes()
    extra = ["--embedded-broker", "--listen", "127.0.0.1:0"] if verb == "collect" else []
    done = subprocess.run(
        [sys.executable, "-m", "outcomes", verb, "--state", str(path), *extra],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"outcomes {verb}: {path}: another program's SQLite database" in done.stderr
    assert "Traceback" not in done.stderr and path.read_bytes() == before
