"""emulator.contract.strategies, checked through the wire against the session's emulator: every valid
request is answered OK (NOT_FOUND only for ids no one holds), every invalid one is
INVALID_ARGUMENT naming a field, every seed loads and is then served exactly as drawn, every
kind of request part is drawn, and the module imports without pytest.

Valid requests go through the official SDK's stubs (so the dicts fit its request classes);
invalid ones and the seed checks through emulator.contract.client.RegistryClient. The fixtures are the
session-scoped ones: each example resets the emulator itself before loading its seed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from yandex.cloud.cloudregistry.v1 import artifact_service_pb2
from yandex.cloud.cloudregistry.v1 import lifecycle_policy_service_pb2 as cloud_lifecycle_policy_service_pb2
from yandex.cloud.cloudregistry.v1 import registry_service_pb2 as cloud_registry_service_pb2
from yandex.cloud.cloudregistry.v1 import scan_policy_service_pb2 as cloud_scan_policy_service_pb2
from yandex.cloud.cloudregistry.v1 import scanner_service_pb2 as cloud_scanner_service_pb2
from yandex.cloud.cloudregistry.v1.artifact_service_pb2_grpc import ArtifactServiceStub
from yandex.cloud.cloudregistry.v1.lifecycle_policy_service_pb2_grpc import (
    LifecyclePolicyServiceStub as CloudLifecyclePolicyServiceStub,
)
from yandex.cloud.cloudregistry.v1.registry_service_pb2_grpc import RegistryServiceStub as CloudRegistryServiceStub
from yandex.cloud.cloudregistry.v1.scan_policy_service_pb2_grpc import (
    ScanPolicyServiceStub as CloudScanPolicyServiceStub,
)
from yandex.cloud.cloudregistry.v1.scanner_service_pb2_grpc import ScannerServiceStub as CloudScannerServiceStub
from yandex.cloud.containerregistry.v1 import (
    image_service_pb2,
    lifecycle_policy_service_pb2,
    registry_service_pb2,
    repository_service_pb2,
    scan_policy_service_pb2,
    scanner_service_pb2,
)
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.lifecycle_policy_service_pb2_grpc import LifecyclePolicyServiceStub
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.containerregistry.v1.repository_service_pb2_grpc import RepositoryServiceStub
from yandex.cloud.containerregistry.v1.scan_policy_service_pb2_grpc import ScanPolicyServiceStub
from yandex.cloud.containerregistry.v1.scanner_service_pb2_grpc import ScannerServiceStub
from yandex.cloud.operation import operation_service_pb2
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from conftest import violation_fields
from emulator.contract import strategies
from emulator.contract.client import RegistryClient
from emulator.contract.strategies.cloud import BUILDERS
from emulator.rpc.services import CATALOGUE
from tests.test_downstream import CLEANUP_TOOL  # the downstream project's code under test

OK, INVALID, NOT_FOUND = grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
TIMEOUT = 10
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def examples(count: int) -> settings:
    return settings(
        max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
    )


@pytest.fixture(scope="module")
def client(running_emulator):
    with RegistryClient(running_emulator.endpoint, plaintext=True, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture(scope="module")
def sdk(channel):
    """Method -> (the official SDK's stub method, its request class)."""
    images, registries = ImageServiceStub(channel), RegistryServiceStub(channel)
    repositories, operations = RepositoryServiceStub(channel), OperationServiceStub(channel)
    policies, scanner = LifecyclePolicyServiceStub(channel), ScannerServiceStub(channel)
    cloud_registries = CloudRegistryServiceStub(channel)
    return {
        "ImageService/List": (images.List, image_service_pb2.ListImagesRequest),
        "ImageService/Get": (images.Get, image_service_pb2.GetImageRequest),
        "RegistryService/List": (registries.List, registry_service_pb2.ListRegistriesRequest),
        "RegistryService/Get": (registries.Get, registry_service_pb2.GetRegistryRequest),
        "RepositoryService/List": (repositories.List, repository_service_pb2.ListRepositoriesRequest),
        "RepositoryService/Get": (repositories.Get, repository_service_pb2.GetRepositoryRequest),
        "RepositoryService/GetByName": (repositories.GetByName, repository_service_pb2.GetRepositoryByNameRequest),
        "OperationService/Get": (operations.Get, operation_service_pb2.GetOperationRequest),
        **{
            f"LifecyclePolicyService/{name}": (getattr(policies, name), getattr(lifecycle_policy_service_pb2, request))
            for name, request in (
                ("List", "ListLifecyclePoliciesRequest"),
                ("Get", "GetLifecyclePolicyRequest"),
                ("ListDryRunResults", "ListDryRunLifecyclePolicyResultsRequest"),
                ("GetDryRunResult", "GetDryRunLifecyclePolicyResultRequest"),
                ("ListDryRunResultAffectedImages", "ListDryRunLifecyclePolicyResultAffectedImagesRequest"),
            )
        },
        "ScannerService/List": (scanner.List, scanner_service_pb2.ListScanResultsRequest),
        "ScannerService/Get": (scanner.Get, scanner_service_pb2.GetScanResultRequest),
        "ScanPolicyService/Get": (ScanPolicyServiceStub(channel).Get, scan_policy_service_pb2.GetScanPolicyRequest),
        "cloudregistry.RegistryService/List": (cloud_registries.List, cloud_registry_service_pb2.ListRegistriesRequest),
        "cloudregistry.RegistryService/Get": (cloud_registries.Get, cloud_registry_service_pb2.GetRegistryRequest),
        "cloudregistry.ArtifactService/Get": (
            ArtifactServiceStub(channel).Get,
            artifact_service_pb2.GetArtifactRequest,
        ),
        "cloudregistry.ScannerService/Get": (
            CloudScannerServiceStub(channel).Get,
            cloud_scanner_service_pb2.GetScanResultRequest,
        ),
        "cloudregistry.ScanPolicyService/Get": (
            CloudScanPolicyServiceStub(channel).Get,
            cloud_scan_policy_service_pb2.GetScanPolicyRequest,
        ),
        "cloudregistry.LifecyclePolicyService/Get": (
            CloudLifecyclePolicyServiceStub(channel).Get,
            cloud_lifecycle_policy_service_pb2.GetLifecyclePolicyRequest,
        ),
        "cloudregistry.LifecyclePolicyService/GetDryRunResult": (
            CloudLifecyclePolicyServiceStub(channel).GetDryRunResult,
            cloud_lifecycle_policy_service_pb2.GetDryRunLifecyclePolicyResultRequest,
        ),
        "cloudregistry.RegistryService/ListArtifacts": (
            cloud_registries.ListArtifacts,
            cloud_registry_service_pb2.ListArtifactsRequest,
        ),
        "cloudregistry.ArtifactService/List": (
            ArtifactServiceStub(channel).List,
            artifact_service_pb2.ListArtifactsWithFiltersRequest,
        ),
        "cloudregistry.LifecyclePolicyService/List": (
            CloudLifecyclePolicyServiceStub(channel).List,
            cloud_lifecycle_policy_service_pb2.ListLifecyclePolicyRequest,
        ),
        "cloudregistry.LifecyclePolicyService/ListDryRunResults": (
            CloudLifecyclePolicyServiceStub(channel).ListDryRunResults,
            cloud_lifecycle_policy_service_pb2.ListDryRunLifecyclePolicyResultsRequest,
        ),
        "cloudregistry.LifecyclePolicyService/ListDryRunArtifacts": (
            CloudLifecyclePolicyServiceStub(channel).ListDryRunArtifacts,
            cloud_lifecycle_policy_service_pb2.ListDryRunLifecyclePolicyArtifactsRequest,
        ),
        "cloudregistry.ScannerService/List": (
            CloudScannerServiceStub(channel).List,
            cloud_scanner_service_pb2.ListScanResultsRequest,
        ),
        "cloudregistry.ScannerService/ListVulnerabilities": (
            CloudScannerServiceStub(channel).ListVulnerabilities,
            cloud_scanner_service_pb2.ListVulnerabilitiesRequest,
        ),
    }


def sdk_code(sdk, method: str, request: dict) -> grpc.StatusCode:
    call, request_class = sdk[method]
    try:
        call(request_class(**request), timeout=TIMEOUT)
    except grpc.RpcError as error:
        return error.code()
    return OK


def refused(client, method: str, request: dict) -> grpc.RpcError | None:
    try:
        client.call(method, **request)
    except grpc.RpcError as error:
        return error
    return None


def load(emulator, seed: dict) -> None:
    emulator.reset()
    emulator.load_seed(seed)


def ns_of(text: str) -> int:
    """RFC 3339 text -> ns since the epoch (the test's own reading: any offset, 0-9 digit fraction)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", text)
    assert match, text
    moment = datetime.fromisoformat(match[1] + ("+00:00" if match[3] == "Z" else match[3]))
    return (moment - EPOCH) // timedelta(seconds=1) * 10**9 + int((match[2] or "0").ljust(9, "0"))


def wire_ns(timestamp) -> int:
    return timestamp.seconds * 10**9 + timestamp.nanos


def blob_as_drawn(message, entry: dict) -> None:
    assert (message.digest, message.size) == (entry["digest"], entry["size"])
    if "id" in entry:
        assert message.id == entry["id"]
    assert list(message.urls) == entry.get("urls", [])


# ---- the module itself ---------------------------------------------------------------------------


def test_importable_without_pytest():
    code = (
        'import sys; sys.modules["pytest"] = None; import emulator.contract.strategies; print("_pytest" in sys.modules)'
    )
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stdout.strip()) == (0, "False"), run.stderr


def test_without_hypothesis_the_error_says_what_to_install():
    code = 'import sys; sys.modules["hypothesis"] = None; import emulator.contract.strategies'
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert (
        "ImportError: emulator.contract.strategies needs hypothesis: pip install 'ycr-emulator[contract]'" in run.stderr
    )


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (lambda: strategies.order_bys("RegistryService/List"), "has no order_by"),
        (lambda: strategies.filters("ImageService/Delete"), "not one of"),
        (lambda: strategies.get_requests("ImageService/List"), "not one of"),
        (lambda: strategies.list_images_requests(registry_ids=["r" * 51]), "at most 50 characters"),
        (lambda: strategies.list_images_requests(repository_names=["Team/Web"]), "repository_name (matching"),
        (lambda: strategies.list_registries_requests(folder_ids=[""]), "folder_ids: ''"),
        (lambda: strategies.get_requests("ImageService/Get", ids=["x" * 51]), "may not be ImageService/Get's"),
        (lambda: strategies.seeds(folder_ids=["B1G"]), "folder_ids: 'B1G'"),
        (lambda: strategies.seeds(folder_ids=[]), "at least one folder"),
        (lambda: strategies.images(repository_paths=["a//b"]), "repository_paths: 'a//b'"),
        (lambda: strategies.seeds(min_images=1, max_registries=0, min_registries=0), "need a registry"),
    ],
)
def test_arguments_no_valid_draw_can_use_are_refused_at_once(call, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        call()


def test_one_string_instead_of_a_list_is_refused():
    with pytest.raises(TypeError, match="not one string"):
        strategies.list_images_requests(folder_ids="b1g0000000000000test")


def test_full_method_names_work_too():
    assert strategies.get_requests("yandex.cloud.containerregistry.v1.ImageService/Get") is not None
    assert strategies.order_bys("/yandex.cloud.containerregistry.v1.RepositoryService/List") is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (True, frozenset())),
        (" \t", (True, frozenset())),
        ('name = "a/b"', (False, {"a/b"})),
        ("name!='a/b'", (True, {"a/b"})),
        ("name in ('a/b', \"c/d\")", (False, {"a/b", "c/d"})),
        ("name Not\tIN ('a/not', 'b/c')", (True, {"a/not", "b/c"})),
    ],
)
def test_read_filter(text, expected):
    assert strategies.read_filter(text) == expected


# ---- seeds -------------------------------------------------------------------------------------


@examples(40)
@given(seed=strategies.seeds())
def test_seeds_load_and_are_served_as_drawn(running_emulator, client, seed):
    load(running_emulator, seed)
    drawn_images = [image for registry in seed["registries"] for image in registry["images"]]
    assert len({image["id"] for image in drawn_images}) == len(drawn_images)
    for registry in seed["registries"]:
        served = client.call("RegistryService/Get", registry_id=registry["id"])
        assert (served.folder_id, served.name, dict(served.labels)) == (
            registry["folder_id"],
            registry["name"],
            registry["labels"],
        )
        if "created_at" in registry:
            assert wire_ns(served.created_at) == ns_of(registry["created_at"])
        listed = [
            image for page in client.pages("ImageService/List", registry_id=registry["id"]) for image in page.images
        ]
        assert sorted(image.id for image in listed) == sorted(image["id"] for image in registry["images"])
        by_id = {image.id: image for image in listed}
        seen_tags: dict[str, set[str]] = {}
        for entry in registry["images"]:
            image = client.call("ImageService/Get", image_id=entry["id"])
            assert image == by_id[entry["id"]]
            assert image.name == f"{registry['id']}/{entry['repository']}"
            assert image.digest == entry["digest"]
            assert list(image.tags) == entry.get("tags", [])
            held = seen_tags.setdefault(entry["repository"], set())
            assert not held & set(image.tags), "a tag twice in one repository"
            held.update(image.tags)
            if "created_at" in entry:
                assert wire_ns(image.created_at) == ns_of(entry["created_at"])
            if "compressed_size" in entry:
                assert image.compressed_size == entry["compressed_size"]
            elif "config" in entry and "layers" in entry:
                sizes = [blob["size"] for blob in (entry["config"], *entry["layers"])]
                assert image.compressed_size == sum(sizes)
            if "config" in entry:
                blob_as_drawn(image.config, entry["config"])
            if "layers" in entry:
                assert len(image.layers) == len(entry["layers"])
                for message, layer in zip(image.layers, entry["layers"]):
                    blob_as_drawn(message, layer)
        repositories = {
            repository.name: repository.id
            for page in client.pages("RepositoryService/List", registry_id=registry["id"])
            for repository in page.repositories
        }
        for declared in registry.get("repositories", []):
            assert repositories[f"{registry['id']}/{declared['path']}"] == declared["id"]
        paths = {image["repository"] for image in registry["images"]} | {
            declared["path"] for declared in registry.get("repositories", []) if declared.get("kept", True)
        }
        assert set(repositories) == {f"{registry['id']}/{path}" for path in paths}


@examples(20)
@given(
    seed=strategies.seeds(max_registries=5, max_images=30, folder_ids=["b1g0000000000000aaaa"], min_images=3),
    entry=strategies.registries(folder_ids=["b1g0000000000000bbbb"], repository_paths=["app", "team/web"]),
    image=strategies.images(repository_paths=["solo"]),
)
def test_bounds_and_given_values_are_kept(running_emulator, seed, entry, image):
    assert 1 <= len(seed["registries"]) <= 5
    assert 3 <= sum(len(registry["images"]) for registry in seed["registries"]) <= 30
    assert {registry["folder_id"] for registry in seed["registries"]} == {"b1g0000000000000aaaa"}
    assert entry["folder_id"] == "b1g0000000000000bbbb"
    assert {image["repository"] for image in entry["images"]} <= {"app", "team/web"}
    assert image["repository"] == "solo"
    load(running_emulator, seed)
    entry["images"].append(dict(image, id=image["id"] + "solo"))  # a fresh id, in a repository of its own
    load(running_emulator, {"registries": [entry]})


# ---- requests ----------------------------------------------------------------------------------------


@examples(60)
@given(seed=strategies.seeds(max_images=8), data=st.data())
def test_valid_requests_about_a_seed_are_answered_ok(running_emulator, sdk, seed, data):
    """Every List is OK; a Get is OK when the seed names ids for it, else (ids drawn, such as
    an operation's: seeds hold none) NOT_FOUND."""
    load(running_emulator, seed)
    named = strategies.scope_values(seed)
    pools = {"ImageService/Get": "image_ids", "RegistryService/Get": "registry_ids"}
    pools |= {"RepositoryService/Get": "repository_ids", "RepositoryService/GetByName": "repository_names"}
    # a List of one resource's children is NOT_FOUND when the seed names none of them
    pools |= {
        "LifecyclePolicyService/Get": "lifecycle_policy_ids",
        "LifecyclePolicyService/GetDryRunResult": "dry_run_lifecycle_policy_result_ids",
        "LifecyclePolicyService/ListDryRunResults": "lifecycle_policy_ids",
        "LifecyclePolicyService/ListDryRunResultAffectedImages": "dry_run_lifecycle_policy_result_ids",
        "ScannerService/Get": "scan_result_ids",
        "ScannerService/List": "scanned_image_ids",
        "ScanPolicyService/Get": "scan_policy_ids",  # seeds hold none
        **{method: "cloud_registry_ids" for method in strategies.POSITION_LIST_METHODS},  # drawn seeds hold none
    }
    for method in strategies.LIST_METHODS + strategies.GET_METHODS:
        request = data.draw(strategies.requests_for(seed, method), label=method)
        listed = method in strategies.LIST_METHODS and method not in pools
        known = named.get(pools.get(method), ()) or (
            method == "ScannerService/List" and named["scanned_repository_ids"]
        )
        expected = (OK,) if listed or known else (NOT_FOUND,)
        if method in strategies.LIST_METHODS and not (listed or known):  # a drawn id may be one the seed holds
            expected = (OK, NOT_FOUND)
        assert sdk_code(sdk, method, request) in expected, (method, request)


@examples(60)
@given(seed=strategies.seeds(max_images=4), data=st.data())
def test_valid_requests_of_unknown_values_are_never_invalid(running_emulator, sdk, seed, data):
    """Drawn without given values: well-formed ids no one holds (NOT_FOUND), folders (OK)."""
    load(running_emulator, seed)
    lists = {
        "ImageService/List": strategies.list_images_requests(),
        "RegistryService/List": strategies.list_registries_requests(),
        "RepositoryService/List": strategies.list_repositories_requests(),
        "LifecyclePolicyService/List": strategies.list_lifecycle_policies_requests(),
        "LifecyclePolicyService/ListDryRunResults": strategies.list_dry_run_results_requests(),
        "LifecyclePolicyService/ListDryRunResultAffectedImages": strategies.list_affected_images_requests(),
        "ScannerService/List": strategies.list_scan_results_requests(),
        "cloudregistry.RegistryService/List": strategies.list_cloud_registries_requests(),
        **{method: BUILDERS[method][0]() for method in strategies.POSITION_LIST_METHODS},
    }
    for method, requests in lists.items():
        request = data.draw(requests, label=method)
        assert sdk_code(sdk, method, request) in (OK, NOT_FOUND), (method, request)
    for method in strategies.GET_METHODS:
        request = data.draw(strategies.get_requests(method), label=method)
        assert sdk_code(sdk, method, request) in (OK, NOT_FOUND), (method, request)


@examples(80)
@given(seed=strategies.seeds(max_images=6), data=st.data())
def test_invalid_requests_are_invalid_argument_naming_a_field(running_emulator, client, seed, data):
    load(running_emulator, seed)
    method = data.draw(st.sampled_from(strategies.LIST_METHODS + strategies.GET_METHODS), label="method")
    about_seed = strategies.requests_for(seed, method, valid=False)
    if method in strategies.LIST_METHODS:
        any_values = {
            "ImageService/List": strategies.list_images_requests,
            "RegistryService/List": strategies.list_registries_requests,
            "RepositoryService/List": strategies.list_repositories_requests,
            "LifecyclePolicyService/List": strategies.list_lifecycle_policies_requests,
            "LifecyclePolicyService/ListDryRunResults": strategies.list_dry_run_results_requests,
            "LifecyclePolicyService/ListDryRunResultAffectedImages": strategies.list_affected_images_requests,
            "ScannerService/List": strategies.list_scan_results_requests,
            "cloudregistry.RegistryService/List": strategies.list_cloud_registries_requests,
            **{method: BUILDERS[method][0] for method in strategies.POSITION_LIST_METHODS},
        }[method](valid=False)
    else:
        any_values = strategies.get_requests(method, valid=False)
    request = data.draw(about_seed | any_values, label="request")
    error = refused(client, method, request)
    assert error is not None and error.code() == INVALID, (method, request, error and error.code())
    assert violation_fields(error), error.details()


@examples(150)
@given(data=st.data())
def test_each_invalid_part_alone_is_invalid_argument_naming_its_field(running_emulator, client, data):
    """Each broken part on an otherwise valid request, so that no form of it may slip through as
    valid behind another broken part: the emulator names that field, and only that one."""
    running_emulator.reset()
    for method in strategies.KEYSET_LIST_METHODS:
        spec = CATALOGUE.method(method).spec
        parts = {
            spec.filter_field: strategies.filters(method, valid=False),
            "page_size": strategies.page_sizes(valid=False),
        }
        if spec.has_order_by:
            parts["order_by"] = strategies.order_bys(method, valid=False)
        scope_field = CATALOGUE.method(method).spec.scopes[-1][0]
        scope = {scope_field: "b1g0000000000000test" if scope_field == "folder_id" else "crp00000000000000000"}
        for field, broken in parts.items():
            request = {**scope, field: data.draw(broken, label=f"{method} {field}")}
            error = refused(client, method, request)
            assert error is not None and error.code() == INVALID, (method, request)
            assert violation_fields(error) == {field}, (request, error.details())
    for method in strategies.GET_METHODS:
        request = data.draw(strategies.get_requests(method, valid=False), label=method)
        error = refused(client, method, request)
        assert error is not None and error.code() == INVALID, (method, request)


# ---- Cloud Registry's Lists paged by position, over a seed that holds what they list ------------------

CLOUD_FOLDER = "b1gstrategiescloud00"


def cloud_seed() -> dict:
    """A Docker registry with a tree, a policy with a dry run and scan results, a Maven one with folders."""
    registry_id, image_id = "cn1strategies0000001", "crpstrategiesimage01"
    rule = {"delete": {"type": "HARD_DELETE", "always": True}, "path_prefix": "team"}
    affected = [
        {"path": "/team/web/v1", "artifact_id": f"{image_id}t00000000", "rule_type": "LIFECYCLE_RULE_TYPE_HARD_DELETE"}
    ]
    return {
        "registries": [
            {
                "id": registry_id, "folder_id": CLOUD_FOLDER, "name": "docker", "kind": "DOCKER",
                "folders": [{"path": "team/tools"}],
                "scan_policy": {"id": "cn1strategiesscanpo1", "name": "scan", "rules": {"push_rule": {"paths": ["*"]}}},
                "repositories": [{"path": "team/web", "id": "crpstrategiesrepo001"}],
                "images": [
                    {"repository": "team/web", "id": image_id, "tags": ["v1", "latest"]},
                    {"repository": "team/web", "id": "crpstrategiesimage02"},
                    {"repository": "base", "id": "crpstrategiesimage03", "tags": ["1.0"]},
                ],
                "lifecycle_policies": [{"id": "cn1strategiespolicy1", "name": "tidy", "rules": [rule],
                                        "dry_run_results": [{"id": "cn1strategiesdryrun1", "run_at": "2026-01-01T00:00:00Z",
                                                             "policy_snapshot": [rule], "affected": affected}]}],
            },
            {"id": "cn1strategies0000002", "folder_id": CLOUD_FOLDER, "name": "maven", "kind": "MAVEN",
             "folders": [{"path": "com/example"}]},
        ],
        "scan_results": [{
            "id": "chestrategiesresult1", "image_id": image_id, "repository_id": "crpstrategiesrepo001",
            "folder_id": CLOUD_FOLDER, "status": "READY", "scanned_at": "2026-01-02T00:00:00Z",
            "artifact_id": f"{image_id}t" + "00000000",
            "vulnerabilities": [{"severity": "HIGH", "package": {"name": "CVE-2024-1", "package": "openssl"}}],
        }],
    }  # fmt: skip


@pytest.fixture(scope="module")
def cloud_values(running_emulator):
    """The seed, loaded, with its scan result's artifact id as the emulator makes it."""
    from emulator.state.artifacts import tag_artifact_id

    seed = cloud_seed()
    artifact_id = tag_artifact_id("crpstrategiesimage01", "v1")
    seed["scan_results"][0]["artifact_id"] = artifact_id
    seed["registries"][0]["lifecycle_policies"][0]["dry_run_results"][0]["affected"][0]["artifact_id"] = artifact_id
    return seed


@examples(60)
@given(data=st.data())
def test_cloud_registry_requests_about_a_seed_are_ok_and_broken_ones_invalid(
    running_emulator, sdk, client, cloud_values, data
):
    """Drawn from what the seed names (requests_for), every valid request of each position-paged List
    and of each Get is answered OK, and every broken List request INVALID_ARGUMENT naming a field."""
    running_emulator.reset()
    running_emulator.load_seed(cloud_values)
    named = strategies.scope_values(cloud_values)
    assert all(named[pool] for pool in ("cloud_paths", "artifact_ids", "cloud_lifecycle_policy_ids",
                                        "cloud_dry_run_ids", "cloud_scan_result_ids"))  # fmt: skip
    for method in strategies.POSITION_LIST_METHODS:
        request = data.draw(strategies.requests_for(cloud_values, method), label=method)
        assert sdk_code(sdk, method, request) == OK, (method, request)
    for method in [method for method in strategies.GET_METHODS if method.startswith("cloudregistry.")]:
        # found by review: four Gets drew made-up ids though the seed names theirs
        request = data.draw(strategies.requests_for(cloud_values, method), label=method)
        assert sdk_code(sdk, method, request) == OK, (method, request)
    for method in strategies.POSITION_LIST_METHODS:
        broken = data.draw(strategies.requests_for(cloud_values, method, valid=False), label=f"{method} broken")
        error = refused(client, method, broken)
        assert error is not None and error.code() == INVALID, (method, broken, error and error.code())
        assert violation_fields(error), error.details()


# ---- every kind of part is drawn -------------------------------------------------------------------

FIND = settings(  # the first draw that has it: no shrinking
    max_examples=10_000, database=None, deadline=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
)


def scope_of(request: dict) -> str:
    return next(field for field in ("repository_name", "registry_id", "folder_id") if request.get(field))


@pytest.mark.parametrize(
    ("strategy", "wanted"),
    [
        (strategies.list_images_requests(), lambda r: scope_of(r) == "repository_name" and "registry_id" in r),
        (strategies.list_images_requests(), lambda r: scope_of(r) == "registry_id" and "folder_id" in r),
        (strategies.list_images_requests(), lambda r: scope_of(r) == "folder_id"),
        (strategies.list_repositories_requests(), lambda r: scope_of(r) == "registry_id" and "folder_id" in r),
        (strategies.list_repositories_requests(), lambda r: scope_of(r) == "folder_id"),
        (strategies.list_images_requests(), lambda r: re.fullmatch(r'\s*name\s*=\s*["\'].*', r.get("filter", ""))),
        (strategies.list_images_requests(), lambda r: re.fullmatch(r"\s*name\s*!=.*", r.get("filter", ""))),
        (
            strategies.list_images_requests(),
            lambda r: re.fullmatch(r"(?i)\s*name\s+in\s*\(.*,.*\)\s*", r.get("filter", "")),
        ),
        (
            strategies.list_registries_requests(),
            lambda r: re.fullmatch(r"(?i)\s*name\s+not\s+in.*", r.get("filter", "")),
        ),
        (
            strategies.list_images_requests(),
            lambda r: r.get("order_by", "").count(",") >= 3 and "desc" in r["order_by"],
        ),
        (strategies.list_images_requests(), lambda r: "last_modified" in r.get("order_by", "")),
        (strategies.list_repositories_requests(), lambda r: r.get("order_by", "").count(",") == 1),
        (strategies.list_images_requests(), lambda r: r.get("page_size") == 1000),
        (strategies.list_images_requests(), lambda r: r.get("page_size") == 0),
    ],
)
def test_every_kind_of_valid_part_is_drawn(strategy, wanted):
    find(strategy, wanted, settings=FIND)


@pytest.mark.parametrize(
    ("method", "field"),
    [
        ("ImageService/List", "folder_id"),
        ("ImageService/List", "registry_id"),
        ("ImageService/List", "repository_name"),
        ("ImageService/List", "page_size"),
        ("ImageService/List", "page_token"),
        ("ImageService/List", "filter"),
        ("ImageService/List", "order_by"),
        ("RegistryService/List", "folder_id"),
        ("RegistryService/List", "filter"),
        ("RepositoryService/List", "registry_id"),
        ("RepositoryService/List", "order_by"),
        ("RepositoryService/GetByName", "repository_name"),
        ("RegistryService/Get", "registry_id"),
    ],
)
def test_every_kind_of_invalid_part_is_drawn(client, method, field):
    """The emulator names each field as the broken one in some draw (``find`` stops at the first)."""
    invalid = (
        strategies.get_requests(method, valid=False)
        if method in strategies.GET_METHODS
        else strategies.requests_for({"registries": []}, method, valid=False)
    )

    def names_field(request: dict) -> bool:
        error = refused(client, method, request)
        return error is not None and field in violation_fields(error)

    find(invalid, names_field, settings=FIND)


# ---- the contract testing page's example, in a downstream project----------------------------------------------

DOC_PROPERTY_TEST = """\
# test_cleanup_properties.py -- a property test: the clean-up is right whatever the registry holds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb

from emulator.contract.strategies import requests_for, seeds
from mytool.cleanup import delete_untagged          # the code under test

FOLDER = "b1g0000000000000ycrt"                      # the folder the plugin's test token may touch


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=seeds(folder_ids=[FOLDER]), data=st.data())
def test_only_untagged_images_are_deleted(ycr, ycr_channel, ycr_stubs, seed, data):
    ycr.reset()                                      # one test, many examples: start each from empty
    ycr.load_seed(seed)
    for registry in seed["registries"]:
        delete_untagged(ycr_channel, registry_id=registry["id"])
    images = [image for registry in seed["registries"] for image in registry["images"]]
    assert set(ycr.images) == {image["id"] for image in images if image.get("tags")}
    request = data.draw(requests_for(seed, "ImageService/List"))    # any valid List about the seed
    assert all(image.tags for image in ycr_stubs.images.List(pb.ListImagesRequest(**request)).images)
"""


@pytest.mark.parametrize("auth", ["none", "strict"])
def test_the_documented_example_passes_downstream(pytester, auth):
    tool = pytester.mkpydir("mytool")
    (tool / "cleanup.py").write_text(CLEANUP_TOOL)
    pytester.makepyfile(test_cleanup_properties=DOC_PROPERTY_TEST)
    pytester.makeini("[pytest]\n" + ("ycr_auth = strict\n" if auth == "strict" else ""))
    result = pytester.runpytest_subprocess("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
