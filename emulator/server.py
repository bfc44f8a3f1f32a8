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
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from emulator.paging import PageTokens
from emulator.seed import apply_seed, image_arguments, read_seed_file, registry_arguments
from emulator.services import generic_handler, images, operations
from emulator.store import Image, Operation, Registry, Store
from emulator.wire import POOL

SERVICES = (images.SERVICE, operations.SERVICE)

log = logging.getLogger("emulator")


def _given(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _exact_time(fields: dict[str, Any]) -> dict[str, int]:
    """Take ``created_at_ns`` (nanoseconds since the epoch) out of ``fields``, checked."""
    if fields.get("created_at_ns") is None:
        fields.pop("created_at_ns", None)
        return {}
    ns = fields.pop("created_at_ns")
    if not isinstance(ns, int) or isinstance(ns, bool):
        raise ValueError(f"created_at_ns: must be an integer, got {ns!r}")
    if fields.get("created_at") is not None:
        raise ValueError("created_at_ns: give created_at or created_at_ns, not both")
    return {"created_at_ns": ns}


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
    health_servicer = health.HealthServicer()
    for service in ("", *SERVICES):
        health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    # Reflection answers from the private pool: the emulator's own descriptors.
    reflection.enable_server_reflection(
        (*SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME), server, pool=POOL
    )
    return server


class Emulator:
    """An in-process emulator on a real socket. Use as a context manager or start()/stop().

    >>> with Emulator() as emulator:
    ...     channel = emulator.channel()
    """

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, seed: int | None = None, admin_port: int | None = None
    ):
        """``seed`` makes generated ids and digests reproducible; ``admin_port`` (0 = any
        free port) also serves the HTTP control plane (see emulator.admin)."""
        self.host = host
        self.port = port
        self.admin_port = admin_port
        self.store = Store(seed)
        self._tokens = PageTokens()
        self._server: grpc.Server | None = None
        self._admin = None

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
        if self.admin_port is not None:
            from emulator.admin import AdminServer

            try:
                self._admin = AdminServer(self, self.host, self.admin_port)
            except OSError as error:
                self.stop()
                raise OSError(f"cannot serve the control plane on port {self.admin_port}: {error.strerror}") from None
            self._admin.start()
            self.admin_port = self._admin.port
        return self

    def stop(self, grace: float | None = None) -> None:
        if self._admin is not None:
            self._admin.stop()
            self._admin = None
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None

    @property
    def admin_url(self) -> str | None:
        """``http://host:port`` of the control plane, when it is served."""
        return self._admin.url if self._admin is not None else None

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
        """Empty the state (registries, images, operations) in O(1)."""
        self.store.reset()

    def add_registry(self, folder_id: str, **fields: Any) -> Registry:
        """Add a registry. ``fields`` are the seed format's: id, name, created_at, labels.

        ``created_at_ns`` (int) may stand for created_at. Bad arguments raise ValueError naming
        the argument."""
        exact = _exact_time(fields)
        arguments = registry_arguments({"folder_id": folder_id, **_given(fields)})
        return self.store.add_registry(**arguments, **exact)

    def add_image(self, registry_id: str, repository: str, **fields: Any) -> Image:
        """Add an image to ``<registry_id>/<repository>``. ``fields`` are the seed format's:
        id, digest, tags, created_at, compressed_size, config, layers (dicts or Blobs)."""
        exact = _exact_time(fields)
        arguments = image_arguments({"repository": repository, **_given(fields)}, self.store)
        return self.store.add_image(registry_id, **arguments, **exact)

    @property
    def registries(self) -> dict[str, Registry]:
        """A snapshot of the registries by id."""
        with self.store.atomic():
            return dict(self.store.registries)

    @property
    def images(self) -> dict[str, Image]:
        """A snapshot of the images by id."""
        with self.store.atomic():
            return dict(self.store.images)

    @property
    def operations(self) -> dict[str, Operation]:
        """A snapshot of the operations by id."""
        with self.store.atomic():
            return dict(self.store.operations)

    def load_seed(self, seed: str | Path | dict) -> tuple[list[Registry], list[Image]]:
        """Load seed data (a file path or the parsed JSON), all or nothing."""
        data = read_seed_file(seed) if isinstance(seed, (str, Path)) else seed
        return apply_seed(self.store, data)
