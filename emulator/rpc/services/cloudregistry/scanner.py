"""yandex.cloud.cloudregistry.v1.ScannerService: scans of Docker artifacts, on Container Registry's
engine (emulator.state.scans: what a scan finds is the vulnerability report seeded for the image's
digest)."""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import Message

from emulator.api.catalogue import Mutating, Read, Service, Target
from emulator.api.errors import InvalidArgument
from emulator.api.ordering import parse_order_by
from emulator.api.wire import CLOUD_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.operations import new_operation, once
from emulator.rpc.services.paged import offset_page
from emulator.state.records import CLOUD_REGISTRY_API, Action
from emulator.state.scans import SEVERITIES, ScanResult, Vulnerability, scan_result_json

ON_ARTIFACT = Target("artifact_id", "artifact")
ON_RESULT = Target("scan_result_id", "cloud_scan_result")
ON_POLICY = Target("scan_policy_id", "cloud_scan_policy")
ON_REGISTRY = Target("registry_id", "cloud_registry")
SERVICE = Service(
    f"{CLOUD_REGISTRY}.ScannerService",
    endpoint="cloud-registry",
    methods_declared={
        "Scan": Mutating(deferred=True, on=ON_ARTIFACT),  # RUNNING until its operation is done
        "Get": Read(gets="scan_result_id", on=ON_RESULT),
        "GetLast": Read(on=ON_ARTIFACT),
        "List": Read(lists="scan_results", on=ON_ARTIFACT),  # paged: checked when its page is read
        "ListVulnerabilities": Read(lists="vulnerabilities", on=ON_RESULT),
    },
)
DEFAULT_PAGE_SIZE = 10  # "Default value: 10"


def encode_scan_result(result: ScanResult) -> Message:
    """The result as the API shows it: the same JSON its done Scan operation answers."""
    return json_format.ParseDict(scan_result_json(result), message_class(f"{CLOUD_REGISTRY}.ScanResult")())


def encode_vulnerability(vulnerability: Vulnerability) -> Message:
    message_type = message_class(f"{CLOUD_REGISTRY}.Vulnerability")
    return message_type(
        severity=message_type.Severity.Value(vulnerability.severity), name=vulnerability.name,
        package_name=vulnerability.package, package_type=vulnerability.type, package_version=vulnerability.version,
        package_fixed_version=vulnerability.fixed_by, link=vulnerability.link, source=vulnerability.source,
        origin=vulnerability.origin,
    )  # fmt: skip


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store, tokens = context.store, context.tokens

    def scan(request: Message, call: Call) -> Message:
        started: list[ScanResult] = []

        def perform():
            result = store.start_scan(artifact_id=request.artifact_id)
            started.append(result)
            return new_operation(
                call, "Scan artifact", f"{CLOUD_REGISTRY}.ScanMetadata", {"artifact_id": request.artifact_id},
                result.folder_id, f"{CLOUD_REGISTRY}.ScanResult", None, action=Action.SCAN_IMAGE, target=result.id,
            )  # fmt: skip

        operation = once(store, call, request, perform)
        if started and operation.done and not operation.HasField("error") and not operation.response.value:
            # done at once: it answers the result as it finished (a pending one is answered when done)
            with store.atomic():
                record = store.operations.get(operation.id)  # None if no finished operation is kept
                result = started[0]
                if record is not None:
                    record.response = scan_result_json(result)
            operation.response.Pack(encode_scan_result(result))
        return operation

    def get(request: Message, call: Call) -> Message:
        return encode_scan_result(store.scan_result_in(CLOUD_REGISTRY_API, request.scan_result_id))

    def get_last(request: Message, call: Call) -> Message:
        return encode_scan_result(store.last_scan_result(artifact_id=request.artifact_id))

    def list_results(request: Message, call: Call) -> Message:
        """An artifact's results, a status filter (a message here), ordered by id or status (critical first)."""
        if not request.artifact_id:
            raise InvalidArgument.field("artifact_id", "is required")
        order, descending = parse_order_by(request.order_by, ("id", "status"))
        status = request.filter.status
        wanted = message_class(f"{CLOUD_REGISTRY}.ScanResult").Status.Name(status) if status else None

        def fetch() -> list[ScanResult]:
            with store.atomic():
                call.authorize_target(request)
                results = [r for r in store.scan_results_of_artifact(request.artifact_id) if wanted in (None, r.status)]
            key = (lambda r: (r.severity_rank, r.id)) if order == "status" else (lambda r: r.id)
            return sorted(results, key=key, reverse=descending)

        results, token = offset_page(tokens, call.method.full, request, fetch, DEFAULT_PAGE_SIZE)
        response = message_class(call.method.response_type)(next_page_token=token)
        response.scan_results.extend(encode_scan_result(result) for result in results)
        return response

    def list_vulnerabilities(request: Message, call: Call) -> Message:
        """A result's vulnerabilities, filtered by severity and/or name (a message here), ordered by
        severity (most severe first ascending, as Severity numbers them) or as found."""
        order, descending = parse_order_by(request.order_by, ("position", "severity"))
        severity = request.filter.severity
        wanted = message_class(f"{CLOUD_REGISTRY}.Vulnerability").Severity.Name(severity) if severity else None
        name = request.filter.name

        def fetch() -> list[Vulnerability]:
            with store.atomic():
                call.authorize_target(request)
                found = list(store.scan_result_in(CLOUD_REGISTRY_API, request.scan_result_id).vulnerabilities)
            found = [v for v in found if wanted in (None, v.severity) and (not name or v.name == name)]
            if order == "severity":
                found.sort(key=lambda v: SEVERITIES.index(v.severity), reverse=descending)
            return found

        found, token = offset_page(tokens, call.method.full, request, fetch, DEFAULT_PAGE_SIZE)
        response = message_class(call.method.response_type)(next_page_token=token)
        response.vulnerabilities.extend(encode_vulnerability(v) for v in found)
        return response

    return {
        "Scan": scan,
        "Get": get,
        "GetLast": get_last,
        "List": list_results,
        "ListVulnerabilities": list_vulnerabilities,
    }
