"""gRPC services: each decodes a request, validates it, asks the store, encodes the answer.

``generic_handler`` turns a table of plain functions (request message -> response
message) into a grpc handler that takes and returns bytes, so decoding failures and
ApiErrors become proper status codes (never INTERNAL or UNKNOWN for bad input). Every
answer, error or not, carries production's response envelope: the ``x-request-id`` and
``x-server-trace-id`` headers, and ``google.rpc.RequestInfo`` in an error's details.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import grpc
import grpc._server
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from emulator.api.catalogue import Catalogue, Method, Service
from emulator.api.errors import ApiError, InvalidArgument, WithCode, shown
from emulator.api.validation import validate
from emulator.api.values import ValueProblem
from emulator.api.wire import message_class
from emulator.rpc.auth import ANONYMOUS, Auth, Principal
from emulator.rpc.faults import MIGRATION_STARTS, Faults
from emulator.rpc.paging import PageTokens
from emulator.rpc.recording import CallRecorder, RecordedCall
from emulator.state.store import Store

log = logging.getLogger("emulator")


def _no_migration_failures(registry_ids: Iterable[str]) -> tuple[dict[str, str], ...]:
    return ()


@dataclass(eq=False)
class Call:
    """What a service needs to know of a call besides its request, and whether the caller's
    access to the folder it acts in was checked (the pipeline answers nothing unchecked)."""

    method: Method
    principal: Principal
    metadata: dict[str, str]
    auth: Auth
    # A fault rule's operation_error (code, message): the call's operation finishes with it.
    operation_error: tuple[str, str] | None = None
    # The folder of what a call acts on: (Target.kind, value) -> folder id, NotFound if absent.
    folder_of: Callable[[str, str], str] | None = None
    authorized: bool = False
    # The migration_failure parts ({"registry_id", "repository"?, "tag"?, "code", "message"}) of the fault
    # rules that take a migration start moving these registries (counting them then: Faults.take_migration_failures).
    migration_failures: Callable[[Iterable[str]], tuple[dict[str, str], ...]] = _no_migration_failures

    def authorize(self, folder_id: str) -> None:
        """PERMISSION_DENIED unless the caller may touch ``folder_id``."""
        self.auth.authorize(self.principal, folder_id)
        self.authorized = True

    def authorize_target(self, request: Message) -> str:
        """Check the caller's access to what the method's declaration says the call acts on
        (NOT_FOUND first if it is not there); its folder."""
        target = self.method.target
        folder_id = self.folder_of(target.kind, getattr(request, target.field))
        self.authorize(folder_id)
        return folder_id

    @property
    def idempotency_key(self) -> str | None:
        return self.metadata.get("idempotency-key") or None


@dataclass(frozen=True)
class ServiceContext:
    """What every service module's ``rpcs(context)`` may use: one object, so that adding a
    service never changes how the server calls the others."""

    store: Store
    tokens: PageTokens
    auth: Auth
    address: Callable[[], str]  # the address endpoint discovery advertises
    catalogue: Catalogue  # every served service and method


# What serves one method: (request, call) -> the response (bytes: already serialized).
Handler = Callable[[Message, Call], "Message | bytes"]


MAX_MESSAGE = 1000
MAX_DESCRIPTION = 300
MAX_VIOLATIONS = 10

# ---- the response envelope ------------------------------------------------------------------

REQUEST_ID = "x-request-id"
TRACE_ID = "x-server-trace-id"
CLIENT_REQUEST_ID = "x-client-request-id"


def new_headers() -> tuple[tuple[str, str], tuple[str, str]]:
    """A call's response headers: ``x-request-id``, a random (version 4) UUID the server makes,
    never the client's ``x-client-request-id``; and ``x-server-trace-id``, 32 random hex digits
    (the W3C trace-context trace-id form). Formatted by hand: twice as fast as ``uuid.uuid4()``."""
    h = os.urandom(32).hex()
    request_id = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
    return (REQUEST_ID, request_id), (TRACE_ID, h[32:])


_HEADERS = "ycr_response_headers"  # the attribute of grpc's per-call state that holds them
_hooked = False


def install_header_hook() -> bool:
    """Let ``send_headers`` put a call's headers in the batch that sends its response (or its
    error status), as grpc does with empty headers, instead of a batch of their own, which
    costs a synchronous server about a tenth of a no-op call. grpcio has no public way to do
    this, so the hook wraps its private ``grpc._server._get_initial_metadata``: a call that set
    no headers this way (any other server in the process) gets exactly what grpc gave it.
    Where a grpcio release lacks that function, nothing is wrapped and ``send_headers`` sends
    a batch of their own: the same bytes on the wire, only slower. Returns whether it is on."""
    global _hooked
    original = getattr(grpc._server, "_get_initial_metadata", None)
    if original is None or not _takes_headers(getattr(grpc._server, "_RPCState", None)):
        return False
    if getattr(original, "ycr_hook", False):
        _hooked = True
        return True

    def with_response_headers(state, metadata):
        if metadata is None:
            metadata = getattr(state, _HEADERS, None)
        return original(state, metadata)

    with_response_headers.ycr_hook = True
    grpc._server._get_initial_metadata = with_response_headers
    _hooked = True
    return True


def _takes_headers(state_class) -> bool:
    """Whether grpc's per-call state can carry the headers (it has no __slots__ today)."""
    try:
        setattr(state_class(), _HEADERS, None)
    except (TypeError, AttributeError):  # no such class, another constructor, or __slots__
        return False
    return True


def send_headers(context: grpc.ServicerContext, headers: tuple[tuple[str, str], ...]) -> None:
    """Send ``headers`` as the call's initial metadata: real headers on every answer, an error
    included (grpc answers an error trailers-only only when its headers are empty)."""
    state = getattr(context, "_state", None)
    if _hooked and state is not None:
        setattr(state, _HEADERS, headers)
    else:
        context.send_initial_metadata(headers)


def headers_sent(context: grpc.ServicerContext) -> dict[str, str]:
    """The headers ``send_headers`` attached to this call (empty if none), for its log line."""
    return dict(getattr(getattr(context, "_state", None), _HEADERS, None) or ())


def status_of(error: ApiError, request_id: str) -> grpc.Status:
    """A gRPC status for an ApiError: its message, ``google.rpc.BadRequest`` for an
    InvalidArgument, and ``google.rpc.RequestInfo`` naming the call's ``x-request-id``."""
    code = grpc.StatusCode[error.code]
    # Messages name values cut short already (errors.shown); this bound holds whatever a
    # message says, so a status always fits the metadata limit (8 KiB in grpc).
    status = status_pb2.Status(code=code.value[0], message=shown(error.message, MAX_MESSAGE))
    if isinstance(error, InvalidArgument):
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=field, description=shown(text, MAX_DESCRIPTION))
                for field, text in error.violations[:MAX_VIOLATIONS]
            ]
        )
        status.details.add().Pack(bad_request)
    status.details.add().Pack(error_details_pb2.RequestInfo(request_id=request_id))
    return rpc_status.to_status(status)


class Internal(ApiError):
    """A bug in the emulator, never the client's fault."""

    code = "INTERNAL"


class _Fields:
    """A request's fields by name, for fault rules' ``match`` (read only if a rule matches on them)."""

    def __init__(self, request: Message):
        self._request = request

    def get(self, name: str):
        value = getattr(self._request, name, None)
        return list(value) if hasattr(value, "extend") else value


def generic_handler(
    service: Service,
    handlers: dict[str, Handler],
    auth: Auth,
    *,
    faults: Faults | None = None,
    recorder: CallRecorder | None = None,
    before: Callable[[], object] | None = None,
    folder_of: Callable[[str, str], str] | None = None,
    gate: Callable[[Method], object] | None = None,
) -> grpc.GenericRpcHandler:
    """One handler per declared method of ``service`` (ValueError if they differ). ``public``
    services (endpoint discovery, IAM) need no token in any auth mode. Order of a call:
    authentication, decoding, fault rules, ``gate`` (an ApiError it raises refuses the call: Container
    Registry's shutdown stage), validation, ``before`` (the state's explicit moment to
    finish what is due), the folder check, the service. Every call is recorded.

    The folder check comes from the declaration (``Method.target``, found by ``folder_of``). The
    pipeline makes it before serving a read or a Changing call; a mutating call's is made by
    ``once`` after its idempotency key (a repeated call answers its first operation), and a paged
    one's by ``page`` after its page token (a bad token is INVALID_ARGUMENT first). A service that
    answers without any check is an emulator defect: INTERNAL, never served as allowed."""
    if set(handlers) != set(service.methods):
        raise ValueError(f"{service.name}: handlers {sorted(handlers)} != declared methods {sorted(service.methods)}")
    public = service.public
    served = {}
    for name, method in service.methods.items():
        request_class = message_class(method.request_type)
        paged = "page_token" in request_class.DESCRIPTOR.fields_by_name
        checked_first = method.target is not None and not method.mutating and not paged

        def behaviour(
            raw: bytes,
            context: grpc.ServicerContext,
            method=method,
            serve=handlers[name],
            request_class=request_class,
            checked_first=checked_first,
        ) -> bytes:
            headers = new_headers()
            metadata = dict(context.invocation_metadata())
            principal, fault, injected, sent = ANONYMOUS, None, None, False
            try:
                principal = ANONYMOUS if public else auth.authenticate(metadata.get("authorization"))
                try:
                    request = request_class.FromString(raw)
                except DecodeError as error:
                    raise InvalidArgument.field("request", f"is not a valid {method.request_type}: {error}") from None
                fault = faults.decide(method, _Fields(request)) if faults is not None else None
                if fault is not None:
                    if fault.delay_ms and (gave_up := _gave_up_during(context, fault.delay_ms / 1000)):
                        injected = grpc.StatusCode[gave_up]  # nobody is listening: recorded, never served
                        raise Injected(gave_up, "the client gave up during the fault rule's delay_ms")
                    if fault.code is not None:  # answered as an infrastructure failure: trailers-only
                        injected = grpc.StatusCode[fault.code]
                        raise Injected(fault.code, fault.message)
                send_headers(context, headers)
                sent = True
                if gate is not None:
                    gate(method)
                validate(request)
                call = Call(
                    method, principal, metadata, auth, fault.operation_error if fault else None, folder_of,
                    migration_failures=_migration_failures(faults, method, request),
                )  # fmt: skip
                if before is not None:
                    before()
                if checked_first:
                    call.authorize_target(request)
                response = serve(request, call)
                if not (call.authorized or public):
                    raise Internal(f"{method.short} answered without checking its caller's access: an emulator defect")
                _record(recorder, method, raw, "OK", principal, headers, fault)
                return response if isinstance(response, bytes) else response.SerializeToString()
            except Injected as error:
                problem = error
            except ApiError as error:
                problem = error
            except ValueProblem as value:  # a value the store cannot keep (e.g. a folder id)
                problem = InvalidArgument.field(value.field, value.rule)
            except Exception:
                log.exception("%s failed (%s %s)", method.full, REQUEST_ID, headers[0][1])
                problem = Internal(f"emulator bug in {method.full}; see its log")
            _record(recorder, method, raw, problem.code, principal, headers, fault)
            if injected is not None:
                context.abort(injected, problem.message)
            if not sent:
                send_headers(context, headers)
            context.abort_with_status(status_of(problem, headers[0][1]))

        served[name] = grpc.unary_unary_rpc_method_handler(behaviour)
    return grpc.method_handlers_generic_handler(service.name, served)


DEADLINE_SKEW_S = 0.1  # how early a client's deadline may end its call before the server's passes


def _gave_up_during(context: grpc.ServicerContext, seconds: float) -> str | None:
    """Wait out a fault rule's delay unless the client gives up first: then the status it ended
    with (CANCELLED, or DEADLINE_EXCEEDED when its deadline passed), and the service never sees
    the call. A client that cancels sends no grpc-timeout (the Node.js SDK's deadline option)."""
    ended = threading.Event()
    if context.add_callback(ended.set):  # called when the call ends (False: it has ended already)
        ended.wait(seconds)
    if context.is_active():
        return None  # the whole delay waited out
    # The client's deadline timer starts before the server's (the request travels meanwhile): a client
    # that ends its call as its deadline passes may be heard a little before the server's own passes.
    remaining = context.time_remaining()
    return "DEADLINE_EXCEEDED" if remaining is not None and remaining <= DEADLINE_SKEW_S else "CANCELLED"


class Injected(WithCode):
    """A status a fault rule answers with."""


def _migration_failures(faults: Faults | None, method: Method, request: Message):
    """What a migration start's call reads its fault rules' failures through (decided per method:
    only the starts have any, so no other call builds a reader)."""
    if faults is None or method.short not in MIGRATION_STARTS:
        return _no_migration_failures
    return lambda registry_ids: faults.take_migration_failures(method, _Fields(request), registry_ids)


def _record(recorder, method: Method, raw: bytes, code: str, principal: Principal, headers, fault) -> None:
    if recorder is not None:
        recorder.record(
            RecordedCall(
                recorder.clock(),
                method.full,
                raw,
                method.request_type,
                code,
                principal.subject,
                headers[0][1],
                fault.rule_id if fault else None,
            )  # fmt: skip
        )
