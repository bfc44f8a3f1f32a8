"""Cloud Registry's reads, as any endpoint must answer them (the documented relations; those the
emulator chose are marked emulator_choice): every List paged by position holds in pages what one
big page holds, each node once; Get, GetByPath and the Lists agree; ArtifactService.List's filters
keep what their predicate keeps; the page size's annotation is kept; unknown ids are NOT_FOUND.
It reads a DOCKER registry (YCR_CONTRACT_CLOUD_REGISTRY_ID against an endpoint) and its folder."""

from __future__ import annotations

import grpc
import pytest

from emulator.api.wire import resource_id
from tests.contract.relations import page_sizes, require, spread

UNKNOWN = "cn100000000000000000"


def _ids(items) -> list[str]:
    return [resource_id(item) for item in items]


def _full(node) -> str:
    path = node.path.strip("/")
    return f"{path}/{node.name}" if path else node.name


def _code(call) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest.fixture(scope="session")
def nodes(cloud) -> list:
    """Every node of the registry (ArtifactService.List by registry)."""
    return cloud.everything("ArtifactService/List", registry_id=cloud.registry_id)


@pytest.fixture(scope="session")
def policies(cloud) -> list:
    """The registry's lifecycle policies, each with its dry runs: (policy, runs)."""
    found = cloud.everything("LifecyclePolicyService/List", registry_id=cloud.registry_id)
    return [
        (policy, cloud.everything("LifecyclePolicyService/ListDryRunResults", policy_id=policy.id)) for policy in found
    ]


@pytest.fixture(scope="session")
def scans(cloud, nodes) -> list:
    """The scan results of the registry's artifacts (at most 25 of them read): (artifact, results)."""
    artifacts = spread([node for node in nodes if node.kind == node.ARTIFACT])
    return [(node, cloud.everything("ScannerService/List", artifact_id=node.id)) for node in artifacts]


def _scopes(cloud, nodes, policies, scans) -> list[tuple[str, dict]]:
    """Each List with a scope the registry gives it (those it has nothing for are left out)."""
    containers = [node for node in nodes if node.kind in (node.FOLDER, node.PACKAGE)]
    found = [
        ("RegistryService/ListArtifacts", {"registry_id": cloud.registry_id}),
        ("ArtifactService/List", {"registry_id": cloud.registry_id}),
        ("ArtifactService/List", {"folder_id": cloud.folder_id}),
        ("LifecyclePolicyService/List", {"registry_id": cloud.registry_id}),
    ]
    found += [("RegistryService/ListArtifacts", {"registry_id": cloud.registry_id, "path": _full(node)})
              for node in spread(containers, 5)]  # fmt: skip
    ran = [(policy, runs) for policy, runs in policies if runs]
    if ran:
        found.append(("LifecyclePolicyService/ListDryRunResults", {"policy_id": ran[0][0].id}))
        found.append(("LifecyclePolicyService/ListDryRunArtifacts", {"dry_run_id": ran[0][1][-1].dry_run_id}))
    scanned = [(artifact, results) for artifact, results in scans if results]
    if scanned:
        found.append(("ScannerService/List", {"artifact_id": scanned[0][0].id}))
        # the result with the most vulnerabilities: paging over none would check nothing
        most = max((result for _, results in scanned for result in results), key=_vulnerabilities)
        found.append(("ScannerService/ListVulnerabilities", {"scan_result_id": most.id}))
    return found


def _vulnerabilities(result) -> int:
    stats = result.vulnerabilities
    return stats.critical + stats.high + stats.medium + stats.low + stats.negligible + stats.undefined


def test_every_list_pages_as_one_big_page(cloud, nodes, policies, scans):
    """Documented: next_page_token and page_size ("the maximum number of results per page"). No
    default order is documented, so pages are compared as a set, each item once."""
    scopes = _scopes(cloud, nodes, policies, scans)
    assert {method for method, _ in scopes} >= {"RegistryService/ListArtifacts", "ArtifactService/List"}
    for method, scope in scopes:
        listed = cloud.everything(method, **scope)
        for page_size in page_sizes(len(listed)):
            walk = cloud.pages(method, page_size, **scope)
            assert all(len(page) <= page_size for page in walk), (method, scope, page_size)
            walked = [item for page in walk for item in page]
            assert len(_ids(walked)) == len(set(_ids(walked))), (method, scope, page_size)  # each once
            assert sorted(_ids(walked)) == sorted(_ids(listed)), (method, scope, page_size)


@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/Get",
    "documented",
    "Get and GetByPath answer the node the tree lists.",
    "yandex/cloud/cloudregistry/v1/artifact_service.proto",
)
def test_get_and_get_by_path_agree_with_the_list(cloud, nodes):
    """Documented: ArtifactService.Get "returns the specified artifact", GetByPath by its path. An
    artifact whose path a folder or package also has is left out: which of them GetByPath answers is
    not documented (the emulator answers the package)."""
    require(bool(nodes), "Cloud Registry artifacts to get")
    for node in spread(nodes):
        assert cloud.call("ArtifactService/Get", artifact_id=node.id) == node
    containers = {_full(node) for node in nodes if node.kind != node.ARTIFACT}
    for node in spread([node for node in nodes if node.kind == node.ARTIFACT and _full(node) not in containers]):
        found = cloud.call("ArtifactService/GetByPath", registry_id=cloud.registry_id, path=_full(node))
        assert found == node, _full(node)


@pytest.mark.behaviour(
    "cloudregistry.RegistryService/ListArtifacts",
    "documented",
    "ListArtifacts lists what lies under a path.",
    "yandex/cloud/cloudregistry/v1/registry_service.proto",
)
def test_the_tree_lists_each_node_under_its_path(cloud, nodes):
    """Documented: ListArtifacts "lists artifacts in the specified registry" under a path: each node
    it lists under a path lies there, and each node is listed under the path it lies at."""
    require(bool(nodes), "Cloud Registry artifacts to list")
    under: dict[str, list[str]] = {}
    for path in sorted({node.path.strip("/") for node in spread(nodes)}):
        listed = cloud.everything("RegistryService/ListArtifacts", registry_id=cloud.registry_id, path=path)
        assert all(node.path.strip("/") == path for node in listed), path
        assert set(_ids(listed)) <= set(_ids(nodes)), path
        under[path] = _ids(listed)
    for node in spread(nodes):
        assert node.id in under[node.path.strip("/")], _full(node)


def test_registries_policies_dry_runs_and_scans_agree_with_their_gets(cloud, policies, scans):
    listed = cloud.everything("RegistryService/List", folder_id=cloud.folder_id)
    assert cloud.call("RegistryService/Get", registry_id=cloud.registry_id) in listed
    for policy, runs in policies:
        assert cloud.call("LifecyclePolicyService/Get", policy_id=policy.id) == policy
        for run in spread(runs, 5):
            assert cloud.call("LifecyclePolicyService/GetDryRunResult", dry_run_id=run.dry_run_id) == run
    for _, results in scans:
        for result in spread(results, 5):
            assert cloud.call("ScannerService/Get", scan_result_id=result.id) == result


@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/ListDryRunResults",
    "documented",
    "Dry run results are listed by run_at, newest first, when no order is given.",
    "yandex/cloud/cloudregistry/v1/lifecycle_policy_service.proto",
)
def test_dry_run_results_are_newest_first_by_default(cloud, policies):
    """Documented: ListDryRunResults' order_by "Defaults to "run_at desc" when empty"."""
    ran = [runs for _, runs in policies if len(runs) > 1]
    require(bool(ran), "Cloud Registry lifecycle policy with two dry runs or more")
    for runs in ran:
        times = [run.run_at.ToNanoseconds() for run in runs]
        assert times == sorted(times, reverse=True), [run.dry_run_id for run in runs]


@pytest.mark.behaviour(
    "cloudregistry.RegistryService/List",
    "documented",
    "A kind filter keeps the registries of those kinds.",
    "yandex/cloud/cloudregistry/v1/registry_service.proto",
)
def test_registries_are_filtered_by_kind(cloud):
    """Documented: RegistryService.List's kind, the kinds of registries to list."""
    everyone = cloud.everything("RegistryService/List", folder_id=cloud.folder_id)
    require(len({registry.kind for registry in everyone}) > 1, "registries of two kinds in the folder")
    for kind in sorted({registry.kind for registry in everyone}):
        kept = cloud.everything("RegistryService/List", folder_id=cloud.folder_id, kind=[kind])
        assert sorted(_ids(kept)) == sorted(r.id for r in everyone if r.kind == kind), kind


@pytest.mark.behaviour(
    "cloudregistry.ScannerService/List",
    "documented",
    "A status filter keeps the scan results of that status.",
    "yandex/cloud/cloudregistry/v1/scanner_service.proto",
)
def test_scan_results_are_filtered_by_status(cloud, scans):
    """Documented: ScannerService.List's filter "by ScanResult.status"."""
    scanned = [(artifact, results) for artifact, results in scans if len({result.status for result in results}) > 1]
    require(bool(scanned), "Cloud Registry artifact with scan results of two statuses")
    for artifact, results in scanned[:5]:
        for status in sorted({result.status for result in results}):
            kept = cloud.everything("ScannerService/List", artifact_id=artifact.id, filter={"status": status})
            assert sorted(_ids(kept)) == sorted(r.id for r in results if r.status == status), (artifact.id, status)


def test_the_artifact_filters_keep_what_their_predicates_keep(cloud, nodes):
    """Documented: name_filter and path_filter (`name = "x"`, `name != "x"`), kind ("to return only
    artifacts, set this to ARTIFACT"), created_after ("at this time or later") and created_before."""
    scope = {"registry_id": cloud.registry_id}
    kinds = {node.kind for node in nodes}
    for kind in kinds:
        kept = cloud.everything("ArtifactService/List", kind=[kind], **scope)
        assert sorted(_ids(kept)) == sorted(node.id for node in nodes if node.kind == kind), kind
    for node in spread(nodes, 5):
        equal = cloud.everything("ArtifactService/List", name_filter=f'name = "{node.name}"', **scope)
        assert sorted(_ids(equal)) == sorted(n.id for n in nodes if n.name == node.name), node.name
        other = cloud.everything("ArtifactService/List", name_filter=f'name != "{node.name}"', **scope)
        assert sorted(_ids(other)) == sorted(n.id for n in nodes if n.name != node.name), node.name
        at = node.created_at
        after = cloud.everything("ArtifactService/List", created_after=at, **scope)
        assert sorted(_ids(after)) == sorted(n.id for n in nodes if n.created_at.ToNanoseconds() >= at.ToNanoseconds())
        before = cloud.everything("ArtifactService/List", created_before=at, **scope)
        assert sorted(_ids(before)) == sorted(n.id for n in nodes if n.created_at.ToNanoseconds() < at.ToNanoseconds())


@pytest.mark.emulator_choice
@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/List",
    "choice",
    "path_filter matches where a node lies, its parent's path, as Artifact.path is.",
    "the reference does not say which path",
)
def test_the_path_filter_matches_a_nodes_path(cloud, nodes):
    """The emulator's reading: ``path`` is where a node lies (its parent's path), as Artifact.path is."""
    scope = {"registry_id": cloud.registry_id}
    for path in sorted({node.path.strip("/") for node in nodes if node.path.strip("/")})[:5]:
        kept = cloud.everything("ArtifactService/List", path_filter=f'path = "{path}"', **scope)
        assert sorted(_ids(kept)) == sorted(n.id for n in nodes if n.path.strip("/") == path), path


def test_an_order_by_name_lists_names_in_order(cloud, nodes):
    """Documented: order_by's "valid fields: name, created_at, modified_at"."""
    for direction, reverse in (("", False), (" desc", True)):
        listed = cloud.everything("ArtifactService/List", registry_id=cloud.registry_id, order_by=f"name{direction}")
        names = [node.name for node in listed]
        assert names == sorted(names, reverse=reverse), direction


def test_a_page_size_beyond_its_annotation_is_invalid_argument(cloud, nodes, policies):
    """Documented: each page_size's (value) annotation ("0-1000", "<=1000")."""
    requests = [
        ("RegistryService/ListArtifacts", {"registry_id": cloud.registry_id}),
        ("ArtifactService/List", {"registry_id": cloud.registry_id}),
        ("LifecyclePolicyService/List", {"registry_id": cloud.registry_id}),
        ("RegistryService/List", {"folder_id": cloud.folder_id}),
    ]
    for method, scope in requests:
        code = _code(lambda method=method, scope=scope: cloud.call(method, page_size=1001, **scope))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, method


def test_unknown_ids_are_not_found(cloud):
    for method, field in (
        ("RegistryService/Get", "registry_id"),
        ("ArtifactService/Get", "artifact_id"),
        ("LifecyclePolicyService/Get", "policy_id"),
        ("LifecyclePolicyService/GetDryRunResult", "dry_run_id"),
        ("ScannerService/Get", "scan_result_id"),
        ("ScanPolicyService/Get", "scan_policy_id"),
    ):
        code = _code(lambda method=method, field=field: cloud.call(method, **{field: UNKNOWN}))
        assert code == grpc.StatusCode.NOT_FOUND, method
    path = _code(lambda: cloud.call("ArtifactService/GetByPath", registry_id=cloud.registry_id, path="no/such/path"))
    assert path == grpc.StatusCode.NOT_FOUND
