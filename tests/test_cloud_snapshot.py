"""``ycr-emulator snapshot`` of Cloud Registry: a folder holding both APIs' registries, with
everything Cloud Registry's reads show (folders, packages, tags, an untagged image, an image list,
access bindings of every kind of node, IP permissions, lifecycle policies with dry runs made over
the wire, a soft-deleted artifact, a scan policy, scans made over the wire with their
vulnerabilities), snapshotted over the wire and loaded into a second emulator, which answers every
Cloud Registry read the same, byte for byte (page tokens aside)."""

from __future__ import annotations

import json

import grpc
import pytest
from google.protobuf import json_format
from yandex.cloud.access import access_pb2
from yandex.cloud.cloudregistry.v1 import (
    artifact_service_pb2,
    lifecycle_policy_service_pb2,
    registry_service_pb2,
    scan_policy_service_pb2,
    scanner_service_pb2,
)
from yandex.cloud.cloudregistry.v1.artifact_service_pb2_grpc import ArtifactServiceStub
from yandex.cloud.cloudregistry.v1.lifecycle_policy_service_pb2_grpc import LifecyclePolicyServiceStub
from yandex.cloud.cloudregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.cloudregistry.v1.scan_policy_service_pb2_grpc import ScanPolicyServiceStub
from yandex.cloud.cloudregistry.v1.scanner_service_pb2_grpc import ScannerServiceStub

from emulator import Emulator
from emulator.contract.client import RegistryClient
from emulator.contract.snapshot import loading_problem, main, seed_text, take_snapshot

FOLDER = "b1gcloudsnapshot0000"
DIGESTS = {name: "sha256:" + f"{n:x}" * 64 for n, name in enumerate(("web1", "web2", "base", "amd", "arm", "list"), 1)}
BINDING = {"role_id": "cloud-registry.artifacts.puller", "subject": {"id": "ajeuser1", "type": "userAccount"}}
REPORT = [
    {"severity": "HIGH", "package": {"name": "CVE-2024-1", "package": "openssl", "version": "3.0.1", "fixed_by": "3.0.2"}},
    {"severity": "LOW", "package": {"name": "CVE-2024-2", "link": "https://example.com", "origin": "debian", "type": "os"}},
]


class Stubs:
    def __init__(self, channel: grpc.Channel):
        self.registries = RegistryServiceStub(channel)
        self.artifacts = ArtifactServiceStub(channel)
        self.policies = LifecyclePolicyServiceStub(channel)
        self.scan_policies = ScanPolicyServiceStub(channel)
        self.scanner = ScannerServiceStub(channel)


def _seed() -> dict:
    rule = {"delete": {"type": "SOFT_DELETE", "older_than_days": 1, "cooldown_period_days": 7}}
    return {
        "registries": [
            {
                "folder_id": FOLDER, "name": "old-style", "created_at": "2024-01-01T00:00:00Z",
                "images": [{"repository": "legacy/app", "tags": ["v1"], "digest": DIGESTS["base"]}],
            },
            {
                "folder_id": FOLDER, "name": "docker", "kind": "DOCKER", "description": "the team's images",
                "labels": {"team": "web"}, "properties": {"tier": "gold"},
                "pattern_filter": {"include_patterns": ["**"], "exclude_patterns": ["tmp/**"]},
                "created_at": "2025-01-01T00:00:00.123456789Z", "modified_at": "2025-02-01T00:00:00Z",
                "access_bindings": [BINDING], "ip_permissions": [{"action": "PULL", "ip": "10.0.0.0/8"}],
                "folders": [{"path": "team/tools", "created_by": "ajeuser1", "created_at": "2025-01-02T00:00:00Z",
                             "access_bindings": [BINDING]}],
                "repositories": [{"path": "team/empty", "kept": True, "access_bindings": [BINDING]}],
                "scan_policy": {"name": "scan-all", "rules": {"push_rule": {"paths": ["*"]}}, "scan_lang_packages": True},
                "lifecycle_policies": [{"name": "tidy", "state": "ENABLED", "rules": [rule]}],
                "images": [
                    {"repository": "team/web", "tags": ["v1", "stable"], "digest": DIGESTS["web1"],
                     "created_at": "2025-01-03T00:00:00Z"},
                    {"repository": "team/web", "tags": ["v2"], "digest": DIGESTS["web2"],
                     "created_at": "2025-01-04T00:00:00.5Z", "last_modified": "2025-01-05T00:00:00Z"},
                    {"repository": "team/web", "digest": DIGESTS["base"], "created_at": "2025-01-05T00:00:00Z"},
                    {"repository": "multi", "digest": DIGESTS["amd"], "created_at": "2025-01-06T00:00:00Z"},
                    {"repository": "multi", "digest": DIGESTS["arm"], "created_at": "2025-01-06T00:00:00Z"},
                    {"repository": "multi", "tags": ["latest"], "digest": DIGESTS["list"],
                     "manifests": [DIGESTS["amd"], DIGESTS["arm"]], "created_at": "2025-01-07T00:00:00Z"},
                    {"repository": "svc", "tags": ["1"], "created_at": "2020-01-01T00:00:00Z"},
                ],
                "artifact_access_bindings": [{"path": "team/web/v1", "access_bindings": [BINDING]}],
            },
            {"folder_id": FOLDER, "name": "maven", "kind": "MAVEN", "type": "REMOTE",
             "folders": [{"path": "com/example"}]},
        ]
    }  # fmt: skip


@pytest.fixture(scope="module")
def original():
    """An emulator holding _seed(), with a dry run, a lifecycle run (the old svc:1 soft-deleted)
    and scans made over the wire."""
    with Emulator() as emulator:
        emulator.load_seed(_seed())
        emulator.add_vulnerability_report(DIGESTS["web1"], REPORT)
        with grpc.insecure_channel(emulator.endpoint) as channel:
            stubs = Stubs(channel)
            docker = _registry(stubs, "docker")
            policy = stubs.policies.List(lifecycle_policy_service_pb2.ListLifecyclePolicyRequest(registry_id=docker.id))
            stubs.policies.DryRun(
                lifecycle_policy_service_pb2.DryRunLifecyclePolicyRequest(policy_id=policy.policies[0].id)
            )
            for path in ("team/web/v1", "team/web/v1", "team/web/v2"):
                artifact = stubs.artifacts.GetByPath(
                    artifact_service_pb2.GetArtifactByPathRequest(registry_id=docker.id, path=path)
                )
                stubs.scanner.Scan(scanner_service_pb2.ScanRequest(artifact_id=artifact.id))
        emulator.run_lifecycle_policies()
        yield emulator


def _registry(stubs: Stubs, name: str):
    listed = stubs.registries.List(registry_service_pb2.ListRegistriesRequest(folder_id=FOLDER))
    return next(registry for registry in listed.registries if registry.name == name)


def _shown(response) -> str:
    response = type(response).FromString(response.SerializeToString())
    if "next_page_token" in response.DESCRIPTOR.fields_by_name:
        response.ClearField("next_page_token")
    return json_format.MessageToJson(response, preserving_proto_field_name=True, sort_keys=True)


def cloud_reads(channel: grpc.Channel) -> dict[str, str]:
    """Every Cloud Registry read of FOLDER's registries, walked from the folder down: request -> answer."""
    stubs, answers = Stubs(channel), {}

    def read(label: str, method, request):
        try:
            response = method(request, timeout=10)
        except grpc.RpcError as error:
            answers[label] = error.code().name
            return None
        answers[label] = _shown(response)
        return response

    registries = read("registries", stubs.registries.List, registry_service_pb2.ListRegistriesRequest(
        folder_id=FOLDER, page_size=1000))  # fmt: skip
    for order in ("", "name", "created_at desc", "modified_at, name desc"):
        read(f"folder artifacts {order}", stubs.artifacts.List, artifact_service_pb2.ListArtifactsWithFiltersRequest(
            folder_id=FOLDER, page_size=1000, order_by=order))  # fmt: skip
    for registry in registries.registries:
        rid = registry.id
        read(f"{rid} get", stubs.registries.Get, registry_service_pb2.GetRegistryRequest(registry_id=rid))
        read(f"{rid} ip", stubs.registries.ListIpPermissions, registry_service_pb2.ListIpPermissionsRequest(
            registry_id=rid))  # fmt: skip
        read(f"{rid} bindings", stubs.registries.ListAccessBindings, access_pb2.ListAccessBindingsRequest(
            resource_id=rid))  # fmt: skip
        nodes = read(f"{rid} nodes", stubs.artifacts.List, artifact_service_pb2.ListArtifactsWithFiltersRequest(
            registry_id=rid, page_size=1000))  # fmt: skip
        read(f"{rid} top", stubs.registries.ListArtifacts, registry_service_pb2.ListArtifactsRequest(
            registry_id=rid, page_size=1000))  # fmt: skip
        for node in nodes.artifacts:
            full = f"{node.path}/{node.name}".strip("/")
            read(f"{rid} {full} get", stubs.artifacts.Get, artifact_service_pb2.GetArtifactRequest(artifact_id=node.id))
            read(f"{rid} {full} by path", stubs.artifacts.GetByPath, artifact_service_pb2.GetArtifactByPathRequest(
                registry_id=rid, path=full))  # fmt: skip
            read(f"{rid} {full} under", stubs.registries.ListArtifacts, registry_service_pb2.ListArtifactsRequest(
                registry_id=rid, path=full, page_size=1000))  # fmt: skip
            read(f"{rid} {full} bindings", stubs.artifacts.ListAccessBindings, access_pb2.ListAccessBindingsRequest(
                resource_id=node.id))  # fmt: skip
            results = read(f"{rid} {full} scans", stubs.scanner.List, scanner_service_pb2.ListScanResultsRequest(
                artifact_id=node.id, page_size=1000))  # fmt: skip
            read(f"{rid} {full} last scan", stubs.scanner.GetLast, scanner_service_pb2.GetLastScanResultRequest(
                artifact_id=node.id))  # fmt: skip
            for result in results.scan_results if results else ():
                read(f"{result.id} get", stubs.scanner.Get, scanner_service_pb2.GetScanResultRequest(
                    scan_result_id=result.id))  # fmt: skip
                read(f"{result.id} found", stubs.scanner.ListVulnerabilities,
                     scanner_service_pb2.ListVulnerabilitiesRequest(scan_result_id=result.id, page_size=1000))  # fmt: skip
        scan_policy = read(f"{rid} scan policy", stubs.scan_policies.GetByRegistry,
                           scan_policy_service_pb2.GetScanPolicyByRegistryRequest(registry_id=rid))  # fmt: skip
        if scan_policy is not None:
            read(f"{rid} scan policy by id", stubs.scan_policies.Get, scan_policy_service_pb2.GetScanPolicyRequest(
                scan_policy_id=scan_policy.id))  # fmt: skip
        policies = read(f"{rid} policies", stubs.policies.List, lifecycle_policy_service_pb2.ListLifecyclePolicyRequest(
            registry_id=rid, page_size=1000))  # fmt: skip
        for policy in policies.policies:
            read(f"{policy.id} get", stubs.policies.Get, lifecycle_policy_service_pb2.GetLifecyclePolicyRequest(
                policy_id=policy.id))  # fmt: skip
            runs = read(f"{policy.id} runs", stubs.policies.ListDryRunResults,
                        lifecycle_policy_service_pb2.ListDryRunLifecyclePolicyResultsRequest(
                            policy_id=policy.id, page_size=1000))  # fmt: skip
            for run in runs.results:
                read(f"{run.dry_run_id} get", stubs.policies.GetDryRunResult,
                     lifecycle_policy_service_pb2.GetDryRunLifecyclePolicyResultRequest(dry_run_id=run.dry_run_id))  # fmt: skip
                read(f"{run.dry_run_id} found", stubs.policies.ListDryRunArtifacts,
                     lifecycle_policy_service_pb2.ListDryRunLifecyclePolicyArtifactsRequest(
                         dry_run_id=run.dry_run_id, page_size=1000))  # fmt: skip
    return answers


def _snapshot(emulator: Emulator, **scope) -> dict:
    notes: list[str] = []
    with RegistryClient(emulator.endpoint, plaintext=True) as client:
        seed = take_snapshot(client, say=notes.append, **scope)
    return seed


def test_a_snapshot_of_a_cloud_registry_folder_answers_every_read_the_same(original):
    seed = _snapshot(original, folder_id=FOLDER)
    assert loading_problem(seed) is None
    assert json.loads(seed_text(seed)) == seed  # the file it writes is that seed
    kinds = sorted(registry.get("kind", "") for registry in seed["registries"])
    assert kinds == ["", "DOCKER", "MAVEN"]  # both APIs' registries
    with grpc.insecure_channel(original.endpoint) as channel:
        expected = cloud_reads(channel)
    assert len(expected) == 126  # as the README says
    assert sum("DELETED" in answer for answer in expected.values()) > 0  # the soft-deleted artifact is read
    assert sum('"severity": "HIGH"' in answer for answer in expected.values()) > 0  # and the scans' findings
    with Emulator() as copy:
        copy.load_seed(seed)
        with grpc.insecure_channel(copy.endpoint) as channel:
            found = cloud_reads(channel)
    assert found.keys() == expected.keys()
    differing = [label for label in expected if found[label] != expected[label]]
    assert not differing, (differing[0], expected[differing[0]], found[differing[0]])


def test_a_snapshot_of_one_cloud_registry_by_id(original):
    with grpc.insecure_channel(original.endpoint) as channel:
        docker = _registry(Stubs(channel), "docker")
    seed = _snapshot(original, registry_id=docker.id)
    assert [registry["id"] for registry in seed["registries"]] == [docker.id]
    assert {result["artifact_id"] for result in seed["scan_results"]}  # its scans come with it


def test_after_the_shutdown_a_snapshot_reads_cloud_registry_alone(original, tmp_path, capsys):
    """Container Registry answers UNIMPLEMENTED after 2026-12-14: the snapshot says so and reads the rest."""
    original.set_container_registry_stage("shut-down")
    try:
        output = tmp_path / "seed.json"
        assert main(["--endpoint", original.endpoint, "--plaintext", "--folder-id", FOLDER, "--output", str(output)]) == 0
    finally:
        original.set_container_registry_stage("active")
    err = capsys.readouterr().err
    assert "note: Container Registry is not served here" in err and "UNIMPLEMENTED" in err
    seed = json.loads(output.read_text())
    assert sorted(registry["kind"] for registry in seed["registries"]) == ["DOCKER", "MAVEN"]


def test_a_registry_in_neither_api_is_one_line_and_nothing_written(original, tmp_path, capsys):
    output = tmp_path / "seed.json"
    code = main(["--endpoint", original.endpoint, "--plaintext", "--registry-id", "cn1nosuchregistry0000", "--output",
                 str(output)])  # fmt: skip
    assert code == 1 and not output.exists()
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("ycr-emulator snapshot: RegistryService/Get: NOT_FOUND")


def test_production_style_artifact_ids_keep_an_artifact_id_as_the_images(original):
    """An endpoint whose artifact ids are not made from image ids (production's cn1... ids) gives
    the image one of its artifacts' ids (the least), and says the ids were not read back."""
    from yandex.cloud.cloudregistry.v1.artifact_pb2 import Artifact

    from emulator.contract.cloud_snapshot import _image_id

    def tag(artifact_id: str, name: str) -> Artifact:
        artifact = Artifact(id=artifact_id, name=name)
        artifact.content.docker.manifest_digest = DIGESTS["web1"]
        return artifact

    assert _image_id([tag("cn1zzzzzzzzzzzzzzzzz", "v1"), tag("cn1aaaaaaaaaaaaaaaaa", "v2")]) == (
        "cn1aaaaaaaaaaaaaaaaa", False
    )
    image = original.images[next(i for i, image in original.images.items() if image.digest == DIGESTS["web1"])]
    assert _image_id([tag(f"{image.id}tffffffff", "v1")])[1] is False  # a mark that is not the tag's
    untagged = tag(image.id, DIGESTS["web1"])
    assert _image_id([untagged]) == (image.id, True)


# ---- found by review: an endpoint whose artifact ids are production's ---------------------------------


def _production_style_server():
    """A real gRPC server answering Cloud Registry's reads as production might: artifact ids of its own
    (cn1..., not made from image ids), one scanned tag; Container Registry not served (UNIMPLEMENTED)."""
    from concurrent import futures

    from emulator.api.wire import CLOUD_REGISTRY, message_class

    def message(type_name: str, **fields):
        return message_class(f"{CLOUD_REGISTRY}.{type_name}")(**fields)

    stamp = {"seconds": 1_735_689_600}
    registry = message("Registry", id="cn1prodregistry00001", folder_id=FOLDER, name="prod", kind=3, type=1,
                       status=2, created_at=stamp, modified_at=stamp)  # fmt: skip
    package = message("Artifact", id="cn1prodpackage000001", name="app", path="", kind=2, status=2,
                      created_at=stamp, modified_at=stamp, registry_id=registry.id)  # fmt: skip
    tags = []
    for artifact_id, name in (("cn1prodartifact00001", "v1"), ("cn1prodartifact00002", "latest")):
        tag = message("Artifact", id=artifact_id, name=name, path="app", kind=3, status=2, created_at=stamp,
                      modified_at=stamp, registry_id=registry.id)  # fmt: skip
        tag.content.docker.manifest_digest = DIGESTS["web1"]
        tag.content.docker.image_manifest.config.digest, tag.content.docker.image_manifest.config.size = DIGESTS["base"], 10
        tags.append(tag)
    result = message("ScanResult", id="cheprodresult0000001", artifact_id=tags[0].id, scanned_at=stamp, status=2)
    vulnerability = message("Vulnerability", severity=2, name="CVE-2024-1", package_name="openssl")  # HIGH
    answers = {
        "RegistryService/List": message("ListRegistriesResponse", registries=[registry]),
        "RegistryService/ListAccessBindings": message_class("yandex.cloud.access.ListAccessBindingsResponse")(),
        "RegistryService/ListIpPermissions": message("ListIpPermissionsResponse"),
        "ArtifactService/List": message("ListArtifactsWithFiltersResponse", artifacts=[package, *tags]),
        "ArtifactService/ListAccessBindings": message_class("yandex.cloud.access.ListAccessBindingsResponse")(),
        "LifecyclePolicyService/List": message("ListLifecyclePolicyResponse"),
        "ScannerService/ListVulnerabilities": message("ListVulnerabilitiesResponse", vulnerabilities=[vulnerability]),
    }

    def scans(request: bytes, context):
        asked = message("ListScanResultsRequest").FromString(request)
        return message("ListScanResultsResponse", scan_results=[result] if asked.artifact_id == tags[0].id else [])

    def no_scan_policy(request: bytes, context):
        context.abort(grpc.StatusCode.NOT_FOUND, "no scan policy")

    handlers: dict[str, dict] = {}
    for name, answer in answers.items():
        service, method = name.split("/")
        handlers.setdefault(service, {})[method] = grpc.unary_unary_rpc_method_handler(
            lambda request, context, answer=answer: answer.SerializeToString()
        )
    handlers["ScannerService"]["List"] = grpc.unary_unary_rpc_method_handler(
        lambda request, context: scans(request, context).SerializeToString()
    )
    handlers["ScanPolicyService"] = {"GetByRegistry": grpc.unary_unary_rpc_method_handler(no_scan_policy)}
    server = grpc.server(futures.ThreadPoolExecutor(4))
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(f"{CLOUD_REGISTRY}.{s}", m) for s, m in handlers.items()]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}", tags


def test_production_style_ids_and_their_scans_give_a_seed_that_loads(tmp_path, capsys):
    """Found by review: with artifact ids not made from image ids, the scan results kept the endpoint's
    artifact id, which the copy does not have: the seed was written but could not be loaded (exit 1).
    Now each result follows its artifact to the id the copy gives it, and the note says so."""
    server, endpoint, tags = _production_style_server()
    output = tmp_path / "seed.json"
    try:
        code = main(["--endpoint", endpoint, "--plaintext", "--folder-id", FOLDER, "--output", str(output)])
    finally:
        server.stop(None)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "note: 1 images' artifact ids are not of this emulator's form" in err and "scan results go with them" in err
    seed = json.loads(output.read_text())
    with Emulator() as copy:
        copy.load_seed(seed)
        with grpc.insecure_channel(copy.endpoint) as channel:
            stubs = Stubs(channel)
            v1 = stubs.artifacts.GetByPath(artifact_service_pb2.GetArtifactByPathRequest(
                registry_id="cn1prodregistry00001", path="app/v1"))  # fmt: skip
            found = stubs.scanner.List(scanner_service_pb2.ListScanResultsRequest(artifact_id=v1.id))
    assert [result.id for result in found.scan_results] == ["cheprodresult0000001"]
    assert found.scan_results[0].vulnerabilities.high == 1
