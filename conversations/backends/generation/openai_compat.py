"""The ``openai`` backend: any server speaking the OpenAI Chat Completions protocol.

Works with OpenAI, vLLM, Ollama (``/v1``), llama.cpp server and others. Settings:
``OPENAI_BASE_URL`` (ending in ``/v1``), ``OPENAI_MODEL``, ``OPENAI_API_KEY``,
``OPENAI_TIMEOUT`` (seconds for the whole reply, retries included), ``OPENAI_MAX_RETRIES``,
``OPENAI_STREAM`` and ``OPENAI_MAX_TOKENS``.

With streaming on, the reply is read as server-sent events chunk by chunk, so a server that
stalls mid-reply is cut off at the deadline. The whole reply is collected before it goes through
the response filter: users never see unfiltered text. Connection errors, 429 and 5xx are retried
with a short backoff; anything else, or running out of time, raises ``GenerationError`` and the
chat pipeline falls back to approved content.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import time
from urllib.parse import urlsplit

from django.conf import settings

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import Generated, GenerationError
from conversations.backends.generation.prompting import chat_messages

logger = logging.getLogger(__name__)

RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}
BACKOFF_SECONDS = 0.2


class _Retryable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OpenAICompatibleGenerator:
    name = "openai"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        stream: bool | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self.base_url = (base_url or settings.OPENAI_BASE_URL).rstrip("/")
        self.model = model or settings.OPENAI_MODEL
        self.api_key = settings.OPENAI_API_KEY if api_key is None else api_key
        self.timeout = float(timeout or settings.OPENAI_TIMEOUT)
        self.max_retries = settings.OPENAI_MAX_RETRIES if max_retries is None else max_retries
        self.stream = settings.OPENAI_STREAM if stream is None else stream
        self.max_tokens = max_tokens or settings.OPENAI_MAX_TOKENS
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GenerationError("bad_base_url", "OPENAI_BASE_URL must be an http(s) URL.")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "").rstrip("/") + "/chat/completions"

    # -- protocol ------------------------------------------------------------------------------
    def _body(self, messages: list[dict], temperature: float) -> bytes:
        payload = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
            "temperature": temperature,
            "stream": self.stream,
        }
        return json.dumps(payload).encode()

    def _headers(self) -> dict:
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if self.stream else "application/json",
            "User-Agent": "ari-review/1.0",
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def _attempt(self, body: bytes, deadline: float) -> str:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise GenerationError("timeout")
        conn = self._connection(remaining)
        try:
            try:
                conn.request("POST", self._path, body=body, headers=self._headers())
                response = conn.getresponse()
            except TimeoutError:
                raise GenerationError("timeout") from None
            except (ConnectionError, OSError, http.client.HTTPException) as exc:
                raise _Retryable(f"connection_error:{type(exc).__name__}") from None
            if response.status != 200:
                response.read()
                reason = f"http_{response.status}"
                if response.status in RETRY_STATUSES:
                    raise _Retryable(reason)
                raise GenerationError(reason)
            content_type = response.getheader("Content-Type", "")
            if self.stream and "text/event-stream" in content_type:
                return self._read_stream(conn, response, deadline)
            return self._read_json(conn, response, deadline)
        finally:
            conn.close()

    def _set_read_timeout(self, conn, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise GenerationError("timeout")
        if conn.sock is not None:
            conn.sock.settimeout(remaining)

    def _read_json(self, conn, response, deadline: float) -> str:
        self._set_read_timeout(conn, deadline)
        try:
            data = json.loads(response.read())
        except TimeoutError:
            raise GenerationError("timeout") from None
        except ValueError:
            raise GenerationError("bad_response") from None
        try:
            return data["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise GenerationError("bad_response") from None

    def _read_stream(self, conn, response, deadline: float) -> str:
        chunks: list[str] = []
        while True:
            self._set_read_timeout(conn, deadline)
            try:
                line = response.readline()
            except TimeoutError:
                raise GenerationError("timeout") from None
            if not line:
                break  # server closed the stream without [DONE]: keep what arrived
            line = line.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue  # blank separators, comments (": keep-alive"), event names
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                event = json.loads(data)
            except ValueError:
                raise GenerationError("bad_stream") from None
            if "error" in event:
                raise GenerationError("stream_error")
            for choice in event.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    chunks.append(piece)
        return "".join(chunks)

    # -- interface -----------------------------------------------------------------------------
    def generate(self, request: GenerationRequest) -> Generated:
        text, attempts = self.complete(chat_messages(request), temperature=0.7)
        return Generated(
            text=text,
            backend=self.name,
            model=self.model,
            details={"attempts": attempts, "stream": self.stream},
        )

    def complete(self, messages: list[dict], *, temperature: float) -> tuple[str, int]:
        """The server's reply to ``messages`` and the attempts it took, within the timeout;
        :class:`GenerationError` (with a reason) otherwise. Also used by the safety judge."""
        deadline = time.monotonic() + self.timeout
        body = self._body(messages, temperature)
        attempts = 0
        last_reason = "unknown"
        while True:
            attempts += 1
            try:
                text = self._attempt(body, deadline).strip()
                break
            except _Retryable as exc:
                last_reason = exc.reason
                if attempts > self.max_retries:
                    raise GenerationError(last_reason) from None
                logger.warning("openai backend retry attempt=%s reason=%s", attempts, last_reason)
                pause = BACKOFF_SECONDS * attempts
                if time.monotonic() + pause >= deadline:
                    raise GenerationError("timeout") from None
                time.sleep(pause)
        if not text:
            raise GenerationError("empty_reply")
        return text, attempts
