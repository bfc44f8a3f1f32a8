"""The documented List semantics, through the wire: scope precedence, the filter language,
order_by and page tokens (including paging while images are added and deleted)."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb

from conftest import FOLDER, assert_invalid, iter_pages, list_pages, rpc_error, violation_fields

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
OTHER_FOLDER = "b1g000000000000other"
EMPTY_FOLDER = "b1g000000000000empty"
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def list_ids(images, **fields) -> list[str]:
    """One List call that must return everything (no next page)."""
    response = images.List(pb.ListImagesRequest(page_size=1000, **fields))
    assert response.next_page_token == ""
    return [image.id for image in response.images]


def pages(images, page_size: int, **fields) -> list[list[str]]:
    """The image ids of every page of a List; only the last page may be short."""
    walk = list_pages(images.List, pb.ListImagesRequest, page_size, **fields)
    result = [[image.id for image in page] for page in walk]
    assert all(len(page) == page_size for page in result[:-1]), "a page before the last one is short"
    return result


# ---- a small world -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Img:
    id: str
    name: str
    folder: str
    registry: str
    created: int


@dataclass
class World:
    r: str  # registry in FOLDER: web, api, team/web
    r2: str  # registry in FOLDER: web
    r3: str  # registry in OTHER_FOLDER: web
    all: list[Img]

    def ids(self, keep) -> list[str]:
        return sorted(image.id for image in self.all if keep(image))

    def in_scope(self, kind: str, value: str):
        return {
            "repository": lambda image: image.name == value,
            "registry": lambda image: image.registry == value,
            "folder": lambda image: image.folder == value,
        }[kind]


@pytest.fixture
def world(emulator) -> World:
    r = emulator.add_registry(FOLDER, name="r")
    r2 = emulator.add_registry(FOLDER, name="r2")
    r3 = emulator.add_registry(OTHER_FOLDER, name="r3")
    made = []
    layout = [
        (r, FOLDER, "web", 2),
        (r, FOLDER, "api", 2),
        (r, FOLDER, "team/web", 2),
        (r2, FOLDER, "web", 1),
        (r3, OTHER_FOLDER, "web", 2),
    ]
    tick = 1_700_000_000_000_000_000
    for registry, folder, path, count in layout:
        for _ in range(count):
            tick += 1_000_000_000
            image = emulator.add_image(registry.id, path, created_at_ns=tick)
            made.append(Img(image.id, f"{registry.id}/{path}", folder, registry.id, tick))
    return World(r.id, r2.id, r3.id, made)


# ---- scope ---------------------------------------------------------------------------------------


@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    "repository_name wins over registry_id and folder_id.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Image/list.md (registry_id is ignored if a repository_name is specified; folder_id is ignored if a repository_name or a registry_id are specified)",
)
def test_scope_repository_wins_over_registry_and_folder(world, images):
    got = list_ids(images, repository_name=f"{world.r}/web", registry_id=world.r3, folder_id=OTHER_FOLDER)
    assert got == world.ids(lambda i: i.name == f"{world.r}/web")
    assert len(got) == 2


def test_scope_repository_of_another_folder_wins(world, images):
    got = list_ids(images, repository_name=f"{world.r3}/web", registry_id=world.r, folder_id=FOLDER)
    assert got == world.ids(lambda i: i.name == f"{world.r3}/web")


@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    "registry_id wins over folder_id.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Image/list.md (folder_id is ignored if a repository_name or a registry_id are specified)",
)
def test_scope_registry_wins_over_folder(world, images):
    got = list_ids(images, registry_id=world.r, folder_id=OTHER_FOLDER)
    assert got == world.ids(lambda i: i.registry == world.r)
    assert len(got) == 6


def test_scope_folder(world, images):
    assert list_ids(images, folder_id=FOLDER) == world.ids(lambda i: i.folder == FOLDER)
    assert list_ids(images, folder_id=OTHER_FOLDER) == world.ids(lambda i: i.folder == OTHER_FOLDER)


def test_scope_repository_with_unknown_registry_wins_over_known_registry(world, images):
    err = rpc_error(
        images.List,
        pb.ListImagesRequest(repository_name="crp0000000000unknown/web", registry_id=world.r, folder_id=FOLDER),
    )
    assert err.code() == NOT_FOUND, err.details()


def test_scope_unknown_registry_wins_over_folder(world, images):
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id="crp0000000000unknown", folder_id=FOLDER))
    assert err.code() == NOT_FOUND, err.details()


@pytest.mark.parametrize("extra", [{}, {"page_size": 5}, {"filter": 'name = "a/b"', "order_by": "name"}])
@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "A List without repository_name, registry_id or folder_id is INVALID_ARGUMENT, reported on folder_id.",
    "the reference gives no default scope",
)
def test_scope_none_is_invalid(world, images, extra):
    err = rpc_error(images.List, pb.ListImagesRequest(**extra))
    assert err.code() == INVALID, err.details()
    for field in ("repository_name", "registry_id", "folder_id"):
        assert field in err.details(), err.details()
    fields = violation_fields(err)
    assert fields and fields <= {"repository_name", "registry_id", "folder_id"}, fields


@pytest.mark.parametrize("registry_id", ["crp0000000000unknown", "x", "r" * 50])
@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    "An unknown registry is NOT_FOUND.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (NOT_FOUND: The requested resource not found)",
)
def test_unknown_registry_is_not_found(world, images, registry_id):
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry_id))
    assert err.code() == NOT_FOUND, err.details()


@pytest.mark.parametrize("name", ["crp0000000000unknown/web", "crp0000000000unknown/team/web", "ubuntu"])
def test_repository_of_unknown_registry_is_not_found(world, images, name):
    err = rpc_error(images.List, pb.ListImagesRequest(repository_name=name))
    assert err.code() == NOT_FOUND, err.details()


@pytest.mark.parametrize("path", ["nothing", "team", "team/web/deeper", "web2"])
@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "A known registry without the repository lists nothing.",
    "not documented: a registry is a resource the caller names, a repository only a name in it",
)
def test_known_registry_without_the_repository_lists_nothing(world, images, path):
    response = images.List(pb.ListImagesRequest(repository_name=f"{world.r}/{path}"))
    assert list(response.images) == [] and response.next_page_token == ""


def test_folder_without_registries_lists_nothing(world, images):
    response = images.List(pb.ListImagesRequest(folder_id=EMPTY_FOLDER))
    assert list(response.images) == [] and response.next_page_token == ""


def test_registry_without_images_lists_nothing(emulator, images):
    empty = emulator.add_registry(EMPTY_FOLDER)
    assert list_ids(images, registry_id=empty.id) == []
    assert list_ids(images, folder_id=EMPTY_FOLDER) == []


# ---- filter: operators in each scope -----------------------------------------------------------


def scope_request(world: World, kind: str) -> tuple[dict, object]:
    value = {"repository": f"{world.r}/web", "registry": world.r, "folder": FOLDER}[kind]
    field = {"repository": "repository_name", "registry": "registry_id", "folder": "folder_id"}[kind]
    return {field: value}, world.in_scope(kind, value)


NAME_SETS = {
    # names given as templates over the world's registries
    "web": ["{r}/web"],
    "nested": ["{r}/team/web"],
    "web+nested": ["{r}/web", "{r}/team/web"],
    "api+other-registry": ["{r}/api", "{r2}/web"],
    "other-folder": ["{r3}/web"],
    "other-folder+unknown": ["{r3}/web", "crp0000000000unknown/web"],
    "missing-repository": ["{r}/nothing"],
}


def names_of(world: World, key: str) -> list[str]:
    return [template.format(r=world.r, r2=world.r2, r3=world.r3) for template in NAME_SETS[key]]


def filter_text(operator: str, names: list[str]) -> str:
    quoted = ", ".join(f'"{name}"' for name in names)
    return {
        "=": f'name = "{names[0]}"',
        "!=": f'name != "{names[0]}"',
        "IN": f"name IN ({quoted})",
        "NOT IN": f"name NOT IN ({quoted})",
    }[operator]


@pytest.mark.parametrize("kind", ["repository", "registry", "folder"])
@pytest.mark.parametrize("operator", ["=", "!=", "IN", "NOT IN"])
@pytest.mark.parametrize("names_key", list(NAME_SETS))
def test_filter_operator_in_scope(world, images, kind, operator, names_key):
    names = names_of(world, names_key)
    if operator in ("=", "!="):
        names = names[:1]
    request, in_scope = scope_request(world, kind)
    negated = operator in ("!=", "NOT IN")
    expected = world.ids(lambda i: in_scope(i) and ((i.name in names) != negated))
    assert list_ids(images, filter=filter_text(operator, names), **request) == expected
    # paged in small pages, the same images
    assert [i for page in pages(images, 2, filter=filter_text(operator, names), **request) for i in page] == expected


@pytest.mark.parametrize("kind", ["repository", "registry", "folder"])
@pytest.mark.parametrize("operator", ["=", "!=", "IN", "NOT IN"])
def test_filter_naming_only_repositories_outside_the_scope(world, images, kind, operator):
    # r3/web is in another folder, so outside every scope of this test.
    request, in_scope = scope_request(world, kind)
    everything = world.ids(in_scope)
    assert everything
    got = list_ids(images, filter=filter_text(operator, [f"{world.r3}/web"]), **request)
    assert got == (everything if operator in ("!=", "NOT IN") else [])


@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "The filter's value takes nested names (`crp.../team/web`), one or more path segments.",
    "the documented value pattern, read literally, forbids the nested names real images have",
)
def test_filter_nested_name_matches_only_that_repository(emulator, images):
    registry = emulator.add_registry(FOLDER)
    deep = emulator.add_image(registry.id, "a/b/c")
    emulator.add_image(registry.id, "a/b")
    emulator.add_image(registry.id, "a")
    assert list_ids(images, registry_id=registry.id, filter=f'name = "{registry.id}/a/b/c"') == [deep.id]


# ---- filter: spelling ----------------------------------------------------------------------------

SPELLINGS = [
    # (template, names matched or excluded, negated)
    ('name = "{a}"', ["{a}"], False),
    ('name="{a}"', ["{a}"], False),
    ('name ="{a}"', ["{a}"], False),
    ("name= '{a}'", ["{a}"], False),
    ("name='{a}'", ["{a}"], False),
    ('name != "{a}"', ["{a}"], True),
    ('name!="{a}"', ["{a}"], True),
    ("name!='{a}'", ["{a}"], True),
    ('name != \'{a}\'', ["{a}"], True),
    ('name IN ("{a}", "{b}")', ["{a}", "{b}"], False),
    ('name in ("{a}", "{b}")', ["{a}", "{b}"], False),
    ('name In (\'{a}\', "{b}")', ["{a}", "{b}"], False),
    ('name iN ("{a}","{b}")', ["{a}", "{b}"], False),
    ('name IN ("{a}")', ["{a}"], False),
    ("name IN ('{b}')", ["{b}"], False),
    ('name NOT IN ("{a}", "{b}")', ["{a}", "{b}"], True),
    ('name not in ("{a}", "{b}")', ["{a}", "{b}"], True),
    ("name Not In ('{a}', '{b}')", ["{a}", "{b}"], True),
    ('name nOt iN ("{a}")', ["{a}"], True),
    ('name NOT IN ("{b}","{a}")', ["{a}", "{b}"], True),
]


@pytest.mark.parametrize("template, names, negated", SPELLINGS)
def test_filter_spelling(world, images, template, names, negated):
    a, b = f"{world.r}/web", f"{world.r}/api"
    text = template.format(a=a, b=b)
    wanted = {name.format(a=a, b=b) for name in names}
    expected = world.ids(lambda i: i.registry == world.r and ((i.name in wanted) != negated))
    assert list_ids(images, registry_id=world.r, filter=text) == expected
    assert 0 < len(expected) < 6


def test_filter_value_of_256_chars_is_accepted(emulator, images):
    """A filter value may be 256 characters; a repository name is at most 245 (Docker's limit less
    cr.yandex/), so the longest name matches and a longer value names nothing."""
    from emulator.state.repositories import MAX_REPOSITORY_NAME

    registry = emulator.add_registry(FOLDER)
    longest = f"{registry.id}/{'a' * (MAX_REPOSITORY_NAME - len(registry.id) - 1)}"
    added = emulator.add_image(registry.id, longest.partition("/")[2])
    short = emulator.add_image(registry.id, "short")
    assert list_ids(images, registry_id=registry.id, filter=f'name = "{longest}"') == [added.id]
    assert list_ids(images, registry_id=registry.id, filter=f"name IN ('{longest}')") == [added.id]
    assert added.id not in list_ids(images, registry_id=registry.id, filter=f'name != "{longest}"')
    value = longest + "a" * (256 - len(longest))
    assert len(value) == 256
    assert list_ids(images, registry_id=registry.id, filter=f'name = "{value}"') == []
    assert sorted(list_ids(images, registry_id=registry.id, filter=f'name != "{value}"')) == sorted([added.id, short.id])


@pytest.mark.parametrize(
    "template", ['name = "{v}"', 'name != "{v}"', 'name IN ("{ok}", "{v}")', "name NOT IN ('{v}')"]
)
@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    "A filter value is at most 256 characters.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Image/list.md (Must be a maximum of 256 characters long)",
)
def test_filter_value_of_257_chars_is_invalid(emulator, images, template):
    registry = emulator.add_registry(FOLDER)
    path = "a" * (257 - len(registry.id) - 1)
    name = f"{registry.id}/{path}"
    assert len(name) == 257
    err = rpc_error(
        images.List,
        pb.ListImagesRequest(registry_id=registry.id, filter=template.format(v=name, ok=f"{registry.id}/x")),
    )
    assert_invalid(err, "filter")


BAD_FILTERS = [
    "name IN ()",
    "name NOT IN ()",
    "name IN ( )",
    'name ~ "{a}"',
    'tag = "{a}"',
    'id = "{a}"',
    'Name = "{a}"',
    'name = "{a}',
    "name = '{a}",
    "name = '{a}\"",
    'name = "{a}" extra',
    'name = "{a}" AND name = "{b}"',
    'name = "{a}" "{b}"',
    "name = {a}",
    'name == "{a}"',
    'name =! "{a}"',
    'name <> "{a}"',
    'name = ""',
    'name = "ubuntu"',
    "name IN ('ubuntu')",
    'name IN ("{a}", "ubuntu")',
    'name = "{r}"',
    'name = "{a}/"',
    'name = "{r}//web"',
    'name = "/{a}"',
    'name = "{R}/web"',
    'name = "{a} "',
    'name IN "{a}"',
    'name IN ("{a}"',
    'name IN "{a}")',
    'name IN ("{a}",)',
    'name IN (,"{a}")',
    'name IN ("{a}" "{b}")',
    'name IN ("{a}";"{b}")',
    'name NOT "{a}"',
    'name IN NOT ("{a}")',
    'name NOTIN ("{a}")',
    'name NOT  ("{a}")',
    "name",
    "name =",
    "name IN",
    '= "{a}"',
    '"{a}"',
    '("{a}")',
    "name = ()",
    'name = ("{a}")',
]


@pytest.mark.parametrize("template", BAD_FILTERS)
@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "Anything but one condition on name is INVALID_ARGUMENT naming filter.",
    "the reference describes one condition on Image.name",
)
def test_filter_garbage_is_invalid(world, images, template):
    text = template.format(a=f"{world.r}/web", b=f"{world.r}/api", r=world.r, R=world.r.upper())
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id=world.r, filter=text))
    assert_invalid(err, "filter")


@pytest.mark.parametrize("kind", ["repository", "registry", "folder"])
def test_filter_garbage_is_invalid_in_every_scope(world, images, kind):
    request, _ = scope_request(world, kind)
    err = rpc_error(images.List, pb.ListImagesRequest(filter='name ~ "x"', **request))
    assert_invalid(err, "filter")


# ---- order_by ------------------------------------------------------------------------------------

T = 1_750_000_000_000_000_000
ORDER_DATA = [
    # (id, repository, created_at offset in seconds): ids, names and times in different orders,
    # with ties on name and on created_at
    ("crp00000000000000005", "b", 300),
    ("crp00000000000000001", "b", 100),
    ("crp00000000000000003", "a", 300),
    ("crp00000000000000007", "c/x", 100),
    ("crp00000000000000002", "a", 200),
    ("crp00000000000000006", "a", 100),
    ("crp00000000000000004", "c/x", 300),
    ("crp0000000000000000a", "a-z", 200),
]


@dataclass
class OrderWorld:
    registry: str
    other: str
    rows: list[tuple[str, str, int]]  # (id, name, created_at_ns)


@pytest.fixture
def order_world(emulator) -> OrderWorld:
    registry = emulator.add_registry(FOLDER, id="crpmmmmmmmmmmmmmmmmm")
    other = emulator.add_registry(FOLDER, id="crpaaaaaaaaaaaaaaaaa")  # its names sort first
    rows = []
    for image_id, path, seconds in ORDER_DATA:
        created = T + seconds * 1_000_000_000
        emulator.add_image(registry.id, path, id=image_id, created_at_ns=created)
        rows.append((image_id, f"{registry.id}/{path}", created))
    for image_id, path, seconds in [("crp00000000000000008", "z", 200), ("crp00000000000000000", "b", 400)]:
        created = T + seconds * 1_000_000_000
        emulator.add_image(other.id, path, id=image_id, created_at_ns=created)
        rows.append((image_id, f"{other.id}/{path}", created))
    return OrderWorld(registry.id, other.id, rows)


SORT_KEYS = {
    "id": lambda row: row[0],
    "name": lambda row: (row[1], row[0]),
    "created_at": lambda row: (row[2], row[0]),
}


def expected_order(rows, field: str, descending: bool) -> list[str]:
    return [row[0] for row in sorted(rows, key=SORT_KEYS[field], reverse=descending)]


ORDERS = [
    ("", "id", False),
    ("id", "id", False),
    ("id asc", "id", False),
    ("id desc", "id", True),
    ("name", "name", False),
    ("name asc", "name", False),
    ("name desc", "name", True),
    ("created_at", "created_at", False),
    ("created_at asc", "created_at", False),
    ("created_at desc", "created_at", True),
]


@pytest.mark.parametrize("scope", ["registry", "folder"])
@pytest.mark.parametrize("order_by, field, descending", ORDERS)
def test_order_by(order_world, images, scope, order_by, field, descending):
    if scope == "registry":
        request = {"registry_id": order_world.registry}
        rows = [row for row in order_world.rows if row[1].startswith(order_world.registry + "/")]
    else:
        request = {"folder_id": FOLDER}
        rows = order_world.rows
    expected = expected_order(rows, field, descending)
    response = images.List(pb.ListImagesRequest(order_by=order_by, page_size=1000, **request))
    assert [image.id for image in response.images] == expected
    # the order holds across pages too
    assert [i for page in pages(images, 3, order_by=order_by, **request) for i in page] == expected


def test_order_by_ties_are_broken_by_id(order_world, images):
    by_name = list_ids(images, registry_id=order_world.registry, order_by="name")
    a = f"{order_world.registry}/a"
    assert by_name[:3] == ["crp00000000000000002", "crp00000000000000003", "crp00000000000000006"]
    assert all(row[1] == a for row in order_world.rows if row[0] in by_name[:3])
    by_time = list_ids(images, registry_id=order_world.registry, order_by="created_at")
    assert by_time[:3] == ["crp00000000000000001", "crp00000000000000006", "crp00000000000000007"]


@pytest.mark.parametrize(
    "order_by",
    [
        "size",
        "compressed_size",
        "tags",
        "name sideways",
        "id asc extra",
        "id desc desc",
        "asc",
        "desc",
        "name,id,name",
        "name, id,",
        "-created_at",
        "+id",
        "name:desc",
        "created",
        "createdAt",
    ],
)
def test_order_by_garbage_is_invalid(order_world, images, order_by):
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id=order_world.registry, order_by=order_by))
    assert_invalid(err, "order_by")


# ---- page tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["repository", "registry", "folder"])
@pytest.mark.parametrize("order_by", ["", "name desc", "created_at"])
@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 7, 100])
def test_paging_returns_every_image_exactly_once(world, images, kind, order_by, page_size):
    request, in_scope = scope_request(world, kind)
    got = pages(images, page_size, order_by=order_by, **request)
    flat = [i for page in got for i in page]
    assert sorted(flat) == world.ids(in_scope)
    assert len(flat) == len(set(flat))
    assert all(len(page) == page_size for page in got[:-1])
    assert 0 < len(got[-1]) <= page_size
    assert flat == list_ids(images, order_by=order_by, **request)


@pytest.mark.parametrize(
    "count, page_size, page_count", [(9, 3, 3), (9, 9, 1), (9, 10, 1), (9, 1, 9), (8, 4, 2), (9, 4, 3)]
)
def test_last_page_has_no_token(emulator, registry, images, count, page_size, page_count):
    for _ in range(count):
        emulator.add_image(registry.id, "web")
    got = pages(images, page_size, registry_id=registry.id)  # asserts that only the last page lacks a token
    assert len(got) == page_count
    assert [len(page) for page in got] == [page_size] * (page_count - 1) + [count - page_size * (page_count - 1)]


def test_empty_list_has_no_token(emulator, registry, images):
    response = images.List(pb.ListImagesRequest(registry_id=registry.id, page_size=1))
    assert list(response.images) == [] and response.next_page_token == ""


@pytest.mark.parametrize("order_by", ["", "name", "created_at desc"])
def test_tokens_stay_within_100_chars_with_longest_ids_and_names(emulator, images, order_by):
    registry = emulator.add_registry(FOLDER, id="r" * 50)
    from emulator.state.repositories import MAX_REPOSITORY_NAME

    path = "p" * (MAX_REPOSITORY_NAME - 51)  # the longest name a registry id of 50 leaves
    for n in range(4):
        emulator.add_image(registry.id, path, id=str(n) * 50)
    got = pages(images, 1, registry_id=registry.id, order_by=order_by, filter=f'name NOT IN ("{registry.id}/x")')
    assert sorted(i for page in got for i in page) == [str(n) * 50 for n in range(4)]


@pytest.fixture
def token_world(world, images):
    """A token for the first page of registry r, ordered by id, unfiltered."""
    request = {"registry_id": world.r}
    response = images.List(pb.ListImagesRequest(page_size=2, **request))
    assert response.next_page_token
    return world, response.next_page_token


def test_token_reused_with_the_same_query_continues(token_world, images):
    world, token = token_world
    first = list_ids(images, registry_id=world.r)
    response = images.List(pb.ListImagesRequest(registry_id=world.r, page_size=2, page_token=token))
    assert [image.id for image in response.images] == first[2:4]


@pytest.mark.parametrize(
    "change",
    [
        {"registry_id": None, "folder_id": FOLDER},
        {"registry_id": None, "repository_name": "{r}/web"},
        {"registry_id": "{r2}"},
        {"filter": 'name != "{r}/api"'},
        {"filter": 'name IN ("{r}/web", "{r}/api")'},
        {"order_by": "name"},
        {"order_by": "id desc"},
        {"order_by": "created_at"},
    ],
)
@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "Page tokens are signed keyset cursors bound to the method, scope, filter and order; any other is INVALID_ARGUMENT naming page_token.",
    "the token's form is not public; a cursor never repeats an image nor skips one that stays",
)
def test_token_reused_with_another_scope_filter_or_order_is_invalid(token_world, images, change):
    world, token = token_world
    request = {"registry_id": world.r, "page_size": 2, "page_token": token}
    for key, value in change.items():
        if value is None:
            del request[key]
        else:
            request[key] = value.format(r=world.r, r2=world.r2)
    err = rpc_error(images.List, pb.ListImagesRequest(**request))
    assert_invalid(err, "page_token")


def test_token_from_a_filtered_query_reused_without_the_filter_is_invalid(world, images):
    text = f'name != "{world.r}/api"'
    response = images.List(pb.ListImagesRequest(registry_id=world.r, filter=text, page_size=1))
    assert response.next_page_token
    err = rpc_error(
        images.List, pb.ListImagesRequest(registry_id=world.r, page_size=1, page_token=response.next_page_token)
    )
    assert_invalid(err, "page_token")


def flipped(token: str, position: int, bit: int) -> str:
    """The token with the character at ``position`` replaced by the one whose base64 value
    differs in ``bit``."""
    value = TOKEN_ALPHABET.index(token[position]) ^ bit
    return token[:position] + TOKEN_ALPHABET[value] + token[position + 1 :]


@pytest.mark.parametrize("id_length", [20, 21, 22, 50])
def test_tampered_token_is_invalid(emulator, images, id_length):
    """Every single-character change of an issued token is refused."""
    registry = emulator.add_registry(FOLDER)
    for n in range(3):
        emulator.add_image(registry.id, "web", id=str(n) * id_length)
    token = images.List(pb.ListImagesRequest(registry_id=registry.id, page_size=1)).next_page_token
    assert token and all(c in TOKEN_ALPHABET for c in token), token
    accepted = []
    for position in range(len(token)):
        for bit in (1, 32):
            tampered = flipped(token, position, bit)
            assert tampered != token
            try:
                images.List(pb.ListImagesRequest(registry_id=registry.id, page_size=1, page_token=tampered))
            except grpc.RpcError as err:
                assert_invalid(err, "page_token")
            else:
                accepted.append((position, token[position], tampered[position]))
    assert accepted == [], f"tampered tokens accepted (position, was, now) for {token!r}: {accepted}"


def test_token_with_a_character_swapped_for_its_standard_base64_twin_is_invalid(emulator, registry, images):
    """'-' -> '+' and '_' -> '/' change the token string; it is no longer one the emulator issued."""
    for _ in range(60):
        emulator.add_image(registry.id, "web")
    walk = list_pages(images.List, pb.ListImagesRequest, 1, registry_id=registry.id)
    tokens = [page.next_page_token for page in walk if page.next_page_token]
    tampered = [
        token[:position] + {"-": "+", "_": "/"}[char] + token[position + 1 :]
        for token in tokens
        for position, char in enumerate(token)
        if char in "-_"
    ]
    assert tampered, "no issued token contains '-' or '_'"  # practically impossible with 59 tokens
    accepted = []
    for token in tampered:
        try:
            images.List(pb.ListImagesRequest(registry_id=registry.id, page_size=1, page_token=token))
        except grpc.RpcError as err:
            assert_invalid(err, "page_token")
        else:
            accepted.append(token)
    assert accepted == [], f"{len(accepted)} of {len(tampered)} tampered tokens accepted, e.g. {accepted[0]!r}"


@pytest.mark.parametrize("edit", ["truncate", "append", "drop-first", "reverse"])
def test_mangled_token_is_invalid(token_world, images, edit):
    world, token = token_world
    mangled = {
        "truncate": token[:-1],
        "append": token + "A",
        "drop-first": token[1:],
        "reverse": token[::-1],
    }[edit]
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id=world.r, page_size=2, page_token=mangled))
    assert_invalid(err, "page_token")


# ---- paging while images come and go -------------------------------------------------------------


@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "Paging lists every image once, even when the last image of a page is deleted before the next page.",
    "not documented; keyset paging keeps it exact",
)
def test_next_page_after_the_last_image_of_the_page_was_deleted(emulator, registry, images):
    for _ in range(7):
        emulator.add_image(registry.id, "web")
    order = list_ids(images, registry_id=registry.id)
    first = images.List(pb.ListImagesRequest(registry_id=registry.id, page_size=3))
    assert [image.id for image in first.images] == order[:3]
    images.Delete(pb.DeleteImageRequest(image_id=order[2]))
    second = images.List(
        pb.ListImagesRequest(registry_id=registry.id, page_size=3, page_token=first.next_page_token)
    )
    assert [image.id for image in second.images] == order[3:6]
    images.Delete(pb.DeleteImageRequest(image_id=order[5]))
    images.Delete(pb.DeleteImageRequest(image_id=order[4]))
    third = images.List(
        pb.ListImagesRequest(registry_id=registry.id, page_size=3, page_token=second.next_page_token)
    )
    assert [image.id for image in third.images] == order[6:]
    assert third.next_page_token == ""


MUTATION_CASES = [
    ("", None),
    ("id desc", None),
    ("name", None),
    ("name desc", None),
    ("created_at", None),
    ("created_at desc", None),
    ("name", "not-in"),
    ("created_at desc", "in"),
]


@pytest.mark.parametrize("order_by, filter_kind", MUTATION_CASES)
def test_paging_is_exact_while_images_are_added_and_deleted(emulator, images, order_by, filter_kind):
    r = emulator.add_registry(FOLDER, id="crpmmmmmmmmmmmmmmmmm")
    r2 = emulator.add_registry(FOLDER, id="crpnnnnnnnnnnnnnnnnn")
    paths = ["a", "b", "c/d", "e"]
    created = T
    for n in range(16):
        created += (n % 3) * 1_000_000_000  # some ties on created_at
        registry = r if n % 5 else r2
        emulator.add_image(registry.id, paths[n % 4], id=f"crp{n * 7 % 16:017d}", created_at_ns=created)
    filters = {
        None: "",
        "not-in": f'name NOT IN ("{r.id}/b")',
        "in": f'name IN ("{r.id}/a", "{r.id}/c/d", "{r2.id}/e", "{r2.id}/a")',
    }
    request = {"folder_id": FOLDER, "order_by": order_by, "filter": filters[filter_kind]}
    initial = list_ids(images, **request)
    assert len(initial) >= 8
    alive = set(initial)
    deleted_unseen = set()  # deleted before their page was read
    seen: list[str] = []
    step = 0
    for listed in iter_pages(images.List, pb.ListImagesRequest, 3, max_pages=100, **request):
        page = [image.id for image in listed]
        assert not (set(page) & deleted_unseen), "a deleted image was listed"
        seen.extend(page)
        if not listed.next_page_token:
            break
        step += 1
        # delete the last image of this page, and one not listed yet
        images.Delete(pb.DeleteImageRequest(image_id=page[-1]))
        alive.discard(page[-1])
        current = list_ids(images, **request)
        unseen = [i for i in current if i not in seen]
        if unseen:
            victim = unseen[len(unseen) // 2]
            images.Delete(pb.DeleteImageRequest(image_id=victim))
            alive.discard(victim)
            deleted_unseen.add(victim)
        # add images that sort before and after everything, in every order
        emulator.add_image(r.id, "a", id=f"aaa{step:017d}", created_at_ns=T - step)
        emulator.add_image(r2.id, "e", id=f"zzz{step:017d}", created_at_ns=T + 10**12 + step)
        emulator.add_image(r.id, "c/d", id=f"crpv{step:016d}", created_at_ns=T + 5 * 10**9)
    assert step >= 2, "the scenario should span several pages"
    assert len(seen) == len(set(seen)), "an image was listed twice"
    survivors = alive & set(initial)
    missing = survivors - set(seen)
    assert not missing, f"images that existed throughout were skipped: {sorted(missing)}"


def test_a_token_from_before_reset_is_refused(emulator, images):
    registry = emulator.add_registry("b1gresetfolder", id="crpreset000000000000")
    for n in range(3):
        emulator.add_image(registry.id, "app", id=f"crpresetimage{n:07d}")
    token = images.List(pb.ListImagesRequest(registry_id=registry.id, page_size=1)).next_page_token
    emulator.reset()
    registry = emulator.add_registry("b1gresetfolder", id="crpreset000000000000")
    for n in range(3):
        emulator.add_image(registry.id, "app", id=f"crpresetimage{n:07d}")
    error = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry.id, page_size=1, page_token=token))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in error.details()
