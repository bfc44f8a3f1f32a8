"""Requests of Cloud Registry's Lists that page by position (their handlers read their own
requests: no ListSpec): a registry's tree, every node of a registry or folder, lifecycle policies,
their dry runs and what each found, an artifact's scan results and a result's vulnerabilities.

Each draws its scope from given values (or well-formed unknown ones), and sometimes the filters,
orders, enums, timestamps and page size its request has; ``valid=False`` breaks one to three
parts, each one the emulator answers INVALID_ARGUMENT naming its field: a missing scope, an id
longer than its annotation, a page size out of range, a page token no one issued, a filter or
order_by outside its grammar, an enum number the API does not define."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from hypothesis import strategies as st

from emulator.api.filters import FilterSpec
from emulator.api.wire import message_class
from emulator.contract.strategies._leaves import _TAGS, _pool, _yc_ids, repository_paths
from emulator.contract.strategies.requests import (
    _annotation,
    _fits_filter,
    _garbage_tokens,
    _invalid_filters,
    _invalid_order_bys,
    _too_long,
    _valid_filters,
    _valid_order_bys,
)
from emulator.rpc.services import CATALOGUE
from emulator.rpc.services.cloudregistry.artifacts import NAME_FILTER, ORDERS
from emulator.rpc.services.cloudregistry.artifacts import PATH_FILTER as NODE_PATH_FILTER
from emulator.rpc.services.cloudregistry.lifecycle_policies import PATH_FILTER, VERSION_FILTER

API = "cloudregistry"
MAX_PAGE_SIZE = 1000  # every one's page_size annotation: "0-1000" or "<=1000"
_EARLIEST_S, _LATEST_S = 1_420_070_400, 2_082_758_399  # 2015-2035, as seeds' timestamps


def _page_sizes(valid: bool):
    if valid:
        return st.sampled_from((0, 1, 2, 5, 10, 100, MAX_PAGE_SIZE)) | st.integers(0, MAX_PAGE_SIZE)
    return (
        st.sampled_from((-1, MAX_PAGE_SIZE + 1)) | st.integers(-(2**63), -1) | st.integers(MAX_PAGE_SIZE + 1, 2**63 - 1)
    )


_TIMESTAMPS = st.builds(
    lambda s, n: {"seconds": s, "nanos": n}, st.integers(_EARLIEST_S, _LATEST_S), st.integers(0, 999_999_999)
)
_ARTIFACT_PATHS = st.builds(lambda path, tag: f"{path}/{tag}", repository_paths(), _TAGS)


class _Shape:
    """What one List's request holds besides its scope, read from its descriptor and handler."""

    def __init__(
        self,
        method: str,
        scopes: tuple[str, ...],
        filters: Mapping[str, FilterSpec] = {},
        orders: tuple[str, ...] = (),
        enums: tuple[str, ...] = (),
        times: tuple[str, ...] = (),
        messages: Mapping[str, tuple[str, ...]] = {},  # a filter message's fields: enums, or "name" (text)
        path: bool = False,
    ):
        self.method = f"{API}.{method}"
        self.request_type = CATALOGUE.method(self.method).request_type
        self.scopes, self.filters, self.orders, self.enums = scopes, dict(filters), orders, enums
        self.times, self.messages, self.path = times, dict(messages), path
        self.descriptor = message_class(self.request_type).DESCRIPTOR

    def defined(self, field: str, within: str | None = None) -> list[int]:
        descriptor = self.descriptor.fields_by_name[within].message_type if within else self.descriptor
        return [value.number for value in descriptor.fields_by_name[field].enum_type.values if value.number]


_SHAPES = {
    shape.method: shape
    for shape in (
        _Shape("RegistryService/ListArtifacts", ("registry_id",), path=True),
        _Shape(
            "ArtifactService/List",
            ("registry_id", "folder_id"),
            {"name_filter": NAME_FILTER, "path_filter": NODE_PATH_FILTER},
            ORDERS,
            ("registry_kind", "registry_type", "status", "kind"),
            ("created_after", "created_before"),
        ),  # fmt: skip
        _Shape("LifecyclePolicyService/List", ("registry_id",)),
        _Shape(
            "LifecyclePolicyService/ListDryRunResults",
            ("policy_id",),
            orders=("id", "run_at"),
            times=("run_after", "run_before"),
        ),  # fmt: skip
        _Shape(
            "LifecyclePolicyService/ListDryRunArtifacts",
            ("dry_run_id",),
            {"path_filter": PATH_FILTER, "version_filter": VERSION_FILTER},
            orders=("path",),
        ),  # fmt: skip
        _Shape("ScannerService/List", ("artifact_id",), orders=("id", "status"), messages={"filter": ("status",)}),
        _Shape(
            "ScannerService/ListVulnerabilities",
            ("scan_result_id",),
            orders=("severity",),
            messages={"filter": ("severity", "name")},
        ),  # fmt: skip
    )
}
POSITION_LIST_METHODS = tuple(_SHAPES)


def _ids(values, argument: str, prefix: str = "cn1"):
    pool = _pool(values, argument, lambda value: len(value) <= 50, "is longer than an id may be (50)")
    return st.sampled_from(pool) if pool else _yc_ids(prefix)


def _requests(shape: _Shape, valid: bool, sources: dict, names=(), paths=(), containers=()):
    """Requests of one List: ``sources``, scope field -> its values' strategy (None: not drawn)."""
    primary = [field for field in shape.scopes if sources.get(field) is not None]
    filter_values = {}
    for field, given, drawn in (("name", names, _TAGS), ("path", paths, _ARTIFACT_PATHS), ("version", names, _TAGS)):
        spec = next((spec for spec in shape.filters.values() if spec.field == field), None)
        usable = [value for value in given if spec is None or _fits_filter(spec)(value)]  # others: left out
        filter_values[field] = st.sampled_from(usable) | drawn if usable else drawn
    limits = {
        field: _annotation(shape.request_type, field)[0] or 1000
        for field in (*shape.filters, *(["order_by"] if shape.orders else []))
    }
    breakable = ["scope", "page_size", "page_token", *shape.filters, *(["order_by"] if shape.orders else [])]
    breakable += [f"{field}:enum" for field in shape.enums]
    breakable += [f"{field}:length" for field in primary]

    @st.composite
    def build(draw) -> dict:
        request: dict = {}
        chosen = draw(st.sampled_from(primary))
        request[chosen] = draw(sources[chosen])
        for other in primary:  # the other scope beside it, sometimes (the registry wins over the folder)
            if other != chosen and draw(st.integers(0, 2)) == 0:
                request[other] = draw(sources[other])
        if shape.path and draw(st.booleans()):  # the top, or a folder's or package's path in that registry
            inside = [name.partition("/")[2] for name in containers if name.startswith(f"{request[chosen]}/")]
            paths_here = st.sampled_from(inside) if inside else st.nothing() if containers else repository_paths()
            request["path"] = draw(st.sampled_from(("", "/")) | paths_here)
        for field, spec in shape.filters.items():
            if draw(st.integers(0, 2)) == 0:
                request[field] = draw(_valid_filters(spec, filter_values[spec.field], limits[field]))
        for field in shape.enums:
            if draw(st.integers(0, 3)) == 0:
                request[field] = draw(st.lists(st.sampled_from(shape.defined(field)), max_size=2, unique=True))
        for field in shape.times:
            if draw(st.integers(0, 3)) == 0:
                request[field] = draw(_TIMESTAMPS)
        for field, parts in shape.messages.items():
            if draw(st.booleans()):
                message = {}
                for part in parts:
                    if part == "name" and draw(st.booleans()):
                        message["name"] = draw(
                            st.sampled_from(("CVE-2024-1", "CVE-2023-4863")) | st.sampled_from(names or ("x",))
                        )
                    elif part != "name" and draw(st.booleans()):
                        message[part] = draw(st.sampled_from(shape.defined(part, field)))
                request[field] = message
        if shape.orders and draw(st.booleans()):
            request["order_by"] = draw(_valid_order_bys(shape.orders, limits["order_by"]))
        if draw(st.booleans()):
            request["page_size"] = draw(_page_sizes(True))
        if valid:
            return request
        for part in draw(st.lists(st.sampled_from(breakable), min_size=1, max_size=3, unique=True)):
            field, _, rule = part.partition(":")
            if part == "scope":
                for name in shape.scopes:
                    request.pop(name, None)
            elif part == "page_size":
                request["page_size"] = draw(_page_sizes(False))
            elif part == "page_token":
                request["page_token"] = draw(_garbage_tokens(100))
            elif part == "order_by":
                request["order_by"] = draw(_invalid_order_bys(shape.orders, limits["order_by"]))
            elif rule == "enum":
                defined = shape.defined(field)
                undefined = draw(st.integers(1, 2**31 - 1).filter(lambda number: number not in defined))
                request[field] = [*request.get(field, []), undefined]
            elif rule == "length":
                request[field] = draw(_too_long(50))
            else:  # a filter
                spec = shape.filters[field]
                request[field] = draw(_invalid_filters(spec, filter_values[spec.field], limits[field]))
        return request

    return build()


def _scope(valid_values: dict[str, object]) -> dict:
    given = any(values is not None and len(values) for values in valid_values.values())
    return {
        field: (_ids(values, f"{field}s") if values else None)
        if given
        else _yc_ids("b1g" if field == "folder_id" else "cn1")
        for field, values in valid_values.items()
    }


def list_registry_artifacts_requests(*, valid=True, registry_ids=(), paths=()):
    """cloudregistry.RegistryService/ListArtifacts: what lies right under a path of a registry
    (``registry_id`` from ``registry_ids``; ``path`` sometimes: the top, or, when ``paths`` are given
    (``<registry_id>/<path>`` of folders and packages), one of that registry's)."""
    shape = _SHAPES[f"{API}.RegistryService/ListArtifacts"]
    return _requests(shape, valid, _scope({"registry_id": registry_ids}), containers=tuple(paths))


def list_artifacts_requests(*, valid=True, registry_ids=(), folder_ids=(), names=(), paths=()):
    """cloudregistry.ArtifactService/List: every node of a registry or of a folder's registries,
    with ``name_filter`` and ``path_filter`` (values from ``names`` and ``paths``: where nodes lie,
    the folders' and packages' paths; values a filter cannot hold are left out), kind, status and
    registry kind and type lists, created_after/created_before, order_by over name, created_at,
    modified_at and id."""
    shape = _SHAPES[f"{API}.ArtifactService/List"]
    scope = _scope({"registry_id": registry_ids, "folder_id": folder_ids})
    return _requests(shape, valid, scope, names=tuple(names), paths=tuple(paths))


def list_cloud_lifecycle_policies_requests(*, valid=True, registry_ids=()):
    """cloudregistry.LifecyclePolicyService/List: a registry's policies."""
    return _requests(_SHAPES[f"{API}.LifecyclePolicyService/List"], valid, _scope({"registry_id": registry_ids}))


def list_cloud_dry_run_results_requests(*, valid=True, policy_ids=()):
    """cloudregistry.LifecyclePolicyService/ListDryRunResults: a policy's dry runs, run_after and
    run_before, order_by run_at or id."""
    shape = _SHAPES[f"{API}.LifecyclePolicyService/ListDryRunResults"]
    return _requests(shape, valid, _scope({"policy_id": policy_ids}))


def list_dry_run_artifacts_requests(*, valid=True, dry_run_ids=(), paths=(), versions=()):
    """cloudregistry.LifecyclePolicyService/ListDryRunArtifacts: what a dry run found, filtered by
    ``path_filter`` (full paths with their leading ``/``) and ``version_filter``, order_by path."""
    shape = _SHAPES[f"{API}.LifecyclePolicyService/ListDryRunArtifacts"]
    return _requests(shape, valid, _scope({"dry_run_id": dry_run_ids}), names=tuple(versions), paths=tuple(paths))


def list_artifact_scan_results_requests(*, valid=True, artifact_ids=()):
    """cloudregistry.ScannerService/List: an artifact's scan results, its ``filter`` message's
    status, order_by id or status."""
    return _requests(_SHAPES[f"{API}.ScannerService/List"], valid, _scope({"artifact_id": artifact_ids}))


def list_vulnerabilities_requests(*, valid=True, scan_result_ids=(), names=()):
    """cloudregistry.ScannerService/ListVulnerabilities: a result's vulnerabilities, its ``filter``
    message's severity and name, order_by severity."""
    shape = _SHAPES[f"{API}.ScannerService/ListVulnerabilities"]
    return _requests(shape, valid, _scope({"scan_result_id": scan_result_ids}), names=tuple(names))


# The builders by method, and the scope_values pools each draws from when requests come from a seed.
BUILDERS: dict[str, tuple[Callable, dict[str, str]]] = {
    f"{API}.RegistryService/ListArtifacts": (
        list_registry_artifacts_requests, {"registry_ids": "cloud_registry_ids", "paths": "cloud_containers"}
    ),
    f"{API}.ArtifactService/List": (
        list_artifacts_requests,
        {"registry_ids": "cloud_registry_ids", "folder_ids": "cloud_folder_ids", "paths": "cloud_node_paths"},
    ),
    f"{API}.LifecyclePolicyService/List": (list_cloud_lifecycle_policies_requests, {"registry_ids": "cloud_registry_ids"}),
    f"{API}.LifecyclePolicyService/ListDryRunResults": (
        list_cloud_dry_run_results_requests, {"policy_ids": "cloud_lifecycle_policy_ids"}
    ),
    f"{API}.LifecyclePolicyService/ListDryRunArtifacts": (
        list_dry_run_artifacts_requests, {"dry_run_ids": "cloud_dry_run_ids", "paths": "cloud_affected_paths"}
    ),
    f"{API}.ScannerService/List": (list_artifact_scan_results_requests, {"artifact_ids": "artifact_ids"}),
    f"{API}.ScannerService/ListVulnerabilities": (list_vulnerabilities_requests, {"scan_result_ids": "cloud_scan_result_ids"}),
}  # fmt: skip
