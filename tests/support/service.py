"""A test dependency the session starts and stops: `start` and `stop` as a context manager."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Service:
    """Subclasses implement `start` (returning self) and `stop` (safe to call twice, and
    after a failed start: it cleans up whatever the start left)."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
