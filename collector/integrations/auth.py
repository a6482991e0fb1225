"""Is a delivery from the tool? Each tool's own scheme, over the raw body, in constant time.

github: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
gitlab: `X-Gitlab-Token: <secret>`; or, with a signing token, Standard Webhooks headers
  `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 over
  "{id}.{timestamp}.{body}">` (a `whsec_` secret is base64; within 5 minutes).
pagerduty: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`: any (key rotation sends several).
the others: `Authorization: Bearer <secret>`, or HTTP basic with the secret as password.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

STANDARD_WEBHOOKS_TOLERANCE_S = 300.0


def _hex_hmac(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def _github(headers: Mapping[str, str], body: bytes, secret: bytes) -> bool:
    signature = headers.get("x-hub-signature-256", "")
    expected = "sha256=" + _hex_hmac(secret, body)
    return hmac.compare_digest(signature.encode(), expected.encode())


def _gitlab(headers: Mapping[str, str], body: bytes, secret: bytes, now: float) -> bool:
    if "webhook-signature" in headers:
        return _standard_webhooks(headers, body, secret, now)
    return hmac.compare_digest(headers.get("x-gitlab-token", "").encode(), secret)


def _standard_webhooks(headers: Mapping[str, str], body: bytes, secret: bytes, now: float) -> bool:
    stamp = headers.get("webhook-timestamp", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > STANDARD_WEBHOOKS_TOLERANCE_S:
        return False
    key = secret
    if secret.startswith(b"whsec_"):
        try:
            key = base64.b64decode(secret[len(b"whsec_") :], validate=True)
        except binascii.Error:
            return False
    signed = headers.get("webhook-id", "").encode() + b"." + stamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    offered = [
        part.split(",", 1)[1].encode()
        for part in headers["webhook-signature"].split()
        if part.startswith("v1,")
    ]
    return any(hmac.compare_digest(candidate, expected) for candidate in offered)


def _pagerduty(headers: Mapping[str, str], body: bytes, secret: bytes) -> bool:
    expected = ("v1=" + _hex_hmac(secret, body)).encode()
    offered = [
        part.strip().encode() for part in headers.get("x-pagerduty-signature", "").split(",")
    ]
    return any(hmac.compare_digest(candidate, expected) for candidate in offered)


def _bearer_or_basic(headers: Mapping[str, str], secret: bytes) -> bool:
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(credentials.strip().encode(), secret)
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True)
        except binascii.Error:
            return False
        return hmac.compare_digest(decoded.partition(b":")[2], secret)
    return False


def authentic(
    kind: str, headers: Mapping[str, str], body: bytes, secret: bytes, now: float | None = None
) -> bool:
    """Whether the delivery proves knowledge of `secret` the way tool `kind` does.

    `headers` have lowercase names."""
    if kind == "github":
        return _github(headers, body, secret)
    if kind == "gitlab":
        return _gitlab(headers, body, secret, time.time() if now is None else now)
    if kind == "pagerduty":
        return _pagerduty(headers, body, secret)
    return _bearer_or_basic(headers, secret)
