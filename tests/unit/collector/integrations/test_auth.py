"""Each tool's own proof of origin, computed here from the documented recipes."""

from __future__ import annotations

import base64
import hashlib
import hmac

from collector.integrations.auth import authentic

BODY = b'{"action":"completed"}'
SECRET = b"It's a Secret to Everybody"


def hex_hmac(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def test_github_hmac_over_the_raw_body() -> None:
    good = {"x-hub-signature-256": "sha256=" + hex_hmac(SECRET, BODY)}
    assert authentic("github", good, BODY, SECRET)
    assert not authentic("github", good, BODY + b" ", SECRET)  # a re-serialized body fails
    assert not authentic("github", good, BODY, b"other")
    assert not authentic("github", {}, BODY, SECRET)
    legacy = {"x-hub-signature": "sha1=" + hmac.new(SECRET, BODY, hashlib.sha1).hexdigest()}
    assert not authentic("github", legacy, BODY, SECRET)


def test_gitlab_token_and_signing_token() -> None:
    assert authentic("gitlab", {"x-gitlab-token": SECRET.decode()}, BODY, SECRET)
    assert not authentic("gitlab", {"x-gitlab-token": "nope"}, BODY, SECRET)
    key = b"0123456789abcdef0123456789abcdef"
    secret = b"whsec_" + base64.b64encode(key)
    signed = b"msg_1.1700000000." + BODY
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1700000000",
               "webhook-signature": f"v1,bm90LXRoaXM= v1,{signature}"}  # fmt: skip
    assert authentic("gitlab", headers, BODY, secret, now=1700000100)
    assert not authentic("gitlab", headers, BODY, secret, now=1700000000 + 3600)  # too old
    assert not authentic("gitlab", headers | {"webhook-id": "msg_2"}, BODY, secret, now=1700000100)


def test_pagerduty_accepts_any_signature_of_a_rotation() -> None:
    old, new = b"old-secret", b"new-secret"
    header = f"v1={hex_hmac(old, BODY)},v1={hex_hmac(new, BODY)}"
    assert authentic("pagerduty", {"x-pagerduty-signature": header}, BODY, new)
    assert authentic("pagerduty", {"x-pagerduty-signature": header}, BODY, old)
    assert not authentic("pagerduty", {"x-pagerduty-signature": header}, BODY, b"third")


def test_bearer_or_basic_with_the_secret_as_password() -> None:
    for kind in ("jenkins", "awx", "tekton", "cdevents", "alertmanager"):
        assert authentic(kind, {"authorization": f"Bearer {SECRET.decode()}"}, BODY, SECRET)
        basic = base64.b64encode(b"tower:" + SECRET).decode()
        assert authentic(kind, {"authorization": f"Basic {basic}"}, BODY, SECRET)
        assert not authentic(kind, {"authorization": "Bearer wrong"}, BODY, SECRET)
        assert not authentic(kind, {"authorization": "Basic !!!"}, BODY, SECRET)
        assert not authentic(kind, {}, BODY, SECRET)
