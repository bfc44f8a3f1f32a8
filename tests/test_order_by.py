"""order_by as today's documentation has it, through the official SDK's stubs over a real channel:
``name``, ``digest``, ``created_at``, ``last_modified`` (and ``id``), several of them separated by
commas, each ascending or descending; ties broken by id in the last field's direction.

Every expectation comes from a plain-Python model of what the test added (last_modified: the
later of an image's creation and the creation of the newest image that took a tag off it),
sorted with a comparison function, never from the emulator's internals.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import repository_service_pb2 as repository_pb
from yandex.cloud.containerregistry.v1.repository_service_pb2_grpc import RepositoryServiceStub

from conftest import FOLDER, assert_invalid, iter_pages, list_pages, rpc_error
from emulator.contract import strategies
from emulator.state.listing import ID_ORDER, Field, NameSerials, Scope, ScopedIndex, by_name_then_id, by_number_then_id
from tests.support.world import digest as digest_of

FIELDS = ("id", "name", "digest", "created_at", "last_modified")
TIMEOUT = 10
T = 1_750_000_000 * 10**9
SECOND = 10**9


def examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- the model ---------------------------------------------------------------------------------


@dataclass
class Row:
    id: str
    registry_id: str
    folder_id: str
    repository: str
    digest: str
    created_at: int
    last_modified: int
    tags: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.registry_id}/{self.repository}"

    def value(self, name: str):
        return self.name if name == "name" else getattr(self, name)


class Model:
    """The live images, their tags and last_modified, as the test made them."""

    def __init__(self):
        self.rows: dict[str, Row] = {}

    def add(self, emulator, row: Row) -> None:
        emulator.add_image(
            row.registry_id, row.repository, id=row.id, digest=row.digest, tags=row.tags, created_at_ns=row.created_at
        )
        for other in self.rows.values():
            if other.name == row.name and set(other.tags) & set(row.tags):
                other.tags = [tag for tag in other.tags if tag not in row.tags]
                other.last_modified = max(other.last_modified, row.created_at)
        self.rows[row.id] = row

    def delete(self, image_id: str) -> None:
        del self.rows[image_id]


def written_fields(order_by: str) -> list[tuple[str, bool]]:
    """(field, descending) as an order_by text names them (the test's own reading of the grammar)."""
    if not order_by.strip(" \t"):
        return [("id", False)]
    parts = []
    for item in order_by.split(","):
        words = item.split()
        parts.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return parts


def compare_by(order_by: str):
    """A comparison of two rows in the documented order: the fields as written (nothing after the
    id counts), then the id in the direction of the last field written."""
    parts = written_fields(order_by)
    names = [name for name, _ in parts]
    if "id" in names:
        parts = parts[: names.index("id") + 1]
    else:
        parts.append(("id", parts[-1][1]))

    def compare(a: Row, b: Row) -> int:
        for name, descending in parts:
            x, y = a.value(name), b.value(name)
            if x != y:
                return (1 if x > y else -1) * (-1 if descending else 1)
        return 0

    return compare


def expected_ids(rows, order_by: str) -> list[str]:
    return [row.id for row in sorted(rows, key=functools.cmp_to_key(compare_by(order_by)))]


def page_ids(images, page_size: int, **request) -> list[list[str]]:
    walk = list_pages(images.List, pb.ListImagesRequest, page_size, timeout=TIMEOUT, **request)
    return [[image.id for image in page] for page in walk]


def chunks(ids: list[str], page_size: int) -> list[list[str]]:
    size = page_size or 100
    return [ids[start : start + size] for start in range(0, len(ids), size)] or [[]]



# ---- a fixed world with ties on every field ------------------------------------------------------

# (id, repository, digest number, created_at offset in seconds, tags), added in this order:
# ties on name, digest (the same digest in two repositories), created_at and last_modified.
FIXED = [
    ("crp00000000000000005", "b", 3, 300, ["latest"]),
    ("crp00000000000000001", "b", 1, 100, ["v1"]),
    ("crp00000000000000003", "a", 3, 300, ["latest"]),
    ("crp00000000000000007", "c/x", 2, 100, []),
    ("crp00000000000000002", "a", 2, 200, ["v1"]),
    ("crp00000000000000006", "a", 1, 100, ["latest"]),  # an older image takes latest: no change to 3's time
    ("crp00000000000000004", "c/x", 3, 300, []),
    ("crp0000000000000000a", "b", 2, 400, ["latest", "v1"]),  # takes latest off 5 and v1 off 1 at 400
]


@pytest.fixture
def fixed(emulator) -> tuple[str, Model]:
    registry = emulator.add_registry(FOLDER, id="crpmmmmmmmmmmmmmmmmm")
    other = emulator.add_registry(FOLDER, id="crpaaaaaaaaaaaaaaaaa")
    model = Model()
    for image_id, repository, digest, seconds, tags in FIXED:
        created = T + seconds * SECOND
        model.add(emulator, Row(image_id, registry.id, FOLDER, repository, digest_of(digest), created, created, tags))
    for image_id, repository, digest, seconds in [
        ("crp00000000000000008", "z", 3, 200),
        ("crp00000000000000000", "b", 1, 400),
    ]:
        created = T + seconds * SECOND
        model.add(emulator, Row(image_id, other.id, FOLDER, repository, digest_of(digest), created, created))
    return registry.id, model


def test_the_fixed_world_has_the_ties_it_claims(fixed):
    _, model = fixed
    rows = model.rows
    assert rows["crp00000000000000005"].last_modified == T + 400 * SECOND  # latest moved off it
    assert rows["crp00000000000000001"].last_modified == T + 400 * SECOND  # v1 moved off it
    assert rows["crp00000000000000003"].last_modified == T + 300 * SECOND  # latest moved at 100: not later
    assert rows["crp00000000000000002"].last_modified == T + 200 * SECOND  # v1 came to it at its creation


SINGLE = [f"{name}{suffix}" for name in FIELDS for suffix in ("", " asc", " desc", " DESC", "\tAsc")]
MULTI = [
    "name, created_at desc",
    "name desc, created_at",
    "digest, name",
    "digest desc, name desc",
    "last_modified desc, name, digest",
    "created_at, last_modified desc, digest, name",
    "name, last_modified",
    "name desc, id",
    "name, id desc",
    "id desc, name",
    "digest, id desc",
    "last_modified, created_at desc",
    " name ,\tdigest desc , created_at ",
    "created_at desc,name desc,digest desc,last_modified desc",
]


@pytest.mark.parametrize("scope", ["registry", "folder", "repository"])
@pytest.mark.parametrize("order_by", SINGLE + MULTI)
@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    "order_by sorts by name, digest, created_at and last_modified, several fields separated by commas.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Image/list.md (You can sort by name, digest, created_at, last_modified)",
)
def test_every_order_is_sorted_and_paged_exactly(fixed, images, scope, order_by):
    registry_id, model = fixed
    request = {
        "registry": {"registry_id": registry_id},
        "folder": {"folder_id": FOLDER},
        "repository": {"repository_name": f"{registry_id}/a"},
    }[scope]
    rows = [
        row
        for row in model.rows.values()
        if scope == "folder" or (row.registry_id == registry_id and (scope == "registry" or row.repository == "a"))
    ]
    expected = expected_ids(rows, order_by)
    assert page_ids(images, 1000, order_by=order_by, **request) == [expected]
    for page_size in (1, 2, 3):
        assert page_ids(images, page_size, order_by=order_by, **request) == chunks(expected, page_size)


@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "order_by also takes id and asc/desc; ties go by id in the last field's direction, so every order is total.",
    "the reference gives no directions nor a tie-break; a total order keeps paging exact",
)
def test_ties_are_broken_by_id_in_the_last_fields_direction(fixed, images):
    registry_id, _ = fixed
    listed = page_ids(images, 1000, registry_id=registry_id, order_by="digest")[0]
    assert listed[:2] == ["crp00000000000000001", "crp00000000000000006"]  # digest 1: ids ascending
    listed = page_ids(images, 1000, registry_id=registry_id, order_by="digest desc")[0]
    assert listed[-2:] == ["crp00000000000000006", "crp00000000000000001"]  # the exact reverse
    listed = page_ids(images, 1000, registry_id=registry_id, order_by="digest desc, id")[0]
    assert listed[-2:] == ["crp00000000000000001", "crp00000000000000006"]  # the id named: as written


@pytest.mark.parametrize(
    "order_by, same_as",
    [
        ("name, id", "name"),
        ("name desc, id desc", "name desc"),
        ("id, name desc", "id"),
        ("id desc, digest", "id desc"),
    ],
)
def test_fields_after_the_id_change_nothing(fixed, images, order_by, same_as):
    registry_id, _ = fixed
    assert page_ids(images, 2, registry_id=registry_id, order_by=order_by) == page_ids(
        images, 2, registry_id=registry_id, order_by=same_as
    )


# ---- grammar errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "order_by, words",
    [
        ("name, name", "twice"),
        ("name asc, name desc", "twice"),
        ("digest, created_at, digest desc", "twice"),
        ("id, id", "twice"),
        ("size", "not a field"),
        ("name, compressed_size", "not a field"),
        ("Name", "not a field"),
        ("tags desc", "not a field"),
        ("lastModified", "not a field"),
        ("last_modified\u00a0desc", "not a field"),
        ("name up", "not a direction"),
        ("name, digest sideways", "not a direction"),
        ("created_at DESCENDING", "not a direction"),
        ("name desç", "not a direction"),
        ("name,", "empty item"),
        (",name", "empty item"),
        ("name,,digest", "empty item"),
        ("name, \t ,digest", "empty item"),
        (",", "empty item"),
        ("name asc desc", "not a field optionally followed by"),
        ("name desc, digest asc desc", "not a field optionally followed by"),
        ("asc", "not a field"),
        ("-created_at", "not a field"),
        ("name:desc", "not a field"),
        ("name;digest", "not a field"),
    ],
)
@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "An unknown field, a word other than asc/desc or an empty item in order_by is INVALID_ARGUMENT naming order_by.",
    "the reference lists the fields, not what else is refused",
)
def test_order_by_grammar_errors_name_order_by(emulator, registry, images, order_by, words):
    emulator.add_image(registry.id, "app")
    error = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry.id, order_by=order_by))
    (violation,) = assert_invalid(error, "order_by")
    assert words in violation.description, violation.description


def test_a_bad_order_by_is_reported_with_the_other_broken_rules(emulator, registry, images):
    error = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry.id, order_by="name, name", page_size=-1))
    assert_invalid(error, "order_by", "page_size")


# ---- last_modified: tag moves --------------------------------------------------------------------


@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "An image's last_modified is the later of its created_at and the push that last took a tag off it.",
    "Image has no last_modified field; a tag move is the only change an image sees (Docker image concepts, Version control)",
)
def test_a_tag_move_changes_the_last_modified_order(emulator, registry, images):
    first = emulator.add_image(registry.id, "app", id="crp0000000000000000c", tags=["latest"], created_at_ns=T)
    second = emulator.add_image(registry.id, "app", id="crp0000000000000000b", created_at_ns=T + SECOND)
    by_time = page_ids(images, 1000, registry_id=registry.id, order_by="last_modified")[0]
    assert by_time == [first.id, second.id]
    third = emulator.add_image(
        registry.id, "app", id="crp0000000000000000a", tags=["latest"], created_at_ns=T + 2 * SECOND
    )
    # latest moved off the first image when the third was pushed: both now last modified at T + 2s
    assert page_ids(images, 1000, registry_id=registry.id, order_by="last_modified")[0] == [
        second.id,
        third.id,
        first.id,
    ]
    assert page_ids(images, 1000, registry_id=registry.id, order_by="last_modified desc")[0] == [
        first.id, third.id, second.id
    ]  # fmt: skip
    # created_at did not change, nor did the image's wire form but for its tags
    assert page_ids(images, 1000, registry_id=registry.id, order_by="created_at")[0] == [first.id, second.id, third.id]
    assert list(images.Get(pb.GetImageRequest(image_id=first.id)).tags) == []
    assert emulator.images[first.id].last_modified_ns == T + 2 * SECOND


def test_an_older_image_taking_a_tag_leaves_last_modified_alone(emulator, registry, images):
    newer = emulator.add_image(registry.id, "app", tags=["latest"], created_at_ns=T + 10 * SECOND)
    emulator.add_image(registry.id, "app", tags=["latest"], created_at_ns=T)  # pushed "before" it: no later change
    assert emulator.images[newer.id].last_modified_ns == T + 10 * SECOND
    assert emulator.images[newer.id].tags == []


def test_last_modified_survives_the_state_and_is_written_only_when_it_differs(emulator, registry, images):
    kept = emulator.add_image(registry.id, "app", tags=["latest"], created_at_ns=T)
    emulator.add_image(registry.id, "app", tags=["latest"], created_at_ns=T + SECOND)
    untouched = emulator.add_image(registry.id, "other", created_at_ns=T)
    state = emulator.state(complete=False)
    entries = {entry["id"]: entry for entry in state["registries"][0]["images"]}
    assert entries[kept.id]["last_modified"] == "2025-06-15T15:06:41Z"
    assert "last_modified" not in entries[untouched.id]
    before = page_ids(images, 2, registry_id=registry.id, order_by="last_modified desc, name")
    emulator.reset()
    emulator.load_seed(state)
    assert emulator.images[kept.id].last_modified_ns == T + SECOND
    assert page_ids(images, 2, registry_id=registry.id, order_by="last_modified desc, name") == before


def test_a_seed_may_give_last_modified_but_not_before_created_at(emulator, images):
    seed = {
        "registries": [
            {
                "id": "crpseeded00000000000",
                "folder_id": FOLDER,
                "images": [
                    {"repository": "app", "id": "crpimage000000000001", "created_at": "2026-01-01T00:00:00Z",
                     "last_modified": "2026-03-01T00:00:00Z"},
                    {"repository": "app", "id": "crpimage000000000002", "created_at": "2026-02-01T00:00:00Z"},
                ],
            }
        ]
    }  # fmt: skip
    emulator.load_seed(seed)
    listed = page_ids(images, 10, registry_id="crpseeded00000000000", order_by="last_modified")
    assert listed == [["crpimage000000000002", "crpimage000000000001"]]
    emulator.reset()
    seed["registries"][0]["images"][0]["last_modified"] = "2025-12-31T23:59:59Z"
    with pytest.raises(ValueError, match="last_modified"):
        emulator.load_seed(seed)
    assert emulator.counts()["images"] == 0


def test_paging_by_last_modified_follows_a_tag_move_between_pages(emulator, registry, images):
    """A page token carries the key the page stopped at: an image whose last_modified moves past
    it is listed again, where its new key falls; the others are listed once each."""
    ids = [f"crp000000000000000{n:02d}" for n in range(6)]
    for n, image_id in enumerate(ids):
        emulator.add_image(registry.id, "app", id=image_id, tags=[f"t{n}"], created_at_ns=T + n * SECOND)
    walk = iter_pages(images.List, pb.ListImagesRequest, 2, registry_id=registry.id, order_by="last_modified")
    first = [image.id for image in next(walk)]
    assert first == ids[:2]
    # a new image takes t0 and t3 at T + 10s: ids[0] (listed) and ids[3] (not yet) move to the end
    emulator.add_image(registry.id, "app", id="crp00000000000000099", tags=["t0", "t3"], created_at_ns=T + 10 * SECOND)
    rest = [image.id for page in walk for image in page]
    assert rest == [ids[2], ids[4], ids[5], ids[0], ids[3], "crp00000000000000099"]


def test_a_multi_field_order_stays_exact_as_images_come_go_and_tags_move(emulator, registry, images):
    """The lazily built index of a multi-field order is kept up to date after its first use."""
    model = Model()
    for n in range(12):
        row = Row(f"crp0000000000000{n:04d}", registry.id, FOLDER, f"app{n % 3}", digest_of(n % 5), T + (n % 4) * SECOND,
                  T + (n % 4) * SECOND, [f"t{n % 4}"])  # fmt: skip
        model.add(emulator, row)
    orders = ["name desc, last_modified, digest desc", "last_modified desc, digest", "digest, created_at desc"]
    for order_by in orders:
        assert page_ids(images, 5, registry_id=registry.id, order_by=order_by) == chunks(
            expected_ids(model.rows.values(), order_by), 5
        )
    for n in range(12, 18):  # tag moves, new images, deletes
        row = Row(f"crp0000000000000{n:04d}", registry.id, FOLDER, f"app{n % 3}", digest_of(10 + n), T + n * SECOND,
                  T + n * SECOND, [f"t{n % 4}"])  # fmt: skip
        model.add(emulator, row)
        victim = sorted(model.rows)[n % len(model.rows)]
        images.Delete(pb.DeleteImageRequest(image_id=victim))
        model.delete(victim)
        for order_by in orders:
            assert page_ids(images, 4, registry_id=registry.id, order_by=order_by) == chunks(
                expected_ids(model.rows.values(), order_by), 4
            ), order_by


# ---- page tokens -----------------------------------------------------------------------------------


def test_tokens_of_multi_field_orders_stay_within_100_characters(emulator, images):
    """Four fields and a 50-character id, at the extreme times the emulator accepts, page size 1."""
    registry = emulator.add_registry(FOLDER, id="r" * 50)
    path = "/".join(["n" * 60] * 3)
    for n, moment in enumerate(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "2026-01-01T00:00:00Z"]):
        emulator.add_image(registry.id, path, id=f"{n}" + "z" * 49, created_at=moment, tags=["latest"])
    for order_by in [
        "name, digest, created_at desc, last_modified",
        "last_modified desc, created_at, digest desc, name",
    ]:
        got = page_ids(images, 1, registry_id=registry.id, order_by=order_by)  # list_pages checks each token's length
        assert len(got) == 3


def test_a_token_is_bound_to_its_order_but_not_to_its_spelling(fixed, images):
    registry_id, model = fixed
    first = images.List(pb.ListImagesRequest(registry_id=registry_id, page_size=2, order_by="name, created_at desc"))
    assert first.next_page_token
    for other in ("name, created_at", "name desc, created_at desc", "created_at desc, name", "name"):
        error = rpc_error(
            images.List,
            pb.ListImagesRequest(
                registry_id=registry_id, page_size=2, order_by=other, page_token=first.next_page_token
            ),
        )
        assert_invalid(error, "page_token")
    spelled = "\tname ASC ,created_at Desc"
    rest = page_ids(images, 2, registry_id=registry_id, order_by=spelled, page_token=first.next_page_token)
    expected = expected_ids(
        [row for row in model.rows.values() if row.registry_id == registry_id], "name, created_at desc"
    )
    assert [image.id for image in first.images] + [i for page in rest for i in page] == expected


# ---- properties ----------------------------------------------------------------------------------

REPOSITORIES = ("app", "team/web", "team", "base")
TAGS = ("latest", "v1", "stable")


@st.composite
def worlds(draw, max_images: int = 30, min_images: int = 0):
    folders = ("b1g0000000000000ford", "b1g00000000000000fax")
    registries = [("crp0000000000000reg0", folders[0]), ("crp0000000000000reg1", folders[0])]
    registries.append(("crp0000000000000reg2", folders[1]))
    shapes = draw(
        st.lists(
            st.tuples(
                st.integers(0, 2),
                st.sampled_from(REPOSITORIES),
                st.integers(0, 5),  # digests from a small pool: the same one in several repositories
                st.integers(0, 6),  # created_at in seconds: ties
                st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
            ),
            min_size=min_images,
            max_size=max_images,
        )
    )
    salt = draw(st.integers(0, 10**6))
    rows, used = [], set()
    for n, (registry, repository, digest, seconds, tags) in enumerate(shapes):
        registry_id, folder_id = registries[registry]
        while (registry_id, repository, digest) in used:  # one image per repository and digest
            digest += 6
        used.add((registry_id, repository, digest))
        image_id = f"crp{(n * 7919 + salt) % 10**17:017d}"  # ids not in the order of creation
        created = T + seconds * SECOND
        rows.append(Row(image_id, registry_id, folder_id, repository, digest_of(digest), created, created, tags))
    return folders, registries, rows


def order_texts(including: str | None = None):
    """Today's grammar as emulator.contract.strategies draws it: distinct fields, comma-separated, each
    with asc/desc in any case or none, blanks around (naming ``including`` if given)."""
    texts = strategies.order_bys("ImageService/List")
    return texts if including is None else texts.filter(lambda text: including in text)


def load(emulator, world) -> Model:
    _, registries, rows = world
    emulator.reset()
    for registry_id, folder_id in registries:
        emulator.add_registry(folder_id, id=registry_id)
    model = Model()
    for row in rows:
        model.add(emulator, Row(**{**row.__dict__, "tags": list(row.tags)}))
    return model


def scope_of(data, world):
    folders, registries, _ = world
    kind = data.draw(st.sampled_from(["folder", "registry", "repository"]), label="scope")
    if kind == "folder":
        folder = data.draw(st.sampled_from(folders), label="folder")
        return {"folder_id": folder}, lambda row: row.folder_id == folder
    registry_id = data.draw(st.sampled_from([registry_id for registry_id, _ in registries]), label="registry")
    if kind == "registry":
        return {"registry_id": registry_id}, lambda row: row.registry_id == registry_id
    name = f"{registry_id}/{data.draw(st.sampled_from(REPOSITORIES), label='repository')}"
    return {"repository_name": name}, lambda row: row.name == name


def filter_of(data, world):
    """No filter, or one naming repositories (=, !=, IN, NOT IN, as emulator.contract.strategies draws them),
    which merges or skips their images."""
    _, registries, _ = world
    names = [f"{registry_id}/{repository}" for registry_id, _ in registries for repository in REPOSITORIES]
    text = data.draw(st.just("") | strategies.filters("ImageService/List", names=names), label="filter")
    negated, chosen = strategies.read_filter(text)
    return ({"filter": text} if text else {}), lambda row: (row.name in chosen) != negated


@examples(300)
@given(world=worlds(), data=st.data())
def test_any_order_pages_exactly_as_a_python_sort(running_emulator, images, world, data):
    model = load(running_emulator, world)
    request, in_scope = scope_of(data, world)
    filtered, matches = filter_of(data, world)
    order_by = data.draw(order_texts(), label="order_by")
    expected = expected_ids([row for row in model.rows.values() if in_scope(row) and matches(row)], order_by)
    page_size = data.draw(st.integers(1, 7) | st.sampled_from([0, 1000]), label="page_size")
    event(f"fields: {order_by.count(',') + 1}")
    got = page_ids(images, page_size, order_by=order_by, **request, **filtered)
    assert got == chunks(expected, page_size)


@examples(200)
@given(world=worlds(max_images=20, min_images=6), data=st.data())
def test_paging_while_tags_move_lists_every_unchanged_image_once_in_order(running_emulator, images, world, data):
    """Between pages, new images take tags (moving last_modified of others forward) and images
    are deleted. Every page is in order by the keys as they are when it is read, after the key
    the previous page stopped at; every image that lives throughout with an unchanged key is
    listed exactly once; an image is listed twice only if its key moved past the cursor."""
    model = load(running_emulator, world)
    request, in_scope = scope_of(data, world)
    order_by = data.draw(order_texts(including="last_modified"), label="order_by")
    compare = compare_by(order_by)
    page_size = data.draw(st.integers(1, 4), label="page_size")
    snapshot = {row.id: (row.last_modified, row.id in model.rows) for row in model.rows.values()}
    initial = {row.id for row in model.rows.values() if in_scope(row)}
    changed: set[str] = set()
    listed: list[str] = []
    cursor: Row | None = None
    next_id = 10**16
    walk = iter_pages(images.List, pb.ListImagesRequest, page_size, timeout=TIMEOUT, order_by=order_by, **request)
    for number, page in enumerate(walk):
        rows = [model.rows[image.id] for image in page]
        assert all(in_scope(row) for row in rows)
        keys = [Row(**row.__dict__) for row in rows]  # the keys as they are now
        for before, after in zip([cursor, *keys], keys):
            assert before is None or compare(before, after) < 0, f"page {number} is out of order: {order_by}"
        for row in rows:
            assert row.id not in listed or row.id in changed, f"{row.id} listed twice, its key unchanged"
            listed.append(row.id)
        cursor = keys[-1] if keys else cursor
        if number > 8 or not page.next_page_token:
            continue
        for _ in range(data.draw(st.integers(0, 3), label="changes")):
            if data.draw(st.integers(0, 3), label="add unless 0") or not model.rows:
                # usually beside an image that has tags, taking one of them (a tag move)
                tagged = sorted(row.id for row in model.rows.values() if row.tags)
                if tagged and data.draw(st.integers(0, 3), label="beside a tagged image unless 0"):
                    beside = model.rows[data.draw(st.sampled_from(tagged), label="beside")]
                    registry_id, folder_id, repository = beside.registry_id, beside.folder_id, beside.repository
                    tags = [data.draw(st.sampled_from(beside.tags), label="tag")]
                else:
                    registry_id, folder_id = world[1][data.draw(st.integers(0, 2), label="registry")]
                    repository = data.draw(st.sampled_from(REPOSITORIES), label="repository")
                    tags = data.draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=2, unique=True), label="tags")
                seconds = data.draw(st.integers(0, 12), label="created_at")
                next_id += 1
                row = Row(f"crp{next_id:017d}", registry_id, folder_id, repository, digest_of(next_id),
                          T + seconds * SECOND, T + seconds * SECOND, tags)  # fmt: skip
                model.add(running_emulator, row)
            else:
                victim = data.draw(st.sampled_from(sorted(model.rows)))
                images.Delete(pb.DeleteImageRequest(image_id=victim), timeout=TIMEOUT)
                model.delete(victim)
            changed |= {row.id for row in model.rows.values() if snapshot.get(row.id, (None,))[0] != row.last_modified}
    lived = {image_id for image_id in initial if image_id in model.rows and image_id not in changed}
    assert lived <= set(listed), f"never listed: {sorted(lived - set(listed))}"
    event(f"images whose key changed: {min(len(changed), 3)}")


# ---- RepositoryService.List --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def repositories(channel):
    return RepositoryServiceStub(channel)


@pytest.fixture
def repository_world(emulator) -> list[tuple[str, str]]:
    registry = emulator.add_registry(FOLDER, id="crprepositoryworld00")
    for path in ["web", "api", "team/web", "a", "zz"]:
        emulator.add_image(registry.id, path)
    return sorted((repository.id, repository.name) for repository in emulator.repositories.values())


@pytest.mark.parametrize(
    "order_by, key, reverse",
    [
        ("name, id", lambda row: row[1], False),
        ("name desc, id desc", lambda row: row[1], True),
        (" name DESC ,\tid ", lambda row: row[1], True),  # names are unique: the id changes nothing
        ("id, name", lambda row: row[0], False),
        ("id desc, name desc", lambda row: row[0], True),
    ],
)
def test_repository_list_takes_the_same_grammar(repository_world, repositories, order_by, key, reverse):
    expected = [repository_id for repository_id, _ in sorted(repository_world, key=key, reverse=reverse)]
    walk = list_pages(repositories.List, repository_pb.ListRepositoriesRequest, 2, folder_id=FOLDER, order_by=order_by)
    assert [repository.id for page in walk for repository in page] == expected


@pytest.mark.parametrize(
    "order_by", ["digest", "created_at", "name, name", "name,", "id, id desc", "name sideways", "name asc desc"]
)
def test_repository_list_refuses_what_it_cannot_order_by(repository_world, repositories, order_by):
    error = rpc_error(repositories.List, repository_pb.ListRepositoriesRequest(folder_id=FOLDER, order_by=order_by))
    assert_invalid(error, "order_by")


# ---- the lazily built indexes' memory bound (the index itself: no wire involved) ---------------------


@dataclass
class Record:
    id: str
    name: str
    created_at_ns: int


def test_lazily_built_orders_are_dropped_beyond_their_bound_and_rebuilt_exactly():
    records: dict[str, Record] = {}
    serials = NameSerials()
    index = ScopedIndex(
        {"id": ID_ORDER, "name": by_name_then_id("name", serials), "created_at": by_number_then_id("created_at_ns")},
        fields={"id": Field("id"), "name": Field("name", serials), "created_at": Field("created_at_ns")},
        record_of=records.__getitem__,
        max_lazy_keys=25,
    )
    scopes = [Scope("folder", "f"), Scope("registry", "r")]
    for n in range(20):
        record = Record(f"id{n:03d}", f"name{n % 3}", n % 4)
        records[record.id] = record
        index.add(record, scopes)

    def walk(name: str, descending: bool) -> list[str]:
        ids, after = [], None
        while True:
            page, after = index.page(scopes[0], name, descending=descending, after=after, limit=3)
            ids += page
            if after is None:
                return ids

    def expected(order_by: str) -> list[str]:
        rows = [Row(r.id, "x", "", r.name, "", r.created_at_ns, 0) for r in records.values()]
        return expected_ids(rows, order_by)

    # (the index's name of an order, walked descending, the same order as order_by writes it)
    orders = [
        ("name,-created_at,-id", False, "name, created_at desc"),
        ("created_at,name", True, "created_at desc, name desc"),
        ("name,-created_at,-id", True, "name desc, created_at"),
    ]
    for name, descending, order_by in orders:
        assert walk(name, descending) == expected(order_by)
        assert index.lazy_keys() <= 25 or index.lazy_keys() == 20  # the list in use is kept, whatever its size
    index.remove(records.pop("id005"), scopes)
    index.add(records.setdefault("id100", Record("id100", "name1", 2)), scopes)
    for name, descending, order_by in orders:
        assert walk(name, descending) == expected(order_by)
