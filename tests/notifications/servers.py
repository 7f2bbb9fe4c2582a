"""Real servers on loopback for the notification tests: SMTP (aiosmtpd) and HTTP (a
webhook receiver, a push service). Every one binds port 0 and reports the port it got."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from requests.structures import CaseInsensitiveDict


class SMTPHandler:
    """Keeps every accepted message; refuses the next `refuse` ones with a 451 (try later)."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.refused = 0
        self.refuse = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                self.refused += 1
                return "451 4.3.0 Mailbox busy, try again later"
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class LoopbackSMTP(Controller):
    """aiosmtpd's Controller on 127.0.0.1, port chosen by the OS."""

    def __init__(self, handler):
        super().__init__(handler, hostname="127.0.0.1", port=0)

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class Received:
    method: str
    path: str
    headers: CaseInsensitiveDict
    body: bytes


@dataclass
class HTTPRecorder:
    """A threaded HTTP server that records requests and answers `statuses` in turn (the last
    one forever)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)

    def start(self) -> HTTPRecorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.requests.append(Received("POST", self.path, CaseInsensitiveDict(self.headers.items()), body))
                status = recorder.statuses.pop(0) if len(recorder.statuses) > 1 else recorder.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # quiet test output
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
