"""RepositoryService (Get, GetByName, List) as both the emulator and the real service must show
it: read-only relations that hold for any data (see test_contract.py).

Documented (repository_service.proto, repository.proto): List "Retrieves the list of Repository
resources in the specified registry", or folder ("[folder_id] is ignored if a [registry_id] is
specified"); a repository name "is unique within the registry" and "should match the name of the
images that will be pushed in the repository", and ListImagesRequest.repository_name is taken
from RepositoryService.List; filtering "only on [Repository.name]"; the annotations (lengths, the
GetByName pattern, page_size <= 1000, ids required). Not documented, so the emulator's choice:
the order (ListRepositoriesRequest.order_by has no comment; the emulator takes ``id`` and ``name``
with the image List's grammar) and the filter's values (the documented pattern,
``[a-z][-a-z0-9]{1,61}[a-z0-9]``, cannot match a repository name, which holds a ``/``; the emulator
takes ``<registry_id>/<path>``).
"""

from __future__ import annotations

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import repository_service_pb2 as pb

from conftest import rpc_error
from tests.contract.relations import (
    REPOSITORY_KEYS,
    TIMEOUT,
    UNKNOWN_FOLDER,
    UNKNOWN_ID,
    chunks,
    everything,
    ids,
    page_sizes,
    pages,
    require,
    sorted_with_id_ties,
    spread,
)

pytestmark = pytest.mark.contract
emulator_choice = pytest.mark.emulator_choice

SCOPES = ["folder", "registry"]
CHOSEN_ORDERS = ["", "id", "id desc", "name", "name desc", " name DESC ,\tid ", "id, name desc"]


def listing(target, **fields) -> list:
    return everything(target.repositories.List, pb.ListRepositoriesRequest, **fields)


@pytest.fixture(scope="module")
def scopes(target, registry_repositories, folder_repositories) -> dict:
    return {
        "folder": ({"folder_id": target.folder_id}, folder_repositories),
        "registry": ({"registry_id": target.registry_id}, registry_repositories),
    }


# ---- paging and order ----------------------------------------------------------------------------


@emulator_choice
@pytest.mark.parametrize("order_by", CHOSEN_ORDERS)
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.behaviour(
    "RepositoryService/List",
    "choice",
    "order_by takes id (the default) and name, with asc/desc; ties go by id.",
    "the reference gives order_by only a length",
)
def test_every_order_is_exact_and_paged_exactly(target, scopes, scope, order_by):
    """The emulator's choice: order_by takes id and name (asc/desc, comma-separated; id by default),
    names are unique so every order is total, and pages are one big page cut in pieces."""
    fields, listed = scopes[scope]
    big = listing(target, order_by=order_by, **fields)
    assert ids(big) == ids(sorted_with_id_ties(listed, REPOSITORY_KEYS, order_by))
    for page_size in page_sizes(len(big), wanted=(1, 3)):
        walk = pages(target.repositories.List, pb.ListRepositoriesRequest, page_size, order_by=order_by, **fields)
        assert [ids(page) for page in walk] == [ids(piece) for piece in chunks(big, page_size)], page_size


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.behaviour(
    "RepositoryService/List",
    "documented",
    "The default page size is 100.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Repository/list.md (Default value: 100)",
)
def test_the_default_page_size_is_100(target, scopes, scope):
    """Documented: "Default value: 100"."""
    fields, listed = scopes[scope]
    page = target.repositories.List(pb.ListRepositoriesRequest(**fields), timeout=TIMEOUT)
    assert len(page.repositories) == min(100, len(listed))


# ---- scopes and the images -----------------------------------------------------------------------


def test_the_folder_scope_is_the_union_of_its_registries(target, folder_repositories, folder_registries):
    """Documented: a folder's repositories are its registries' repositories."""
    union = []
    for registry in folder_registries:
        union += ids(listing(target, registry_id=registry.id))
    assert len(union) == len(set(union))
    assert set(union) == set(ids(folder_repositories))


@pytest.mark.behaviour(
    "RepositoryService/List",
    "documented",
    "registry_id wins over folder_id.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Repository/list.md (folder_id is ignored if a registry_id is specified)",
)
def test_folder_id_is_ignored_when_registry_id_is_given(target, registry_repositories):
    """Documented: "[folder_id] is ignored if a [ListImagesRequest.registry_id] is specified"."""
    got = listing(target, registry_id=target.registry_id, folder_id=UNKNOWN_FOLDER)
    assert sorted(ids(got)) == sorted(ids(registry_repositories))


def test_names_are_unique_in_the_registry(registry_repositories):
    """Documented: "The name is unique within the registry" (repository.proto)."""
    names = [repository.name for repository in registry_repositories]
    assert len(names) == len(set(names))


def test_the_registry_images_are_the_images_of_its_repositories(target, registry_repositories, registry_images):
    """Documented: ListImagesRequest.repository_name comes from RepositoryService.List, and an
    image's name is its repository's: the registry's images are the disjoint union of its
    repositories' (a repository without images, as an upserted one, lists none)."""
    union = []
    for repository in registry_repositories:
        listed = everything(target.images.List, image_pb.ListImagesRequest, repository_name=repository.name)
        assert {image.name for image in listed} <= {repository.name}, repository.name
        union += ids(listed)
    assert len(union) == len(set(union))
    assert set(union) == set(ids(registry_images))


# ---- Get and GetByName ------------------------------------------------------------------------------


@pytest.mark.behaviour(
    "RepositoryService/Get",
    "documented",
    "Get and GetByName answer the repository List lists.",
    "yandex/cloud/containerregistry/v1/repository_service.proto (Get, GetByName: Returns the specified Repository resource. To get the list of available Repository resources, make a [List] request.)",
)
@pytest.mark.behaviour(
    "RepositoryService/GetByName",
    "documented",
    "GetByName answers the repository List lists.",
    "yandex/cloud/containerregistry/v1/repository_service.proto (GetByName: Returns the specified Repository resource. To get the list of available Repository resources, make a [List] request.)",
)
def test_get_and_get_by_name_agree_with_list(target, folder_repositories):
    """Documented: Get and GetByName return "the specified Repository resource", the one List lists."""
    require(folder_repositories, "repository in the folder")
    for repository in spread(folder_repositories):
        by_id = target.repositories.Get(pb.GetRepositoryRequest(repository_id=repository.id), timeout=TIMEOUT)
        by_name = target.repositories.GetByName(
            pb.GetRepositoryByNameRequest(repository_name=repository.name), timeout=TIMEOUT
        )
        assert by_id == repository == by_name


# ---- filters -----------------------------------------------------------------------------------


@emulator_choice
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.behaviour(
    "RepositoryService/List",
    "choice",
    "The filter takes whole names, `<registry_id>/<path>`, with the image filter's grammar.",
    "the documented value pattern cannot match a repository name, which holds a `/`",
)
def test_a_name_filter_agrees_with_the_listing(target, scopes, scope):
    """The emulator's choice (the documented value pattern cannot match a repository name): the
    image filter's grammar and values, ``<registry_id>/<path>``."""
    fields, listed = scopes[scope]
    names = sorted(repository.name for repository in listed)
    require(len(names) >= 2, "two repositories")
    a, b = names[0], names[-1]
    for text, keep in [
        (f'name = "{a}"', lambda name: name == a),
        (f'name = "{target.registry_id}/no-such-repository"', lambda name: False),
        (f"name != '{a}'", lambda name: name != a),
        (f'name IN ("{a}", "{b}")', lambda name: name in (a, b)),
        (f'name NOT IN ("{a}", "{b}")', lambda name: name not in (a, b)),
    ]:
        got = listing(target, filter=text, **fields)
        assert sorted(ids(got)) == sorted(r.id for r in listed if keep(r.name)), text


# ---- validation and unknown ids --------------------------------------------------------------------


INVALID_LISTS = {
    "registry-id-over-50": lambda t: pb.ListRepositoriesRequest(registry_id="c" * 51),
    "folder-id-over-50": lambda t: pb.ListRepositoriesRequest(folder_id="b" * 51),
    "page-size-over-1000": lambda t: pb.ListRepositoriesRequest(registry_id=t.registry_id, page_size=1001),
    "page-token-over-100": lambda t: pb.ListRepositoriesRequest(registry_id=t.registry_id, page_token="x" * 101),
    "filter-over-1000": lambda t: pb.ListRepositoriesRequest(
        registry_id=t.registry_id, filter=f'name = "{t.registry_id}/base"'.ljust(1001)
    ),
    "order-by-over-100": lambda t: pb.ListRepositoriesRequest(registry_id=t.registry_id, order_by="name".ljust(101)),
    "filter-on-id": lambda t: pb.ListRepositoriesRequest(registry_id=t.registry_id, filter=f'id = "{UNKNOWN_ID}"'),
    "filter-value-uppercase": lambda t: pb.ListRepositoriesRequest(registry_id=t.registry_id, filter='name = "Web"'),
}
CHOSEN_INVALID_LISTS = {
    "no-scope": lambda t: pb.ListRepositoriesRequest(),
    "page-size-negative": lambda t: pb.ListRepositoriesRequest(registry_id=t.registry_id, page_size=-1),
    "page-token-forged": lambda t: pb.ListRepositoriesRequest(registry_id=t.registry_id, page_token="not-a-token"),
    "order-by-digest": lambda t: pb.ListRepositoriesRequest(registry_id=t.registry_id, order_by="digest"),
    "order-by-field-twice": lambda t: pb.ListRepositoriesRequest(registry_id=t.registry_id, order_by="name, name"),
    "filter-value-without-registry": lambda t: pb.ListRepositoriesRequest(
        registry_id=t.registry_id, filter='name = "web"'
    ),
}


@pytest.mark.parametrize("case", INVALID_LISTS)
def test_a_list_breaking_a_documented_rule_is_invalid_argument(target, case):
    """Documented: the annotations (ids at most 50, page_size <= 1000, lengths) and the filter's
    comment (only name; an uppercase value matches neither the documented pattern nor a name)."""
    error = rpc_error(target.repositories.List, INVALID_LISTS[case](target), timeout=TIMEOUT)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())


@emulator_choice
@pytest.mark.parametrize("case", CHOSEN_INVALID_LISTS)
def test_a_list_breaking_a_rule_the_emulator_chose_is_invalid_argument(target, case):
    """The emulator's choice: a scope is required, page_size >= 0, its own page tokens, orders by
    id and name only, filter values of the form <registry_id>/<path> (README, "Repository List")."""
    error = rpc_error(target.repositories.List, CHOSEN_INVALID_LISTS[case](target), timeout=TIMEOUT)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())


@pytest.mark.parametrize(
    ("repository_id", "code"),
    [
        ("", grpc.StatusCode.INVALID_ARGUMENT),
        ("c" * 51, grpc.StatusCode.INVALID_ARGUMENT),
        (UNKNOWN_ID, grpc.StatusCode.NOT_FOUND),
    ],
    ids=["empty", "over-50", "unknown"],
)
@pytest.mark.behaviour(
    "RepositoryService/Get",
    "documented",
    "repository_id is required and at most 50 characters; an unknown one is NOT_FOUND.",
    "yandex/cloud/containerregistry/v1/repository_service.proto; https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (NOT_FOUND: The requested resource not found)",
)
def test_get_of_a_bad_or_unknown_id(target, repository_id, code):
    """Documented: repository_id is required and at most 50 characters; an unknown one is NOT_FOUND."""
    request = pb.GetRepositoryRequest(repository_id=repository_id)
    error = rpc_error(target.repositories.Get, request, timeout=TIMEOUT)
    assert error.code() == code, (error.code(), error.details())


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (lambda t: "", grpc.StatusCode.INVALID_ARGUMENT),
        (lambda t: "Not/A/Name", grpc.StatusCode.INVALID_ARGUMENT),
        (lambda t: f"{t.registry_id}//web", grpc.StatusCode.INVALID_ARGUMENT),
        (lambda t: f"{t.registry_id}/no-such-repository", grpc.StatusCode.NOT_FOUND),
        (lambda t: f"{t.registry_id}/no/such/nested/repository", grpc.StatusCode.NOT_FOUND),
    ],
    ids=["empty", "uppercase", "empty-segment", "unknown", "unknown-nested"],
)
@pytest.mark.behaviour(
    "RepositoryService/GetByName",
    "documented",
    "repository_name is required and matches its pattern; an unknown one is NOT_FOUND.",
    "yandex/cloud/containerregistry/v1/repository_service.proto; https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (NOT_FOUND: The requested resource not found)",
)
def test_get_by_name_of_a_bad_or_unknown_name(target, name, code):
    """Documented: repository_name is required and matches the GetByName pattern; an unknown
    repository of the registry is NOT_FOUND."""
    request = pb.GetRepositoryByNameRequest(repository_name=name(target))
    error = rpc_error(target.repositories.GetByName, request, timeout=TIMEOUT)
    assert error.code() == code, (error.code(), error.details())
