from __future__ import annotations

from pathlib import Path

import pytest

from outcomes.gateway.tokens import RateLimit, TokenBook, TokenError, digest


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_bursts_then_paces() -> None:
    clock = Clock()
    limit = RateLimit(rate_per_s=2, burst=3, clock=clock)
    assert [limit.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.take() == pytest.approx(0.5)
    clock.now = 0.5
    assert limit.take() == 0.0
    clock.now = 100
    assert [limit.take() for _ in range(4)][:3] == [0.0, 0.0, 0.0]


def test_tokens_are_matched_by_digest_with_project_patterns(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text(
        f"tokens:\n  - {{name: ci, sha256: {digest('abc')}, projects: ['ticket-*'], rate_per_s: 5}}\n"
        f"  - {{name: ops, sha256: {digest('xyz')}, projects: ['*']}}\n"
    )
    book = TokenBook.load(path)
    ci = book.grant_for("abc")
    assert ci is not None and ci.name == "ci" and ci.limit is not None and ci.limit.rate_per_s == 5
    assert ci.allows("ticket-triage") and not ci.allows("patch-rollout")
    ops = book.grant_for("xyz")
    assert ops is not None and ops.limit is None
    assert book.grant_for("abcd") is None
    assert TokenBook.load(path, default_rate_per_s=10).grant_for("xyz").limit is not None  # type: ignore[union-attr]
    assert "abc" not in path.read_text()  # only digests at rest


def test_bad_tokens_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text("tokens:\n  - {name: ci, sha256: not-hex, projects: []}\n")
    with pytest.raises(TokenError, match="tokens.0.sha256"):
        TokenBook.load(path)
