"""A real HTTP server on loopback that speaks the OpenAI Chat Completions protocol.

Tests set ``server.mode`` to choose its behaviour: ``json``, ``stream``, ``slow`` (answers after
``server.delay`` seconds), ``stall`` (streams one chunk, then goes quiet), ``error500``
(always 500), ``flaky`` (500 once, then a normal answer), ``bad_json``.
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
        if mode == "bad_json":
            return self._raw(200, b"{not json", "application/json")
        if mode in ("stream", "stall") and body.get("stream"):
            return self._stream(stall=mode == "stall")
        return self._send(
            200,
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": server.reply},
                        "finish_reason": "stop",
                    }
                ],
            },
        )

    def _send(self, status, payload):
        self._raw(status, json.dumps(payload).encode(), "application/json")

    def _raw(self, status, data, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, *, stall: bool):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()

        def event(payload):
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

        event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        self.wfile.write(b": keep-alive\n\n")
        words = self.server.reply.split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            event({"choices": [{"index": 0, "delta": {"content": piece}}]})
            if stall:
                time.sleep(self.server.delay)
                return
        event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


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
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __getattr__(self, name):
        if name in ("mode", "delay", "reply", "requests"):
            return getattr(self.httpd, name)
        raise AttributeError(name)

    def configure(self, **values) -> None:
        for key, value in values.items():
            setattr(self.httpd, key, value)

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()
