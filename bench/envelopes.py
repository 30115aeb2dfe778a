"""Slack's side of Socket Mode for the ack benchmark: sends a burst of envelopes, times the acks.

    python bench/envelopes.py        # prints "ok PORT", then answers commands on stdin

Clients connect to `ws://127.0.0.1:PORT/link/?who=NAME` and are greeted with `hello`, as
Slack does. Commands, one a line, each answered with one line:

    wait NAME          "ok" once a client called NAME is connected
    burst NAME FILE    sends the envelopes in FILE (a JSON list) back to back to NAME, and
                       prints a JSON list of seconds from the start of each one's sending
                       to the arrival of its ack, in the file's order

It runs in a process of its own so that what it times does not wait for the Slack
stand-in's threads, nor for the bot's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

ACK_TIMEOUT_SECONDS = 30.0
HELLO = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0BENCH001"}}


class Envelopes:
    def __init__(self) -> None:
        self.connections: dict[str, ServerConnection] = {}
        self.connected = asyncio.Condition()
        self.acked: dict[str, float] = {}
        self.waiting: dict[str, asyncio.Future[None]] = {}

    async def session(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        name = parse_qs(urlsplit(connection.request.path).query).get("who", ["?"])[0]
        await connection.send(json.dumps(HELLO))
        async with self.connected:
            self.connections[name] = connection
            self.connected.notify_all()
        try:
            async for message in connection:
                envelope_id = json.loads(message).get("envelope_id")
                waiting = self.waiting.pop(envelope_id, None)
                if waiting is not None:
                    self.acked[envelope_id] = time.perf_counter()
                    waiting.set_result(None)
        except ConnectionClosed:
            pass

    async def wait(self, name: str) -> str:
        async with self.connected:
            await asyncio.wait_for(
                self.connected.wait_for(lambda: name in self.connections), ACK_TIMEOUT_SECONDS
            )
        return "ok"

    async def burst(self, name: str, envelopes: list[dict[str, Any]]) -> str:
        connection = self.connections[name]
        loop = asyncio.get_running_loop()
        frames = [(envelope["envelope_id"], json.dumps(envelope)) for envelope in envelopes]
        for envelope_id, _ in frames:
            self.waiting[envelope_id] = loop.create_future()
        futures = [self.waiting[envelope_id] for envelope_id, _ in frames]
        sent: dict[str, float] = {}
        for envelope_id, frame in frames:
            sent[envelope_id] = time.perf_counter()
            await connection.send(frame)
        await asyncio.wait_for(asyncio.gather(*futures), ACK_TIMEOUT_SECONDS)
        return json.dumps([self.acked.pop(eid) - sent[eid] for eid, _ in frames])


def main() -> None:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    envelopes = Envelopes()

    async def start() -> int:
        server = await serve(envelopes.session, "127.0.0.1", 0, max_size=None)
        port: int = server.sockets[0].getsockname()[1]
        return port

    port = asyncio.run_coroutine_threadsafe(start(), loop).result()
    print(f"ok {port}", flush=True)
    for line in sys.stdin:
        command, name, *rest = line.split()
        if command == "wait":
            work = envelopes.wait(name)
        else:
            work = envelopes.burst(name, json.loads(Path(rest[0]).read_text()))
        print(asyncio.run_coroutine_threadsafe(work, loop).result(), flush=True)


if __name__ == "__main__":
    main()
