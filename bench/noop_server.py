"""A no-op grpcio server: answers ImageService Get, List and Delete with fixed bytes.

Run as ``python -m bench.noop_server RESPONSES.json`` (method -> base64 body); prints
``noop listening on 127.0.0.1:PORT`` when ready and serves until SIGTERM. It is set up
like the emulator's server (same thread pool), so the difference is the emulator's work.
"""

from __future__ import annotations

import base64
import json
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import grpc


def main(path: str) -> None:
    responses = {method: base64.b64decode(body) for method, body in json.load(open(path)).items()}
    server = grpc.server(ThreadPoolExecutor(max_workers=16), options=[("grpc.so_reuseport", 0)])
    handlers = {
        method: grpc.unary_unary_rpc_method_handler(lambda request, context, body=body: body)
        for method, body in responses.items()
    }
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("yandex.cloud.containerregistry.v1.ImageService", handlers)]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(f"noop listening on 127.0.0.1:{port}", flush=True)
    while not stopping.wait(0.5):
        pass
    server.stop(None)


if __name__ == "__main__":
    main(sys.argv[1])
