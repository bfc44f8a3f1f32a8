"""Assembles the gRPC server, and ``Emulator``: the whole emulator in-process.

The server takes and returns raw bytes (see emulator.services); this module wires
the services to one grpc.Server with a call-logging interceptor.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc

from emulator.paging import PageTokens
from emulator.seed import apply_seed, read_seed_file
from emulator.services import generic_handler, images, operations
from emulator.store import Image, Registry, Store

log = logging.getLogger("emulator")


class CallLogger(grpc.ServerInterceptor):
    """Logs each call's method, status code and duration at info level."""

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or not log.isEnabledFor(logging.INFO):
            return handler
        method, inner = handler_call_details.method, handler.unary_unary

        def logged(request, context):
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                return inner(request, context)
            except Exception:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            finally:
                millis = (time.perf_counter() - started) * 1000
                log.info("%s %s %.2fms", method, code.name, millis)

        return grpc.unary_unary_rpc_method_handler(
            logged,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def build_server(store: Store, tokens: PageTokens, *, max_workers: int = 16) -> grpc.Server:
    server = grpc.server(
        ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ycr-emulator"),
        interceptors=[CallLogger()],
        # Never share a port with another process: a second emulator must fail to bind.
        options=[("grpc.so_reuseport", 0)],
    )
    server.add_generic_rpc_handlers(
        [
            generic_handler(images.SERVICE, images.rpcs(store, tokens)),
            generic_handler(operations.SERVICE, operations.rpcs(store)),
        ]
    )
    return server


class Emulator:
    """An in-process emulator on a real socket. Use as a context manager or start()/stop().

    >>> with Emulator() as emulator:
    ...     channel = emulator.channel()
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, seed: int | None = None):
        self.host = host
        self.port = port
        self.store = Store(seed)
        self._tokens = PageTokens()
        self._server: grpc.Server | None = None

    # ---- life cycle ----------------------------------------------------------------

    def start(self) -> Emulator:
        server = build_server(self.store, self._tokens)
        try:
            bound = server.add_insecure_port(format_address(self.host, self.port))
        except RuntimeError:
            bound = 0
        if not bound:
            raise OSError(f"cannot listen on {format_address(self.host, self.port)} (is the port in use?)")
        server.start()
        self.port, self._server = bound, server
        return self

    def stop(self, grace: float | None = None) -> None:
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None

    def wait(self) -> None:
        """Block until the server stops."""
        if self._server is not None:
            self._server.wait_for_termination()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """``host:port`` of the running server."""
        return format_address(self.host, self.port)

    def channel(self, timeout: float = 5.0) -> grpc.Channel:
        """A plaintext channel to the emulator, ready to use."""
        channel = grpc.insecure_channel(self.endpoint)
        grpc.channel_ready_future(channel).result(timeout=timeout)
        return channel

    # ---- state -----------------------------------------------------------------------

    def reset(self) -> None:
        self.store.reset()

    def add_registry(self, folder_id: str, **fields: Any) -> Registry:
        return self.store.add_registry(folder_id, **fields)

    def add_image(self, registry_id: str, repository: str, **fields: Any) -> Image:
        return self.store.add_image(registry_id, repository, **fields)

    def load_seed(self, seed: str | Path | dict) -> tuple[list[Registry], list[Image]]:
        """Load seed data (a file path or the parsed JSON), all or nothing."""
        data = seed if isinstance(seed, dict) else read_seed_file(seed)
        return apply_seed(self.store, data)
