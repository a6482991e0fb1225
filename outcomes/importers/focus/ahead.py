"""A file read ahead: its batches decoded and their columns worked out in threads of their
own while the thread judging rows (or the program still loading) does something else.

A thread takes the file's batches (pyarrow decodes them without holding the interpreter)
and READERS threads work out their columns (`columns.read`), up to AHEAD batches ahead of
the one asked for. The first file of an import is started before the rest of the program
has loaded (`start_reading`): this module needs only pyarrow.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

from outcomes.importers.focus.files import columnar

READERS: Final = 2
"""Threads working out batches' columns (pyarrow's kernels let them run beside the one
judging rows)."""
AHEAD: Final = 6
"""Batches (64 Ki rows each) worked out ahead of the one being judged: what memory holds
is this many, whatever the file's size."""
T = TypeVar("T")
R = TypeVar("R")


class Ahead(Generic[T, R]):
    """`work` of each item, in order, begun when made: the items are taken in a thread of
    their own and worked by READERS threads, up to `depth` items ahead of the one asked for.
    An error taking the items (a truncated file) is raised by the iteration, in order.
    `close()` stops the threads."""

    def __init__(self, items: Iterable[T], work: Callable[[T], R], depth: int = AHEAD) -> None:
        self._stop = threading.Event()
        self._ready: queue.Queue[Future[R] | BaseException | None] = queue.Queue(depth)
        self._pool = ThreadPoolExecutor(READERS, thread_name_prefix="focus")
        self._taker = threading.Thread(
            target=self._take, args=(items, work), name="focus-files", daemon=True
        )
        self._taker.start()

    def __iter__(self) -> Iterator[R]:
        while (entry := self._ready.get()) is not None:
            if isinstance(entry, BaseException):
                raise entry
            yield entry.result()

    def close(self) -> None:
        self._stop.set()
        self._taker.join()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _put(self, entry: Future[R] | BaseException | None) -> bool:
        while not self._stop.is_set():
            with contextlib.suppress(queue.Full):
                self._ready.put(entry, timeout=0.1)
                return True
        return False

    def _take(self, items: Iterable[T], work: Callable[[T], R]) -> None:
        try:
            for item in items:
                if not self._put(self._pool.submit(work, item)):
                    return
        except BaseException as error:  # noqa: BLE001 - raised again by the iteration
            self._put(error)
            return
        self._put(None)


class _Advance:
    """Bytes read so far, handed to the progress bar once there is one (a file started
    before the bar was drawn)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = 0
        self._to: Callable[[int], None] | None = None

    def __call__(self, done: int) -> None:
        with self._lock:
            if self._to is None:
                self._done += done
            else:
                self._to(done)

    def attach(self, to: Callable[[int], None]) -> None:
        with self._lock:
            self._to = to
            if self._done:
                to(self._done)
                self._done = 0


@dataclass
class Started:
    """A file whose reading began before the import ran (`start_reading`)."""

    path: Path
    project_tag: str
    cost_column: str
    advance: _Advance
    batches: Ahead[Any, Any] | None
    """Its batches' columns being worked out; None: read row by row (no pyarrow)."""

    def close(self) -> None:
        if self.batches is not None:
            self.batches.close()

    def __enter__(self) -> Started:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def start_reading(path: Path, project_tag: str, cost_column: str) -> Started:
    """Begin reading `path` in column batches now; `read_statements` goes on from there."""
    advance = _Advance()
    return Started(path, project_tag, cost_column, advance,
                   _column_batches(path, project_tag, cost_column, advance))  # fmt: skip


def _column_batches(
    path: Path, project_tag: str, cost_column: str, advance: Callable[[int], None]
) -> Ahead[Any, Any] | None:
    found = columnar(path, advance)
    if found is None:
        return None
    from outcomes.importers.focus.columns import read  # noqa: PLC0415 - pyarrow: optional

    return Ahead(found, partial(read, project_tag=project_tag, cost_column=cost_column))
