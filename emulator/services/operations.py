"""yandex.cloud.operation.OperationService: Get returns an operation the emulator recorded."""

from __future__ import annotations

import grpc
from google.protobuf.message import Message

from emulator.records import Operation
from emulator.services import Call, Rpc, ServiceContext
from emulator.wire import OPERATION, message_class, type_url

SERVICE = f"{OPERATION}.OperationService"
PUBLIC = False


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
        message.response.type_url = type_url(message_class(operation.response_type))
        message.response.value = b""
    return message


def rpcs(context: ServiceContext) -> list[Rpc]:
    store = context.store

    def get(request: Message, call: Call) -> Message:
        operation = store.get_operation(request.operation_id)
        call.authorize(operation.folder_id)  # one with no folder: only callers allowed every folder
        return encode_operation(operation)

    return [Rpc("Get", f"{OPERATION}.GetOperationRequest", get)]
