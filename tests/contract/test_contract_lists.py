"""Documented of every List the emulator serves, parametrized over the catalogue's Lists (as
tests/test_lists.py is for the emulator alone): pages of any size hold what one big page does,
each resource once, in every scope the List's request can name. No order is documented for the
default order, so pages are compared as sets; the orders a List documents are checked in its own
file (ImageService.List: test_contract.py)."""

from __future__ import annotations

import pytest
from google.protobuf import symbol_database

from emulator.api.wire import CONTAINER_REGISTRY
from emulator.contract.comparison import OBSERVABLE_ORDER_FIELDS
from emulator.rpc.services import CATALOGUE
from tests.contract.relations import check_walk, everything, page_sizes, pages, require

# Container Registry's keyset-paged Lists (Cloud Registry's: test_contract_cloud_registry.py).
LISTS = tuple(method for method in CATALOGUE.keyset_lists if method.service.name.startswith(CONTAINER_REGISTRY))


def _scope_values(target, registry_repositories, registry_policies, registry_scans, kind: str) -> str | None:
    """The target's value for a scope kind (a repository: the registry's first one, if any; a
    lifecycle policy: the first with dry runs, and its first dry run)."""
    if kind == "folder":
        return target.folder_id
    if kind == "registry":
        return target.registry_id
    if kind in ("lifecycle_policy", "dry_run_lifecycle_policy_result"):
        ran = [(policy, results) for policy, results in registry_policies if results]
        if not ran:
            return None
        policy, results = ran[0]
        return policy.id if kind == "lifecycle_policy" else results[0].dry_run_lifecycle_policy_result_id
    if kind == "image_id":  # an image with scan results
        return registry_scans[0].image_id if registry_scans else None
    if kind == "repository_id" and registry_policies:  # a repository with policies
        return registry_policies[0][0].repository_id
    if not registry_repositories:
        return None
    return registry_repositories[0].id if kind == "repository_id" else registry_repositories[0].name


@pytest.mark.parametrize("method", LISTS, ids=[method.short for method in LISTS])
def test_paging_agrees_with_one_big_page_in_every_scope(
    target, registry_repositories, registry_policies, registry_scans, method
):
    call = getattr(target.stub(method.service.short), method.name)  # the target's SDK stub of this List
    request_class = symbol_database.Default().GetSymbol(method.request_type)  # the SDK's own class
    keys = OBSERVABLE_ORDER_FIELDS[method.short]
    for field, kind in method.spec.scopes:
        value = _scope_values(target, registry_repositories, registry_policies, registry_scans, kind)
        require(value is not None, f"a {kind} to list {method.lists} in")
        listed = everything(call, request_class, **{field: value})
        for page_size in page_sizes(len(listed)):
            walk = pages(call, request_class, page_size, **{field: value})
            check_walk(walk, page_size, listed, keys, "", f"{method.short}({field}={value!r}), pages of {page_size}")
