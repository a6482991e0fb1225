"""Gateway bearer tokens: stored as SHA-256 digests, each allowed some project patterns.

File format (YAML, docs/REFERENCE.md):
    tokens:
      - {name: ci, sha256: <hex digest of the token>, projects: ["ticket-*"]}
      - {name: itsm, sha256: <hex>, projects: ["*"], rate_per_s: 50, burst: 100}
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class TokenError(Exception):
    pass


class _Token(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    projects: list[str] = Field(min_length=1)
    rate_per_s: float | None = Field(default=None, gt=0, description="Requests per second.")
    burst: int | None = Field(default=None, gt=0)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tokens: list[_Token]


class RateLimit:
    """A token bucket: `burst` requests at once, refilled at `rate_per_s`.

    Used from the event loop only (one thread), so it needs no lock.
    """

    def __init__(
        self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = float(burst)
        self._clock = clock
        self._last = clock()

    def take(self) -> float:
        """0 if a request may pass now, else the seconds until one may."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate_per_s)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate_per_s


@dataclass(frozen=True, slots=True)
class Grant:
    name: str
    projects: tuple[str, ...]
    limit: RateLimit | None = None

    def allows(self, project: str) -> bool:
        return any(fnmatch.fnmatchcase(project, pattern) for pattern in self.projects)


class TokenBook:
    def __init__(self, entries: dict[str, Grant]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, path: Path, default_rate_per_s: float | None = None) -> TokenBook:
        try:
            raw = yaml.safe_load(path.read_text())
            parsed = _File.model_validate(raw)
        except (OSError, yaml.YAMLError) as error:
            raise TokenError(f"{path}: {error}") from None
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            raise TokenError(f"{path}: {problems}") from None
        grants = {}
        for token in parsed.tokens:
            rate = token.rate_per_s or default_rate_per_s
            limit = RateLimit(rate, token.burst or max(1, int(rate * 2))) if rate else None
            grants[token.sha256] = Grant(token.name, tuple(token.projects), limit)
        return cls(grants)

    def grant_for(self, token: str) -> Grant | None:
        """The grant of `token`, comparing digests in constant time."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        found = None
        for known, grant in self._entries.items():
            if hmac.compare_digest(known, digest):
                found = grant
        return found


def digest(token: str) -> str:
    """What to write in the tokens file for `token`."""
    return hashlib.sha256(token.encode()).hexdigest()
