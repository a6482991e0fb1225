"""Gateway bearer tokens: stored as SHA-256 digests, each allowed some project patterns.

File format (YAML, DESIGN §8):
    tokens:
      - {name: ci, sha256: <hex digest of the token>, projects: ["ticket-*"]}
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
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


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tokens: list[_Token]


@dataclass(frozen=True, slots=True)
class Grant:
    name: str
    projects: tuple[str, ...]

    def allows(self, project: str) -> bool:
        return any(fnmatch.fnmatchcase(project, pattern) for pattern in self.projects)


class TokenBook:
    def __init__(self, entries: dict[str, Grant]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, path: Path) -> TokenBook:
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
        return cls({t.sha256: Grant(t.name, tuple(t.projects)) for t in parsed.tokens})

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
