"""TLS and authentication for /metrics, in the Prometheus exporter-toolkit web-config format.

    tls_server_config:
      cert_file: /etc/outcomes/tls/server.crt
      key_file: /etc/outcomes/tls/server.key
      client_ca_file: /etc/outcomes/tls/clients.crt    # optional: client certificates
      client_auth_type: RequireAndVerifyClientCert     # or VerifyClientCertIfGiven
    basic_auth_users:
      prometheus: $2y$10$...        # bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\\n')
    bearer_tokens_sha256:           # extension: SHA-256 digests of accepted bearer tokens
      - 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

`/healthz` and `/readyz` stay open (they reveal nothing and probes rarely carry
credentials); `/metrics` needs one of the configured credentials.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ssl
from pathlib import Path
from typing import Final, Literal

import bcrypt
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class WebConfigError(Exception):
    pass


CLIENT_AUTH: Final = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
"""The exporter-toolkit's client_auth_type values supported, and what each asks of TLS."""


class TlsServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cert_file: Path
    key_file: Path
    min_version: Literal["TLS12", "TLS13"] = "TLS12"
    client_ca_file: Path | None = None
    client_auth_type: Literal[
        "NoClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"
    ] = "NoClientCert"

    @model_validator(mode="after")
    def _client_ca_given(self) -> TlsServerConfig:
        if self.client_auth_type != "NoClientCert" and self.client_ca_file is None:
            raise ValueError(f"client_auth_type {self.client_auth_type} needs client_ca_file")
        return self


class WebConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tls_server_config: TlsServerConfig | None = None
    basic_auth_users: dict[str, str] = Field(default_factory=dict)
    bearer_tokens_sha256: list[str] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> WebConfig:
        try:
            return cls.model_validate(yaml.safe_load(path.read_text()) or {})
        except (OSError, yaml.YAMLError) as error:
            raise WebConfigError(f"{path}: {error}") from None
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            raise WebConfigError(f"{path}: {problems}") from None

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.tls_server_config is None:
            return None
        tls = self.tls_server_config
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = (
            ssl.TLSVersion.TLSv1_3 if tls.min_version == "TLS13" else ssl.TLSVersion.TLSv1_2
        )
        try:
            context.load_cert_chain(tls.cert_file, tls.key_file)
            if tls.client_ca_file is not None:
                context.load_verify_locations(cafile=tls.client_ca_file)
            context.verify_mode = CLIENT_AUTH[tls.client_auth_type]
        except (OSError, ssl.SSLError) as error:
            raise WebConfigError(f"tls_server_config: {error}") from None
        return context

    @property
    def requires_auth(self) -> bool:
        return bool(self.basic_auth_users or self.bearer_tokens_sha256)


class Authenticator:
    """Checks an Authorization header; remembers verified basic credentials (bcrypt is slow)."""

    def __init__(self, config: WebConfig) -> None:
        self._users = {user: hashed.encode() for user, hashed in config.basic_auth_users.items()}
        self._bearers = [digest.lower() for digest in config.bearer_tokens_sha256]
        self._verified: set[bytes] = set()

    def allows(self, header: str | None) -> bool:
        scheme, _, credentials = (header or "").partition(" ")
        if scheme.lower() == "bearer" and self._bearers:
            digest = hashlib.sha256(credentials.strip().encode()).hexdigest()
            return any(hmac.compare_digest(digest, known) for known in self._bearers)
        if scheme.lower() == "basic" and self._users:
            return self._basic(credentials.strip())
        return False

    def _basic(self, encoded: str) -> bool:
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        hashed = self._users.get(user)
        if hashed is None:
            return False
        key = hashlib.sha256(hashed + b"\0" + password.encode()).digest()
        if key in self._verified:
            return True
        if bcrypt.checkpw(password.encode(), hashed.replace(b"$2y$", b"$2b$")):
            self._verified.add(key)
            return True
        return False
