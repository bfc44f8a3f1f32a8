"""ImageService (List, Get) as both the emulator and the real service must show it, through the
official SDK.

Read-only: these tests list and get, never change anything, so they may run against production.
They assert relations that hold for any data (paging agrees with one big page, filters agree with
a Python predicate over the listing, Get agrees with List), never fixed answers. Relations the
public reference states (image_service.proto's comments and annotations) are plain tests; those it
does not, which the emulator chose, are marked ``emulator_choice`` and say so.

Documented (image_service.proto): List's scopes ("registry_id is ignored if a repository_name is
specified"; "folder_id is ignored if a repository_name or a registry_id are specified"); "You can
sort by name, digest, created_at, last_modified. To sort results by multiple fields, separate the
fields with commas"; filtering "only on Image.name", with "=" and a double-quoted value matching
``[a-z0-9]+(?:[._-][a-z0-9]+)*(/([a-z0-9]+(?:[._-][a-z0-9]+)*))`` of at most 256 characters; page
size "Default value: 100"; the annotations (lengths, pattern, ``page_size <= 1000``, ``image_id``
required); "Each tag is unique within the repository" (image.proto). No order is documented as
total, so where fields tie, pages are compared with one big page as sets, and sortedness is checked
by the named fields only.
"""

from __future__ import annotations

import re
from collections import Counter

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import repository_service_pb2 as repository_pb

from conftest import rpc_error
from tests.contract.relations import (
    IMAGE_KEYS,
    TIMEOUT,
    UNKNOWN_FOLDER,
    UNKNOWN_ID,
    check_walk,
    chunks,
    everything,
    first_disorder,
    ids,
    page_sizes,
    pages,
    require,
    sorted_with_id_ties,
    spread,
)

pytestmark = pytest.mark.contract
emulator_choice = pytest.mark.emulator_choice

# The documented filter value: a registry id, a slash and one path segment (nested paths are the emulator's)
DOCUMENTED_VALUE = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(/([a-z0-9]+(?:[._-][a-z0-9]+)*))")
SCOPES = ["folder", "registry", "repository"]
DOCUMENTED_ORDERS = [
    "",
    "name",
    "digest",
    "created_at",
    "last_modified",
    "name, created_at",
    "digest, created_at, name",
    "last_modified, name",
]
# asc/desc, the id as an order, and the spellings are the emulator's reading (tests/test_order_by.py)
CHOSEN_ORDERS = [
    "id",
    "id desc",
    "name desc",
    "created_at desc",
    "last_modified desc",
    "name desc, created_at",
    "created_at desc, digest",
    " name ASC ,\tlast_modified desc",
    "digest, id desc",
]


def listing(target, **fields) -> list:
    return everything(target.images.List, pb.ListImagesRequest, **fields)


@pytest.fixture(scope="module")
def scopes(target, registry_images, folder_images) -> dict:
    """scope -> (the request's scope field, the scope's images); the repository scope is the
    registry's repository with the most images (None: the registry has none)."""
    counts = Counter(image.name for image in registry_images)
    found = {
        "folder": ({"folder_id": target.folder_id}, folder_images),
        "registry": ({"registry_id": target.registry_id}, registry_images),
        "repository": None,
    }
    if counts:
        name = min(counts, key=lambda name: (-counts[name], name))
        found["repository"] = ({"repository_name": name}, [image for image in registry_images if image.name == name])
    return found


def scope_of(scopes: dict, scope: str) -> tuple[dict, list]:
    require(scopes[scope] is not None, "image in the registry (for the repository scope)")
    return scopes[scope]


# ---- paging and order ----------------------------------------------------------------------------


@pytest.mark.parametrize("order_by", DOCUMENTED_ORDERS)
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    "Pages of any size hold what one big page holds, each image once.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Image/list.md (next_page_token, page_size)",
)
def test_paging_agrees_with_one_big_page_in_every_documented_order(target, scopes, scope, order_by):
    """Documented: pages of any size hold what one big page does, each item once, sorted by the
    named fields; the order does not change what is listed."""
    fields, listed = scope_of(scopes, scope)
    query = f"ImageService.List({fields}, order_by={order_by!r})"
    big = listing(target, order_by=order_by, **fields)
    assert sorted(ids(big)) == sorted(ids(listed)), f"{query}: the order changed what is listed"
    assert first_disorder(big, IMAGE_KEYS, order_by) is None, f"{query}: one big page out of order"
    for page_size in page_sizes(len(big)):
        walk = pages(target.images.List, pb.ListImagesRequest, page_size, order_by=order_by, **fields)
        check_walk(walk, page_size, big, IMAGE_KEYS, order_by, query)


@emulator_choice
@pytest.mark.parametrize("order_by", DOCUMENTED_ORDERS + CHOSEN_ORDERS)
@pytest.mark.parametrize("scope", SCOPES)
def test_every_order_is_total_with_ties_by_id(target, scopes, scope, order_by):
    """The emulator's choice: asc/desc and the id as an order are accepted, ties are broken by the
    id in the last field's direction (so the order is total), and pages are exactly one big page
    cut in pieces. The exact order is checked against a Python sort where the wire shows every
    field (not last_modified)."""
    fields, listed = scope_of(scopes, scope)
    big = listing(target, order_by=order_by, **fields)
    if "last_modified" not in order_by:
        assert ids(big) == ids(sorted_with_id_ties(listed, IMAGE_KEYS, order_by))
    else:
        assert sorted(ids(big)) == sorted(ids(listed))
    for page_size in page_sizes(len(big), wanted=(1, 3)):
        walk = pages(target.images.List, pb.ListImagesRequest, page_size, order_by=order_by, **fields)
        assert [ids(page) for page in walk] == [ids(piece) for piece in chunks(big, page_size)], page_size


@pytest.mark.parametrize("scope", ["folder", "registry"])
def test_the_default_page_size_is_100(target, scopes, scope):
    """Documented: "Default value: 100"."""
    fields, listed = scope_of(scopes, scope)
    page = target.images.List(pb.ListImagesRequest(**fields), timeout=TIMEOUT)
    assert len(page.images) == min(100, len(listed))
    if len(listed) > 100:
        assert page.next_page_token


def test_a_filtered_listing_pages_like_one_big_page(target, scopes):
    """Documented: paging and filter together (the filter naming the scope's largest repository)."""
    fields, listed = scope_of(scopes, "registry")
    name = scope_of(scopes, "repository")[0]["repository_name"]
    query = {"filter": f'name = "{name}"', "order_by": "created_at", **fields}
    big = listing(target, **query)
    assert sorted(ids(big)) == sorted(i.id for i in listed if i.name == name)
    for page_size in page_sizes(len(big)):
        walk = pages(target.images.List, pb.ListImagesRequest, page_size, **query)
        check_walk(walk, page_size, big, IMAGE_KEYS, "created_at", str(query))


# ---- scopes ------------------------------------------------------------------------------------


def test_the_repository_scope_lists_the_images_of_that_name(target, registry_images):
    """Documented: "Name of the repository to list Docker images in"; an image's name is its repository's."""
    names = sorted({image.name for image in registry_images})
    require(names, "image in the registry")
    for name in spread(names, 10):
        listed = listing(target, repository_name=name)
        assert sorted(ids(listed)) == sorted(i.id for i in registry_images if i.name == name), name


def test_the_folder_scope_is_the_union_of_its_registries(target, folder_images, folder_registries):
    """Documented: a folder's images are its registries' images (each image in one registry)."""
    union = []
    for registry in folder_registries:
        union += ids(listing(target, registry_id=registry.id))
    assert len(union) == len(set(union))
    assert set(union) == set(ids(folder_images))


@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    "The scope fields the reference says are ignored are ignored.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Image/list.md",
)
def test_the_scope_fields_the_reference_says_are_ignored_are_ignored(target, scopes):
    """Documented: "[registry_id] is ignored if a repository_name is specified"; "[folder_id] is
    ignored if a repository_name or a registry_id are specified" (here: ids of nothing)."""
    name = scope_of(scopes, "repository")[0]["repository_name"]
    by_name = sorted(ids(listing(target, repository_name=name)))
    assert sorted(ids(listing(target, repository_name=name, registry_id=UNKNOWN_ID))) == by_name
    assert sorted(ids(listing(target, repository_name=name, folder_id=UNKNOWN_FOLDER))) == by_name
    by_registry = sorted(ids(listing(target, registry_id=target.registry_id)))
    assert sorted(ids(listing(target, registry_id=target.registry_id, folder_id=UNKNOWN_FOLDER))) == by_registry


# ---- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["folder", "registry"])
@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    '`name = "<value>"` keeps the images of that name.',
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Image/list.md (filtering only on Image.name, an = operator)",
)
def test_a_name_filter_agrees_with_the_listing(target, scopes, scope):
    """Documented: ``name = "<value>"`` keeps the images of that name (values of the documented
    form: a registry id and one path segment); a name nothing has lists nothing."""
    fields, listed = scope_of(scopes, scope)
    names = sorted({i.name for i in listed if DOCUMENTED_VALUE.fullmatch(i.name)})
    require(names, "image whose name the documented filter value matches (<registry_id>/<one segment>)")
    for name in [*spread(names, 10), f"{target.registry_id}/no-such-repository"]:
        got = listing(target, filter=f'name = "{name}"', **fields)
        assert sorted(ids(got)) == sorted(i.id for i in listed if i.name == name), name


FILTER_FORMS = {
    # form -> (filter text, predicate) from the scope's names: a = first, b = last, nested = a nested one
    "equals-nested": lambda a, b, nested: (f'name = "{nested}"', lambda name: name == nested),
    "single-quotes-no-spaces": lambda a, b, nested: (f"name='{a}'", lambda name: name == a),
    "not-equals": lambda a, b, nested: (f'name != "{a}"', lambda name: name != a),
    "in": lambda a, b, nested: (f'name IN ("{a}", "{nested}")', lambda name: name in (a, nested)),
    "not-in-lowercase": lambda a, b, nested: (f'name not in ("{a}", "{b}")', lambda name: name not in (a, b)),
    "in-with-unknown": lambda a, b, nested: (f"name IN ('{b}', '{a}/x')", lambda name: name == b),
}


@emulator_choice
@pytest.mark.parametrize("form", FILTER_FORMS)
@pytest.mark.parametrize("scope", ["folder", "registry"])
@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "The filter also takes !=, IN, NOT IN and single quotes; keywords are case-insensitive.",
    "an earlier revision of the reference listed `!=`, `IN` and `NOT IN`; today's names `=` only",
)
def test_the_filter_forms_the_emulator_adds_agree_with_the_listing(target, scopes, scope, form):
    """The emulator's choice (README, "Filter grammar"): nested names, single quotes, ``!=``, ``IN``
    and ``NOT IN`` (keywords in any case)."""
    fields, listed = scope_of(scopes, scope)
    names = sorted({image.name for image in listed})
    nested = [name for name in names if not DOCUMENTED_VALUE.fullmatch(name)]
    require(nested, "image with a nested name (<registry_id>/<path>/<path>)")
    text, keep = FILTER_FORMS[form](names[0], names[-1], nested[0])
    got = listing(target, filter=text, **fields)
    assert sorted(ids(got)) == sorted(i.id for i in listed if keep(i.name)), text


# ---- Get and the data ------------------------------------------------------------------------------


@pytest.mark.behaviour(
    "ImageService/Get",
    "documented",
    "Get answers the image List lists, every field.",
    "yandex/cloud/containerregistry/v1/image_service.proto (Get: Returns the specified Image resource. To get the list of available Image resources, make a [List] request.)",
)
def test_get_agrees_with_list(target, folder_images):
    """Documented: Get "Returns the specified Image resource", the one List lists (every field)."""
    require(folder_images, "image in the folder")
    for image in spread(folder_images):
        assert target.images.Get(pb.GetImageRequest(image_id=image.id), timeout=TIMEOUT) == image


@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    "A tag is on one image of its repository.",
    "yandex/cloud/containerregistry/v1/image.proto (Each tag is unique within the repository)",
)
def test_a_tag_is_on_one_image_of_its_repository(folder_images):
    """Documented: "Each tag is unique within the repository" (image.proto)."""
    holders = Counter((image.name, tag) for image in folder_images for tag in image.tags)
    assert not [key for key, count in holders.items() if count > 1]


# ---- validation and unknown ids --------------------------------------------------------------------


def _filter_of_length(target, length: int) -> str:
    text = f'name = "{target.registry_id}/base"'
    return text + " " * (length - len(text))


INVALID_LISTS = {
    "registry-id-over-50": lambda t: pb.ListImagesRequest(registry_id="c" * 51),
    "folder-id-over-50": lambda t: pb.ListImagesRequest(folder_id="b" * 51),
    "repository-name-uppercase": lambda t: pb.ListImagesRequest(repository_name="Not/A/Name"),
    "repository-name-empty-segment": lambda t: pb.ListImagesRequest(repository_name=f"{t.registry_id}//web"),
    "page-size-over-1000": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, page_size=1001),
    "page-token-over-100": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, page_token="x" * 101),
    "filter-over-1000": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, filter=_filter_of_length(t, 1001)),
    "order-by-over-100": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, order_by="name" + " " * 97),
    "filter-on-tags": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, filter='tags = "latest"'),
    "filter-value-without-registry": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, filter='name = "web"'),
    "filter-value-uppercase": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, filter='name = "Crp/Web"'),
    "filter-value-over-256": lambda t: pb.ListImagesRequest(
        registry_id=t.registry_id, filter=f'name = "{t.registry_id}/{"a" * (256 - len(t.registry_id))}"'
    ),
    "order-by-size": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, order_by="compressed_size"),
    "order-by-tags": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, order_by="tags"),
}
CHOSEN_INVALID_LISTS = {
    "no-scope": lambda t: pb.ListImagesRequest(),
    "page-size-negative": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, page_size=-1),
    "page-token-forged": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, page_token="not-a-token"),
    "order-by-field-twice": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, order_by="name, name"),
    "order-by-bad-direction": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, order_by="name up"),
    "order-by-empty-item": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, order_by="name,"),
    "filter-empty-list": lambda t: pb.ListImagesRequest(registry_id=t.registry_id, filter="name IN ()"),
}


@pytest.mark.parametrize("case", INVALID_LISTS)
def test_a_list_breaking_a_documented_rule_is_invalid_argument(target, case):
    """Documented: the annotations (lengths, the repository_name pattern, page_size <= 1000) and the
    comments (filter only on name, its value's pattern and 256 characters; the four order fields)."""
    error = rpc_error(target.images.List, INVALID_LISTS[case](target), timeout=TIMEOUT)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())


@emulator_choice
@pytest.mark.parametrize("case", CHOSEN_INVALID_LISTS)
def test_a_list_breaking_a_rule_the_emulator_chose_is_invalid_argument(target, case):
    """The emulator's choice: a scope is required, page_size >= 0, page tokens are its own, and
    the order_by and filter grammar (README, "Emulator decisions")."""
    error = rpc_error(target.images.List, CHOSEN_INVALID_LISTS[case](target), timeout=TIMEOUT)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())


@pytest.mark.parametrize(
    ("image_id", "code"),
    [
        ("", grpc.StatusCode.INVALID_ARGUMENT),
        ("c" * 51, grpc.StatusCode.INVALID_ARGUMENT),
        (UNKNOWN_ID, grpc.StatusCode.NOT_FOUND),
    ],
    ids=["empty", "over-50", "unknown"],
)
@pytest.mark.behaviour(
    "ImageService/Get",
    "documented",
    "image_id is required and at most 50 characters; an unknown one is NOT_FOUND.",
    "yandex/cloud/containerregistry/v1/image_service.proto; https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (NOT_FOUND: The requested resource not found)",
)
def test_get_of_a_bad_or_unknown_id(target, image_id, code):
    """Documented: image_id is required and at most 50 characters; an unknown one is NOT_FOUND."""
    error = rpc_error(target.images.Get, pb.GetImageRequest(image_id=image_id), timeout=TIMEOUT)
    assert error.code() == code, (error.code(), error.details())


@emulator_choice
def test_an_unknown_registry_is_not_found_and_an_unknown_repository_empty(target):
    """The emulator's choice (README, "Scope"): an unknown registry_id, or a repository_name whose
    registry does not exist, is NOT_FOUND; a known registry without that repository lists nothing."""
    for request in (
        pb.ListImagesRequest(registry_id=UNKNOWN_ID),
        pb.ListImagesRequest(repository_name=f"{UNKNOWN_ID}/base"),
    ):
        assert rpc_error(target.images.List, request, timeout=TIMEOUT).code() == grpc.StatusCode.NOT_FOUND
    assert listing(target, repository_name=f"{target.registry_id}/no-such-repository") == []


@emulator_choice
def test_a_page_token_is_bound_to_its_query(target, registry_images):
    """The emulator's choice: a token continues only the List (method, scope, filter, order) that
    issued it; anything else is INVALID_ARGUMENT."""
    require(len(registry_images) >= 2, "second image in the registry")
    first = target.images.List(pb.ListImagesRequest(registry_id=target.registry_id, page_size=1), timeout=TIMEOUT)
    token = first.next_page_token
    assert token and len(token) <= 100
    name = registry_images[0].name
    for other in (
        pb.ListImagesRequest(registry_id=target.registry_id, page_token=token, order_by="name"),
        pb.ListImagesRequest(folder_id=target.folder_id, page_token=token),
        pb.ListImagesRequest(repository_name=name, page_token=token),
        pb.ListImagesRequest(registry_id=target.registry_id, page_token=token, filter=f'name = "{name}"'),
    ):
        assert rpc_error(target.images.List, other, timeout=TIMEOUT).code() == grpc.StatusCode.INVALID_ARGUMENT
    repositories = repository_pb.ListRepositoriesRequest(registry_id=target.registry_id, page_token=token)
    assert rpc_error(target.repositories.List, repositories, timeout=TIMEOUT).code() == grpc.StatusCode.INVALID_ARGUMENT
