"""yandex.cloud.operation.OperationService: Get (which finishes polls-mode operations) and Cancel;
and how every mutating call records its operation (``once``)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from emulator.api.catalogue import Changing, Read, Service
from emulator.api.wire import OPERATION, message_class, type_url
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.state.records import Action, Operation, Pending
from emulator.state.store import Store

log = logging.getLogger("emulator")

SERVICE = Service(
    f"{OPERATION}.OperationService",
    endpoint="operation",
    methods_declared={"Get": Read(gets="operation_id"), "Cancel": Changing(on="operation_id")},
)


def set_timestamp(timestamp: Message, ns: int) -> None:
    timestamp.seconds, timestamp.nanos = divmod(ns, 1_000_000_000)


def encode_operation(operation: Operation) -> Message:
    message = message_class(f"{OPERATION}.Operation")(
        id=operation.id,
        description=operation.description,
        created_by=operation.created_by,
        done=operation.done,
    )
    set_timestamp(message.created_at, operation.created_at_ns)
    set_timestamp(message.modified_at, operation.modified_at_ns)
    metadata_class = message_class(operation.metadata_type)
    message.metadata.type_url = type_url(metadata_class)
    message.metadata.value = metadata_class(**operation.metadata).SerializeToString()
    if operation.error is not None:
        code, text = operation.error
        message.error.code, message.error.message = grpc.StatusCode[code].value[0], text
    elif operation.done and operation.response_type is not None:
        response_class = message_class(operation.response_type)
        message.response.type_url = type_url(response_class)
        if operation.response:
            message.response.value = json_format.ParseDict(operation.response, response_class()).SerializeToString()
    return message


def as_json(message: Message) -> dict[str, Any]:
    """A message in protobuf's JSON mapping (field names as in the .proto): how an
    operation keeps its response, in memory and in the state file."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def new_operation(
    call: Call,
    description: str,
    metadata_type: str,
    metadata: dict[str, str],
    folder_id: str,
    response_type: str = "google.protobuf.Empty",
    response: Message | None = None,
    *,
    action: Action = Action.NONE,
    target: str = "",
) -> Operation:
    """An operation made by ``call`` (its id is given by ``once``). ``action`` on ``target``: the
    store action that makes its change (see Store._effects), done now or when the operation is
    done, by the method's mode; none: the caller made the change already. ``response``: what it
    answers once done. Its id and times are given by ``once``."""
    return Operation(
        id="",
        description=description,
        created_at_ns=0,
        created_by=call.principal.subject,
        modified_at_ns=0,
        done=True,
        metadata_type=metadata_type,
        metadata=metadata,
        response_type=response_type,
        response=as_json(response) if response is not None else None,
        folder_id=folder_id,
        pending=Pending(action, target) if action is not Action.NONE else None,
    )


def once(store: Store, call: Call, request: Message, perform: Callable[[], Operation]) -> Message:
    """Run a mutating call and record its operation, done now or later by the method's operation
    mode, once per idempotency key.

    A call repeated with the same ``idempotency-key`` metadata gets the first operation again and
    changes nothing, whatever its request (the API design guide); a repeat with another request is
    logged as a warning (an operation loaded from a seed without a request digest takes any request
    of its method quietly: the key names the method). Then the caller's access to what the method's declaration
    says it acts on is checked, and ``perform`` checks and changes the store (all under the store's
    lock, so no request sees it halfway) and returns the operation to record.
    """
    digest = hashlib.blake2b(request.SerializeToString(deterministic=True), digest_size=16).hexdigest()
    method = call.method.short
    key = call.idempotency_key and f"{call.principal.subject}/{method}/{call.idempotency_key}"
    with store.atomic():
        done_before = key and store.operation_for_key(key)
        if done_before:
            call.authorize(done_before.folder_id)
            if done_before.request_digest not in (None, digest):  # answered all the same, as production does
                log.warning(
                    "%s: idempotency-key %s was used for another request: answered its operation %s, as production "
                    "does (the API design guide), and did nothing else", method, call.idempotency_key, done_before.id,
                )  # fmt: skip
            return encode_operation(done_before)
        call.authorize_target(request)
        operation = perform()
        operation.id = store.new_operation_id()
        operation.created_at_ns = operation.modified_at_ns = store.clock.now_ns()
        operation.idempotency_key = key or None
        operation.request_digest = digest if key else None
        # A fault rule's operation_error: the call succeeds (unless it is refused as ever), its
        # operation finishes with the error, nothing changes.
        store.start_operation(operation, method, call.operation_error if operation.pending is not None else None)
    return encode_operation(operation)


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store = context.store

    def get(request: Message, call: Call) -> Message:
        # The pipeline checked access (an operation with no folder: only callers allowed every
        # folder), so a poll counts only once authorized.
        return encode_operation(store.poll_operation(request.operation_id))

    def cancel(request: Message, call: Call) -> Message:
        return encode_operation(store.cancel_operation(request.operation_id))

    return {"Get": get, "Cancel": cancel}
