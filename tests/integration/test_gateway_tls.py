"""`outcomes gateway` over TLS, as a user starts it: HTTPS on every route, client
certificates required with --tls-client-ca, /metrics behind the web-config's credentials,
and nothing served in plain HTTP."""

from __future__ import annotations

import hashlib
import json
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.embedded import free_port
from outcomes.gateway.tokens import digest
from schemas.binding import format_time
from tests.support.brokers import Broker
from tests.support.live import wait_until


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _pki(directory: Path) -> dict[str, Path]:
    """A server certificate for 127.0.0.1, and a client CA with one client certificate."""
    files = {name: directory / name for name in (
        "server.crt", "server.key", "ca.crt", "ca.key", "client.csr", "client.crt", "client.key",
    )}  # fmt: skip
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(files["server.key"]),
             "-out", str(files["server.crt"]), "-days", "1")  # fmt: skip
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=outcomes clients",
             "-keyout", str(files["ca.key"]), "-out", str(files["ca.crt"]), "-days", "1")  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=ci-runner",
             "-keyout", str(files["client.key"]), "-out", str(files["client.csr"]))  # fmt: skip
    _openssl("x509", "-req", "-in", str(files["client.csr"]), "-CA", str(files["ca.crt"]),
             "-CAkey", str(files["ca.key"]), "-CAcreateserial", "-out", str(files["client.crt"]),
             "-days", "1")  # fmt: skip
    return files


def _call(
    url: str, context: ssl.SSLContext | None, body: bytes | None = None, **headers: str
) -> int:
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        print(error.read().decode())  # shown by pytest when an assertion fails
        return error.code


def _answers(url: str, context: ssl.SSLContext) -> bool:
    try:
        return _call(url, context) == 200
    except (urllib.error.URLError, ConnectionError):
        return False  # not listening yet


EVENT = {
    "specversion": "1.0", "id": "tls-1", "source": "ci", "type": "outcomes.run.finished",
    "data": {"project": "ticket-triage", "automation": "a", "outcome": "succeeded",
             "duration_s": 1.0, "manual_duration_s": 60.0, "human_effort_s": 0.0, "cost": 0.5},
}  # fmt: skip


def test_https_with_client_certificates_and_metrics_credentials(
    broker: Broker, topic: str, tmp_path: Path
) -> None:
    pki = _pki(tmp_path)
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(f"tokens:\n  - {{name: ci, sha256: {digest('ci-token')}, projects: ['*']}}\n")
    web = tmp_path / "web.yml"
    web.write_text(f"bearer_tokens_sha256: [{hashlib.sha256(b'scrape-token').hexdigest()}]\n")
    port = free_port()
    command = [
        sys.executable, "-m", "outcomes", "gateway", "--bootstrap-servers",
        broker.bootstrap_servers, "--topic", topic, "--tokens", str(tokens), "--listen",
        f"127.0.0.1:{port}", "--web-config", str(web), "--tls-cert", str(pki["server.crt"]),
        "--tls-key", str(pki["server.key"]), "--tls-client-ca", str(pki["ca.crt"]),
    ]  # fmt: skip
    log = tmp_path / "gateway.log"
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    base = f"https://127.0.0.1:{port}"
    client = ssl.create_default_context(cafile=str(pki["server.crt"]))
    client.load_cert_chain(pki["client.crt"], pki["client.key"])
    anonymous = ssl.create_default_context(cafile=str(pki["server.crt"]))
    try:
        wait_until(lambda: _answers(f"{base}/healthz", client), timeout_s=60)
        body = json.dumps(
            {**EVENT, "time": format_time(datetime.now(UTC) - timedelta(seconds=5))}
        ).encode()
        ce = {"Content-Type": "application/cloudevents+json"}
        assert (
            _call(f"{base}/v1/events", client, body, Authorization="Bearer ci-token", **ce) == 202
        )
        assert _call(f"{base}/v1/events", client, body, Authorization="Bearer other", **ce) == 401
        assert _call(f"{base}/metrics", client) == 401
        assert _call(f"{base}/metrics", client, Authorization="Bearer scrape-token") == 200
        with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
            _call(f"{base}/healthz", anonymous)  # no client certificate: no handshake
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            _call(f"http://127.0.0.1:{port}/healthz", None)  # no plain HTTP
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert f"POST https://127.0.0.1:{port}/v1/events" in log.read_text()
    assert "ci-token" not in log.read_text() and "scrape-token" not in log.read_text()


@pytest.mark.parametrize(
    ("flags", "said"),
    [(["--tls-cert", "x.crt"], "give both --tls-cert and --tls-key"),
     (["--tls-client-ca", "ca.crt"], "--tls-client-ca needs --tls-cert and --tls-key")],
)  # fmt: skip
def test_incomplete_tls_flags_exit_2(tmp_path: Path, flags: list[str], said: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "outcomes", "gateway", "--targets", str(tmp_path), *flags],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, said in done.stderr) == (2, True), done.stderr
