"""The reading half of ``ycr-emulator snapshot``: its calls (reads only, each named in its error,
retried by the client), the optional kinds a token may not read, and how served values become
seed values (timestamps in ns, enum names), shared by both APIs' readers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from emulator.api.values import TIMESTAMP_MAX_NS, TIMESTAMP_MIN_NS
from emulator.contract.client import RETRIED_CODES, RegistryClient, error_text
from emulator.rpc.services import CATALOGUE
from emulator.state.codecs import format_timestamp

Say = Callable[[str], None]


def add_found(entry: dict, **found) -> dict:
    """``entry`` with each found value that is not empty (None: not read; []: none): a seed holds no empty kinds."""
    entry.update((key, value) for key, value in found.items() if value)
    return entry


class SnapshotError(Exception):
    """The endpoint refused or failed a call (``code``): exit code 1, nothing written."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None):
        super().__init__(message)
        self.code = code


def ns(timestamp: Message, what: str = "a timestamp") -> int:
    """A served timestamp in ns; SnapshotError naming ``what`` if no seed could hold it."""
    if not 0 <= timestamp.nanos <= 999_999_999:  # protobuf's Timestamp: a fraction of a second
        raise SnapshotError(f"{what}: nanos {timestamp.nanos} is outside 0-999999999, as a timestamp's must be")
    ns = timestamp.seconds * 1_000_000_000 + timestamp.nanos
    if not TIMESTAMP_MIN_NS <= ns <= TIMESTAMP_MAX_NS:
        raise SnapshotError(f"{what}: {timestamp.seconds} seconds is outside the years 0001-9999 a timestamp may hold")
    return ns


def enum_name(message: Message, field: str, what: str) -> str:
    """The name of a served enum value; SnapshotError naming ``what`` for a number the API does not
    define (an endpoint newer than this emulator, or a broken one)."""
    number = getattr(message, field)
    value = message.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number.get(number)
    if value is None:
        raise SnapshotError(f"{what}: {field} {number} is not a value the API defines")
    return value.name


class Reader:
    """The calls of one snapshot, each named in its error; refusals of the optional calls
    (access bindings, IP permissions) are noted once and that kind skipped from then on."""

    OPTIONAL_REFUSALS = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNIMPLEMENTED)

    def __init__(self, client: RegistryClient, say: Say):
        self.client = client
        self.say = say
        self.refused: set[str] = set()

    def _failed(self, method: str, error: grpc.RpcError) -> SnapshotError:
        hint = ""
        if error.code() == grpc.StatusCode.UNAUTHENTICATED:
            hint = " (give a valid --token, --oauth-token or $YCR_IAM_TOKEN)"
        elif error.code() in RETRIED_CODES and self.client.retries:
            hint = f" (retried up to {self.client.retries} times; see --retries)"
        return SnapshotError(f"{method}: {error_text(error)}{hint}", error.code())

    @staticmethod
    def _check(method: str) -> None:
        found = CATALOGUE.method(method)
        if found is None or not found.read:  # the promise that a snapshot changes nothing, kept in one place
            raise ValueError(f"{method}: not a read; a snapshot only reads")

    def call(self, method: str, **fields) -> Message:
        self._check(method)
        try:
            return self.client.call(method, **fields)
        except grpc.RpcError as error:
            raise self._failed(method, error) from None

    def pages(self, method: str, **fields) -> Iterator[Message]:
        self._check(method)
        try:
            yield from self.client.pages(method, **fields)
        except grpc.RpcError as error:
            raise self._failed(method, error) from None

    def optional(self, method: str, what: str, read: Callable[[], list]) -> list | None:
        """``read()``, or None if the endpoint refuses ``method`` to this caller (said once)."""
        if method in self.refused:
            return None
        try:
            return read()
        except SnapshotError as error:
            if error.code not in self.OPTIONAL_REFUSALS:
                raise
            self.refused.add(method)
            self.say(f"note: {error}; {what} are not in the snapshot")
            return None

    def access_bindings(self, method: str, resource_id: str, what: str = "") -> list[dict] | None:
        """The resource's access bindings as seed entries, or None if the endpoint refuses ``method``."""

        def read() -> list[dict]:
            return [
                {"role_id": item.role_id, "subject": {"id": item.subject.id, "type": item.subject.type}}
                for page in self.pages(method, resource_id=resource_id)
                for item in page.access_bindings
            ]

        return self.optional(method, what or f"{method.partition('Service')[0].lower()} access bindings", read)

    def scan_policy(self, method: str, registry_id: str, what: str) -> dict | None:
        """The registry's scan policy (``method``: either API's GetByRegistry) as its seed entry, or
        None if it has none or the endpoint refuses ``method`` (noted as ``what``)."""

        def read() -> list[dict]:
            try:
                policy = self.call(method, registry_id=registry_id)
            except SnapshotError as error:
                if error.code == grpc.StatusCode.NOT_FOUND:
                    return []
                raise
            entry = {
                "id": policy.id, "name": policy.name, "description": policy.description,
                "created_at": format_timestamp(ns(policy.created_at, f"scan policy {policy.id}")),
                "rules": json_format.MessageToDict(policy.rules, preserving_proto_field_name=True),
                "disabled": policy.disabled,
            }  # fmt: skip
            if "scan_policy_options" in policy.DESCRIPTOR.fields_by_name:  # Cloud Registry's
                entry["scan_lang_packages"] = policy.scan_policy_options.scan_lang_packages
            return [entry]

        found = self.optional(method, what, read)
        return found[0] if found else None
