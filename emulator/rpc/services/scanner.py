"""yandex.cloud.containerregistry.v1.ScannerService: scans of images and what they found (the
vulnerability reports the user seeds per digest: emulator.state.scans)."""

from __future__ import annotations

import re

from google.protobuf import json_format
from google.protobuf.message import Message

from emulator.api.catalogue import Mutating, Read, Service
from emulator.api.errors import InvalidArgument
from emulator.api.filters import FilterSpec, parse_filter
from emulator.api.ordering import parse_order_by
from emulator.api.wire import CONTAINER_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.operations import new_operation, once
from emulator.rpc.services.paged import ListQuery, ListSpec, list_handler, page, page_size_of
from emulator.state.listing import Scope
from emulator.state.records import Action
from emulator.state.scans import (
    SCAN_RESULT_ORDERS,
    SCAN_STATUSES,
    SEVERITIES,
    ScanResult,
    Vulnerability,
    scan_result_json,
)

# image_id or repository_id (exactly one: an annotation); the filter names a status, as documented.
LIST = ListSpec(
    scopes=(("image_id", "image_id"), ("repository_id", "repository_id")),
    filter=FilterSpec("status", re.compile("|".join(SCAN_STATUSES))),
    orders=SCAN_RESULT_ORDERS,
)
# ListVulnerabilities filters on the severity or the package's name, and orders by severity.
_FIELD = re.compile(r"[ \t]*([A-Za-z_]*)")  # the name a filter begins with
SEVERITY_FILTER = FilterSpec("severity", re.compile("|".join(SEVERITIES)))
PACKAGE_NAME_FILTER = FilterSpec("name", re.compile(r"[^\x00-\x1f\"']{1,256}"))
SERVICE = Service(
    f"{CONTAINER_REGISTRY}.ScannerService",
    endpoint="container-registry",
    methods_declared={
        "Scan": Mutating(deferred=True, on="image_id"),  # RUNNING until its operation is done
        "Get": Read(gets="scan_result_id"),
        "GetLast": Read(on="image_id"),
        "List": Read(lists="scan_results", spec=LIST),
        "ListVulnerabilities": Read(on="scan_result_id"),
    },
)


def encode_scan_result(result: ScanResult) -> Message:
    """The result as the API shows it: the same JSON its done Scan operation answers."""
    return json_format.ParseDict(scan_result_json(result), message_class(f"{CONTAINER_REGISTRY}.ScanResult")())


def encode_vulnerability(vulnerability: Vulnerability) -> Message:
    message_type = message_class(f"{CONTAINER_REGISTRY}.Vulnerability")
    message = message_type(severity=message_type.Severity.Value(vulnerability.severity))
    for field in ("name", "link", "package", "source", "version", "fixed_by", "origin", "type"):
        setattr(message.package, field, getattr(vulnerability, field))
    return message


def _vulnerability_filter(text: str):
    """``severity = "HIGH"`` or ``name = "CVE-..."`` (and !=, IN, NOT IN): (field, NameFilter) or None."""
    field = _FIELD.match(text).group(1)
    if field and field not in ("severity", "name"):
        raise InvalidArgument.field(
            "filter", f"filtering is supported on the fields 'severity' and 'name' only, got {field!r}"
        )
    spec = PACKAGE_NAME_FILTER if field == "name" else SEVERITY_FILTER
    parsed = parse_filter(text, spec)
    return (spec.field, parsed) if parsed is not None else None


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store, tokens = context.store, context.tokens

    def scan(request: Message, call: Call) -> Message:
        def perform():
            result = store.start_scan(request.image_id)
            return new_operation(
                call, "Scan image", f"{CONTAINER_REGISTRY}.ScanMetadata", {"scan_result_id": result.id},
                result.folder_id, f"{CONTAINER_REGISTRY}.ScanResult", None,
                action=Action.SCAN_IMAGE, target=result.id,
            )  # fmt: skip

        operation = once(store, call, request, perform)
        if operation.done and not operation.HasField("error") and not operation.response.value:
            # done at once: it answers the result as it finished (a pending one is answered when done)
            scan_metadata = message_class(f"{CONTAINER_REGISTRY}.ScanMetadata")()
            operation.metadata.Unpack(scan_metadata)
            with store.atomic():
                result = store.get_scan_result(scan_metadata.scan_result_id)
                record = store.operations.get(operation.id)  # None if no finished operation is kept
                if record is not None:
                    record.response = scan_result_json(result)
            operation.response.Pack(encode_scan_result(result))
        return operation

    def get(request: Message, call: Call) -> Message:
        return encode_scan_result(store.get_scan_result(request.scan_result_id))

    def get_last(request: Message, call: Call) -> Message:
        return encode_scan_result(store.last_scan_result(request.image_id))

    def list_vulnerabilities(request: Message, call: Call) -> Message:
        violations, parsed, order = [], None, ("position", False)
        try:
            parsed = _vulnerability_filter(request.filter)
        except InvalidArgument as error:
            violations += error.violations
        try:
            order = parse_order_by(request.order_by, ("position", "severity"))
        except InvalidArgument as error:
            violations += error.violations
        try:
            limit = page_size_of(request)
        except InvalidArgument as error:
            violations += error.violations
        if violations:
            raise InvalidArgument(violations)
        canonical = f"{parsed[0]}{parsed[1].canonical()}" if parsed else ""  # the filter, in the token's query
        scope = Scope("scan_result", request.scan_result_id)
        query = ListQuery(f"{call.method.full}|{canonical}", scope, None, *order, limit)

        def fetch(after):
            with store.atomic():
                call.authorize_target(request)
                found = list(store.get_scan_result(request.scan_result_id).vulnerabilities)
            if parsed:
                field, name_filter = parsed
                found = [v for v in found if (getattr(v, field) in name_filter.names) != name_filter.negated]
            if order[0] == "severity":
                found.sort(key=lambda v: SEVERITIES.index(v.severity), reverse=order[1])
            start = after[0] if after else 0  # a cursor: (position, "")
            if after is not None and (len(after) != 2 or type(start) is not int or start < 0):
                raise InvalidArgument.field("page_token", "is not a token this emulator issued")
            chunk = found[start : start + limit]
            return chunk, ((start + limit, "") if start + limit < len(found) else None)

        vulnerabilities, next_page_token = page(tokens, query, request.page_token, fetch)
        return message_class(f"{CONTAINER_REGISTRY}.ListVulnerabilitiesResponse")(
            vulnerabilities=[encode_vulnerability(v) for v in vulnerabilities], next_page_token=next_page_token
        )

    return {
        "Scan": scan,
        "Get": get,
        "GetLast": get_last,
        "List": list_handler(store, tokens, store.list_scan_results, encode_scan_result),
        "ListVulnerabilities": list_vulnerabilities,
    }
