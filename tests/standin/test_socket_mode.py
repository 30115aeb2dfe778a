"""The Socket Mode server: envelopes, acks, reconnects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bot.standin.signing import (
    app_home_opened,
    event_callback,
    slash_command,
)
from bot.standin.slack_api import FakeSlack
from bot.standin.workspace import APP_ID, APP_TOKEN, BOT_TOKEN
from tests.support.socket_mode_server import FakeSocketModeServer
from tests.support.standin_kit import (
    ADA,
    error_of,
)

# -- Socket Mode ----------------------------------------------------------------------


@dataclass(frozen=True)
class SocketMode:
    fake: FakeSlack
    server: FakeSocketModeServer
    client: SocketModeClient


@pytest.fixture(scope="module")
def socket_mode() -> Iterator[SocketMode]:
    """One connected client for these tests: slack_sdk's client takes a second to close."""
    with FakeSocketModeServer() as server, FakeSlack(socket_server=server) as fake:
        # A short ping interval: the client checks its connection, and reconnects, that often.
        web_client = WebClient(base_url=fake.base_url)
        client = SocketModeClient(app_token=APP_TOKEN, web_client=web_client, ping_interval=0.1)

        def ack_with_text(client: BaseSocketModeClient, request: SocketModeRequest) -> None:
            response = SocketModeResponse(envelope_id=request.envelope_id, payload={"text": "ok"})
            client.send_socket_mode_response(response)

        client.socket_mode_request_listeners.append(ack_with_text)
        client.connect()
        yield SocketMode(fake, server, client)
        client.close()


def test_socket_mode_envelopes_are_acked(socket_mode: SocketMode) -> None:
    server = socket_mode.server

    envelope_id = server.send_envelope("slash_commands", slash_command("status"))

    assert server.wait_for_ack(envelope_id) == {
        "envelope_id": envelope_id,
        "payload": {"text": "ok"},
    }
    assert socket_mode.fake.calls("apps.connections.open")[0].token == APP_TOKEN


def test_socket_mode_reconnects_after_disconnect(socket_mode: SocketMode) -> None:
    server = socket_mode.server
    before = server.connections_accepted

    server.send_disconnect()
    server.wait_for_connection(count=before + 1)
    envelope_id = server.send_envelope("events_api", event_callback(app_home_opened(ADA)))

    assert server.wait_for_ack(envelope_id)["envelope_id"] == envelope_id


def test_socket_mode_reconnects_after_the_network_drops(socket_mode: SocketMode) -> None:
    server = socket_mode.server
    before = server.connections_accepted

    server.drop_connections()
    server.wait_for_connection(count=before + 1)
    envelope_id = server.send_envelope("interactive", {"type": "block_actions"})

    assert server.wait_for_ack(envelope_id)["envelope_id"] == envelope_id


@pytest.fixture
def socket_server(fake: FakeSlack) -> Iterator[FakeSocketModeServer]:
    with FakeSocketModeServer() as server:
        fake.attach_socket_server(server)
        yield server


def test_socket_mode_needs_a_ticket_from_apps_connections_open(
    socket_server: FakeSocketModeServer, client: WebClient
) -> None:
    url = socket_server.new_url()
    with pytest.raises(InvalidStatus):
        connect(url.replace("ticket=", "ticket=forged"))

    with connect(url) as websocket:
        hello = json.loads(websocket.recv(timeout=2))

    assert hello["type"] == "hello"
    assert hello["connection_info"] == {"app_id": APP_ID}
    assert error_of(lambda: client.apps_connections_open(app_token=BOT_TOKEN))["error"] == (
        "not_allowed_token_type"
    )
