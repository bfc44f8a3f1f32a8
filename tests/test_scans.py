"""ScannerService and ScanPolicyService through the wire: scans that pend and report the
vulnerabilities seeded for the image's digest, fail by a fault rule, and are listed and filtered as
documented; one scan policy per registry, and the one CreateRegistryRequest.secure sets up.

"Documented:" names what production's documentation says; "The emulator's choice:" what it leaves
open (docs/container-registry.md, "Scans")."""

from __future__ import annotations

import warnings

import grpc
import pytest
import yandexcloud
from google.protobuf import duration_pb2, field_mask_pb2
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1 import scan_policy_pb2 as policy_pb
from yandex.cloud.containerregistry.v1 import scan_policy_service_pb2 as policy_service_pb
from yandex.cloud.containerregistry.v1 import scanner_pb2 as result_pb
from yandex.cloud.containerregistry.v1 import scanner_service_pb2 as pb
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.containerregistry.v1.scan_policy_service_pb2_grpc import ScanPolicyServiceStub
from yandex.cloud.containerregistry.v1.scanner_service_pb2_grpc import ScannerServiceStub
from yandex.cloud.operation import operation_service_pb2 as operation_pb
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from conftest import rpc_error, violation_fields
from emulator import Emulator
from tests.support.docs import assert_on_page
from tests.support.exercised import assert_exercised

FOLDER = "b1g00000000000000scan"
REPORT = [
    {"severity": "CRITICAL", "package": {"name": "CVE-2024-1", "package": "openssl", "version": "3.0.1", "fixed_by": "3.0.2"}},
    {"severity": "HIGH", "package": {"name": "CVE-2024-2", "package": "zlib"}},
    {"severity": "HIGH", "package": {"name": "CVE-2024-3", "package": "libc6"}},
    {"severity": "LOW", "package": {"name": "CVE-2024-4", "package": "zlib"}},
]  # fmt: skip
READY, RUNNING, ERROR = result_pb.ScanResult.READY, result_pb.ScanResult.RUNNING, result_pb.ScanResult.ERROR


@pytest.fixture(scope="module")
def scan_emulator():
    with Emulator(tls=True) as emulator:  # TLS: the SDK takes nothing else
        yield emulator


@pytest.fixture
def ycr(scan_emulator):
    scan_emulator.reset()
    return scan_emulator


@pytest.fixture(scope="module")
def scanner(scan_emulator):
    return ScannerServiceStub(scan_emulator.channel())


@pytest.fixture(scope="module")
def scan_policies(scan_emulator):
    return ScanPolicyServiceStub(scan_emulator.channel())


@pytest.fixture(scope="module")
def operations(scan_emulator):
    return OperationServiceStub(scan_emulator.channel())


def _image(ycr, report=None, tags=("v1",), path="app"):
    registry = next(iter(ycr.registries.values()), None) or ycr.add_registry(FOLDER)
    image = ycr.add_image(registry.id, path, tags=list(tags))
    if report is not None:
        ycr.add_vulnerability_report(image.digest, report)
    return image


def _scan(scanner, image_id) -> tuple[object, str]:
    operation = scanner.Scan(pb.ScanRequest(image_id=image_id))
    metadata = pb.ScanMetadata()
    operation.metadata.Unpack(metadata)
    return operation, metadata.scan_result_id


@pytest.mark.behaviour(
    "ScannerService/Scan",
    "documented",
    "A scan's result is RUNNING while it runs and READY with its counts when done; its id starts `che`.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/operations/scanning-docker-image.md",
)
@pytest.mark.behaviour(
    "ScannerService/Get",
    "documented",
    "Get answers a result by id, RUNNING while its scan runs.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/operations/scanning-docker-image.md",
)
@pytest.mark.behaviour(
    "ScannerService/GetLast",
    "choice",
    "GetLast is the image's newest finished result, NOT_FOUND while none has finished.",
    "the reference says 'the last', not of what",
)
def test_a_scan_pends_then_reports_the_seeded_vulnerabilities(ycr, scanner, operations):
    """Documented: RUNNING while the scan runs, READY with the counts when done; result ids start che."""
    ycr.configure_operations("ScannerService/Scan=polls:2")
    image = _image(ycr, REPORT)
    operation, result_id = _scan(scanner, image.id)
    assert not operation.done and result_id.startswith("che") and len(result_id) == 20
    running = scanner.Get(pb.GetScanResultRequest(scan_result_id=result_id))
    assert running.status == RUNNING and not running.HasField("scanned_at")
    assert (
        rpc_error(scanner.GetLast, pb.GetLastScanResultRequest(image_id=image.id)).code() == grpc.StatusCode.NOT_FOUND
    )
    get = operation_pb.GetOperationRequest(operation_id=operation.id)
    assert not operations.Get(get).done
    done = operations.Get(get)
    answered = result_pb.ScanResult()
    assert done.done and done.response.Unpack(answered)
    assert answered.status == READY and answered.id == result_id
    counts = answered.vulnerabilities
    assert (counts.critical, counts.high, counts.medium, counts.low) == (1, 2, 0, 1)
    assert scanner.GetLast(pb.GetLastScanResultRequest(image_id=image.id)) == answered


def test_an_image_without_a_report_scans_clean(ycr, scanner):
    image = _image(ycr)
    operation, _ = _scan(scanner, image.id)
    result = result_pb.ScanResult()
    assert operation.done and operation.response.Unpack(result)
    assert result.status == READY and result.vulnerabilities == result_pb.VulnerabilityStats()


def test_a_fault_rules_operation_error_makes_the_scan_fail(ycr, scanner):
    image = _image(ycr, REPORT)
    ycr.add_fault(method="ScannerService/Scan", operation_error={"code": "INTERNAL", "message": "scanner down"})
    operation, result_id = _scan(scanner, image.id)
    assert operation.done and operation.error.message == "scanner down"
    assert scanner.Get(pb.GetScanResultRequest(scan_result_id=result_id)).status == ERROR


@pytest.mark.behaviour(
    "ScannerService/Scan",
    "documented",
    "At most 10 scans run at once.",
    "https://github.com/yandex-cloud/docs/blob/master/en/_includes/container-registry-limits.md (concurrent scans in a single cloud: 10)",
)
@pytest.mark.behaviour(
    "ScannerService/Scan",
    "choice",
    "An eleventh scan is RESOURCE_EXHAUSTED, worded as Yandex Cloud's quota errors are.",
    "the code for this one is not public",
)
def test_at_most_ten_scans_run_at_once(ycr, scanner):
    """Documented: 10 parallel scans per cloud (the emulator has one). The emulator's choice:
    RESOURCE_EXHAUSTED, as Yandex Cloud's quotas answer."""
    ycr.configure_operations("ScannerService/Scan=polls:5")
    images = [_image(ycr, tags=[f"v{n}"]) for n in range(11)]
    for image in images[:10]:
        _scan(scanner, image.id)
    error = rpc_error(scanner.Scan, pb.ScanRequest(image_id=images[10].id))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "parallelScans" in error.details()
    assert len(ycr.state()["scan_results"]) == 10  # the refused one recorded nothing


@pytest.mark.behaviour(
    "ScannerService/List",
    "documented",
    "List takes an image or a repository, filters on status and orders by status, critical first.",
    "yandex/cloud/containerregistry/v1/scanner_service.proto",
)
@pytest.mark.behaviour(
    "ScannerService/List",
    "choice",
    "'Critical first' is read as most CRITICAL, then most HIGH, and so on; ties by id.",
    "the reference does not say how results compare",
)
def test_results_are_listed_by_image_and_repository_filtered_by_status_critical_first(ycr, scanner):
    clean, bad = _image(ycr, [], tags=["clean"]), _image(ycr, REPORT, tags=["bad"])
    ids = {name: _scan(scanner, image.id)[1] for name, image in (("clean", clean), ("bad", bad))}
    repository_id = next(iter(ycr.repositories))
    listed = scanner.List(pb.ListScanResultsRequest(repository_id=repository_id, order_by="status")).scan_results
    assert [result.id for result in listed] == [ids["bad"], ids["clean"]]  # the critical one first
    by_image = scanner.List(pb.ListScanResultsRequest(image_id=clean.id)).scan_results
    assert [result.id for result in by_image] == [ids["clean"]]
    running = scanner.List(pb.ListScanResultsRequest(repository_id=repository_id, filter='status = "RUNNING"'))
    assert list(running.scan_results) == []
    error = rpc_error(scanner.List, pb.ListScanResultsRequest(repository_id=repository_id, filter='status = "DONE"'))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violation_fields(error) == {"filter"}


@pytest.mark.behaviour(
    "ScannerService/ListVulnerabilities",
    "documented",
    "ListVulnerabilities filters on severity and the vulnerability's name (PackageVulnerability.name) with =, and orders by severity.",
    "yandex/cloud/containerregistry/v1/scanner_service.proto (ListVulnerabilitiesRequest.filter and order_by)",
)
@pytest.mark.behaviour(
    "ScannerService/ListVulnerabilities",
    "choice",
    "The filter takes IN too; pages go by position.",
    "the reference documents = only; IN as the other Lists' filters take it",
)
def test_vulnerabilities_are_filtered_by_severity_or_name_ordered_and_paged(ycr, scanner):
    _, result_id = _scan(scanner, _image(ycr, REPORT).id)

    def names(**fields) -> list[str]:
        request = pb.ListVulnerabilitiesRequest(scan_result_id=result_id, **fields)
        return [v.package.name for v in scanner.ListVulnerabilities(request).vulnerabilities]

    assert names(filter='severity = "HIGH"') == ["CVE-2024-2", "CVE-2024-3"]
    assert names(filter='name = "CVE-2024-3"') == ["CVE-2024-3"]
    assert names(filter='name IN ("CVE-2024-4", "CVE-2024-1")') == ["CVE-2024-1", "CVE-2024-4"]
    assert names(order_by="severity desc")[0] == "CVE-2024-4"  # LOW: the least severe first
    first = scanner.ListVulnerabilities(pb.ListVulnerabilitiesRequest(scan_result_id=result_id, page_size=3))
    rest = scanner.ListVulnerabilities(
        pb.ListVulnerabilitiesRequest(scan_result_id=result_id, page_size=3, page_token=first.next_page_token)
    )
    assert [v.package.name for v in (*first.vulnerabilities, *rest.vulnerabilities)] == names()
    assert not rest.next_page_token
    vulnerability = first.vulnerabilities[0]
    assert (vulnerability.severity, vulnerability.package.fixed_by) == (result_pb.Vulnerability.CRITICAL, "3.0.2")
    for fields, field in (({"filter": 'severity = "SEVERE"'}, "filter"), ({"order_by": "name"}, "order_by")):
        error = rpc_error(
            scanner.ListVulnerabilities, pb.ListVulnerabilitiesRequest(scan_result_id=result_id, **fields)
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violation_fields(error) == {field}


# ---- scan policies -----------------------------------------------------------------------------------


def _rules(prefixes=("team",)) -> policy_pb.ScanRules:
    return policy_pb.ScanRules(
        push_rule=policy_pb.PushRule(repository_prefixes=list(prefixes)),
        schedule_rules=[
            policy_pb.ScheduledRule(repository_prefixes=["*"], rescan_period=duration_pb2.Duration(seconds=86400))
        ],
    )


@pytest.mark.behaviour(
    "ScanPolicyService/Create",
    "choice",
    "One scan policy per registry: a second Create is ALREADY_EXISTS.",
    "GetByRegistry answers 'the' policy; nothing public says more",
)
@pytest.mark.behaviour(
    "ScanPolicyService/GetByRegistry",
    "documented",
    "GetByRegistry answers the registry's policy; NOT_FOUND once it is deleted.",
    "yandex/cloud/containerregistry/v1/scan_policy_service.proto; https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (NOT_FOUND: The requested resource not found)",
)
@pytest.mark.behaviour(
    "ScanPolicyService/Update",
    "documented",
    "An Update without update_mask replaces the rules whole and resets what the request leaves unset.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/standard-methods.md#method-update (If no update_mask is passed in the request, the values of all fields will be updated; the values of the other fields will be reset to their defaults)",
)
@pytest.mark.behaviour(
    "ScanPolicyService/Get",
    "documented",
    "Get answers the policy by id.",
    "yandex/cloud/containerregistry/v1/scan_policy_service.proto",
)
@pytest.mark.behaviour(
    "ScanPolicyService/Delete",
    "documented",
    "Delete deletes the policy.",
    "yandex/cloud/containerregistry/v1/scan_policy_service.proto",
)
def test_one_scan_policy_per_registry(ycr, scan_policies):
    """GetByRegistry answers "the" scan policy of a registry. The emulator's choice: a second Create
    is ALREADY_EXISTS; Update replaces the rules (without a mask it sets every field: the name is
    reset); a deleted one is NOT_FOUND by registry too."""
    registry = ycr.add_registry(FOLDER)
    create = policy_service_pb.CreateScanPolicyRequest(registry_id=registry.id, name="weekly", rules=_rules())
    operation = scan_policies.Create(create)
    created = policy_pb.ScanPolicy()
    assert operation.done and operation.response.Unpack(created)
    by_registry = scan_policies.GetByRegistry(policy_service_pb.GetScanPolicyByRegistryRequest(registry_id=registry.id))
    assert by_registry == created and list(created.rules.push_rule.repository_prefixes) == ["team"]
    assert rpc_error(scan_policies.Create, create).code() == grpc.StatusCode.ALREADY_EXISTS
    update = policy_service_pb.UpdateScanPolicyRequest(scan_policy_id=created.id, rules=_rules(["*"]))
    scan_policies.Update(update)
    got = scan_policies.Get(policy_service_pb.GetScanPolicyRequest(scan_policy_id=created.id))
    assert list(got.rules.push_rule.repository_prefixes) == ["*"] and got.name == ""
    masked = policy_service_pb.UpdateScanPolicyRequest(
        scan_policy_id=created.id, name="nightly", update_mask=field_mask_pb2.FieldMask(paths=["name"])
    )
    scan_policies.Update(masked)
    got = scan_policies.Get(policy_service_pb.GetScanPolicyRequest(scan_policy_id=created.id))
    assert list(got.rules.push_rule.repository_prefixes) == ["*"] and got.name == "nightly"  # the rest kept
    scan_policies.Delete(policy_service_pb.DeleteScanPolicyRequest(scan_policy_id=created.id))
    error = rpc_error(
        scan_policies.GetByRegistry, policy_service_pb.GetScanPolicyByRegistryRequest(registry_id=registry.id)
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.behaviour(
    "ScanPolicyService/Create",
    "documented",
    "Rules are checked by their annotations: repository_prefixes non-empty, each `*` or a path; rescan_period required.",
    "yandex/cloud/containerregistry/v1/scan_policy.proto",
)
def test_scan_rules_are_checked_by_their_annotations(ycr, scan_policies):
    registry = ycr.add_registry(FOLDER)
    for rules, field in (
        (_rules(["Team/"]), "rules.push_rule.repository_prefixes"),
        (policy_pb.ScanRules(push_rule=policy_pb.PushRule()), "rules.push_rule.repository_prefixes"),
        (policy_pb.ScanRules(schedule_rules=[policy_pb.ScheduledRule(repository_prefixes=["*"])]),
         "rules.schedule_rules[0].rescan_period"),
    ):  # fmt: skip
        request = policy_service_pb.CreateScanPolicyRequest(registry_id=registry.id, rules=rules)
        error = rpc_error(scan_policies.Create, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violation_fields(error) == {field}
    assert "scan_policy" not in ycr.state()["registries"][0]


@pytest.mark.behaviour(
    "RegistryService/Create",
    "documented",
    "`secure` sets up a scan policy scanning on push and every 7 days.",
    "yandex/cloud/containerregistry/v1/registry_service.proto (created with pre-setup scanning policy)",
)
def test_a_secure_registry_comes_with_the_documented_policy(ycr, scan_emulator, scan_policies):
    """Documented (the proto): "created with pre-setup scanning policy (on push and on schedule every 7 days)"."""
    operation = RegistryServiceStub(scan_emulator.channel()).Create(
        registry_pb.CreateRegistryRequest(folder_id=FOLDER, name="secure", secure=True)
    )
    metadata = registry_pb.CreateRegistryMetadata()
    operation.metadata.Unpack(metadata)
    policy = scan_policies.GetByRegistry(
        policy_service_pb.GetScanPolicyByRegistryRequest(registry_id=metadata.registry_id)
    )
    assert list(policy.rules.push_rule.repository_prefixes) == ["*"]
    assert policy.rules.schedule_rules[0].rescan_period == duration_pb2.Duration(seconds=7 * 86400)


def test_scans_and_scan_policies_round_trip_through_the_state(ycr, scanner, scan_policies):
    image = _image(ycr, REPORT)
    _scan(scanner, image.id)
    registry_id = image.registry_id
    scan_policies.Create(policy_service_pb.CreateScanPolicyRequest(registry_id=registry_id, rules=_rules()))
    state = ycr.state()
    with Emulator() as other:
        other.load_seed(state)
        assert other.state() == state


def test_a_seed_with_a_bad_report_loads_nothing_and_names_it(ycr):
    bad = {
        "registries": [],
        "vulnerability_reports": [{"digest": f"sha256:{1:064x}", "vulnerabilities": [{"package": {}}]}],
    }
    with pytest.raises(ValueError, match=r"vulnerability_reports\[0\]\.vulnerabilities\[0\]"):
        ycr.load_seed(bad)
    assert "vulnerability_reports" not in ycr.state()


def test_the_python_sdk_scans_and_waits(ycr, scan_emulator):
    image = _image(ycr, REPORT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sdk = yandexcloud.SDK(
            endpoint=scan_emulator.endpoint, iam_token="t1.any", root_certificates=scan_emulator.ca_pem
        )
        ycr.configure_operations("ScannerService/Scan=polls:2")
        done = sdk.wait_operation_and_get_result(
            sdk.client(ScannerServiceStub).Scan(pb.ScanRequest(image_id=image.id)),
            response_type=result_pb.ScanResult,
            meta_type=pb.ScanMetadata,
        )
    assert done.response.status == READY and done.response.vulnerabilities.critical == 1
    assert done.meta.scan_result_id == done.response.id
    assert_exercised("python", "a scan", ycr.calls)


DOC_SCANS = """\
from emulator import Emulator

emulator = Emulator()
registry = emulator.add_registry("b1g0000000000000demo")
image = emulator.add_image(registry.id, "web", tags=["v1"])
emulator.add_vulnerability_report(image.digest, [
    {"severity": "CRITICAL", "package": {"name": "CVE-2024-6387", "package": "openssh-server",
                                         "version": "1:8.9p1-3ubuntu0.6", "fixed_by": "1:8.9p1-3ubuntu0.10"}}])
print(len(emulator.state()["vulnerability_reports"]))  # 1: every image with this digest now scans so
"""


def test_the_scans_recipe_runs_as_written(capsys):

    assert_on_page("container-registry.md", DOC_SCANS=DOC_SCANS)
    exec(compile(DOC_SCANS, "docs/container-registry.md", "exec"), {})
    assert capsys.readouterr().out == "1\n"


def test_the_control_plane_adds_a_report(ycr):
    """The same from another process: RemoteEmulator through the control plane."""
    from emulator.control.process import EmulatorProcess

    with EmulatorProcess() as remote:
        registry = remote.add_registry(FOLDER)
        image = remote.add_image(registry.id, "app")
        remote.add_vulnerability_report(image.digest, REPORT)
        assert remote.state()["vulnerability_reports"][0]["digest"] == image.digest
        with pytest.raises(ValueError, match=r"vulnerabilities\[0\]"):
            remote.add_vulnerability_report(image.digest, [{"severity": "HUGE"}])


# ---- found by review ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [(400_000_000_000, 0), (1, -1), (0, 0), (-5, 0)],
    ids=["huge", "mixed-sign", "zero", "negative"],
)
def test_a_rescan_period_that_is_no_period_is_invalid_argument(ycr, scan_policies, seconds, nanos):
    registry = ycr.add_registry(FOLDER)
    rules = policy_pb.ScanRules(
        schedule_rules=[
            policy_pb.ScheduledRule(
                repository_prefixes=["*"], rescan_period=duration_pb2.Duration(seconds=seconds, nanos=nanos)
            )
        ]
    )
    error = rpc_error(
        scan_policies.Create, policy_service_pb.CreateScanPolicyRequest(registry_id=registry.id, rules=rules)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violation_fields(error) == {"rules.schedule_rules[0].rescan_period"}


@pytest.mark.behaviour(
    "ScannerService/Scan",
    "choice",
    "An image deleted while its scan runs fails the operation with NOT_FOUND; the result is ERROR.",
    "not documented",
)
def test_a_scan_of_an_image_deleted_meanwhile_fails_its_operation(ycr, scanner, operations):
    ycr.configure_operations("ScannerService/Scan=polls:1")
    image = _image(ycr, REPORT)
    operation, result_id = _scan(scanner, image.id)
    ycr.delete_image(image.id)
    done = operations.Get(operation_pb.GetOperationRequest(operation_id=operation.id))
    assert done.done and done.error.code == grpc.StatusCode.NOT_FOUND.value[0] and not done.HasField("response")
    assert scanner.Get(pb.GetScanResultRequest(scan_result_id=result_id)).status == ERROR


def test_a_failed_seed_keeps_the_scan_results_there_were(ycr, scanner):
    image = _image(ycr, REPORT)
    _, kept = _scan(scanner, image.id)
    repository_id = next(iter(ycr.repositories))
    many = [
        {"id": f"che{n:017d}", "image_id": image.id, "repository_id": repository_id, "folder_id": FOLDER,
         "status": "READY", "scanned_at": "2026-01-01T00:00:00Z"}
        for n in range(9_999)
    ]  # fmt: skip
    taken = next(iter(ycr.operations))  # an operation id the emulator holds: refused after the results load
    clash = {"id": taken, "metadata_type": "yandex.cloud.containerregistry.v1.ScanMetadata"}
    with pytest.raises(ValueError, match="already exists"):
        ycr.load_seed({"registries": [], "scan_results": many, "operations": [clash]})
    assert scanner.Get(pb.GetScanResultRequest(scan_result_id=kept)).id == kept
    assert len(ycr.state()["scan_results"]) == 1  # and only it


def test_seeded_running_results_hold_no_scan_slot(ycr, scanner):
    image = _image(ycr)
    repository_id = next(iter(ycr.repositories))
    running = [
        {"id": f"che{n:017d}", "image_id": image.id, "repository_id": repository_id, "folder_id": FOLDER,
         "status": "RUNNING", "scanned_at": "2026-01-01T00:00:00Z"}
        for n in range(12)
    ]  # fmt: skip
    ycr.load_seed({"registries": [], "scan_results": running})
    operation, _ = _scan(scanner, image.id)  # a loaded RUNNING result never finishes: it runs nowhere
    assert operation.done


def test_a_scan_answers_its_result_even_when_no_finished_operation_is_kept(scanner):
    with Emulator(max_operations=0) as emulator:
        registry = emulator.add_registry(FOLDER)
        image = emulator.add_image(registry.id, "app")
        operation = ScannerServiceStub(emulator.channel()).Scan(pb.ScanRequest(image_id=image.id))
        result = result_pb.ScanResult()
        assert operation.done and operation.response.Unpack(result) and result.status == READY


def test_a_seeded_result_must_agree_with_its_image(ycr):
    image = _image(ycr)
    entry = {"id": "che00000000000000001", "image_id": image.id, "repository_id": next(iter(ycr.repositories)),
             "folder_id": "b1gsomeotherfolder00", "status": "READY", "scanned_at": "2026-01-01T00:00:00Z"}  # fmt: skip
    with pytest.raises(ValueError, match=r"scan_results\[0\]\.folder_id"):
        ycr.load_seed({"registries": [], "scan_results": [entry]})


def test_results_a_failed_load_took_back_do_not_count_against_the_kept_ones(ycr, scanner):
    image = _image(ycr)
    repository_id = next(iter(ycr.repositories))
    _, taken = _scan(scanner, image.id)
    taken_operation = next(iter(ycr.operations))

    def results(first: int, count: int) -> list[dict]:
        return [
            {"id": f"che{first + n:017d}", "image_id": image.id, "repository_id": repository_id, "folder_id": FOLDER,
             "status": "READY", "scanned_at": "2026-01-01T00:00:00Z"}
            for n in range(count)
        ]  # fmt: skip

    clash = {"id": taken_operation, "metadata_type": "yandex.cloud.containerregistry.v1.ScanMetadata"}
    with pytest.raises(ValueError, match="already exists"):
        ycr.load_seed({"registries": [], "scan_results": results(0, 3), "operations": [clash]})
    ycr.load_seed({"registries": [], "scan_results": results(0, 3)})  # the same ids, loaded for good
    ycr.load_seed({"registries": [], "scan_results": results(3, 9_995)})  # 9,999 kept with the scan's
    assert len(ycr.state()["scan_results"]) == 9_999  # none forgotten: the bound is 10,000


@pytest.mark.parametrize(
    "fields",
    [{"compressed_size": 2 * 1024**3 + 1}, {"layers": [{"size": 10} for _ in range(128)]}],
    ids=["over 2 GB", "128 layers"],
)
@pytest.mark.behaviour(
    "ScannerService/Scan",
    "documented",
    "An image over 2 GB or 127 layers is not scanned.",
    "https://github.com/yandex-cloud/docs/blob/master/en/_includes/container-registry-limits.md",
)
@pytest.mark.behaviour(
    "ScannerService/Scan", "choice", "Such a Scan is FAILED_PRECONDITION and records nothing.", "the code is not public"
)
def test_an_image_beyond_the_scanners_limits_is_refused(ycr, scanner, fields):
    """Documented: images up to 2 GB and 127 layers are scanned. The emulator's choice: a Scan of a
    bigger one is FAILED_PRECONDITION (the code is not public) and records nothing."""
    registry = ycr.add_registry(FOLDER)
    image = ycr.add_image(registry.id, "big", **fields)
    error = rpc_error(scanner.Scan, pb.ScanRequest(image_id=image.id))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "2 GB" in error.details()
    assert "scan_results" not in ycr.state() and ycr.operations == {}
    fits = ycr.add_image(registry.id, "big", compressed_size=2 * 1024**3, tags=["fits"])
    assert _scan(scanner, fits.id)[0].response.value  # exactly 2 GB: scanned
