"""/metrics over TLS with basic or bearer auth (exporter-toolkit web-config format)."""

from __future__ import annotations

import base64
import hashlib
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import bcrypt
import pytest

from collector.app import CollectorApp
from exporters.prometheus import WebConfig, WebConfigError
from tests.support.live import wait_until


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "server.crt", directory / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert), "-days", "1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def get(url: str, context: ssl.SSLContext, authorization: str | None = None) -> int:
    request = urllib.request.Request(
        url, headers={"Authorization": authorization} if authorization else {}
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_tls_and_basic_or_bearer_auth(
    tmp_path: Path, start_collector: Callable[..., CollectorApp]
) -> None:
    cert, key = self_signed(tmp_path)
    hashed = (
        bcrypt.hashpw(b"scrape-pass", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$")
    )
    config = tmp_path / "web.yml"
    config.write_text(
        f"tls_server_config: {{cert_file: {cert}, key_file: {key}}}\n"
        f"basic_auth_users: {{prometheus: '{hashed}'}}\n"
        f"bearer_tokens_sha256: [{hashlib.sha256(b'token-123').hexdigest()}]\n"
    )
    app = start_collector(web_config=config)
    assert app.metrics_url.startswith("https://")
    context = ssl.create_default_context(cafile=str(cert))
    basic = "Basic " + base64.b64encode(b"prometheus:scrape-pass").decode()
    wrong = "Basic " + base64.b64encode(b"prometheus:nope").decode()
    wait_until(lambda: get(app.metrics_url, context, basic) == 200)
    assert get(app.metrics_url, context) == 401
    assert get(app.metrics_url, context, wrong) == 401
    assert get(app.metrics_url, context, "Bearer token-123") == 200
    assert get(app.metrics_url, context, "Bearer token-124") == 401
    assert get(app.metrics_url.removesuffix("/metrics") + "/healthz", context) == 200
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(app.metrics_url.replace("https://", "http://"), timeout=5)


def test_a_bad_web_config_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "web.yml"
    config.write_text("tls_server_config: {cert_file: /nope.crt}\n")
    with pytest.raises(WebConfigError, match="web.yml: tls_server_config.key_file: Field required"):
        WebConfig.load(config)
