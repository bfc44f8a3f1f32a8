"""Assembles the gRPC server: the services, health checking, reflection and a call-logging
interceptor on one grpc.Server. The server takes and returns raw bytes (see emulator.rpc.pipeline)."""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, text_format
from google.protobuf.descriptor import FileDescriptor
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2

from emulator.api.catalogue import Method
from emulator.api.errors import WithCode, shown
from emulator.api.wire import CONTAINER_REGISTRY, DESCRIPTOR_SET, message_class
from emulator.rpc.auth import Auth
from emulator.rpc.faults import Faults
from emulator.rpc.paging import PageTokens
from emulator.rpc.pipeline import (
    CLIENT_REQUEST_ID,
    REQUEST_ID,
    ServiceContext,
    generic_handler,
    headers_sent,
    install_header_hook,
)
from emulator.rpc.recording import CallRecorder, RecordedCall
from emulator.rpc.services import CATALOGUE, SERVICE_MODULES
from emulator.state.store import Store

SERVICES = tuple(CATALOGUE.services)

log = logging.getLogger("emulator")


class CallLogger(grpc.ServerInterceptor):
    """Logs each call's method, status code and duration at info level, with the
    ``x-request-id`` the emulator sent and the client's ``x-client-request-id`` (if it gave
    one), so either finds the call."""

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or not log.isEnabledFor(logging.INFO):
            return handler
        method, inner = handler_call_details.method, handler.unary_unary
        client_id = dict(handler_call_details.invocation_metadata or ()).get(CLIENT_REQUEST_ID)
        client = f" {CLIENT_REQUEST_ID}={client_id}" if client_id else ""

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
                request_id = headers_sent(context).get(REQUEST_ID)
                ours = f" {REQUEST_ID}={request_id}" if request_id else ""
                log.info("%s %s %.2fms%s%s", method, code.name, millis, ours, client)

        return grpc.unary_unary_rpc_method_handler(
            logged,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _taken(address: str) -> str | None:
    """Why ``address`` (host:port, a port > 0) cannot be listened on, or None: asked first, so that it
    is said in one line of ours instead of gRPC's own log line before it. SO_REUSEADDR, as gRPC
    binds: a port whose last connections linger in TIME_WAIT is free."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except (OSError, ValueError):
        return None  # gRPC says what is wrong with it
    for family, kind, protocol, _, where in infos:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(where)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return "is the port in use?"
                if error.errno == errno.EADDRNOTAVAIL:
                    return "this machine has no such address"
    return None


class CannotListen(OSError):
    """An address the server cannot listen on, and why (said before gRPC tries, and logs its own line)."""


def _bind(server: grpc.Server, address: str, credentials: grpc.ServerCredentials | None) -> int:
    if not address.endswith(":0") and (why := _taken(address)):
        raise CannotListen(f"cannot listen on {address} ({why})")
    try:
        if credentials is None:
            return server.add_insecure_port(address)
        return server.add_secure_port(address, credentials)
    except RuntimeError:
        return 0


def build_server(max_workers: int = 16) -> grpc.Server:
    install_header_hook()  # response headers ride with the response: see emulator.rpc.pipeline
    return grpc.server(
        ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ycr-emulator"),
        interceptors=[CallLogger()],
        # Never share a port with another process: a second emulator must fail to bind. Take HTTP/2
        # keepalive pings at any rate, calls in flight or not, as production takes go-sdk v2's (every
        # 30 s, also idle); grpc's default answers the third early one with GOAWAY "too_many_pings".
        options=[("grpc.so_reuseport", 0), ("grpc.http2.max_ping_strikes", 0)],
    )


def stage_gate(store: Store, method: Method) -> None:
    """Refuse a Container Registry call that its shutdown stage (emulator.state.stages) no longer serves."""
    refusal = store.container_registry_refusal(changes=not method.read)
    if refusal is not None:
        raise WithCode(*refusal)


def add_services(
    server: grpc.Server,
    store: Store,
    tokens: PageTokens,
    auth: Auth,
    address: Callable[[], str],
    faults: Faults | None = None,
    recorder: CallRecorder | None = None,
) -> None:
    """The emulated services, health checking and reflection, on one server."""
    context = ServiceContext(store=store, tokens=tokens, auth=auth, address=address, catalogue=CATALOGUE)
    server.add_generic_rpc_handlers(
        [
            generic_handler(
                module.SERVICE,
                module.rpcs(context),
                auth,
                faults=faults,
                recorder=recorder,
                before=store.advance,
                folder_of=store.folder_of_target,
                # Container Registry's services only: the others never ask (decided once, here).
                gate=partial(stage_gate, store) if module.SERVICE.name.startswith(CONTAINER_REGISTRY + ".") else None,
            )
            for module in SERVICE_MODULES
        ]
    )
    health_servicer = health.HealthServicer()
    for service in ("", *SERVICES):
        health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    served = (*SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(served, server, pool=reflection_pool())
    server.add_generic_rpc_handlers([_Unserved(served, recorder)])  # last: what nothing else serves


# Reflection serves, beside the emulator's own descriptors, those of health checking, of
# reflection itself and of the google.rpc error details in statuses, so that grpcurl resolves
# everything the server sends (their generated modules live in protobuf's default pool).
_REFLECTED_EXTRAS = (health_pb2.DESCRIPTOR, reflection_pb2.DESCRIPTOR, error_details_pb2.DESCRIPTOR)


@cache
def reflection_pool() -> descriptor_pool.DescriptorPool:
    """One pool with every file reflection serves: the emulator's set and _REFLECTED_EXTRAS."""
    pool, added = descriptor_pool.DescriptorPool(), set()
    for proto in descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes()).file:
        pool.Add(proto)
        added.add(proto.name)

    def add(file: FileDescriptor) -> None:  # dependencies first; a file the set has is kept
        if file.name not in added:
            for dependency in file.dependencies:
                add(dependency)
            pool.AddSerializedFile(file.serialized_pb)
            added.add(file.name)

    for extra in _REFLECTED_EXTRAS:
        add(extra)
    return pool


class _Unserved(grpc.GenericRpcHandler):
    """Asked last, for any method nothing else serves: UNIMPLEMENTED naming what is served
    (grpc's own answer is a bare "Method not found!"). No token is needed to learn that."""

    def __init__(self, services: tuple[str, ...], recorder: CallRecorder | None = None):
        pool = reflection_pool()
        self._services = services
        self._recorder = recorder  # unserved calls are recorded too (code UNIMPLEMENTED), and logged
        self._methods = {
            service: sorted(CATALOGUE.services[service].methods)
            if service in CATALOGUE.services
            else sorted(method.name for method in pool.FindServiceByName(service).methods)
            for service in services
        }

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        service, _, method = handler_call_details.method.lstrip("/").rpartition("/")
        if service in self._methods:
            served = f"{service} serves: {', '.join(self._methods[service])}"
            message = f"{service}/{method} is not served by the emulator; {served}"
        else:
            served = f"it serves: {', '.join(self._services)}"
            message = f"service {service or '(none)'} is not served by the emulator; {served}"

        path = handler_call_details.method

        def refuse(requests: Iterable[bytes], context: grpc.ServicerContext) -> Iterable[bytes]:
            # A stream handler: whatever the call's shape, the answer comes without reading a request.
            log.warning("%s UNIMPLEMENTED: not served by the emulator", path)
            if self._recorder is not None:
                self._recorder.record(
                    RecordedCall(self._recorder.clock(), path.lstrip("/"), b"", "", "UNIMPLEMENTED", "", "", None)
                )
            context.abort(grpc.StatusCode.UNIMPLEMENTED, shown(message, 1000))

        return grpc.stream_stream_rpc_method_handler(refuse)


def _request_fields(request_type: str, raw: bytes) -> dict:
    """A recorded request's fields by their .proto names (bytes that did not decode: their hex; a
    request protobuf's JSON mapping cannot write, such as a field mask path with capitals: why, and
    the request in protobuf's text form)."""
    if not request_type:  # an unserved call's: no request type to read it by
        return {}
    try:
        message = message_class(request_type).FromString(raw)
    except DecodeError:
        return {"undecodable": raw[:256].hex()}
    try:
        return json_format.MessageToDict(message, preserving_proto_field_name=True)
    except json_format.Error as error:
        return {
            "not_json": shown(str(error), 300),
            "text": shown(text_format.MessageToString(message, as_one_line=True), 4096),
        }
