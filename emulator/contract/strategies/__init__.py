"""Hypothesis strategies for the Container Registry and Cloud Registry APIs and the emulator's seed format.

For property tests of code that talks to Container Registry (against the emulator), and for
contract tests of any endpoint (``ycr-emulator diff`` draws its requests here). A request is a
dict of request field names to values, so any client can send it: the official SDK's
``pb.ListImagesRequest(**request)``, or ``RegistryClient.call("ImageService/List", **request)``.
A field missing from the dict is unset.

``valid=True`` strategies never draw a request the emulator answers INVALID_ARGUMENT;
``valid=False`` ones draw only such requests (a valid request with one to three parts broken).
The rules are the emulator's own: lengths and patterns come from the proto annotations, the
scopes, filter fields and order_by fields of each List from its ListSpec, and the filter and
order_by expressions are drawn to the grammars emulator.api.filters and emulator.api.ordering parse
(tests/test_strategies.py sends every kind to the emulator). Valid requests hold no
page token (tokens come from the target); invalid ones may hold a garbage one.

Seeds are in the format ``Emulator.load_seed`` and ``--seed`` read, and always load: ids are
unique, tags unique within a repository, at most one image per repository and digest. Draws are
small by default, so they are cheap and shrink fast; parameters make them bigger.
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401
except ImportError as error:  # hypothesis is an optional dependency
    raise ImportError(
        "emulator.contract.strategies needs hypothesis: pip install 'ycr-emulator[contract]'", name="hypothesis"
    ) from error

from emulator.contract.strategies._leaves import repository_paths, timestamps
from emulator.contract.strategies.cloud import (
    POSITION_LIST_METHODS,
    list_artifact_scan_results_requests,
    list_artifacts_requests,
    list_cloud_dry_run_results_requests,
    list_cloud_lifecycle_policies_requests,
    list_dry_run_artifacts_requests,
    list_registry_artifacts_requests,
    list_vulnerabilities_requests,
)
from emulator.contract.strategies.requests import (
    GET_METHODS,
    KEYSET_LIST_METHODS,
    filters,
    get_requests,
    list_affected_images_requests,
    list_cloud_registries_requests,
    list_dry_run_results_requests,
    list_images_requests,
    list_lifecycle_policies_requests,
    list_registries_requests,
    list_repositories_requests,
    list_scan_results_requests,
    order_bys,
    page_sizes,
    read_filter,
    requests_for,
)
from emulator.contract.strategies.seeds import images, registries, scope_values, seeds

LIST_METHODS = KEYSET_LIST_METHODS + POSITION_LIST_METHODS  # every List of the catalogue

__all__ = [
    "GET_METHODS",
    "KEYSET_LIST_METHODS",
    "LIST_METHODS",
    "POSITION_LIST_METHODS",
    "filters",
    "get_requests",
    "images",
    "list_affected_images_requests",
    "list_artifact_scan_results_requests",
    "list_artifacts_requests",
    "list_cloud_dry_run_results_requests",
    "list_cloud_lifecycle_policies_requests",
    "list_dry_run_artifacts_requests",
    "list_registry_artifacts_requests",
    "list_vulnerabilities_requests",
    "list_cloud_registries_requests",
    "list_dry_run_results_requests",
    "list_images_requests",
    "list_lifecycle_policies_requests",
    "list_registries_requests",
    "list_repositories_requests",
    "list_scan_results_requests",
    "order_bys",
    "page_sizes",
    "read_filter",
    "registries",
    "repository_paths",
    "requests_for",
    "scope_values",
    "seeds",
    "timestamps",
]
