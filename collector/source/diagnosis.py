"""Why a Kafka client could not connect.

kafka-python's constructors give up with "Unable to bootstrap from [...]", while the
reason (SASL authentication failed, a TLS handshake error, a refused connection) is only
logged by its connection manager. `BOOTSTRAP_FAILURES` watches those log records so that
`explain` can name the reason on /readyz and in the collector's own log.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

RECENT_S: Final = 120.0
_SEVERE = ("Authentication", "SSL", "Certificate", "Sasl", "Unsupported")


class BootstrapFailures(logging.Filter):
    """Remembers the last connection failure kafka-python logged, and the last severe one
    (credentials, TLS): a retry loop alternates between those and plain disconnects, and
    the severe one is what an operator must see. Passes every record through."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._last: tuple[float, str] | None = None
        self._severe: tuple[float, str] | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            self.note(record.getMessage())
        return True

    def note(self, message: str) -> None:
        if "Bootstrap connection to" not in message and not _is_severe(message):
            return
        described = message.partition(" failed: ")[2] or message.rpartition(": Abort ")[2]
        described = described.rpartition(" (backoff ")[0] or described
        noted = (time.monotonic(), (described or message).strip("() "))
        with self._lock:
            self._last = noted
            if _is_severe(message):
                self._severe = noted

    def recent(self) -> str | None:
        horizon = time.monotonic() - RECENT_S
        with self._lock:
            for noted in (self._severe, self._last):
                if noted is not None and noted[0] >= horizon:
                    return noted[1]
        return None


def _is_severe(message: str) -> bool:
    return any(word in message for word in _SEVERE)


BOOTSTRAP_FAILURES: Final = BootstrapFailures()
for _name in ("kafka.net.manager", "kafka.net.connection", "kafka.net.transport"):
    logging.getLogger(_name).addFilter(BOOTSTRAP_FAILURES)


def explain(
    error: BaseException,
    failures: BootstrapFailures = BOOTSTRAP_FAILURES,
    sasl_mechanism: str | None = None,
) -> str:
    """`error` as text, with the client's recent connection failure when it says more.

    `sasl_mechanism`: the client's, when it authenticates. A broker that refuses the
    credentials answers so and closes the connection, and kafka-python mostly reports only
    the closed connection (measured against Apache Kafka 4.1: about 1 attempt in 50 names
    the failed authentication), so a plain disconnect of such a client says what to check.
    """
    text = str(error) or type(error).__name__
    cause = failures.recent()
    if cause is None or "bootstrap" not in text.lower() or cause in text:
        return text
    text = f"{text} (last connection failure: {cause})"
    if sasl_mechanism and "disconnected" in cause and not _is_severe(cause):
        text += (
            f"; a broker closes the connection when SASL {sasl_mechanism} authentication fails:"
            " check the username, the password, the mechanism and the listener's protocol"
        )
    return text
