"""FakeSocketModeServer: a real WebSocket server on 127.0.0.1 speaking Slack's Socket Mode.

    with FakeSocketModeServer() as server, FakeSlack(socket_server=server) as fake:
        client = SocketModeClient(APP_TOKEN, web_client=WebClient(base_url=fake.base_url))
        client.connect()  # apps.connections.open on the fake, then this server
        envelope_id = server.send_envelope("slash_commands", slash_command("status"))
        assert server.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}

Each connection must come with a ticket from `new_url()` (FakeSlack hands them out on
apps.connections.open), is greeted with `hello`, gets envelopes shaped as Slack sends
them, and its acks are kept by envelope id. WebSocket pings are answered by the library.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Coroutine, Mapping, Sequence
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bot.standin.workspace import APP_ID, JSON

T = TypeVar("T")
EnvelopeType = Literal["slash_commands", "interactive", "events_api"]
# Interactions whose ack may carry a response (view errors, options): Socket Mode docs.
_ANSWERABLE: frozenset[str] = frozenset({"view_submission", "block_suggestion"})
PING_INTERVAL_SECONDS = 0.1


class FakeSocketModeServer:
    """Socket Mode at the `ws://` URLs `new_url()` issues; see the module docstring."""

    def __init__(self, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Server | None = None
        self._changed = threading.Condition()
        self._tickets: set[str] = set()
        self._open: list[ServerConnection] = []
        self._accepted = 0
        self._acks: dict[str, JSON] = {}
        self._received: list[str] = []

    def start(self) -> Self:
        self._thread.start()
        self._server = self._run(self._serve())
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._run(self._close(self._server))
            self._server = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def new_url(self) -> str:
        """A one-time URL to connect to, as apps.connections.open returns it."""
        if self._server is None:
            raise RuntimeError("FakeSocketModeServer is not started")
        port = self._server.sockets[0].getsockname()[1]
        ticket = str(uuid.uuid4())
        with self._changed:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{port}/link/?ticket={ticket}&app_id={self.app_id}"

    @property
    def connections_accepted(self) -> int:
        with self._changed:
            return self._accepted

    @property
    def received(self) -> list[str]:
        """What clients sent that was not an ack."""
        with self._changed:
            return list(self._received)

    def wait_for_connection(self, count: int = 1, timeout: float = 5.0) -> None:
        """Until `count` connections have been accepted in all, one of them still open."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: self._accepted >= count and bool(self._open), timeout
            ):
                raise TimeoutError(f"{self._accepted} connections of {count} after {timeout}s")

    def send_envelope(
        self,
        type: EnvelopeType,
        payload: Mapping[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Send an envelope to the newest connection; returns its envelope_id.

        The payload is what Slack would post over HTTP, parsed: the slash command's form
        fields, the interaction payload, or the event_callback (see `signing.py`).
        """
        envelope = self._envelope(
            type, payload, accepts_response_payload, retry_attempt, retry_reason
        )
        self._send(envelope)
        return str(envelope["envelope_id"])

    def send_burst(self, envelopes: Sequence[tuple[EnvelopeType, Mapping[str, Any]]]) -> list[str]:
        """Send envelopes back to back on the newest connection, as when many people click
        at once; returns their envelope_ids in order."""
        built = [self._envelope(type, payload) for type, payload in envelopes]
        self.wait_for_connection()
        with self._changed:
            connection = self._open[-1]

        async def send_all() -> None:
            for envelope in built:
                await connection.send(json.dumps(envelope))

        self._run(send_all())
        return [str(envelope["envelope_id"]) for envelope in built]

    @staticmethod
    def _envelope(
        type: EnvelopeType,
        payload: Mapping[str, Any],
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> JSON:
        if accepts_response_payload is None:
            accepts_response_payload = type == "slash_commands" or (
                type == "interactive" and payload.get("type") in _ANSWERABLE
            )
        envelope: JSON = {
            "envelope_id": str(uuid.uuid4()),
            "payload": dict(payload),
            "type": type,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": retry_reason}
        return envelope

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> JSON:
        """The client's ack of the envelope: `{"envelope_id": ..., "payload": ...?}`."""
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self._acks, timeout):
                raise TimeoutError(f"no ack of {envelope_id} after {timeout}s")
            return self._acks[envelope_id]

    def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's notice that the newest connection will close; it closes once replaced."""
        self.wait_for_connection()
        with self._changed:
            connection, accepted = self._open[-1], self._accepted
        notice = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-1"}}
        self._run(connection.send(json.dumps(notice)))
        closing = self._close_when_replaced(connection, accepted)
        asyncio.run_coroutine_threadsafe(closing, self._loop)

    def drop_connections(self) -> None:
        """Cut every open connection without a close frame, as a network failure would."""
        with self._changed:
            for connection in self._open:
                self._loop.call_soon_threadsafe(connection.transport.abort)

    def _send(self, message: JSON, timeout: float = 5.0) -> None:
        self.wait_for_connection(timeout=timeout)
        with self._changed:
            connection = self._open[-1]
        self._run(connection.send(json.dumps(message)), timeout)

    async def _close_when_replaced(self, connection: ServerConnection, accepted: int) -> None:
        """Slack closes a connection it warned about some seconds later, or once replaced."""
        for _ in range(1000):
            if self.connections_accepted > accepted:
                break
            await asyncio.sleep(0.01)
        await connection.close()

    def _run(self, work: Coroutine[Any, Any, T], timeout: float = 5.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    @staticmethod
    async def _close(server: Server) -> None:
        server.close()
        await server.wait_closed()

    async def _serve(self) -> Server:
        # Frequent pings, as a test's time goes: the builtin client notices a close only
        # between frames, so a quiet socket keeps client.close() waiting for its recv timeout.
        return await serve(
            self._session,
            "127.0.0.1",
            0,
            process_request=self._check_ticket,
            ping_interval=PING_INTERVAL_SECONDS,
        )

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        ticket = parse_qs(url.query).get("ticket", [""])[0]
        with self._changed:
            if url.path == "/link/" and ticket in self._tickets:
                self._tickets.remove(ticket)
                return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")

    async def _session(self, connection: ServerConnection) -> None:
        try:
            with self._changed:
                count = len(self._open) + 1
            await connection.send(json.dumps(self._hello(count)))
            with self._changed:
                self._open.append(connection)
                self._accepted += 1
                self._changed.notify_all()
            async for message in connection:
                self._receive(message if isinstance(message, str) else message.decode())
        except ConnectionClosed:
            pass  # the client left or was cut off: both are what these tests are about
        finally:
            with self._changed:
                if connection in self._open:
                    self._open.remove(connection)
                self._changed.notify_all()

    def _hello(self, num_connections: int) -> JSON:
        return {
            "type": "hello",
            "num_connections": num_connections,
            "debug_info": {
                "host": "applink-1",
                "build_number": 118,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _receive(self, message: str) -> None:
        try:
            parsed = json.loads(message)
        except json.JSONDecodeError:
            parsed = None
        with self._changed:
            if isinstance(parsed, dict) and "envelope_id" in parsed:
                self._acks[parsed["envelope_id"]] = parsed
            else:
                self._received.append(message)
            self._changed.notify_all()
