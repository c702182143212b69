"""Loopback HTTP helpers for the integration tests: a scripted OpenAI-compatible server,
a proxy that records each exchange, and a proxy that injects faults.

All bind 127.0.0.1 on a free port, serve from a daemon thread and stop with ``close()``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from scripted import openai_tool_completion, requested_days, requested_tool


class _Loopback:
    """A ``ThreadingHTTPServer`` on a free loopback port, run from a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        handler.log_message = lambda *args: None  # type: ignore[method-assign]
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    return handler.rfile.read(int(handler.headers.get("Content-Length", 0)))


def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


class ScriptedOpenAIServer(_Loopback):
    """``/v1/chat/completions`` answered at once with a tool call holding the requested
    days (the days named in the prompt)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(_read_body(self))
                _reply(self, 200, json.dumps(openai_tool_completion(body)).encode())

        super().__init__(Handler)


class RecordingProxy(_Loopback):
    """Forwards each POST upstream and keeps ``(request body, reply body)``."""

    def __init__(self, upstream: str) -> None:
        self.exchanges: list[tuple[dict, dict]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = _read_body(self)
                reply = httpx.post(
                    upstream + self.path.removeprefix("/v1"),
                    content=body,
                    headers={"Content-Type": "application/json"},
                    timeout=600,
                )
                proxy.exchanges.append((json.loads(body), reply.json()))
                _reply(self, reply.status_code, reply.content)

        super().__init__(Handler)


@dataclass
class Exchange:
    """One request through the :class:`FaultProxy`: when it came, which fault it met,
    the days it asked for, and whether its reply reached the client whole."""

    at: float
    fault: str
    days: list[int]
    delivered: bool = False
    outline: bool = False  # an outline request (its lines are not days written)


@dataclass
class FaultProxy(_Loopback):
    """Injects one fault per request, in order from ``schedule``, then ``then`` for the
    rest. Faults: ``ok`` (forward), ``429`` (Retry-After: ``retry_after``), ``500``,
    ``drop`` (close without a reply), ``slow`` (the reply after ``slow_seconds``, longer
    than the client waits), ``truncated`` (half the body, then close)."""

    upstream: str
    schedule: list[str] = field(default_factory=list)
    then: str = "ok"
    retry_after: int = 1
    slow_seconds: float = 3.0
    exchanges: list[Exchange] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = _read_body(self)
                sent = json.loads(body)
                with proxy._lock:
                    fault = proxy.schedule.pop(0) if proxy.schedule else proxy.then
                    exchange = Exchange(
                        time.monotonic(),
                        fault,
                        requested_days(sent["messages"][-1]["content"]),
                        outline=requested_tool(sent) == "month_outline",
                    )
                    proxy.exchanges.append(exchange)
                proxy.serve(self, fault, body, exchange)

        super().__init__(Handler)

    def serve(
        self, handler: BaseHTTPRequestHandler, fault: str, body: bytes, exchange: Exchange
    ) -> None:
        error = json.dumps({"error": {"message": f"injected {fault}", "type": "server_error"}})
        if fault == "429":
            _reply(handler, 429, error.encode(), Retry_After=str(self.retry_after))
            return
        if fault == "500":
            _reply(handler, 500, error.encode())
            return
        if fault == "drop":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        reply = httpx.post(
            self.upstream + handler.path.removeprefix("/v1"),
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        if fault == "slow":
            time.sleep(self.slow_seconds)
        if fault == "truncated":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(reply.content)))
            handler.end_headers()
            handler.wfile.write(reply.content[: len(reply.content) // 2])
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            _reply(handler, reply.status_code, reply.content)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up waiting (slow): not delivered
        exchange.delivered = fault == "ok"

    def faults_met(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for exchange in self.exchanges:
            counts[exchange.fault] = counts.get(exchange.fault, 0) + 1
        return counts


def delivered_days(exchanges: list[Exchange]) -> list[int]:
    """Days of every writing reply that reached the client whole, with repeats."""
    return [
        day
        for exchange in exchanges
        if exchange.delivered and not exchange.outline
        for day in exchange.days
    ]


def asked_after(exchanges: list[Exchange], fault: str) -> list[float]:
    """Seconds from each ``fault`` to the next request that asked for the same days."""
    gaps = []
    for i, exchange in enumerate(exchanges):
        if exchange.fault != fault:
            continue
        later = [e.at for e in exchanges[i + 1 :] if e.days == exchange.days]
        if later:
            gaps.append(later[0] - exchange.at)
    return gaps
