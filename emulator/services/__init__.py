"""gRPC services: each decodes a request, validates it, asks the store, encodes the answer.

``generic_handler`` turns a table of plain functions (request message -> response
message) into a grpc handler that takes and returns bytes, so decoding failures and
ApiErrors become proper status codes (never INTERNAL or UNKNOWN for bad input).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from emulator.auth import ANONYMOUS, Auth, Principal
from emulator.errors import ApiError, InvalidArgument, shown
from emulator.paging import PageTokens
from emulator.store import Store
from emulator.validation import validate
from emulator.values import ValueProblem
from emulator.wire import message_class

log = logging.getLogger("emulator")


@dataclass(frozen=True)
class Call:
    """What a service needs to know of a call besides its request."""

    principal: Principal
    metadata: dict[str, str]
    auth: Auth

    def authorize(self, folder_id: str) -> None:
        """PERMISSION_DENIED unless the caller may touch ``folder_id``."""
        self.auth.authorize(self.principal, folder_id)

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


@dataclass(frozen=True)
class Rpc:
    """One unary method: its name, request type and the function that serves it."""

    name: str
    request_type: str
    serve: Callable[[Message, Call], Message | bytes]  # bytes: already serialized


MAX_MESSAGE = 1000
MAX_DESCRIPTION = 300
MAX_VIOLATIONS = 10


def status_of(error: ApiError) -> grpc.Status:
    """A gRPC status for an ApiError, with BadRequest details for InvalidArgument."""
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
    return rpc_status.to_status(status)


def generic_handler(service: str, rpcs: list[Rpc], auth: Auth, *, public: bool = False) -> grpc.GenericRpcHandler:
    """``public`` services (endpoint discovery, IAM) need no token in any auth mode."""
    handlers = {}
    for rpc in rpcs:
        request_class = message_class(rpc.request_type)

        def behaviour(raw: bytes, context: grpc.ServicerContext, rpc=rpc, request_class=request_class) -> bytes:
            metadata = dict(context.invocation_metadata())
            request_id = metadata.get("x-client-request-id") or str(uuid.uuid4())
            context.send_initial_metadata((("x-request-id", request_id),))
            try:
                principal = ANONYMOUS if public else auth.authenticate(metadata.get("authorization"))
                try:
                    request = request_class.FromString(raw)
                except DecodeError as error:
                    raise InvalidArgument.field("request", f"is not a valid {rpc.request_type}: {error}") from None
                validate(request)
                response = rpc.serve(request, Call(principal, metadata, auth))
                return response if isinstance(response, bytes) else response.SerializeToString()
            except ApiError as error:
                context.abort_with_status(status_of(error))
            except ValueProblem as problem:  # a value the store cannot keep (e.g. a folder id)
                context.abort_with_status(status_of(InvalidArgument.field(problem.field, problem.rule)))
            except Exception:
                # A bug in the emulator, never the client's fault: say so plainly.
                log.exception("%s/%s failed", service, rpc.name)
                context.abort(grpc.StatusCode.INTERNAL, f"emulator bug in {service}/{rpc.name}; see its log")

        handlers[rpc.name] = grpc.unary_unary_rpc_method_handler(behaviour)
    return grpc.method_handlers_generic_handler(service, handlers)
