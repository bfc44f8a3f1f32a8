"""The public API's descriptors, loaded into the emulator's own DescriptorPool.

Keeping them out of protobuf's default pool lets a process import the official
SDK's generated modules and the emulator in either order without conflicts.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, OneofDescriptor
from google.protobuf.message import Message

DESCRIPTOR_SET = Path(__file__).resolve().parent.parent / "proto" / "descriptors.binpb"

POOL = descriptor_pool.DescriptorPool()
for _file in descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes()).file:
    POOL.Add(_file)

CONTAINER_REGISTRY = "yandex.cloud.containerregistry.v1"
CLOUD_REGISTRY = "yandex.cloud.cloudregistry.v1"
OPERATION = "yandex.cloud.operation"


@cache
def message_class(full_name: str) -> type[Message]:
    """The message class for a full name, built from the private pool."""
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(full_name))


def known_message(full_name: object) -> bool:
    try:
        return isinstance(full_name, str) and POOL.FindMessageTypeByName(full_name) is not None
    except KeyError:
        return False


def type_url(message_type: type[Message] | Descriptor) -> str:
    descriptor = getattr(message_type, "DESCRIPTOR", message_type)
    return f"type.googleapis.com/{descriptor.full_name}"


def _private_options(options: Message, options_type: str) -> Message:
    # Options come back as the default pool's classes, where the yandex.cloud
    # extensions are either unknown fields or, if the SDK was imported first,
    # the SDK's extensions. Re-reading the bytes with the private pool's class
    # gives the same answer in both cases.
    return message_class(options_type).FromString(options.SerializeToString())


def field_option(field: FieldDescriptor, name: str):
    """The value of the ``yandex.cloud.<name>`` option on a field, or None if unset."""
    options = _private_options(field.GetOptions(), "google.protobuf.FieldOptions")
    extension = POOL.FindExtensionByName(f"yandex.cloud.{name}")
    return options.Extensions[extension] if options.HasExtension(extension) else None


def oneof_option(oneof: OneofDescriptor, name: str):
    """The value of the ``yandex.cloud.<name>`` option on a oneof, or None if unset."""
    options = _private_options(oneof.GetOptions(), "google.protobuf.OneofOptions")
    extension = POOL.FindExtensionByName(f"yandex.cloud.{name}")
    return options.Extensions[extension] if options.HasExtension(extension) else None


# Listed resources whose id is not their ``id`` field nor their first one.
_ID_FIELDS = {
    "yandex.cloud.cloudregistry.v1.DryRunLifecyclePolicyResponse": "dry_run_id",  # its first: the policy's
    "yandex.cloud.cloudregistry.v1.AffectedArtifact": "artifact_id",
}


@cache
def _id_field(descriptor: Descriptor) -> str | None:
    if descriptor.full_name in _ID_FIELDS:
        return _ID_FIELDS[descriptor.full_name]
    if "id" in descriptor.fields_by_name:
        return "id"
    first = descriptor.fields_by_number.get(1)
    if first is not None and first.name.endswith("_id"):
        return first.name
    return None


def resource_id(message: Message) -> str:
    """A resource's id: its ``id`` field, else its first field when that names an id (a dry run's
    result: ``dry_run_lifecycle_policy_result_id``); one with none (a scan's vulnerability) is
    known by its content: ``#`` and a digest of it."""
    field = _id_field(message.DESCRIPTOR)
    if field is None:
        return "#" + hashlib.blake2b(message.SerializeToString(deterministic=True), digest_size=8).hexdigest()
    return getattr(message, field)
