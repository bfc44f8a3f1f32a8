"""RepositoryService through the official SDK's stubs over a real channel: the repository life
cycle (made by a first image or by Upsert, gone with its last image unless upserted), Get,
GetByName, List (scopes, filter, order, paging against a Python model), access bindings,
idempotency keys, strict auth and the request annotations reaching the wire."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf import empty_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from yandex.cloud.access import access_pb2
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1 import repository_pb2
from yandex.cloud.containerregistry.v1 import repository_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.containerregistry.v1.repository_service_pb2_grpc import RepositoryServiceStub
from yandex.cloud.operation import operation_service_pb2 as operation_pb

from conftest import FOLDER, assert_invalid, list_pages, rpc_error
from emulator import Emulator
from emulator.contract import strategies

OK = grpc.StatusCode.OK
NOT_FOUND = grpc.StatusCode.NOT_FOUND
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
OTHER_FOLDER = "b1g000000000000other"
EMPTY_FOLDER = "b1g000000000000empty"
REPOSITORY_ID = re.compile(r"crp[0-9a-v]{17}")
UNKNOWN_REGISTRY = "crp0000000000unknown"


@pytest.fixture(scope="session")
def repositories(channel):
    """The official SDK's RepositoryServiceStub, pointed at the emulator."""
    return RepositoryServiceStub(channel)


@pytest.fixture(scope="session")
def registries(channel):
    return RegistryServiceStub(channel)


def get(repositories, repository_id: str) -> repository_pb2.Repository:
    return repositories.Get(pb.GetRepositoryRequest(repository_id=repository_id))


def by_name(repositories, name: str) -> repository_pb2.Repository:
    return repositories.GetByName(pb.GetRepositoryByNameRequest(repository_name=name))


def listed(repositories, **fields) -> list[tuple[str, str]]:
    """(id, name) of every repository one big List page holds (it must be the only page)."""
    response = repositories.List(pb.ListRepositoriesRequest(page_size=1000, **fields))
    assert response.next_page_token == ""
    return [(repository.id, repository.name) for repository in response.repositories]


def unpacked(any_message, message_class):
    message = message_class()
    assert any_message.Is(message_class.DESCRIPTOR), any_message.type_url
    assert any_message.Unpack(message)
    return message


def upsert(repositories, name: str, metadata=()) -> repository_pb2.Repository:
    """Upsert ``name``; checks the operation's shape and returns its Repository."""
    operation = repositories.Upsert(pb.UpsertRepositoryRequest(name=name), metadata=metadata)
    assert operation.done and REPOSITORY_ID.fullmatch(operation.id)
    response = unpacked(operation.response, repository_pb2.Repository)
    assert unpacked(operation.metadata, pb.UpsertRepositoryMetadata).repository_id == response.id
    return response


def not_found(call, request) -> grpc.RpcError:
    error = rpc_error(call, request)
    assert error.code() == NOT_FOUND, (error.code(), error.details())
    return error


# ---- life cycle ------------------------------------------------------------------------------


@pytest.mark.behaviour(
    "RepositoryService",
    "choice",
    "A repository made by an image lives while it holds images, its id stable; made again, it gets a new id.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/operations/repository/repository-create.md ties a repository to its images (displayed only after a push); what production does when the last image goes is not public",
)
def test_a_repository_lives_from_its_first_image_to_its_last(emulator, registry, repositories, channel):
    images = ImageServiceStub(channel)
    first = emulator.add_image(registry.id, "team/web")
    repository = by_name(repositories, f"{registry.id}/team/web")
    assert REPOSITORY_ID.fullmatch(repository.id)
    assert repository.name == f"{registry.id}/team/web"
    assert get(repositories, repository.id) == repository
    second = emulator.add_image(registry.id, "team/web")
    images.Delete(image_pb.DeleteImageRequest(image_id=first.id))
    assert get(repositories, repository.id) == repository  # the same id while it holds images
    images.Delete(image_pb.DeleteImageRequest(image_id=second.id))
    not_found(repositories.Get, pb.GetRepositoryRequest(repository_id=repository.id))
    not_found(repositories.GetByName, pb.GetRepositoryByNameRequest(repository_name=repository.name))
    assert listed(repositories, registry_id=registry.id) == []
    assert emulator.repositories == {}
    emulator.add_image(registry.id, "team/web")  # a new life, a new id
    assert by_name(repositories, repository.name).id != repository.id


@pytest.mark.parametrize("upsert_first", [True, False], ids=["upsert-then-image", "image-then-upsert"])
def test_an_upserted_repository_outlives_its_last_image(emulator, registry, repositories, channel, upsert_first):
    name = f"{registry.id}/app"
    if upsert_first:
        made = upsert(repositories, name)
        image = emulator.add_image(registry.id, "app")
    else:
        image = emulator.add_image(registry.id, "app")
        made = upsert(repositories, name)
    assert by_name(repositories, name) == made
    ImageServiceStub(channel).Delete(image_pb.DeleteImageRequest(image_id=image.id))
    assert get(repositories, made.id) == made
    assert listed(repositories, registry_id=registry.id) == [(made.id, name)]


@pytest.mark.behaviour(
    "RepositoryService/Upsert",
    "choice",
    "Upsert makes an empty repository, kept until Delete, and answers the same one when it exists.",
    "the reference: 'Creates or updates'; the emulator differs from https://github.com/yandex-cloud/docs/blob/master/en/container-registry/operations/repository/repository-create.md (A repository will only be displayed after you push a Docker image to it): an upserted empty repository is found at once",
)
def test_upsert_makes_an_empty_repository_and_returns_it_again(emulator, registry, repositories, operations):
    name = f"{registry.id}/team/web"
    operation = repositories.Upsert(pb.UpsertRepositoryRequest(name=name))
    assert operation.description and operation.created_by
    made = unpacked(operation.response, repository_pb2.Repository)
    assert REPOSITORY_ID.fullmatch(made.id) and made.name == name
    assert get(repositories, made.id) == made
    assert emulator.images == {}
    again = repositories.Upsert(pb.UpsertRepositoryRequest(name=name))
    assert again.id != operation.id
    assert unpacked(again.response, repository_pb2.Repository) == made
    assert list(emulator.repositories) == [made.id]
    stored = operations.Get(operation_pb.GetOperationRequest(operation_id=operation.id))
    assert stored == operation


@pytest.mark.behaviour(
    "RepositoryService/Upsert",
    "documented",
    "Upsert in an unknown registry is NOT_FOUND.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (NOT_FOUND: The requested resource not found)",
)
def test_upsert_in_an_unknown_registry_is_not_found(emulator, registry, repositories):
    error = not_found(repositories.Upsert, pb.UpsertRepositoryRequest(name=f"{UNKNOWN_REGISTRY}/app"))
    assert UNKNOWN_REGISTRY in error.details()
    assert emulator.repositories == {} and emulator.operations == {}


@pytest.mark.parametrize("name", ["app", f"{UNKNOWN_REGISTRY}", "", "Upper/app", "crp1/a//b", "crp1/app/"])
@pytest.mark.behaviour(
    "RepositoryService/Upsert",
    "documented",
    "A name that is not `<registry_id>/<path>` is INVALID_ARGUMENT naming name.",
    "yandex/cloud/containerregistry/v1/repository_service.proto (the name's pattern); https://github.com/yandex-cloud/docs/blob/master/en/container-registry/concepts/repository.md (A repository is defined by the <registry_ID>/<Docker_image_name> combination); https://github.com/yandex-cloud/docs/blob/master/en/container-registry/operations/repository/repository-create.md (name in <registry_ID>/<repository_name> format)",
)
def test_upsert_of_a_name_that_is_not_registry_slash_path_is_invalid(emulator, registry, repositories, name):
    assert_invalid(rpc_error(repositories.Upsert, pb.UpsertRepositoryRequest(name=name)), "name")
    assert emulator.repositories == {} and emulator.operations == {}


def test_delete_of_an_empty_repository(emulator, registry, repositories, operations):
    made = upsert(repositories, f"{registry.id}/app")
    kept = upsert(repositories, f"{registry.id}/other")
    operation = repositories.Delete(pb.DeleteRepositoryRequest(repository_id=made.id))
    assert operation.done
    assert unpacked(operation.metadata, pb.DeleteRepositoryMetadata).repository_id == made.id
    unpacked(operation.response, empty_pb2.Empty)
    not_found(repositories.Get, pb.GetRepositoryRequest(repository_id=made.id))
    assert listed(repositories, registry_id=registry.id) == [(kept.id, kept.name)]
    assert operations.Get(operation_pb.GetOperationRequest(operation_id=operation.id)) == operation
    not_found(repositories.Delete, pb.DeleteRepositoryRequest(repository_id=made.id))


@pytest.mark.parametrize("kept", [False, True], ids=["by-image", "upserted"])
@pytest.mark.behaviour(
    "RepositoryService/Delete",
    "choice",
    "Deleting a repository that holds images is FAILED_PRECONDITION and deletes nothing.",
    "no public evidence shows production cascading, and a refused delete loses nothing",
)
def test_delete_of_a_repository_holding_images_is_refused_and_deletes_nothing(emulator, registry, repositories, kept):
    if kept:
        upsert(repositories, f"{registry.id}/app")
    image = emulator.add_image(registry.id, "app")
    repository = by_name(repositories, f"{registry.id}/app")
    before = json.dumps(emulator.state(), sort_keys=True)
    error = rpc_error(repositories.Delete, pb.DeleteRepositoryRequest(repository_id=repository.id))
    assert error.code() == FAILED_PRECONDITION, (error.code(), error.details())
    assert repository.name in error.details()
    assert json.dumps(emulator.state(), sort_keys=True) == before
    assert image.id in emulator.images and get(repositories, repository.id) == repository


def test_nested_paths_are_repositories_of_their_own(emulator, registry, repositories):
    team = upsert(repositories, f"{registry.id}/team")
    emulator.add_image(registry.id, "team/web")
    web = by_name(repositories, f"{registry.id}/team/web")
    deep = upsert(repositories, f"{registry.id}/team/web/a.b-c_d")
    assert len({team.id, web.id, deep.id}) == 3
    assert sorted(listed(repositories, registry_id=registry.id, order_by="name"), key=lambda r: r[1]) == [
        (team.id, f"{registry.id}/team"),
        (web.id, f"{registry.id}/team/web"),
        (deep.id, f"{registry.id}/team/web/a.b-c_d"),
    ]
    repositories.Delete(pb.DeleteRepositoryRequest(repository_id=team.id))
    assert get(repositories, web.id) == web and get(repositories, deep.id) == deep


def test_deleting_an_empty_registry_takes_its_upserted_repositories(emulator, registry, repositories, registries):
    made = upsert(repositories, f"{registry.id}/app")
    registries.Delete(registry_pb.DeleteRegistryRequest(registry_id=registry.id))
    not_found(repositories.Get, pb.GetRepositoryRequest(repository_id=made.id))
    not_found(repositories.GetByName, pb.GetRepositoryByNameRequest(repository_name=made.name))
    assert emulator.repositories == {}


# ---- Get and GetByName -------------------------------------------------------------------------


def test_get_and_get_by_name_agree(emulator, registry, repositories):
    emulator.add_image(registry.id, "web")
    made = emulator.add_repository(registry.id, "api")
    assert len(emulator.repositories) == 2
    for repository in emulator.repositories.values():
        got = get(repositories, repository.id)
        assert (got.id, got.name) == (repository.id, repository.name)
        assert by_name(repositories, repository.name) == got
    assert by_name(repositories, f"{registry.id}/api").id == made.id


@pytest.mark.parametrize(
    "name", [f"{UNKNOWN_REGISTRY}/web", "REGISTRY/nothing", "REGISTRY/web/deeper", "REGISTRY", "REGISTRY/we"]
)
def test_get_by_name_of_an_unknown_repository_is_not_found(emulator, registry, repositories, name):
    emulator.add_image(registry.id, "web")
    error = not_found(
        repositories.GetByName, pb.GetRepositoryByNameRequest(repository_name=name.replace("REGISTRY", registry.id))
    )
    assert name.replace("REGISTRY", registry.id) in error.details()


def test_get_of_an_unknown_repository_is_not_found(emulator, registry, repositories):
    emulator.add_image(registry.id, "web")
    for unknown in ("crp00000000000000000", registry.id):  # a registry's id is no repository's
        assert unknown in not_found(repositories.Get, pb.GetRepositoryRequest(repository_id=unknown)).details()


# ---- List: scopes, filter, order ----------------------------------------------------------------


@dataclass(frozen=True)
class Repo:
    id: str
    name: str
    registry: str
    folder: str


@dataclass
class World:
    r: str  # FOLDER: web (image), api (kept), team/web (image), team (kept and an image)
    r2: str  # FOLDER: web (image)
    r3: str  # OTHER_FOLDER: web (image), db (kept)
    all: list[Repo]

    def ids(self, keep) -> list[str]:
        return sorted(repo.id for repo in self.all if keep(repo))


def build(emulator, layout) -> list[Repo]:
    """Repositories from (registry, folder, path, kept, images) rows."""
    made = []
    for registry, folder, path, kept, image_count in layout:
        if kept:
            emulator.add_repository(registry.id, path)
        for _ in range(image_count):
            emulator.add_image(registry.id, path)
        repository = emulator.store.get_repository_by_name(f"{registry.id}/{path}")
        made.append(Repo(repository.id, repository.name, registry.id, folder))
    return made


@pytest.fixture
def world(emulator) -> World:
    r = emulator.add_registry(FOLDER, name="r")
    r2 = emulator.add_registry(FOLDER, name="r2")
    r3 = emulator.add_registry(OTHER_FOLDER, name="r3")
    layout = [
        (r, FOLDER, "web", False, 2),
        (r, FOLDER, "api", True, 0),
        (r, FOLDER, "team/web", False, 1),
        (r, FOLDER, "team", True, 1),
        (r2, FOLDER, "web", False, 1),
        (r3, OTHER_FOLDER, "web", False, 1),
        (r3, OTHER_FOLDER, "db", True, 0),
    ]
    return World(r.id, r2.id, r3.id, build(emulator, layout))


def ids(rows) -> list[str]:
    return sorted(repository_id for repository_id, _ in rows)


def test_list_registry_scope(world, repositories):
    assert ids(listed(repositories, registry_id=world.r)) == world.ids(lambda repo: repo.registry == world.r)
    assert len(world.ids(lambda repo: repo.registry == world.r)) == 4
    assert ids(listed(repositories, registry_id=world.r3)) == world.ids(lambda repo: repo.registry == world.r3)


def test_list_folder_scope(world, repositories):
    assert ids(listed(repositories, folder_id=FOLDER)) == world.ids(lambda repo: repo.folder == FOLDER)
    assert ids(listed(repositories, folder_id=OTHER_FOLDER)) == world.ids(lambda repo: repo.folder == OTHER_FOLDER)
    assert listed(repositories, folder_id=EMPTY_FOLDER) == []


def test_list_registry_id_wins_over_folder_id(world, repositories):
    got = listed(repositories, registry_id=world.r3, folder_id=FOLDER)
    assert ids(got) == world.ids(lambda repo: repo.registry == world.r3)


def test_list_names_each_repository_by_registry_and_path(world, repositories):
    assert sorted(listed(repositories, folder_id=FOLDER)) == sorted(
        (repo.id, repo.name) for repo in world.all if repo.folder == FOLDER
    )
    assert {name for _, name in listed(repositories, registry_id=world.r)} == {
        f"{world.r}/{path}" for path in ("web", "api", "team/web", "team")
    }


@pytest.mark.behaviour(
    "RepositoryService/List",
    "choice",
    "A List without registry_id or folder_id is INVALID_ARGUMENT.",
    "the reference gives no default scope",
)
def test_list_without_a_scope_is_invalid(world, repositories):
    error = rpc_error(repositories.List, pb.ListRepositoriesRequest(page_size=5, order_by="name"))
    assert_invalid(error, "folder_id")
    assert "registry_id" in error.details()


def test_list_of_an_unknown_registry_is_not_found(world, repositories):
    error = not_found(repositories.List, pb.ListRepositoriesRequest(registry_id=UNKNOWN_REGISTRY, folder_id=FOLDER))
    assert UNKNOWN_REGISTRY in error.details()


def filter_text(operator: str, names: list[str]) -> str:
    if operator in ("=", "!="):
        return f'name {operator} "{names[0]}"'
    return f"name {operator} (" + ", ".join(f"'{name}'" for name in names) + ")"


FILTER_CASES = [
    ("=", ["r/web"]),
    ("=", ["r/team"]),
    ("=", ["r3/web"]),  # outside FOLDER and r: matches nothing there
    ("=", ["r/nothing"]),
    ("!=", ["r/web"]),
    ("!=", ["r3/db"]),
    ("IN", ["r/web", "r/team/web", "r2/web"]),
    ("IN", ["r/api", "r3/db", "r/nothing"]),
    ("NOT IN", ["r/web", "r/team"]),
    ("NOT IN", ["r/api", "r/team/web", "r2/web", "r3/web"]),
]


@pytest.mark.parametrize("scope", ["registry", "folder"])
@pytest.mark.parametrize(("operator", "paths"), FILTER_CASES)
def test_list_filter_on_name(world, repositories, scope, operator, paths):
    registry_of = {"r": world.r, "r2": world.r2, "r3": world.r3}
    names = [f"{registry_of[path.split('/')[0]]}/{path.split('/', 1)[1]}" for path in paths]
    request = {"registry_id": world.r} if scope == "registry" else {"folder_id": FOLDER}
    negated = operator in ("!=", "NOT IN")

    def expected(repo: Repo) -> bool:
        in_scope = repo.registry == world.r if scope == "registry" else repo.folder == FOLDER
        return in_scope and (repo.name in names) != negated

    got = listed(repositories, filter=filter_text(operator, names), **request)
    assert ids(got) == world.ids(expected)


@pytest.mark.parametrize(
    "text",
    ['name = "web"', 'name = "R/web"', "name = web", 'id = "x/y"', "name IN ()", 'name ~ "a/b"', 'name = "a/b" AND'],
)
def test_list_bad_filter_is_invalid(world, repositories, text):
    assert_invalid(rpc_error(repositories.List, pb.ListRepositoriesRequest(registry_id=world.r, filter=text)), "filter")


ORDERS = [
    ("", "id", False),
    ("id", "id", False),
    ("id asc", "id", False),
    ("id DESC", "id", True),
    ("name", "name", False),
    ("NAME", None, None),  # the field name is case-sensitive
    ("name asc", "name", False),
    ("name desc", "name", True),
    ("  name\tDesc ", "name", True),
]


def model_order(rows: list[Repo], field: str, descending: bool) -> list[str]:
    key = (lambda repo: (repo.name, repo.id)) if field == "name" else (lambda repo: repo.id)
    return [repo.id for repo in sorted(rows, key=key, reverse=descending)]


@pytest.mark.parametrize("scope", ["registry", "folder"])
@pytest.mark.parametrize(("order_by", "field", "descending"), ORDERS)
def test_list_order_by(world, repositories, scope, order_by, field, descending):
    request = {"registry_id": world.r} if scope == "registry" else {"folder_id": FOLDER}
    if field is None:
        assert_invalid(
            rpc_error(repositories.List, pb.ListRepositoriesRequest(order_by=order_by, **request)), "order_by"
        )
        return
    rows = [repo for repo in world.all if (repo.registry == world.r if scope == "registry" else repo.folder == FOLDER)]
    got = [repository_id for repository_id, _ in listed(repositories, order_by=order_by, **request)]
    assert got == model_order(rows, field, descending)


def test_list_by_name_orders_by_the_whole_name_not_the_path_or_id(emulator, repositories):
    """The same path in two registries of a folder: the name ("<registry_id>/<path>") decides,
    here against the order of the repositories' own ids."""
    one = emulator.add_registry(FOLDER, id="crpbbbbbbbbbbbbbbbbb")
    two = emulator.add_registry(FOLDER, id="crpaaaaaaaaaaaaaaaaa")
    a = emulator.add_repository(one.id, "web", id="crp00000000000000001")
    b = emulator.add_repository(two.id, "web", id="crp00000000000000002")
    got = [repository_id for repository_id, _ in listed(repositories, folder_id=FOLDER, order_by="name")]
    assert got == [b.id, a.id]


@pytest.mark.parametrize("order_by", ["created_at", "size", "name up", "name, name", "name asc desc", "-name"])
def test_list_order_by_garbage_is_invalid(world, repositories, order_by):
    error = rpc_error(repositories.List, pb.ListRepositoriesRequest(registry_id=world.r, order_by=order_by))
    assert_invalid(error, "order_by")


def test_list_several_broken_rules_are_reported_together(world, repositories):
    error = rpc_error(repositories.List, pb.ListRepositoriesRequest(filter="nonsense", order_by="size", page_size=-1))
    assert_invalid(error, "folder_id", "filter", "order_by", "page_size")


def pages(repositories, page_size: int, **fields) -> list[list[str]]:
    """Every page of a List (its repositories' ids); only the last page may be short."""
    walked = list_pages(repositories.List, pb.ListRepositoriesRequest, page_size, max_pages=200, **fields)
    assert all(len(page) == page_size for page in walked[:-1]), "a page before the last one is short"
    return [[repository.id for repository in page] for page in walked]


def test_paging_within_one_query(world, repositories):
    got = pages(repositories, 2, folder_id=FOLDER, order_by="name desc")
    assert [len(page) for page in got] == [2, 2, 1]
    rows = [repo for repo in world.all if repo.folder == FOLDER]
    assert [repository_id for page in got for repository_id in page] == model_order(rows, "name", True)


def test_a_page_token_is_bound_to_its_query(world, repositories):
    first = repositories.List(pb.ListRepositoriesRequest(folder_id=FOLDER, page_size=1, order_by="name"))
    assert first.next_page_token
    for other in ({"folder_id": FOLDER, "order_by": "id"}, {"registry_id": world.r, "order_by": "name"}):
        request = pb.ListRepositoriesRequest(page_size=1, page_token=first.next_page_token, **other)
        assert_invalid(rpc_error(repositories.List, request), "page_token")


# ---- List: the property --------------------------------------------------------------------------

PATHS = ["web", "api", "team", "team/web", "team/web/x", "a.b-c_d", "z9"]
FOLDERS = [FOLDER, OTHER_FOLDER]


@st.composite
def layouts(draw) -> list[tuple[int, str, bool, int]]:
    """Rows (registry number, path, kept, images) for up to three registries."""
    rows = []
    for number in range(draw(st.integers(1, 3))):
        for path in draw(st.lists(st.sampled_from(PATHS), unique=True, max_size=len(PATHS))):
            kept = draw(st.booleans())
            rows.append((number, path, kept, draw(st.integers(0 if kept else 1, 2))))
    return rows


def yc_id(*parts) -> str:
    """A well-formed id derived from ``parts``: deterministic (hypothesis replays examples), yet
    spread, so that the id order is not the order of creation."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=17).digest()
    return "crp" + "".join("0123456789abcdefghijklmnopqrstuv"[byte % 32] for byte in digest)


@settings(max_examples=60)
@given(
    layout=layouts(),
    registry_folders=st.lists(st.sampled_from(FOLDERS), min_size=3, max_size=3),
    salt=st.integers(0, 3),
    data=st.data(),
)
def test_pages_of_any_size_concatenate_to_the_one_big_page_the_model_expects(
    running_emulator, repositories, layout, registry_folders, salt, data
):
    running_emulator.reset()
    registry_ids = [yc_id("registry", n, salt) for n in range(3)]
    seed = {"registries": [{"id": registry_ids[n], "folder_id": registry_folders[n]} for n in range(3)]}
    rows = []
    for n, path, kept, count in layout:
        entry = seed["registries"][n]
        repository_id = yc_id("repository", n, path, salt)
        entry.setdefault("repositories", []).append({"path": path, "id": repository_id, "kept": kept})
        entry.setdefault("images", []).extend({"repository": path} for _ in range(count))
        rows.append(Repo(repository_id, f"{registry_ids[n]}/{path}", registry_ids[n], registry_folders[n]))
    running_emulator.load_seed(seed)
    assert sorted(running_emulator.repositories) == sorted(repo.id for repo in rows)

    kind = data.draw(st.sampled_from(["registry", "folder", "both"]), label="scope")
    registry = data.draw(st.sampled_from(registry_ids), label="registry")
    folder = data.draw(st.sampled_from(FOLDERS), label="folder")
    if kind == "folder":
        request = {"folder_id": folder}

        def in_scope(repo: Repo) -> bool:
            return repo.folder == folder
    else:  # registry_id wins over any folder_id
        request = {"registry_id": registry, **({"folder_id": folder} if kind == "both" else {})}

        def in_scope(repo: Repo) -> bool:
            return repo.registry == registry

    candidates = [f"{registry_id}/{path}" for registry_id in registry_ids for path in PATHS]
    # Filters (=, !=, IN, NOT IN) and orders (id, name; one or both, asc or desc) as emulator.contract.strategies draws them.
    text = data.draw(st.just("") | strategies.filters("RepositoryService/List", names=candidates), label="filter")
    if text:
        request["filter"] = text
    negated, names = strategies.read_filter(text)  # no filter: "not in the empty set"
    order_by = data.draw(st.just("") | strategies.order_bys("RepositoryService/List"), label="order_by")
    first = order_by.split(",")[0].split() or ["id"]  # ids and names are unique: the first field decides
    chosen = [repo for repo in rows if in_scope(repo) and (repo.name in names) != negated]
    expected = model_order(chosen, first[0], first[-1].lower() == "desc")

    assert pages(repositories, 1000, order_by=order_by, **request) == [expected]
    page_size = data.draw(st.integers(1, len(expected) + 1), label="page_size")
    got = pages(repositories, page_size, order_by=order_by, **request)
    assert [repository_id for page in got for repository_id in page] == expected
    assert len(got) == max(1, -(-len(expected) // page_size))


# ---- access bindings --------------------------------------------------------------------------


def binding(role: str, subject: str, kind: str = "userAccount") -> access_pb2.AccessBinding:
    return access_pb2.AccessBinding(role_id=role, subject=access_pb2.Subject(id=subject, type=kind))


def bindings_of(repositories, resource_id: str, page_size: int = 0) -> list[access_pb2.AccessBinding]:
    walked = list_pages(
        repositories.ListAccessBindings, access_pb2.ListAccessBindingsRequest, page_size, resource_id=resource_id
    )
    assert all(len(page) == page_size for page in walked[:-1]), "a page before the last one is short"
    return [binding for page in walked for binding in page]


@pytest.mark.behaviour(
    "RepositoryService/SetAccessBindings",
    "choice",
    "A repository's access bindings are kept as set.",
    "as for registries",
)
@pytest.mark.behaviour(
    "RepositoryService/UpdateAccessBindings",
    "choice",
    "ADD appends what is absent, REMOVE takes out what is present.",
    "as for registries",
)
def test_access_bindings_are_set_updated_and_listed(emulator, registry, repositories, operations):
    repository = upsert(repositories, f"{registry.id}/app")
    assert bindings_of(repositories, repository.id) == []
    pull, push, admin = (
        binding("container-registry.images.puller", "aje1"),
        binding("editor", "aje2"),
        binding("admin", "group1", "group"),
    )
    operation = repositories.SetAccessBindings(
        access_pb2.SetAccessBindingsRequest(resource_id=repository.id, access_bindings=[pull, push])
    )
    assert operation.done
    assert unpacked(operation.metadata, access_pb2.SetAccessBindingsMetadata).resource_id == repository.id
    unpacked(operation.response, empty_pb2.Empty)
    assert operations.Get(operation_pb.GetOperationRequest(operation_id=operation.id)) == operation
    assert bindings_of(repositories, repository.id) == [pull, push]

    add, remove = access_pb2.AccessBindingAction.ADD, access_pb2.AccessBindingAction.REMOVE
    deltas = [
        access_pb2.AccessBindingDelta(action=add, access_binding=admin),
        access_pb2.AccessBindingDelta(action=remove, access_binding=pull),
        access_pb2.AccessBindingDelta(action=add, access_binding=push),  # present: no change
        access_pb2.AccessBindingDelta(action=remove, access_binding=binding("viewer", "nobody")),  # absent: none
    ]
    operation = repositories.UpdateAccessBindings(
        access_pb2.UpdateAccessBindingsRequest(resource_id=repository.id, access_binding_deltas=deltas)
    )
    assert unpacked(operation.metadata, access_pb2.UpdateAccessBindingsMetadata).resource_id == repository.id
    assert bindings_of(repositories, repository.id) == [push, admin]
    assert bindings_of(repositories, repository.id, page_size=1) == [push, admin]
    stored = emulator.repositories[repository.id].access_bindings
    assert [(b.role_id, b.subject_id, b.subject_type) for b in stored] == [
        ("editor", "aje2", "userAccount"),
        ("admin", "group1", "group"),
    ]
    repositories.SetAccessBindings(access_pb2.SetAccessBindingsRequest(resource_id=repository.id))
    assert bindings_of(repositories, repository.id) == []


@pytest.mark.behaviour(
    "RepositoryService/ListAccessBindings",
    "choice",
    "A repository's access bindings page by position with page tokens.",
    "as for registries",
)
def test_access_bindings_page_through_with_tokens(emulator, registry, repositories):
    repository = upsert(repositories, f"{registry.id}/app")
    many = [binding("viewer", f"aje{n:03d}") for n in range(7)]
    repositories.SetAccessBindings(access_pb2.SetAccessBindingsRequest(resource_id=repository.id, access_bindings=many))
    for page_size in (1, 2, 3, 6, 7, 8, 0):
        assert bindings_of(repositories, repository.id, page_size) == many
    first = repositories.ListAccessBindings(
        access_pb2.ListAccessBindingsRequest(resource_id=repository.id, page_size=3)
    )
    other = upsert(repositories, f"{registry.id}/other")
    request = access_pb2.ListAccessBindingsRequest(resource_id=other.id, page_size=3, page_token=first.next_page_token)
    assert_invalid(rpc_error(repositories.ListAccessBindings, request), "page_token")


def test_access_binding_methods_on_an_unknown_repository_are_not_found(emulator, registry, repositories):
    unknown = "crp00000000000000000"
    not_found(repositories.ListAccessBindings, access_pb2.ListAccessBindingsRequest(resource_id=unknown))
    not_found(
        repositories.SetAccessBindings,
        access_pb2.SetAccessBindingsRequest(resource_id=unknown, access_bindings=[binding("viewer", "a")]),
    )
    delta = access_pb2.AccessBindingDelta(action=access_pb2.AccessBindingAction.ADD, access_binding=binding("v", "a"))
    not_found(
        repositories.UpdateAccessBindings,
        access_pb2.UpdateAccessBindingsRequest(resource_id=unknown, access_binding_deltas=[delta]),
    )
    assert emulator.operations == {}


@pytest.mark.behaviour(
    "RepositoryService/ListAccessBindings",
    "choice",
    "A repository that goes with its last image takes its bindings along.",
    "the bindings belong to the repository",
)
def test_a_repository_that_goes_with_its_last_image_takes_its_bindings(emulator, registry, repositories, channel):
    image = emulator.add_image(registry.id, "app")
    repository = by_name(repositories, f"{registry.id}/app")
    repositories.SetAccessBindings(
        access_pb2.SetAccessBindingsRequest(resource_id=repository.id, access_bindings=[binding("viewer", "a")])
    )
    ImageServiceStub(channel).Delete(image_pb.DeleteImageRequest(image_id=image.id))
    not_found(repositories.ListAccessBindings, access_pb2.ListAccessBindingsRequest(resource_id=repository.id))
    emulator.add_image(registry.id, "app")
    assert bindings_of(repositories, by_name(repositories, f"{registry.id}/app").id) == []


# ---- idempotency keys ---------------------------------------------------------------------------


def key(text: str) -> tuple:
    return (("idempotency-key", text),)


def test_upsert_repeated_with_its_idempotency_key_returns_the_first_operation(emulator, registry, repositories):
    name = f"{registry.id}/app"
    first = repositories.Upsert(pb.UpsertRepositoryRequest(name=name), metadata=key("upsert-1"))
    again = repositories.Upsert(pb.UpsertRepositoryRequest(name=name), metadata=key("upsert-1"))
    assert again == first
    assert list(emulator.operations) == [first.id] and len(emulator.repositories) == 1
    made = unpacked(first.response, repository_pb2.Repository)
    repositories.Delete(pb.DeleteRepositoryRequest(repository_id=made.id))
    # The key answers with its operation and changes nothing: the repository is not made again.
    assert repositories.Upsert(pb.UpsertRepositoryRequest(name=name), metadata=key("upsert-1")) == first
    assert emulator.repositories == {}


def test_an_upsert_key_reused_for_another_name_answers_the_first_operation(emulator, registry, repositories):
    first = repositories.Upsert(pb.UpsertRepositoryRequest(name=f"{registry.id}/app"), metadata=key("k"))
    before = json.dumps(emulator.state(), sort_keys=True)
    again = repositories.Upsert(pb.UpsertRepositoryRequest(name=f"{registry.id}/other"), metadata=key("k"))
    assert again == first
    assert json.dumps(emulator.state(), sort_keys=True) == before


def test_delete_repeated_with_its_idempotency_key_returns_the_first_operation(emulator, registry, repositories):
    made = upsert(repositories, f"{registry.id}/app")
    request = pb.DeleteRepositoryRequest(repository_id=made.id)
    first = repositories.Delete(request, metadata=key("delete-1"))
    assert repositories.Delete(request, metadata=key("delete-1")) == first  # not NOT_FOUND
    not_found(repositories.Delete, request)  # without the key: a new Delete
    other = upsert(repositories, f"{registry.id}/other")
    again = repositories.Delete(pb.DeleteRepositoryRequest(repository_id=other.id), metadata=key("delete-1"))
    assert again == first  # the key's operation: the other repository is not deleted
    assert get(repositories, other.id) == other


def test_the_same_key_on_another_method_is_another_call(emulator, registry, repositories):
    made = upsert(repositories, f"{registry.id}/app", metadata=key("shared"))
    operation = repositories.Delete(pb.DeleteRepositoryRequest(repository_id=made.id), metadata=key("shared"))
    assert unpacked(operation.metadata, pb.DeleteRepositoryMetadata).repository_id == made.id
    assert emulator.repositories == {}


# ---- strict auth --------------------------------------------------------------------------------

TOKEN = "repositories-token"
MINE, THEIRS = FOLDER, OTHER_FOLDER


def bearer(token: str) -> tuple:
    return (("authorization", f"Bearer {token}"),)


@pytest.fixture(scope="module")
def strict():
    with Emulator(auth="strict", tokens={TOKEN: [MINE]}) as emulator:
        channel = emulator.channel()
        yield emulator, RepositoryServiceStub(channel)
        channel.close()


@pytest.fixture
def strict_world(strict):
    """In each folder a registry with an empty upserted repository ("app") and one holding an image."""
    emulator, stub = strict
    emulator.reset()
    targets = {}
    for folder in (MINE, THEIRS):
        registry = emulator.add_registry(folder)
        emulator.add_image(registry.id, "full")
        targets[folder] = emulator.add_repository(registry.id, "app")
    return emulator, stub, targets


ADD = access_pb2.AccessBindingAction.ADD
METHODS = {
    "Get": lambda t: pb.GetRepositoryRequest(repository_id=t.id),
    "GetByName": lambda t: pb.GetRepositoryByNameRequest(repository_name=t.name),
    "List": lambda t: pb.ListRepositoriesRequest(registry_id=t.registry_id),
    "List-folder": lambda t: pb.ListRepositoriesRequest(folder_id=t.folder),
    "Upsert": lambda t: pb.UpsertRepositoryRequest(name=t.name),
    "Upsert-new": lambda t: pb.UpsertRepositoryRequest(name=f"{t.registry_id}/new"),
    "Delete": lambda t: pb.DeleteRepositoryRequest(repository_id=t.id),
    "ListAccessBindings": lambda t: access_pb2.ListAccessBindingsRequest(resource_id=t.id),
    "SetAccessBindings": lambda t: access_pb2.SetAccessBindingsRequest(
        resource_id=t.id, access_bindings=[binding("viewer", "aje1")]
    ),
    "UpdateAccessBindings": lambda t: access_pb2.UpdateAccessBindingsRequest(
        resource_id=t.id,
        access_binding_deltas=[access_pb2.AccessBindingDelta(action=ADD, access_binding=binding("v", "a"))],
    ),
}


@dataclass
class Target:
    id: str
    name: str
    registry_id: str
    folder: str


def call_of(stub, method: str, target, metadata) -> tuple[grpc.StatusCode, object]:
    try:
        return OK, getattr(stub, method.split("-")[0])(METHODS[method](target), metadata=metadata)
    except grpc.RpcError as error:
        return error.code(), error.details()


def target_in(targets, folder: str) -> Target:
    repository = targets[folder]
    return Target(repository.id, repository.name, repository.registry_id, folder)


def frozen(emulator) -> str:
    return json.dumps(emulator.state(), sort_keys=True)


@pytest.mark.parametrize("method", list(METHODS))
def test_strict_auth_denies_another_folders_repository_and_changes_nothing(strict_world, method):
    emulator, stub, targets = strict_world
    before = frozen(emulator)
    code, details = call_of(stub, method, target_in(targets, THEIRS), bearer(TOKEN))
    assert code == grpc.StatusCode.PERMISSION_DENIED, (code, details)
    assert frozen(emulator) == before


@pytest.mark.parametrize("method", list(METHODS))
def test_strict_auth_allows_the_tokens_own_folder(strict_world, method):
    _, stub, targets = strict_world
    code, answer = call_of(stub, method, target_in(targets, MINE), bearer(TOKEN))
    assert code == OK, answer


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("metadata", [(), bearer("unknown-token")], ids=["no-token", "unknown-token"])
def test_strict_auth_without_a_valid_token_is_unauthenticated(strict_world, method, metadata):
    emulator, stub, targets = strict_world
    before = frozen(emulator)
    code, details = call_of(stub, method, target_in(targets, MINE), metadata)
    assert code == grpc.StatusCode.UNAUTHENTICATED, (code, details)
    assert frozen(emulator) == before


def test_strict_auth_an_unknown_repository_is_not_found_before_the_folder_check(strict_world):
    _, stub, _ = strict_world
    code, _ = call_of(stub, "Get", Target("crp00000000000000000", "", "", THEIRS), bearer(TOKEN))
    assert code == NOT_FOUND


def test_strict_auth_idempotency_key_repeat_checks_the_folder_again(strict_world):
    """A repeated key answers from the stored operation: a token whose folders were narrowed
    since must not read another folder's operation that way."""
    emulator, stub, targets = strict_world
    emulator.configure_auth("strict", {TOKEN: None})
    request = pb.UpsertRepositoryRequest(name=f"{targets[THEIRS].registry_id}/new")
    first = stub.Upsert(request, metadata=bearer(TOKEN) + key("k"))
    assert stub.Upsert(request, metadata=bearer(TOKEN) + key("k")) == first
    emulator.configure_auth("strict", {TOKEN: [MINE]})
    error = rpc_error(stub.Upsert, request, metadata=bearer(TOKEN) + key("k"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED, error.details()


# ---- annotations on the wire ------------------------------------------------------------------


def test_the_annotated_limits_reach_the_wire(emulator, registry, repositories):
    """At each limit the request is served (NOT_FOUND or OK); one over it, INVALID_ARGUMENT naming the field."""
    # repository_id <= 50
    for call, request_of in (
        (repositories.Get, lambda v: pb.GetRepositoryRequest(repository_id=v)),
        (repositories.Delete, lambda v: pb.DeleteRepositoryRequest(repository_id=v)),
    ):
        not_found(call, request_of("a" * 50))
        assert_invalid(rpc_error(call, request_of("a" * 51)), "repository_id")
        assert_invalid(rpc_error(call, request_of("")), "repository_id")
    # repository_name pattern
    not_found(repositories.GetByName, pb.GetRepositoryByNameRequest(repository_name=f"{registry.id}/a.b-c_d/e"))
    for bad in ("", "Upper/app", f"{registry.id}/app/", f"{registry.id}//app", f"{registry.id}/a..b", " x/y"):
        error = rpc_error(repositories.GetByName, pb.GetRepositoryByNameRequest(repository_name=bad))
        assert_invalid(error, "repository_name")

    # List: order_by <= 100, page_size <= 1000 (and >= 0), registry/folder ids <= 50, filter <= 1000, token <= 100
    def list_request(**fields):
        return pb.ListRepositoriesRequest(**{"registry_id": registry.id, **fields})

    padded = 'name = "a/b"'
    for served in (
        list_request(order_by="name".ljust(100)),
        list_request(page_size=1000),
        list_request(filter=padded.ljust(1000)),
        pb.ListRepositoriesRequest(folder_id="f" * 50),
    ):
        assert repositories.List(served).next_page_token == ""
    for field, bad in (
        ("order_by", list_request(order_by="name".ljust(101))),
        ("page_size", list_request(page_size=1001)),
        ("page_size", list_request(page_size=-1)),
        ("filter", list_request(filter=padded.ljust(1001))),
        ("page_token", list_request(page_token="A" * 101)),
        ("registry_id", pb.ListRepositoriesRequest(registry_id="r" * 51)),
        ("folder_id", pb.ListRepositoriesRequest(folder_id="f" * 51)),
    ):
        assert_invalid(rpc_error(repositories.List, bad), field)
    not_found(repositories.List, pb.ListRepositoriesRequest(registry_id="r" * 50))


def test_the_access_binding_annotations_reach_the_wire(emulator, registry, repositories):
    made = upsert(repositories, f"{registry.id}/app")
    not_found(repositories.ListAccessBindings, access_pb2.ListAccessBindingsRequest(resource_id="a" * 64))

    def listing(**fields):
        return access_pb2.ListAccessBindingsRequest(**{"resource_id": made.id, **fields})

    for field, bad in (
        ("resource_id", access_pb2.ListAccessBindingsRequest(resource_id="a" * 65)),
        ("resource_id", access_pb2.ListAccessBindingsRequest()),
        ("page_size", listing(page_size=1001)),
        ("page_size", listing(page_size=-1)),
        ("page_token", listing(page_token="A" * 2001)),
    ):
        assert_invalid(rpc_error(repositories.ListAccessBindings, bad), field)
    assert repositories.ListAccessBindings(listing(page_size=1000)).access_bindings == []

    thousand = [binding("viewer", f"aje{n:04d}") for n in range(1000)]
    set_request = access_pb2.SetAccessBindingsRequest(resource_id=made.id, access_bindings=thousand)
    assert repositories.SetAccessBindings(set_request).done
    set_request.access_bindings.append(binding("viewer", "one-more"))
    assert_invalid(rpc_error(repositories.SetAccessBindings, set_request), "access_bindings")
    for bad_binding, field in (
        (binding("", "a"), "access_bindings[0].role_id"),
        (binding("r" * 65, "a"), "access_bindings[0].role_id"),
        (binding("viewer", ""), "access_bindings[0].subject.id"),
        (binding("viewer", "a", "t" * 101), "access_bindings[0].subject.type"),
    ):
        request = access_pb2.SetAccessBindingsRequest(resource_id=made.id, access_bindings=[bad_binding])
        error = rpc_error(repositories.SetAccessBindings, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field.rsplit(".", 1)[-1] in error.details(), error.details()
    empty_update = access_pb2.UpdateAccessBindingsRequest(resource_id=made.id)
    assert_invalid(rpc_error(repositories.UpdateAccessBindings, empty_update), "access_binding_deltas")
    assert len(emulator.repositories[made.id].access_bindings) == 1000


# ---- a repository name has a bound on every surface (issue #20, P11) ----------------------------


@pytest.mark.behaviour(
    "RepositoryService/Upsert",
    "choice",
    "A repository name is at most 245 characters.",
    "Docker's limit is 255 (NameTotalLengthMax) less `cr.yandex/`; the API gives none",
)
def test_a_repository_name_longer_than_docker_allows_is_refused_everywhere(emulator, registry, channel):
    """P11: Upsert took a 1 MiB name (and kept it through its operation). Docker's reference grammar
    caps a name, registry host included, at 255 characters: cr.yandex/ leaves 245 for
    <registry_id>/<path>."""
    from yandex.cloud.containerregistry.v1 import repository_service_pb2 as repository_pb
    from yandex.cloud.containerregistry.v1.repository_service_pb2_grpc import RepositoryServiceStub

    from emulator import SeedError
    from emulator.state.repositories import MAX_REPOSITORY_NAME

    assert MAX_REPOSITORY_NAME == 255 - len("cr.yandex/")
    fits = "a" * (MAX_REPOSITORY_NAME - len(registry.id) - 1)
    upsert = RepositoryServiceStub(channel).Upsert
    assert upsert(repository_pb.UpsertRepositoryRequest(name=f"{registry.id}/{fits}")).done
    err = rpc_error(upsert, repository_pb.UpsertRepositoryRequest(name=f"{registry.id}/{fits}b"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and err.details().startswith("name: ")
    assert len(err.details()) < 400
    before = emulator.state()
    with pytest.raises(ValueError, match="^path: "):
        emulator.add_repository(registry.id, fits + "b")
    with pytest.raises(ValueError, match="^repository: "):
        emulator.add_image(registry.id, fits + "b")
    with pytest.raises(SeedError, match=r"^registries\[0\]\.images\[0\]\.repository: "):
        emulator.load_seed({"registries": [{"folder_id": FOLDER, "images": [{"repository": "x" * 300}]}]})
    assert emulator.state() == before


def test_name_serials_are_bounded_oldest_first():
    """Page tokens carry a name's serial; the serials are kept for at most MAX_SERIALS names, the
    oldest forgotten first (a token naming one is then not a token this emulator issued)."""
    from emulator.state.listing import NameSerials, UnknownCursor

    serials = NameSerials(max_names=3)
    numbers = [serials.serial_of(name) for name in ("a", "b", "c", "a", "d")]
    assert numbers == [0, 1, 2, 0, 3]
    with pytest.raises(UnknownCursor):
        serials.name_of(0)
    assert [serials.name_of(n) for n in (1, 2, 3)] == ["b", "c", "d"]
    assert serials.serial_of("a") == 4  # a new number: the old one may still be in a token
