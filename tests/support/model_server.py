"""A fake OpenAI-compatible model server for tests: chat completions and embeddings with
fixed usage, written after the OpenAI API reference's response examples (chat completion
object with `usage.prompt_tokens_details.cached_tokens`; embedding list with `usage`)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

CHAT_USAGE: Final = {"prompt_tokens": 42, "completion_tokens": 17, "cached_tokens": 10}
EMBEDDING_TOKENS: Final = 8
DATED: Final = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18"}
"""The model that answers, as a provider names it (the request names an alias)."""


def chat_body(model: str) -> dict[str, Any]:
    prompt, completion = CHAT_USAGE["prompt_tokens"], CHAT_USAGE["completion_tokens"]
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1764800000,
        "model": DATED.get(model, model),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "priority: P2"},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": CHAT_USAGE["cached_tokens"]},
        },
    }


def embedding_body(model: str) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5, 0.125]}],
        "model": model,
        "usage": {"prompt_tokens": EMBEDDING_TOKENS, "total_tokens": EMBEDDING_TOKENS},
    }


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        request = json.loads(self.rfile.read(length))
        model = str(request.get("model", ""))
        body = embedding_body(model) if self.path.endswith("/embeddings") else chat_body(model)
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ModelServer:
    """Serves on 127.0.0.1 from a daemon thread; `base_url` is what an OpenAI client takes."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def __enter__(self) -> ModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
