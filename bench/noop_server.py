"""A no-op grpcio server: answers ImageService Get, List and Delete with fixed bytes.

Run as ``python -m bench.noop_server RESPONSES.json [HEADERS]`` (method -> base64 body);
prints ``noop listening on 127.0.0.1:PORT`` when ready and serves until SIGTERM. It is set up
like the emulator's server (same thread pool), so the difference is the emulator's work.

HEADERS says how it sends the response headers the emulator sends (``x-request-id`` and
``x-server-trace-id``, made the same way), so that the comparison is fair and the ways of
sending them can be measured against each other:

- ``attached`` (default): with the response, as the emulator does (emulator.rpc.pipeline.send_headers)
- ``batch``: ``context.send_initial_metadata``, a batch of their own (grpcio's public way)
- ``none``: no headers (the floor)
- ``aio`` / ``aio-none``: a ``grpc.aio`` server with async handlers, with the headers sent by
  ``await context.send_initial_metadata`` (grpc.aio's only way) / without headers
"""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

from emulator.rpc.pipeline import install_header_hook, new_headers, send_headers

SERVICE = "yandex.cloud.containerregistry.v1.ImageService"
MODES = ("attached", "batch", "none", "aio", "aio-none")


def _sync_handler(body: bytes, mode: str):
    if mode == "attached":

        def answer(request, context):
            send_headers(context, new_headers())
            return body

    elif mode == "batch":

        def answer(request, context):
            context.send_initial_metadata(new_headers())
            return body

    else:

        def answer(request, context):
            return body

    return grpc.unary_unary_rpc_method_handler(answer)


def _aio_handler(body: bytes, mode: str):
    async def answer(request, context):
        if mode == "aio":
            await context.send_initial_metadata(new_headers())
        return body

    return grpc.unary_unary_rpc_method_handler(answer)


def _serve_sync(responses: dict[str, bytes], mode: str) -> None:
    if mode == "attached":
        install_header_hook()
    server = grpc.server(ThreadPoolExecutor(max_workers=16), options=[("grpc.so_reuseport", 0)])
    handlers = {method: _sync_handler(body, mode) for method, body in responses.items()}
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(f"noop listening on 127.0.0.1:{port}", flush=True)
    while not stopping.wait(0.5):
        pass
    server.stop(None)


async def _serve_aio(responses: dict[str, bytes], mode: str) -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handlers = {method: _aio_handler(body, mode) for method, body in responses.items()}
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    print(f"noop listening on 127.0.0.1:{port}", flush=True)
    await stopping.wait()
    await server.stop(None)


def main(path: str, mode: str = "attached") -> None:
    if mode not in MODES:
        raise SystemExit(f"noop_server: HEADERS must be one of {', '.join(MODES)}, got {mode!r}")
    responses = {method: base64.b64decode(body) for method, body in json.loads(Path(path).read_text()).items()}
    if mode.startswith("aio"):
        asyncio.run(_serve_aio(responses, mode))
    else:
        _serve_sync(responses, mode)


if __name__ == "__main__":
    main(*sys.argv[1:3])
