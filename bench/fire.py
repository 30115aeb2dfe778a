"""Fires requests at once from their own threads and prints each one's latency (a helper).

    python bench/fire.py PORT REQUESTS.json

REQUESTS.json is a list of {"method", "path", "body", "headers"}. Each thread opens its
own connection, as Slack does, and waits at a barrier so all start together. Prints a JSON
list of [status, seconds]. It runs in its own process so that the client threads do not
share the bot's interpreter lock and inflate what is measured.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any


def fire(port: int, requests: list[dict[str, Any]]) -> list[tuple[int, float]]:
    results: list[tuple[int, float]] = [(0, 0.0)] * len(requests)
    barrier = threading.Barrier(len(requests))

    def send(index: int, request: dict[str, Any]) -> None:
        barrier.wait()
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(
                request["method"],
                request["path"],
                body=request["body"].encode() if request["body"] is not None else None,
                headers=request["headers"],
            )
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = -1
        finally:
            connection.close()
        results[index] = (status, time.perf_counter() - started)

    threads = [
        threading.Thread(target=send, args=(index, request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main() -> None:
    port = int(sys.argv[1])
    requests = json.loads(Path(sys.argv[2]).read_text())
    print(json.dumps(fire(port, requests)))


if __name__ == "__main__":
    main()
