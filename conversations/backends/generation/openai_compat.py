"""The ``openai`` backend: any server speaking the OpenAI Chat Completions protocol.

Works with OpenAI, vLLM, Ollama (``/v1``), llama.cpp server and others. Settings:
``OPENAI_BASE_URL`` (ending in ``/v1``), ``OPENAI_MODEL``, ``OPENAI_API_KEY``,
``OPENAI_MAX_RETRIES``, ``OPENAI_STREAM`` and ``OPENAI_MAX_TOKENS``; the deadline of a whole call
is ``ARI_GENERATION_DEADLINE_S``, or ``OPENAI_TIMEOUT`` when that is smaller.

The deadline is wall-clock and covers everything: connecting, the request, the status line and
headers, every chunk of the body, parsing, and retries with their backoff. The body is read in
bounded pieces (``read1``) with the socket's timeout set to the time left before each piece, and
the deadline checked after each, so a server that drips a byte every few seconds is cut off as
surely as one that goes quiet; a watchdog timer also shuts the socket down at the deadline, which
ends any wait inside ``http.client`` (a dripped header, a TLS handshake). The calling thread is
never killed: the call raises ``GenerationError("timeout")``.

Unless the server is trusted (``trusted``; settings ``OPENAI_TRUSTED`` / ``ARI_LLM_TRUSTED``, and
``ARI_SAFETY_JUDGE_TRUSTED`` for the safety judge), what users wrote is masked before it is sent
(``evaluation.privacy``: e-mail addresses, phone numbers, URLs, names...): every message but the
system prompt, and the previous session's summary inside the system prompt (the rest of it is
the persona and instructions staff wrote). Raw user text never leaves the process for a server we
do not control (docs/privacy.md). Masking runs before the deadline starts: it is local work, and
``conversations.services.warmup`` loads its models when a server process starts.

A reply is used only when it arrived whole: a stream must end with ``data: [DONE]``
(``incomplete_stream`` otherwise), a body must be as long as announced (``incomplete_response``),
a reply stopped by the token limit is ``truncated`` (``finish_reason == "length"``) and one
stopped by the provider's filter is ``content_filter``; malformed JSON is ``bad_stream`` /
``bad_response``. A fragment is never returned. The whole reply is collected before it goes
through the response filter: users never see unfiltered text. Connection errors, 429 and 5xx
are retried with a short backoff while the deadline allows; anything else raises
``GenerationError`` and the chat pipeline falls back to approved content.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import Generated, GenerationError
from conversations.backends.generation.prompting import chat_messages
from evaluation.privacy import mask_text

logger = logging.getLogger(__name__)

RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}
BACKOFF_SECONDS = 0.2
READ_PIECE_BYTES = 16 * 1024
MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # far above any reply of OPENAI_MAX_TOKENS
MAX_LINE_BYTES = 256 * 1024
# finish_reason values that mean the text stopped before the model finished its reply.
UNFINISHED = {"length": "truncated", "content_filter": "content_filter"}


class _Retryable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Watchdog:
    """Shuts the connection's socket down at the deadline, ending whatever read ``http.client``
    is blocked in; ``fired`` tells the caller that the deadline, not the server, ended it."""

    def __init__(self, conn: http.client.HTTPConnection, deadline: float) -> None:
        self.conn = conn
        self.sock: socket.socket | None = None
        self.fired = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired = True
        sock = self.sock or self.conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


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
        trusted: bool | None = None,
    ) -> None:
        self.base_url = (base_url or settings.OPENAI_BASE_URL).rstrip("/")
        self.model = model or settings.OPENAI_MODEL
        self.api_key = settings.OPENAI_API_KEY if api_key is None else api_key
        # The deadline of one call: given (the safety judge), or the generation deadline capped
        # by OPENAI_TIMEOUT.
        self.timeout = float(
            timeout or min(settings.ARI_GENERATION_DEADLINE_S, settings.OPENAI_TIMEOUT)
        )
        self.max_retries = settings.OPENAI_MAX_RETRIES if max_retries is None else max_retries
        self.stream = settings.OPENAI_STREAM if stream is None else stream
        self.max_tokens = max_tokens or settings.OPENAI_MAX_TOKENS
        # A trusted server (local, ours) gets the text as written; any other a masked copy.
        self.trusted = settings.OPENAI_TRUSTED if trusted is None else bool(trusted)
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GenerationError("bad_base_url", "OPENAI_BASE_URL must be an http(s) URL.")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "").rstrip("/") + "/chat/completions"

    # -- protocol ------------------------------------------------------------------------------
    def _body(self, messages: list[dict[str, Any]], temperature: float) -> bytes:
        payload = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
            "temperature": temperature,
            "stream": self.stream,
        }
        return json.dumps(payload).encode()

    def _headers(self) -> dict[str, Any]:
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

    def _attempt(self, body: bytes, deadline: float, *, require_finished: bool) -> str:
        """One request: the reply's text, ``_Retryable`` or ``GenerationError``."""
        conn = self._connection(_remaining(deadline))
        watchdog = _Watchdog(conn, deadline)
        response = None
        try:
            with watchdog:
                try:
                    conn.connect()
                    watchdog.sock = conn.sock  # kept: http.client drops conn.sock on "close"
                    conn.request("POST", self._path, body=body, headers=self._headers())
                    response = conn.getresponse()
                    if response.status != 200:
                        # The body is not read: a server that fails slowly costs nothing more.
                        reason = f"http_{response.status}"
                        if response.status in RETRY_STATUSES:
                            raise _Retryable(reason)
                        raise GenerationError(reason)
                    read = _piece_reader(watchdog, response, deadline)
                    content_type = response.getheader("Content-Type", "")
                    if self.stream and "text/event-stream" in content_type:
                        return _read_stream(read, require_finished=require_finished)
                    return _read_json(read, response, require_finished=require_finished)
                except (OSError, http.client.HTTPException) as exc:
                    if watchdog.fired or isinstance(exc, TimeoutError):
                        raise GenerationError("timeout") from None
                    if time.monotonic() >= deadline:
                        raise GenerationError("timeout") from None
                    if response is None:
                        raise _Retryable(f"connection_error:{type(exc).__name__}") from None
                    stream = self.stream and "text/event-stream" in (
                        response.getheader("Content-Type", "") or ""
                    )
                    raise GenerationError(
                        "incomplete_stream" if stream else "incomplete_response"
                    ) from None
        finally:
            if response is not None:
                response.close()
            conn.close()

    # -- interface -----------------------------------------------------------------------------
    def generate(self, request: GenerationRequest) -> Generated:
        if not self.trusted and request.previous_summary:
            # The summary goes into the system prompt, which complete() sends as written.
            request = replace(request, previous_summary=mask_text(request.previous_summary))
        messages = chat_messages(request, mask=str if self.trusted else mask_text)
        text, attempts = self.complete(messages, temperature=0.7, require_finished=True)
        return Generated(
            text=text,
            backend=self.name,
            model=self.model,
            details={"attempts": attempts, "stream": self.stream},
        )

    def complete(
        self, messages: list[dict[str, Any]], *, temperature: float, require_finished: bool = False
    ) -> tuple[str, int]:
        """The server's reply to ``messages`` and the attempts it took, within the deadline;
        :class:`GenerationError` (with a reason) otherwise. Also used by the safety judge.
        Unless the server is trusted, every message but the system prompt is masked first.

        A stream without ``[DONE]``, a short body or malformed JSON is always an error. With
        ``require_finished`` (a chat reply), so is a reply cut by the token limit or the
        provider's filter; without it (the safety judge reads the first word of a five-token
        answer) such a reply is returned.
        """
        body = self._body(messages if self.trusted else outgoing_masked(messages), temperature)
        deadline = time.monotonic() + self.timeout
        attempts = 0
        while True:
            attempts += 1
            try:
                text = self._attempt(body, deadline, require_finished=require_finished).strip()
                break
            except _Retryable as exc:
                if attempts > self.max_retries:
                    raise GenerationError(exc.reason) from None
                pause = BACKOFF_SECONDS * attempts
                if time.monotonic() + pause >= deadline:
                    raise GenerationError(exc.reason) from None  # no time left for a retry
                logger.warning("openai backend retry attempt=%s reason=%s", attempts, exc.reason)
                time.sleep(pause)
        if not text:
            raise GenerationError("empty_reply")
        return text, attempts


def outgoing_masked(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` as an untrusted server gets them: what users wrote masked, the system
    prompt (staff-written; its user-derived part is masked by the caller) as it is."""
    return [
        m if m.get("role") == "system" else {**m, "content": mask_text(m.get("content", ""))}
        for m in messages
    ]


def llm_masking_used() -> bool:
    """Whether chat turns send masked text to an LLM server (the warm-up then loads the
    masking models before the first turn)."""
    generator = settings.ARI_GENERATOR == "openai" and not settings.OPENAI_TRUSTED
    judge = bool(settings.ARI_SAFETY_JUDGE_URL) and not settings.ARI_SAFETY_JUDGE_TRUSTED
    return generator or judge


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise GenerationError("timeout")
    return remaining


def _piece_reader(
    watchdog: _Watchdog, response: http.client.HTTPResponse, deadline: float
) -> Callable[[], bytes]:
    """A function returning the next piece of the body (``b""`` at its end), each read bounded
    by the time left, the deadline checked before and after each, the total size capped."""
    total = 0

    def read() -> bytes:
        nonlocal total
        remaining = _remaining(deadline)
        if watchdog.sock is not None:
            watchdog.sock.settimeout(remaining)
        piece = response.read1(READ_PIECE_BYTES)
        if watchdog.fired:  # the watchdog ended the read: what came back is not the end
            raise GenerationError("timeout")
        _remaining(deadline)
        total += len(piece)
        if total > MAX_RESPONSE_BYTES:
            raise GenerationError("too_large")
        return piece

    return read


def _finished(choice: dict[str, Any], *, require_finished: bool) -> None:
    reason = choice.get("finish_reason")
    if require_finished and reason in UNFINISHED:
        raise GenerationError(UNFINISHED[reason])


def _read_json(
    read: Callable[[], bytes], response: http.client.HTTPResponse, *, require_finished: bool
) -> str:
    pieces = []
    while piece := read():
        pieces.append(piece)
    if response.length:  # the server closed before the announced Content-Length
        raise GenerationError("incomplete_response")
    try:
        data = json.loads(b"".join(pieces))
        choice = data["choices"][0]
        text = choice["message"]["content"] or ""
    except (ValueError, KeyError, IndexError, TypeError):
        raise GenerationError("bad_response") from None
    if not isinstance(text, str) or not isinstance(choice, dict):
        raise GenerationError("bad_response")
    _finished(choice, require_finished=require_finished)
    return text


def _read_stream(read: Callable[[], bytes], *, require_finished: bool) -> str:
    """The text of a server-sent event stream that ended with ``data: [DONE]``."""
    chunks: list[str] = []
    buffer = bytearray()
    while piece := read():
        buffer += piece
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            if _stream_line(line, chunks, require_finished=require_finished):
                return "".join(chunks)
        if len(buffer) > MAX_LINE_BYTES:
            raise GenerationError("bad_stream")
    raise GenerationError("incomplete_stream")  # closed before [DONE]: a fragment at most


def _stream_line(line: bytes, chunks: list[str], *, require_finished: bool) -> bool:
    """Adds the line's text to ``chunks``; True at ``[DONE]``."""
    text = line.decode("utf-8", "replace").strip()
    if not text.startswith("data:"):
        return False  # blank separators, comments (": keep-alive"), event names
    data = text[5:].strip()
    if data == "[DONE]":
        return True
    try:
        event = json.loads(data)
    except ValueError:
        raise GenerationError("bad_stream") from None
    if not isinstance(event, dict):
        raise GenerationError("bad_stream")
    if "error" in event:
        raise GenerationError("stream_error")
    for choice in event.get("choices") or []:
        if not isinstance(choice, dict):
            raise GenerationError("bad_stream")
        piece = (choice.get("delta") or {}).get("content")
        if piece:
            if not isinstance(piece, str):
                raise GenerationError("bad_stream")
            chunks.append(piece)
        _finished(choice, require_finished=require_finished)
    return False
