"""A real HTTP server on loopback that speaks the OpenAI Chat Completions protocol.

Tests set ``server.mode`` to choose its behaviour: ``json``, ``stream``, ``slow`` (answers after
``server.delay`` seconds), ``stall`` (streams one chunk, then goes quiet), ``error500``
(always 500), ``flaky`` (500 once, then a normal answer), ``bad_json``.

Faults of a misbehaving server (tests/conversations/test_generation_faults.py):
``hang`` (reads the request, then says nothing for ``server.delay`` seconds), ``drip`` (a
well-formed stream sent one byte every ``server.drip_interval`` seconds, for ``server.drip_for``
seconds at most), ``drip_headers`` (the same with a plain answer, status line and headers
included), ``cut`` (streams the first ``server.cut_after`` words, then closes without
``[DONE]``), ``bad_stream`` (a stream whose second event is not JSON). ``server.finish_reason``
(default ``stop``) is the finish reason of every answer, streamed or not: ``length`` plays a
reply cut by the token limit. Every request is recorded in ``server.requests`` (what the
circuit breaker tests count).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        return

    def do_POST(self):  # noqa: N802 - http.server's naming
        server = self.server
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": {"message": "not found"}})
        mode = server.mode
        if mode == "error500" or (mode == "flaky" and len(server.requests) == 1):
            return self._send(500, {"error": {"message": "internal error"}})
        if mode == "slow":
            time.sleep(server.delay)
        if mode == "hang":
            server.stopping.wait(server.delay)
            self.close_connection = True
            return None
        if mode == "bad_json":
            return self._raw(200, b"{not json", "application/json")
        if mode == "drip":
            self._stream_headers()
            return self._drip(self._stream_body())
        if mode == "drip_headers":
            self.close_connection = True
            return self._drip(self._raw_answer(body))
        if mode in ("stream", "stall", "cut", "bad_stream") and body.get("stream"):
            return self._stream(stall=mode == "stall", cut=mode == "cut", bad=mode == "bad_stream")
        return self._send(200, self._completion(body))

    def _completion(self, body) -> dict:
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.server.reply},
                    "finish_reason": self.server.finish_reason,
                }
            ],
        }

    def _send(self, status, payload):
        self._raw(status, json.dumps(payload).encode(), "application/json")

    def _raw(self, status, data, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream_headers(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _stream_body(self) -> bytes:
        """The whole event stream of ``server.reply``, one event per word, ending in [DONE]."""

        def event(payload):
            return f"data: {json.dumps(payload)}\n\n".encode()

        out = [event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})]
        for i, word in enumerate(self.server.reply.split(" ")):
            piece = word if i == 0 else " " + word
            out.append(event({"choices": [{"index": 0, "delta": {"content": piece}}]}))
        finish = self.server.finish_reason
        out.append(event({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}))
        out.append(b"data: [DONE]\n\n")
        return b"".join(out)

    def _stream(self, *, stall: bool, cut: bool = False, bad: bool = False):
        self._stream_headers()

        def event(payload):
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

        event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        self.wfile.write(b": keep-alive\n\n")
        if bad:
            self.wfile.write(b"data: {not json\n\n")
        words = self.server.reply.split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            event({"choices": [{"index": 0, "delta": {"content": piece}}]})
            if stall:
                time.sleep(self.server.delay)
                return
            if cut and i + 1 >= self.server.cut_after:
                return  # the connection closes mid-reply: no finish_reason, no [DONE]
        event({"choices": [{"index": 0, "delta": {}, "finish_reason": self.server.finish_reason}]})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _raw_answer(self, body) -> bytes:
        """A whole plain answer as bytes on the wire: status line, headers, JSON body."""
        data = json.dumps(self._completion(body)).encode()
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode() + data

    def _drip(self, data: bytes):
        """``data`` one byte at a time: each read gets a byte, none gets a line. Stops after
        ``server.drip_for`` seconds (a client that does not cut it off fails in bounded time)."""
        ends = time.monotonic() + self.server.drip_for
        for i in range(len(data)):
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            if self.server.stopping.wait(self.server.drip_interval) or time.monotonic() > ends:
                return


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """The timeout tests hang up on purpose: a broken pipe is expected, not news."""


class OpenAICompatibleServer:
    def __init__(self) -> None:
        self.httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.mode = "json"
        self.httpd.delay = 2.0
        self.httpd.reply = "That sounds heavy. What feels most important right now?"
        self.httpd.requests = []
        self.httpd.finish_reason = "stop"
        self.httpd.cut_after = 4
        self.httpd.drip_interval = 1.0
        self.httpd.drip_for = 30.0
        self.httpd.stopping = threading.Event()
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __getattr__(self, name):
        if name in (
            "mode",
            "delay",
            "reply",
            "requests",
            "finish_reason",
            "cut_after",
            "drip_interval",
            "drip_for",
        ):
            return getattr(self.httpd, name)
        raise AttributeError(name)

    def configure(self, **values) -> None:
        for key, value in values.items():
            setattr(self.httpd, key, value)

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.stopping.set()  # handlers that hang or drip end now
        if self.thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()
