"""RegistryService (Get, List) as both the emulator and the real service must show it: read-only
relations that hold for any data (see test_contract.py).

Documented (registry_service.proto): List "Retrieves the list of Registry resources in the
specified folder" (folder_id required, at most 50 characters); filtering "only on [Registry.name]",
with "=" and a double-quoted value of "3-63 characters" matching ``[a-z][-a-z0-9]{1,61}[a-z0-9]``;
page size "Default value: 100", at most 1000; page tokens at most 100 characters; Get's
registry_id required, at most 50 characters. ListRegistriesRequest has no order_by, so no order is
documented: pages are compared with one big page as sets. The emulator lists by id (its choice).
"""

from __future__ import annotations

import re

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as pb

from conftest import rpc_error
from tests.contract.relations import (
    TIMEOUT,
    UNKNOWN_ID,
    chunks,
    everything,
    ids,
    page_sizes,
    pages,
    require,
    spread,
)

pytestmark = pytest.mark.contract
emulator_choice = pytest.mark.emulator_choice

NAME_VALUE = re.compile(r"[a-z][-a-z0-9]{1,61}[a-z0-9]")  # the documented filter value
NO_KEYS: dict = {}


def listing(target, **fields) -> list:
    return everything(target.registries.List, pb.ListRegistriesRequest, folder_id=target.folder_id, **fields)


def test_the_folder_lists_the_registry_and_only_its_own(target, folder_registries):
    """Documented: List gives the folder's registries; the registry the suite reads is one of them
    and its folder is the folder Get names."""
    assert target.registry_id in ids(folder_registries)
    assert {registry.folder_id for registry in folder_registries} == {target.folder_id}


@emulator_choice
@pytest.mark.behaviour(
    "RegistryService/List",
    "choice",
    "Registries are listed by id; pages cut one big page.",
    "the reference gives no order",
)
def test_registries_are_listed_by_id_and_pages_cut_one_big_page(target, folder_registries):
    """The emulator's choice: registries are listed by id, and pages are one big page cut in pieces."""
    assert ids(folder_registries) == sorted(ids(folder_registries))
    for page_size in page_sizes(len(folder_registries), wanted=(1, 2)):
        walk = pages(target.registries.List, pb.ListRegistriesRequest, page_size, folder_id=target.folder_id)
        assert [ids(page) for page in walk] == [ids(piece) for piece in chunks(folder_registries, page_size)]


@pytest.mark.behaviour(
    "RegistryService/List",
    "documented",
    "The default page size is 100.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Registry/list.md (Default value: 100)",
)
def test_the_default_page_size_is_100(target, folder_registries):
    """Documented: "Default value: 100"."""
    page = target.registries.List(pb.ListRegistriesRequest(folder_id=target.folder_id), timeout=TIMEOUT)
    assert len(page.registries) == min(100, len(folder_registries))


@pytest.mark.behaviour(
    "RegistryService/List",
    "documented",
    '`name = "<value>"` keeps the registries of that name.',
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Registry/list.md",
)
def test_a_name_filter_agrees_with_the_listing(target, folder_registries):
    """Documented: ``name = "<value>"`` keeps the registries of that name; a name no registry has
    lists nothing."""
    names = sorted({registry.name for registry in folder_registries if NAME_VALUE.fullmatch(registry.name)})
    require(names, "registry whose name the documented filter value matches")
    for name in [*spread(names, 10), "no-such-registry"]:
        got = listing(target, filter=f'name = "{name}"')
        assert sorted(ids(got)) == sorted(r.id for r in folder_registries if r.name == name), name


@emulator_choice
@pytest.mark.behaviour(
    "RegistryService/List",
    "choice",
    "The filter takes the image filter's grammar: !=, IN, NOT IN, single quotes.",
    "one grammar for every List",
)
def test_the_filter_forms_the_emulator_adds_agree_with_the_listing(target, folder_registries):
    """The emulator's choice: the image filter's grammar (``!=``, ``IN``, ``NOT IN``, single quotes)
    on registry names."""
    names = sorted({registry.name for registry in folder_registries if NAME_VALUE.fullmatch(registry.name)})
    require(len(names) >= 2, "two registries with names the documented filter value matches")
    a, b = names[0], names[-1]
    for text, keep in [
        (f"name != '{a}'", lambda name: name != a),
        (f'name IN ("{a}", "{b}")', lambda name: name in (a, b)),
        (f'name not in ("{a}")', lambda name: name != a),
    ]:
        got = listing(target, filter=text)
        assert sorted(ids(got)) == sorted(r.id for r in folder_registries if keep(r.name)), text


@pytest.mark.behaviour(
    "RegistryService/Get",
    "documented",
    "Get answers the registry List lists, every field.",
    "yandex/cloud/containerregistry/v1/registry_service.proto (Get: Returns the specified Registry resource. To get the list of available Registry resources, make a [List] request.)",
)
def test_get_agrees_with_list(target, folder_registries):
    """Documented: Get "Returns the specified Registry resource", the one List lists (every field)."""
    for registry in spread(folder_registries):
        assert target.registries.Get(pb.GetRegistryRequest(registry_id=registry.id), timeout=TIMEOUT) == registry


INVALID_LISTS = {
    "no-folder": lambda t: pb.ListRegistriesRequest(),
    "folder-id-over-50": lambda t: pb.ListRegistriesRequest(folder_id="b" * 51),
    "page-size-over-1000": lambda t: pb.ListRegistriesRequest(folder_id=t.folder_id, page_size=1001),
    "page-token-over-100": lambda t: pb.ListRegistriesRequest(folder_id=t.folder_id, page_token="x" * 101),
    "filter-over-1000": lambda t: pb.ListRegistriesRequest(folder_id=t.folder_id, filter='name = "abc"' + " " * 989),
    "filter-on-labels": lambda t: pb.ListRegistriesRequest(folder_id=t.folder_id, filter='labels = "abc"'),
    "filter-value-uppercase": lambda t: pb.ListRegistriesRequest(folder_id=t.folder_id, filter='name = "Main"'),
    "filter-value-too-short": lambda t: pb.ListRegistriesRequest(folder_id=t.folder_id, filter='name = "ab"'),
    "filter-value-over-63": lambda t: pb.ListRegistriesRequest(folder_id=t.folder_id, filter=f'name = "{"a" * 64}"'),
}
CHOSEN_INVALID_LISTS = {
    "page-size-negative": lambda t: pb.ListRegistriesRequest(folder_id=t.folder_id, page_size=-1),
    "page-token-forged": lambda t: pb.ListRegistriesRequest(folder_id=t.folder_id, page_token="not-a-token"),
    "filter-empty-list": lambda t: pb.ListRegistriesRequest(folder_id=t.folder_id, filter="name IN ()"),
}


@pytest.mark.parametrize("case", INVALID_LISTS)
def test_a_list_breaking_a_documented_rule_is_invalid_argument(target, case):
    """Documented: the annotations (folder_id required and at most 50, page_size <= 1000, lengths)
    and the filter's comment (only name, its value 3-63 characters of the pattern)."""
    error = rpc_error(target.registries.List, INVALID_LISTS[case](target), timeout=TIMEOUT)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())


@emulator_choice
@pytest.mark.parametrize("case", CHOSEN_INVALID_LISTS)
def test_a_list_breaking_a_rule_the_emulator_chose_is_invalid_argument(target, case):
    """The emulator's choice: page_size >= 0, page tokens are its own, the filter grammar."""
    error = rpc_error(target.registries.List, CHOSEN_INVALID_LISTS[case](target), timeout=TIMEOUT)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())


@pytest.mark.parametrize(
    ("registry_id", "code"),
    [
        ("", grpc.StatusCode.INVALID_ARGUMENT),
        ("c" * 51, grpc.StatusCode.INVALID_ARGUMENT),
        (UNKNOWN_ID, grpc.StatusCode.NOT_FOUND),
    ],
    ids=["empty", "over-50", "unknown"],
)
@pytest.mark.behaviour(
    "RegistryService/Get",
    "documented",
    "registry_id is required and at most 50 characters; an unknown one is NOT_FOUND.",
    "yandex/cloud/containerregistry/v1/registry_service.proto; https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (NOT_FOUND: The requested resource not found)",
)
def test_get_of_a_bad_or_unknown_id(target, registry_id, code):
    """Documented: registry_id is required and at most 50 characters; an unknown one is NOT_FOUND."""
    error = rpc_error(target.registries.Get, pb.GetRegistryRequest(registry_id=registry_id), timeout=TIMEOUT)
    assert error.code() == code, (error.code(), error.details())
