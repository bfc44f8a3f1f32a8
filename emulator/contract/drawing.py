"""What ``ycr-emulator diff`` sends: the scope discovered on both targets (the values requests are
drawn from), the branches of drawn requests (each List and Get, known, invalid and unknown values)
and their shares of the examples, and the hypothesis run that hands each drawn request on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message

from emulator.contract.client import RegistryClient
from emulator.contract.comparison import (
    LISTED,
)
from emulator.contract.sending import UsageError, _check_interrupted, _TimeUp, render_request, send
from emulator.rpc.services import CATALOGUE
from emulator.state.images import IMAGE_ORDERS

PROG = "ycr-emulator diff"
CLOUD = "cloudregistry"  # Cloud Registry's services' short names begin so

# Discovering the scope and drawing requests ----------------------------------------------

# The Lists branches() draws requests of (each with the scope values discover() finds for it): every
# List the catalogue declares must be here, and tests/test_catalogue.py fails until it is.
DRAWN_LISTS = (
    "ImageService/List",
    "RepositoryService/List",
    "RegistryService/List",
    "cloudregistry.RegistryService/List",
    "LifecyclePolicyService/List",
    "LifecyclePolicyService/ListDryRunResults",
    "LifecyclePolicyService/ListDryRunResultAffectedImages",
    "ScannerService/List",
    *(method.short for method in CATALOGUE.lists if method.spec is None),  # Cloud Registry's, paged by position
)
DISCOVERY_PAGES = 10  # pages of 1,000 read per List while discovering the scope's values
SCANNED_ARTIFACTS = 200  # Cloud Registry artifacts whose scan results discovery reads (one call each)
SCANNED_REPOSITORIES = 200  # Container Registry repositories whose scan results discovery reads, likewise
MAX_WHOLE = 1_000  # Cloud Registry scopes (registries, folders, packages) listed whole, once each


@dataclass
class Values:
    """What exists in the scope on either target: the values requests are drawn from."""

    folder_ids: set[str] = field(default_factory=set)
    registry_ids: set[str] = field(default_factory=set)
    registry_names: set[str] = field(default_factory=set)
    repository_names: set[str] = field(default_factory=set)
    repository_ids: set[str] = field(default_factory=set)
    image_ids: set[str] = field(default_factory=set)
    image_names: set[str] = field(default_factory=set)
    lifecycle_policy_ids: set[str] = field(default_factory=set)
    lifecycle_policy_names: set[str] = field(default_factory=set)
    dry_run_lifecycle_policy_result_ids: set[str] = field(default_factory=set)
    scan_policy_ids: set[str] = field(default_factory=set)  # a registry's one, by GetByRegistry
    scan_result_ids: set[str] = field(default_factory=set)  # of each repository
    # Cloud Registry's: registries, nodes (ids, <registry_id>/<path> of folders and packages, artifacts'
    # paths and names), policies, dry runs, scan results; the Gets of each draw from the same names.
    cloud_registry_ids: set[str] = field(default_factory=set)
    artifact_ids: set[str] = field(default_factory=set)
    cloud_containers: set[str] = field(default_factory=set)
    node_paths: set[str] = field(default_factory=set)  # where nodes lie (a path_filter's values)
    cloud_paths: set[str] = field(default_factory=set)
    artifact_names: set[str] = field(default_factory=set)
    policy_ids: set[str] = field(default_factory=set)
    dry_run_ids: set[str] = field(default_factory=set)
    cloud_scan_result_ids: set[str] = field(default_factory=set)
    cloud_scan_policy_ids: set[str] = field(default_factory=set)

    def sorted(self, name: str) -> tuple[str, ...]:
        return tuple(sorted(getattr(self, name)))


def _listed(client: RegistryClient, side: str, method: str, **fields) -> list[Message]:
    """Up to DISCOVERY_PAGES pages of a List; [] if its scope is NOT_FOUND on this side."""
    resources: list[Message] = []
    request = client.request(method, page_size=1000, **fields)
    for _ in range(DISCOVERY_PAGES):
        try:
            response = send(client, method, request)
        except grpc.RpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNIMPLEMENTED):  # not there, or not served
                return resources
            raise UsageError(_setup_failure(client, side, method, fields, error)) from None
        resources += getattr(response, LISTED[method])
        if not response.next_page_token:
            break
        request.page_token = response.next_page_token
    return resources


def _registry(
    client: RegistryClient, side: str, registry_id: str, method: str = "RegistryService/Get"
) -> list[Message]:
    """The registry (Container Registry's, or with ``method`` Cloud Registry's), or [] if it is
    NOT_FOUND on this side (or that API is not served: UNIMPLEMENTED). Any Get of a registry's one
    resource (a scan policy's GetByRegistry) alike."""
    try:
        return [send(client, method, client.request(method, registry_id=registry_id))]
    except grpc.RpcError as error:
        if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNIMPLEMENTED):
            return []
        raise UsageError(_setup_failure(client, side, method, {"registry_id": registry_id}, error))


def _setup_failure(client: RegistryClient, side: str, method: str, fields: dict, error: grpc.RpcError) -> str:
    details = " ".join((error.details() or "").split())[:200]
    return f"{side} ({client.endpoint}): {render_request(method, fields)}: {error.code().name}" + (
        f": {details}" if details else ""
    )


def discover(clients: dict[str, RegistryClient], folder_id: str | None, registry_id: str | None) -> Values:
    """The union of the scope's values on both sides. NOT_FOUND on one side contributes nothing
    (that difference shows in the answers); any other error means the run cannot start, and so
    does a scope with no registry on either side (two empty scopes agree, proving nothing)."""
    values = Values(folder_ids={folder_id} if folder_id is not None else set())
    for side, client in clients.items():
        if folder_id is not None:
            registries = _listed(client, side, "RegistryService/List", folder_id=folder_id)
            cloud = _listed(client, side, f"{CLOUD}.RegistryService/List", folder_id=folder_id)
        else:
            registries = _registry(client, side, registry_id)
            cloud = _registry(client, side, registry_id, f"{CLOUD}.RegistryService/Get")
        for registry in registries:
            values.registry_ids.add(registry.id)
            if registry.name:
                values.registry_names.add(registry.name)
        values.cloud_registry_ids.update(registry.id for registry in cloud)
    if registry_id is not None and not (values.registry_ids or values.cloud_registry_ids):
        raise UsageError(f"registry {registry_id}: NOT_FOUND on both A and B")
    if not (values.registry_ids or values.cloud_registry_ids):
        raise UsageError(f"folder {folder_id}: no registry on A or B, nothing to compare")
    _discover_cloud(clients, values)
    for side, client in clients.items():
        for known in sorted(values.registry_ids):
            for policy in _registry(client, side, known, "ScanPolicyService/GetByRegistry"):
                values.scan_policy_ids.add(policy.id)
            for repository in _listed(client, side, "RepositoryService/List", registry_id=known):
                values.repository_names.add(repository.name)
                values.repository_ids.add(repository.id)
            for image in _listed(client, side, "ImageService/List", registry_id=known):
                values.image_ids.add(image.id)
                values.image_names.add(image.name)
                values.repository_names.add(image.name)
            for policy in _listed(client, side, "LifecyclePolicyService/List", registry_id=known):
                values.lifecycle_policy_ids.add(policy.id)
                if policy.name:
                    values.lifecycle_policy_names.add(policy.name)
    for side, client in clients.items():
        for repository_id in values.sorted("repository_ids")[:SCANNED_REPOSITORIES]:
            method = "ScannerService/List"
            values.scan_result_ids.update(
                result.id for result in _listed(client, side, method, repository_id=repository_id)
            )
        for policy_id in sorted(values.lifecycle_policy_ids):
            for result in _listed(
                client, side, "LifecyclePolicyService/ListDryRunResults", lifecycle_policy_id=policy_id
            ):
                values.dry_run_lifecycle_policy_result_ids.add(result.dry_run_lifecycle_policy_result_id)
    return values


def _discover_cloud(clients: dict[str, RegistryClient], values: Values) -> None:
    """Cloud Registry's values of the scope's registries on both sides: nodes, policies, dry runs,
    and the scan results of the first SCANNED_ARTIFACTS artifacts."""
    artifacts: list[str] = []
    for side, client in clients.items():
        for registry_id in sorted(values.cloud_registry_ids):
            for node in _listed(client, side, f"{CLOUD}.ArtifactService/List", registry_id=registry_id):
                full = f"{node.path.strip('/')}/{node.name}".strip("/")
                values.artifact_ids.add(node.id)
                if node.kind == node.ARTIFACT:
                    values.cloud_paths.add(full)
                    values.artifact_names.add(node.name)
                    artifacts.append(node.id)
                else:
                    values.cloud_containers.add(f"{registry_id}/{full}")
                    values.node_paths.add(full)
            for policy in _listed(client, side, f"{CLOUD}.LifecyclePolicyService/List", registry_id=registry_id):
                values.policy_ids.add(policy.id)
            for policy in _registry(client, side, registry_id, f"{CLOUD}.ScanPolicyService/GetByRegistry"):
                values.cloud_scan_policy_ids.add(policy.id)
    for side, client in clients.items():
        for policy_id in sorted(values.policy_ids):
            method = f"{CLOUD}.LifecyclePolicyService/ListDryRunResults"
            values.dry_run_ids.update(run.dry_run_id for run in _listed(client, side, method, policy_id=policy_id))
        for artifact_id in sorted(set(artifacts))[:SCANNED_ARTIFACTS]:
            method = f"{CLOUD}.ScannerService/List"
            values.cloud_scan_result_ids.update(
                result.id for result in _listed(client, side, method, artifact_id=artifact_id)
            )


# Where each position-paged List's strategy takes its values from: its keyword -> the Values field.
_CLOUD_POOLS = {
    f"{CLOUD}.RegistryService/ListArtifacts": {"registry_ids": "cloud_registry_ids", "paths": "cloud_containers"},
    f"{CLOUD}.ArtifactService/List": {
        "registry_ids": "cloud_registry_ids", "folder_ids": "folder_ids", "names": "artifact_names",
        "paths": "node_paths",
    },
    f"{CLOUD}.LifecyclePolicyService/List": {"registry_ids": "cloud_registry_ids"},
    f"{CLOUD}.LifecyclePolicyService/ListDryRunResults": {"policy_ids": "policy_ids"},
    f"{CLOUD}.LifecyclePolicyService/ListDryRunArtifacts": {"dry_run_ids": "dry_run_ids"},
    f"{CLOUD}.ScannerService/List": {"artifact_ids": "artifact_ids"},
    f"{CLOUD}.ScannerService/ListVulnerabilities": {"scan_result_ids": "cloud_scan_result_ids"},
}  # fmt: skip


@dataclass(frozen=True)
class Branch:
    """One kind of request, drawn by its own hypothesis run: a method, valid or invalid, over the
    scope's values (``known``) or over values no target holds (unknown ids, other folders)."""

    method: str
    variant: str  # "known", "ordered", "invalid" or "unknown"
    weight: int  # its share of --examples
    strategy: Any  # draws request field dicts


# Lists vary more (scope, filter, order, page size) than Gets (one id), so they get more draws.
WEIGHTS = {("List", "known"): 4, ("List", "ordered"): 2, ("List", "invalid"): 2, ("List", "unknown"): 1}
WEIGHTS |= {("Get", "known"): 2, ("Get", "invalid"): 1, ("Get", "unknown"): 1}


def _no_folder_id(request: dict) -> bool:
    return "folder_id" not in request


def branches(values: Values, folder_wide: bool) -> list[Branch]:
    """Every List and Get, each valid over the scope's values, invalid, and valid over unknown
    values. Without --folder-id no request carries a folder_id, valid or not, known or unknown
    (the other side may hold more of a folder than the one registry compared). OperationService/Get
    has unknown ids only: no List finds operations. ImageService/List also gets known requests in
    each field's order made total by the id (``last_modified desc, id desc``): an order by a field
    Image does not show (last_modified) can only be checked as an exact sequence, and the drawn
    orders put it before the id in about one request in eight."""
    from hypothesis import strategies as st

    from emulator.contract import strategies

    folders = values.sorted("folder_ids") if folder_wide else ()
    registry_ids, repository_names = values.sorted("registry_ids"), values.sorted("repository_names")

    from emulator.contract.strategies.cloud import BUILDERS

    def lists(method: str, known: bool, valid: bool = True):
        if method in _CLOUD_POOLS:  # Cloud Registry's, paged by position
            pools = {argument: values.sorted(name) for argument, name in _CLOUD_POOLS[method].items()}
            if not folder_wide:
                pools.pop("folder_ids", None)
            drawn = BUILDERS[method][0](valid=valid, **(pools if known else {}))
            return drawn if folder_wide else drawn.filter(_no_folder_id)
        if method.startswith("LifecyclePolicyService/"):  # by ids only: never a folder_id
            return _lifecycle_lists(method, values, known, valid)
        if method == "ScannerService/List":
            scope = {"image_ids": values.sorted("image_ids"), "repository_ids": values.sorted("repository_ids")}
            return strategies.list_scan_results_requests(valid=valid, **(scope if known else {}))
        if method == "RegistryService/List":
            scope = {"folder_ids": folders, "registry_names": values.sorted("registry_names")}
            return strategies.list_registries_requests(valid=valid, **(scope if known else {}))
        if method == "cloudregistry.RegistryService/List":  # the folder's Cloud Registry registries
            return strategies.list_cloud_registries_requests(valid=valid, **({"folder_ids": folders} if known else {}))
        scope = {"folder_ids": folders, "registry_ids": registry_ids, "repository_names": repository_names}
        if method == "RepositoryService/List":
            drawn = strategies.list_repositories_requests(valid=valid, **(scope if known else {}))
        else:
            scope["image_names"] = values.sorted("image_names")
            drawn = strategies.list_images_requests(valid=valid, **(scope if known else {}))
        return drawn if folder_wide else drawn.filter(_no_folder_id)

    def ordered(method: str):
        fields, direction = (
            st.sampled_from([name for name in IMAGE_ORDERS if name != "id"]),
            st.sampled_from(("", " desc")),
        )
        return st.tuples(lists(method, known=True), fields, direction).map(
            lambda drawn: {**drawn[0], "order_by": f"{drawn[1]}{drawn[2]}, id{drawn[2]}"}
        )

    found = []
    for method in DRAWN_LISTS:
        if method in ("RegistryService/List", "cloudregistry.RegistryService/List") and not folder_wide:
            continue
        if method in _LISTS_OF_FOUND and not values.sorted(_LISTS_OF_FOUND[method]):
            continue  # nothing found to list the children of: every request would be NOT_FOUND on both
        found.append(Branch(method, "known", WEIGHTS["List", "known"], lists(method, known=True)))
        if method == "ImageService/List":
            found.append(Branch(method, "ordered", WEIGHTS["List", "ordered"], ordered(method)))
        found += [
            Branch(method, "invalid", WEIGHTS["List", "invalid"], lists(method, known=True, valid=False)),
            Branch(method, "unknown", WEIGHTS["List", "unknown"], lists(method, known=False)),
        ]
    # Each Get of the catalogue, its ids from what was found (image_id: image_ids; operations are not discovered).
    pools = {method.short: f"{method.gets}s" for method in CATALOGUE.gets}
    pools[f"{CLOUD}.RegistryService/Get"] = "cloud_registry_ids"  # registry_ids: Container Registry's
    pools[f"{CLOUD}.ScannerService/Get"] = "cloud_scan_result_ids"
    pools[f"{CLOUD}.ScanPolicyService/Get"] = "cloud_scan_policy_ids"
    gets = {method: values.sorted(pool) if hasattr(values, pool) else () for method, pool in pools.items()}
    for method, ids in gets.items():
        if ids:
            found.append(Branch(method, "known", WEIGHTS["Get", "known"], strategies.get_requests(method, ids=ids)))
        found.append(
            Branch(method, "invalid", WEIGHTS["Get", "invalid"], strategies.get_requests(method, valid=False, ids=ids))
        )
        found.append(Branch(method, "unknown", WEIGHTS["Get", "unknown"], strategies.get_requests(method)))
    return found


def whole_lists(values: Values, folder_wide: bool) -> list[tuple[str, dict]]:
    """Requests of Cloud Registry's tree Lists with a scope and nothing else, sent once each before
    anything is drawn: each registry (and the folder) under ArtifactService.List, each registry, folder
    and package under ListArtifacts, so a changed node is always compared (at most MAX_WHOLE)."""
    registries = [{"registry_id": registry_id} for registry_id in values.sorted("cloud_registry_ids")]
    folders = [{"folder_id": folder_id} for folder_id in values.sorted("folder_ids")] if folder_wide else []
    containers = [
        {"registry_id": name.partition("/")[0], "path": name.partition("/")[2]}
        for name in values.sorted("cloud_containers")
    ]
    requests = [(f"{CLOUD}.ArtifactService/List", scope) for scope in registries + folders]
    requests += [(f"{CLOUD}.RegistryService/ListArtifacts", scope) for scope in registries + containers]
    return [(method, {**scope, "page_size": 1000}) for method, scope in requests[:MAX_WHOLE]]


# Lists of a found resource's children, and the values naming those resources.
_LISTS_OF_FOUND = {
    "LifecyclePolicyService/ListDryRunResults": "lifecycle_policy_ids",
    "LifecyclePolicyService/ListDryRunResultAffectedImages": "dry_run_lifecycle_policy_result_ids",
    **{method: next(iter(pools.values())) for method, pools in _CLOUD_POOLS.items()},  # its first: the scope
}


def _lifecycle_lists(method: str, values: Values, known: bool, valid: bool):
    from emulator.contract import strategies

    names = {"policy_names": values.sorted("lifecycle_policy_names")}
    if method == "LifecyclePolicyService/List":
        scope = {"registry_ids": values.sorted("registry_ids"), **names}
        return strategies.list_lifecycle_policies_requests(valid=valid, **(scope if known else {}))
    if method == "LifecyclePolicyService/ListDryRunResults":
        scope = {"lifecycle_policy_ids": values.sorted("lifecycle_policy_ids"), **names}
        return strategies.list_dry_run_results_requests(valid=valid, **(scope if known else {}))
    scope = {
        "dry_run_lifecycle_policy_result_ids": values.sorted("dry_run_lifecycle_policy_result_ids"),
        "repository_names": values.sorted("repository_names"),
    }
    return strategies.list_affected_images_requests(valid=valid, **(scope if known else {}))


def shares(weights: list[int], total: int) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders first, ties to the first),
    each share at least one while ``total`` allows, so that every kind of request is sent."""
    floor = 1 if total >= len(weights) else 0
    total -= floor * len(weights)
    exact = [total * weight / sum(weights) for weight in weights]
    counts = [int(share) for share in exact]
    for index in sorted(range(len(weights)), key=lambda index: counts[index] - exact[index])[: total - sum(counts)]:
        counts[index] += 1
    return [count + floor for count in counts]


def draw_requests(strategy, handle: Callable[[dict], None], *, examples: int, seed: int, deadline: float) -> None:
    """Runs hypothesis over ``strategy``, handing each drawn request to ``handle`` (which sends
    it), until ``examples`` were drawn, the strategy ran out of distinct values, or ``deadline``
    (time.monotonic) passed. Nothing fails or shrinks: an example is a request to record, never
    a test to pass. The same seed draws the same requests (no example database, no
    time-dependent health checks or deadlines). Ctrl-C raises Interrupted out of it."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as with_seed

    @with_seed(seed)
    @settings(
        max_examples=examples,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(strategy)
    def run(request):
        _check_interrupted()  # before anything: hypothesis replays a failing example once, and it raises again
        if time.monotonic() > deadline:
            raise _TimeUp  # likewise
        handle(request)

    try:
        run()
    except _TimeUp:
        pass
