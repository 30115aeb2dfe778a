"""The floors of the ack benchmark: bare servers and clients that acknowledge and do nothing else.

    python bench/floor.py http            # prints "ok PORT", serves until stdin closes
    python bench/floor.py socket URL      # prints "ok" once connected, acks until stdin closes

`http` is waitress with as many threads as `schemabot serve` runs, answering every request
200 with an empty body once it has read it. `socket` is a Socket Mode client on the
`websockets` library that parses each envelope and sends back its ack. Each runs alone in
its process, as the bot does, so the figures beside them compare like with like.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIEnvironment

from waitress.server import create_server
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bot.slack.app import HTTP_THREADS


def bare(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]


def serve_http() -> None:
    server = create_server(bare, host="127.0.0.1", port=0, threads=HTTP_THREADS)
    threading.Thread(target=server.run, daemon=True).start()
    print(f"ok {server.effective_port}", flush=True)  # type: ignore[union-attr]
    sys.stdin.read()
    server.close()


def ack_envelopes(url: str) -> None:
    with connect(url, max_size=None) as socket:
        hello = json.loads(socket.recv())
        assert hello["type"] == "hello", hello
        print("ok", flush=True)

        def acker() -> None:
            try:
                for message in socket:
                    envelope = json.loads(message)
                    if "envelope_id" in envelope:
                        socket.send(json.dumps({"envelope_id": envelope["envelope_id"]}))
            except ConnectionClosed:
                pass

        threading.Thread(target=acker, daemon=True).start()
        sys.stdin.read()


def main() -> None:
    if sys.argv[1:2] == ["http"]:
        serve_http()
    elif sys.argv[1:2] == ["socket"]:
        ack_envelopes(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
