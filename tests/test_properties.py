"""Property tests (hypothesis) for ImageService.List paging, ordering and filtering,
stability of paging under concurrent changes, and fuzzing of every request field.

Every expectation is computed from the data the test generated (a plain-Python model of
folders, registries and images), never from the emulator's internals. The calls go over a
real socket through the official SDK's stubs.

The fixtures are the session-scoped ones (hypothesis runs many examples per test function,
which function-scoped fixtures would not reset), so each example calls
``running_emulator.reset()`` itself before loading its data.
"""

from __future__ import annotations

import base64
import hashlib
import string
from dataclasses import dataclass

import grpc
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.operation import operation_service_pb2 as operation_pb

from conftest import iter_pages, list_pages
from emulator.contract import strategies

# ---- the model ---------------------------------------------------------------------------

ID_ALPHABET = "0123456789abcdefghijklmnopqrstuv"
_ID_SPACE = 32**17
# Repository paths, with nesting and one path a prefix of another (team, team/web, team/web/api).
REPOSITORIES = ("ubuntu", "team", "team/web", "team/web/api", "a.b-c_d", "nginx")
# Paths that no generated image ever has (but are well formed).
ABSENT_REPOSITORIES = ("nosuch", "team/nosuch", "team/web/api/deeper", "ubuntu2", "t")
BASE_NS = 1_700_000_000 * 1_000_000_000
# A small set so that created_at ties happen; some sit on either side of a second boundary.
CREATED_AT = (BASE_NS, BASE_NS + 1, BASE_NS + 999_999_999, BASE_NS + 1_000_000_000, BASE_NS + 86_400 * 10**9)
ORDER_FIELDS = ("id", "name", "created_at")
# Tags are unique within a repository: adding an image with a tag moves it off the image holding it.
TAGS = ("latest", "v1", "v2.0", "stable")

# Every call has a deadline, so that an emulator stuck in a loop fails the test instead of hanging it.
TIMEOUT = 10


def examples(count: int) -> settings:
    """Settings for a property: ``count`` examples, no per-example deadline (gRPC round trips
    vary). Failures are saved in hypothesis' example database and replayed first next run."""
    return settings(
        max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
    )


OK_OR_CLIENT_ERROR = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND}


def yc_id(prefix: str, number: int) -> str:
    """A well-formed id: prefix + 17 characters of [0-9a-v], spread so order is not insertion order."""
    number = (number * 0x9E3779B97F4A7C15 + 12345) % _ID_SPACE
    chars = []
    for _ in range(17):
        number, digit = divmod(number, 32)
        chars.append(ID_ALPHABET[digit])
    return prefix + "".join(reversed(chars))


@dataclass(frozen=True)
class ImageSpec:
    id: str
    registry_id: str
    folder_id: str
    repository: str
    created_at_ns: int
    tags: tuple[str, ...] = ()  # as given when added; some may have moved to newer images since

    @property
    def name(self) -> str:
        return f"{self.registry_id}/{self.repository}"

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.id.encode()).hexdigest()


class Model:
    """The live images and their current tags, kept by the test from what it did."""

    def __init__(self):
        self.live: dict[str, ImageSpec] = {}
        self.tags: dict[str, list[str]] = {}

    def add(self, emulator, spec: ImageSpec) -> None:
        record = emulator.add_image(
            spec.registry_id,
            spec.repository,
            id=spec.id,
            digest=spec.digest,
            tags=list(spec.tags),
            created_at_ns=spec.created_at_ns,
        )
        assert (record.id, record.name) == (spec.id, spec.name)
        given = list(dict.fromkeys(spec.tags))
        for other in self.live.values():
            if other.name == spec.name:
                self.tags[other.id] = [tag for tag in self.tags[other.id] if tag not in given]
        self.live[spec.id] = spec
        self.tags[spec.id] = given

    def delete(self, image_id: str) -> None:
        del self.live[image_id]
        del self.tags[image_id]

    def check(self, image) -> None:
        """An Image message from the emulator says what the model says of that image."""
        spec = self.live[image.id]
        assert image.name == spec.name, image.id
        assert image.digest == spec.digest, image.id
        assert image.created_at.ToNanoseconds() == spec.created_at_ns, image.id
        assert list(image.tags) == self.tags[image.id], image.id


@dataclass(frozen=True)
class World:
    folders: tuple[str, ...]
    registries: tuple[tuple[str, str], ...]  # (registry id, folder id)
    images: tuple[ImageSpec, ...]

    @property
    def registry_ids(self) -> list[str]:
        return [registry_id for registry_id, _ in self.registries]

    def possible_names(self) -> list[str]:
        """Every registry x repository, whether or not an image has that name."""
        return [f"{registry_id}/{repository}" for registry_id in self.registry_ids for repository in REPOSITORIES]

    def absent_names(self) -> list[str]:
        """Well-formed names that exist nowhere: unknown paths, unknown registries."""
        unknown_registry = yc_id("crp", 2**40 + 7)  # registry numbers stay below 2**37
        names = [f"{registry_id}/{path}" for registry_id in self.registry_ids for path in ABSENT_REPOSITORIES]
        return names + [f"{unknown_registry}/{path}" for path in REPOSITORIES]


@dataclass(frozen=True)
class Scope:
    kind: str  # "repository", "registry" or "folder"
    value: str
    noise: tuple[tuple[str, str], ...] = ()  # lower-precedence scope fields, which must be ignored

    def contains(self, spec: ImageSpec) -> bool:
        if self.kind == "repository":
            return spec.name == self.value
        if self.kind == "registry":
            return spec.registry_id == self.value
        return spec.folder_id == self.value

    def request_fields(self) -> dict[str, str]:
        field = {"repository": "repository_name", "registry": "registry_id", "folder": "folder_id"}[self.kind]
        return {field: self.value, **dict(self.noise)}


@dataclass(frozen=True)
class NameFilter:
    text: str
    negated: bool
    values: frozenset[str]

    def matches(self, name: str) -> bool:
        return (name in self.values) != self.negated


@dataclass(frozen=True)
class Order:
    text: str
    field: str
    descending: bool

    def key(self, spec: ImageSpec):
        value = {"id": spec.id, "name": spec.name, "created_at": spec.created_at_ns}[self.field]
        return (value, spec.id)

    def sort(self, specs) -> list[ImageSpec]:
        return sorted(specs, key=self.key, reverse=self.descending)


def load(emulator, world: World) -> Model:
    """Reset the emulator and load the world into it."""
    emulator.reset()
    for registry_id, folder_id in world.registries:
        emulator.add_registry(folder_id, id=registry_id)
    model = Model()
    for spec in world.images:
        model.add(emulator, spec)
    return model


def page_through(
    images, model: Model, scope: Scope, order: Order, page_size: int, name_filter: NameFilter | None, expected
):
    """Page through the query and check every page against ``expected`` (the full ordered result):
    full pages of it in order, the last one short or full but never empty, unless nothing matches."""
    effective = page_size or 100
    request = dict(scope.request_fields(), order_by=order.text, page_size=page_size)
    if name_filter is not None:
        request["filter"] = name_filter.text
    expected_ids = [spec.id for spec in expected]
    walk = list_pages(images.List, pb.ListImagesRequest, max_pages=len(expected) + 2, timeout=TIMEOUT, **request)
    got = [[image.id for image in page] for page in walk]
    chunks = [expected_ids[start : start + effective] for start in range(0, len(expected), effective)]
    assert got == (chunks or [[]]), f"pages of {request}"
    for page in walk:
        for image in page:
            model.check(image)
    return [image_id for page in got for image_id in page]


# ---- strategies ----------------------------------------------------------------------------


@st.composite
def worlds(draw, max_images: int = 40, min_images: int = 0) -> World:
    # Ids are yc_id(prefix, salt * 64 + index): unique without rejection sampling, and their
    # order is unrelated to the order of creation.
    salt = draw(st.integers(0, 2**30), label="salt")
    folder_count = draw(st.integers(1, 3))
    folders = tuple(yc_id("b1g", salt * 64 + i) for i in range(folder_count))
    registries = []
    for folder in folders:
        for _ in range(draw(st.integers(1, 3))):
            registries.append((yc_id("crp", salt * 64 + len(registries)), folder))
    count = draw(st.sampled_from(range(min_images, max_images + 1)))
    shapes = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(registries) - 1),
                st.sampled_from(REPOSITORIES),
                st.sampled_from(CREATED_AT),
                st.lists(st.sampled_from(TAGS), max_size=2),
            ),
            min_size=count,
            max_size=count,
        )
    )
    images = tuple(
        ImageSpec(
            id=yc_id("crp", 2**61 + salt * 64 + i),
            registry_id=registries[registry][0],
            folder_id=registries[registry][1],
            repository=repository,
            created_at_ns=created_at,
            tags=tuple(tags),
        )
        for i, (registry, repository, created_at, tags) in enumerate(shapes)
    )
    return World(folders=folders, registries=tuple(registries), images=images)


def scopes(world: World, kinds: tuple[str, ...] = ("folder", "registry", "repository")):
    existing_names = sorted({spec.name for spec in world.images})
    repository_names = st.sampled_from(world.possible_names())
    if existing_names:
        repository_names = st.sampled_from(existing_names) | repository_names

    @st.composite
    def build(draw) -> Scope:
        kind = draw(st.sampled_from(kinds))
        noise = {}
        if kind == "repository":
            value = draw(repository_names)
            if draw(st.booleans()):
                noise["registry_id"] = draw(st.sampled_from(world.registry_ids))
        elif kind == "registry":
            value = draw(st.sampled_from(world.registry_ids))
        else:
            value = draw(st.sampled_from(world.folders))
        if kind != "folder" and draw(st.booleans()):
            noise["folder_id"] = draw(st.sampled_from(world.folders))
        return Scope(kind, value, tuple(sorted(noise.items())))

    return build()


@st.composite
def orders(draw) -> Order:
    if draw(st.integers(0, 9)) == 0:
        return Order("", "id", False)  # empty: ascending by id
    field = draw(st.sampled_from(ORDER_FIELDS))
    direction = draw(st.sampled_from([None, "asc", "desc"]))
    return Order(field if direction is None else f"{field} {direction}", field, direction == "desc")


def page_sizes(count: int):
    """1..20, 0 (meaning 100) and 1000, and often a divisor of ``count`` so the last page is full."""
    sizes = st.integers(1, 20) | st.integers(1, 4) | st.sampled_from([0, 1000])
    if count:
        sizes |= st.sampled_from([size for size in range(1, count + 1) if count % size == 0])
    return sizes


def bucket(count: int) -> str:
    return "0" if count == 0 else "1-3" if count <= 3 else "4-10" if count <= 10 else ">10"


def _case(draw, word: str) -> str:
    style = draw(st.sampled_from(["upper", "lower", "title", "mixed"]))
    if style == "upper":
        return word.upper()
    if style == "lower":
        return word.lower()
    if style == "title":
        return word.title()
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if flip else c.lower() for c, flip in zip(word, flips))


def filters(
    world: World,
    scope: Scope | None = None,
    operators: tuple[str, ...] = ("=", "!=", "IN", "NOT IN"),
    several_in_scope: bool = False,
):
    """Filters whose values are existing names (often those in ``scope``), names of other
    registries and well-formed names that exist nowhere. ``several_in_scope``: IN / NOT IN
    lists that name at least two repositories of the scope (when it has two)."""
    existing = sorted({spec.name for spec in world.images})
    in_scope = sorted({spec.name for spec in world.images if scope is not None and scope.contains(spec)})
    candidates = st.sampled_from(world.possible_names()) | st.sampled_from(world.absent_names())
    if existing:
        candidates = st.sampled_from(existing) | candidates
    if in_scope:
        candidates = st.sampled_from(in_scope) | candidates
    spaces = st.sampled_from(["", " ", "  "])
    some_space = st.sampled_from([" ", "  ", "\t"])

    @st.composite
    def build(draw) -> NameFilter:
        operator = draw(st.sampled_from(operators))
        # Either values of every kind, or only names of the scope's own repositories (so that
        # IN / NOT IN of several of them make their images interleave in the result).
        only_in_scope = bool(in_scope) and (several_in_scope or draw(st.booleans()))

        def quoted(value: str) -> str:
            quote = draw(st.sampled_from(['"', "'"]))
            return f"{quote}{value}{quote}"

        lead, trail = draw(spaces), draw(spaces)
        if operator in ("=", "!="):
            value = draw(st.sampled_from(in_scope) if only_in_scope else candidates)
            text = f"name{draw(spaces)}{operator}{draw(spaces)}{quoted(value)}"
            values = [value]
        else:
            if only_in_scope:
                values = draw(
                    st.lists(st.sampled_from(in_scope), min_size=min(2, len(in_scope)), max_size=4, unique=True)
                )
                if several_in_scope:
                    values += draw(st.lists(candidates, max_size=2))
            else:
                values = draw(st.lists(candidates, min_size=1, max_size=4))
            if operator == "IN":
                keyword = _case(draw, "in")
            else:
                keyword = _case(draw, "not") + draw(some_space) + _case(draw, "in")
            items = "".join(
                (draw(st.sampled_from([",", ", ", " ,", " , "])) if i else "") + quoted(value)
                for i, value in enumerate(values)
            )
            text = f"name{draw(some_space)}{keyword}{draw(spaces)}({draw(spaces)}{items}{draw(spaces)})"
        return NameFilter(lead + text + trail, operator in ("!=", "NOT IN"), frozenset(values))

    return build()


# ---- 1. paging and ordering ------------------------------------------------------------


@examples(250)
@given(world=worlds(), data=st.data())
def test_paging_returns_each_image_of_the_scope_once_in_order(running_emulator, images, world, data):
    model = load(running_emulator, world)
    scope = data.draw(scopes(world), label="scope")
    order = data.draw(orders(), label="order")
    expected = order.sort(spec for spec in world.images if scope.contains(spec))
    page_size = data.draw(page_sizes(len(expected)), label="page_size")
    event(f"images in scope: {bucket(len(expected))}")
    page_through(images, model, scope, order, page_size, None, expected)


# ---- 2. filters --------------------------------------------------------------------------


@examples(250)
@given(world=worlds(), data=st.data())
def test_filter_selects_exactly_the_matching_images(running_emulator, images, world, data):
    model = load(running_emulator, world)
    scope = data.draw(scopes(world), label="scope")
    name_filter = data.draw(filters(world, scope), label="filter")
    order = data.draw(orders(), label="order")
    expected = order.sort(spec for spec in world.images if scope.contains(spec) and name_filter.matches(spec.name))
    page_size = data.draw(page_sizes(len(expected)), label="page_size")
    event(f"images selected: {bucket(len(expected))}")
    event(f"filtered out: {bucket(sum(scope.contains(spec) for spec in world.images) - len(expected))}")
    page_through(images, model, scope, order, page_size, name_filter, expected)


@examples(150)
@given(world=worlds(min_images=8), data=st.data())
def test_filter_naming_several_repositories_of_the_scope(running_emulator, images, world, data):
    """IN / NOT IN over several repositories of a folder or registry: the result merges (or
    skips runs of) several repositories' images, in every order."""
    model = load(running_emulator, world)
    scope = data.draw(scopes(world, ("folder", "registry")), label="scope")
    name_filter = data.draw(filters(world, scope, ("IN", "NOT IN"), several_in_scope=True), label="filter")
    order = data.draw(orders(), label="order")
    expected = order.sort(spec for spec in world.images if scope.contains(spec) and name_filter.matches(spec.name))
    page_size = data.draw(page_sizes(len(expected)), label="page_size")
    selected = len({spec.name for spec in expected})
    event(f"{'NOT IN' if name_filter.negated else 'IN'}: repositories selected: {bucket(selected)}")
    page_through(images, model, scope, order, page_size, name_filter, expected)


# ---- 3. paging under concurrent inserts and deletes ---------------------------------------


MUTATIONS = st.one_of(
    st.tuples(
        st.just("add"),
        st.integers(0, 100),  # the registry (modulo their number)
        st.sampled_from(REPOSITORIES),
        st.sampled_from(CREATED_AT),
        st.integers(0, 2**60),  # the new image's id
        st.lists(st.sampled_from(TAGS), max_size=2),
    ),
    st.tuples(st.just("delete_any"), st.integers(0, 10**6)),
    st.tuples(st.just("delete_cursor")),  # the last image returned: the next page resumes after it
    st.tuples(st.just("delete_next")),  # the image the next page should start with
)


@examples(250)
@given(world=worlds(min_images=10, max_images=30), data=st.data())
def test_paging_is_stable_under_concurrent_inserts_and_deletes(running_emulator, images, world, data):
    model = load(running_emulator, world)
    live = model.live
    scope = data.draw(scopes(world, ("folder", "registry", "folder", "registry", "repository")), label="scope")
    order = data.draw(orders(), label="order")
    name_filter = data.draw(st.none() | st.none() | filters(world, scope), label="filter")
    page_size = data.draw(st.integers(1, 3) | st.sampled_from([1, 2, 5]), label="page_size")

    def in_query(spec: ImageSpec) -> bool:
        return scope.contains(spec) and (name_filter is None or name_filter.matches(spec.name))

    def beyond(spec: ImageSpec) -> bool:
        """Whether ``spec`` comes after every image returned so far, in the requested order."""
        if not seen_keys:
            return True
        return order.key(spec) < seen_keys[-1] if order.descending else order.key(spec) > seen_keys[-1]

    used_ids = set(live)
    initial = {image_id for image_id, spec in live.items() if in_query(spec)}
    deleted: set[str] = set()
    returned: list[str] = []
    seen_keys = []
    request = dict(scope.request_fields(), order_by=order.text, page_size=page_size)
    if name_filter is not None:
        request["filter"] = name_filter.text
    walk = iter_pages(images.List, pb.ListImagesRequest, max_pages=500, timeout=TIMEOUT, **request)
    for page_number, page in enumerate(walk, start=1):
        assert len(page) <= page_size
        for image in page:
            assert image.id in live, f"page {page_number} returned {image.id}, which does not exist now"
            spec = live[image.id]
            model.check(image)
            assert in_query(spec), f"page {page_number} returned {image.id} ({spec.name}), outside the query"
            assert image.id not in returned, f"page {page_number} returned {image.id} a second time"
            assert beyond(spec), f"page {page_number}: {image.id} is out of order"
            returned.append(image.id)
            seen_keys.append(order.key(spec))
        if not page.next_page_token:
            break
        if page_number > 12:
            continue  # stop changing things so that paging ends
        for mutation in data.draw(st.lists(MUTATIONS, max_size=3), label=f"changes after page {page_number}"):
            victim = None
            if mutation[0] == "add":
                _, registry, repository, created_at, number, tags = mutation
                registry_id, folder_id = world.registries[registry % len(world.registries)]
                image_id = yc_id("crp", 2**62 + number)
                while image_id in used_ids:
                    number += 1
                    image_id = yc_id("crp", 2**62 + number)
                used_ids.add(image_id)
                model.add(
                    running_emulator, ImageSpec(image_id, registry_id, folder_id, repository, created_at, tuple(tags))
                )
            elif mutation[0] == "delete_any" and live:
                victim = sorted(live)[mutation[1] % len(live)]
            elif mutation[0] == "delete_cursor" and returned and returned[-1] in live:
                victim = returned[-1]
            elif mutation[0] == "delete_next":
                after = [spec for spec in live.values() if in_query(spec) and beyond(spec)]
                if after:
                    victim = order.sort(after)[0].id
            event(f"change: {mutation[0]}" + ("" if victim or mutation[0] == "add" else " (nothing to delete)"))
            if victim is not None:
                operation = images.Delete(pb.DeleteImageRequest(image_id=victim), timeout=TIMEOUT)
                assert operation.done
                model.delete(victim)
                deleted.add(victim)
    event(f"pages: {bucket(page_number)}; images returned: {bucket(len(returned))}")
    missing = sorted(initial - deleted - set(returned))
    assert not missing, f"images that existed throughout were never returned: {missing}"
    # Once the changes are over, a fresh paging sees exactly the final state.
    expected = order.sort(spec for spec in live.values() if in_query(spec))
    page_through(images, model, scope, order, page_size, name_filter, expected)


# ---- 4. fuzzing every request field ------------------------------------------------------


# Characters that trip up text handling: non-ASCII letters whose case mapping changes length
# or lands in ASCII (İ, ı, ß, K), lookalikes (Cyrillic а), odd spaces, a BOM, an emoji, NUL.
ODD_CHARS = "İıßK\u0430\u00a0\u2028\u3000\ufeff\U0001f600é\x85"
TRICKY_CHARS = list("\"'(),=!/ _-.:\t\n\x00\x1c") + list(ODD_CHARS)
NON_ASCII = st.text(alphabet=st.sampled_from(list(ODD_CHARS)) | st.characters(min_codepoint=0x80), min_size=1)


def mutated(base: str):
    """``base`` and strings a small edit away from it."""

    @st.composite
    def build(draw) -> str:
        text = base
        for _ in range(draw(st.integers(0, 3))):
            edit = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "append", "case"]))
            position = draw(st.integers(0, len(text)))
            char = draw(st.characters() | st.sampled_from(TRICKY_CHARS))
            if edit == "insert":
                text = text[:position] + char + text[position:]
            elif edit == "delete":
                text = text[:position] + text[position + 1 :]
            elif edit == "replace":
                text = text[:position] + char + text[position + 1 :]
            elif edit == "truncate":
                text = text[:position]
            elif edit == "append":
                text = text + draw(st.text(max_size=5))
            else:
                text = text.upper() if draw(st.booleans()) else text.swapcase()
        return text

    return build()


def near(*bases: str):
    return st.sampled_from(bases).flatmap(mutated) if bases else st.text()


def ids_like(world: World, extra: tuple[str, ...] = ()):
    """Ids of this world (exact and nearly), well-formed unknown ids, and anything."""
    known = tuple(world.registry_ids) + world.folders + tuple(spec.id for spec in world.images) + extra
    exact = tuple(spec.id for spec in world.images) + extra
    return st.one_of(
        st.sampled_from(exact) if exact else st.nothing(),
        st.just(""),
        st.text(),
        st.text(alphabet=ID_ALPHABET + "wxyzA-", min_size=1, max_size=60),
        st.builds(lambda n: yc_id("crp", n), st.integers(0, 2**80)),
        st.sampled_from(["a" * 50, "a" * 51, "crp" + "0" * 47, " " * 10, "\x00", "../etc"]),
        NON_ASCII,
        near(*known),
    )


def names_like(world: World):
    return st.one_of(
        st.just(""),
        st.text(),
        st.text(alphabet=string.ascii_lowercase + string.digits + "._-/", max_size=60),
        near(*(world.possible_names() + world.absent_names())),
        st.sampled_from(["a//b", "/a", "a/", "A/b", "a/-b", "a/b.", "a..b/c", "x" * 300]),
        NON_ASCII,
    )


def filters_like(world: World):
    return st.one_of(
        st.just(""),
        st.text(),
        filters(world).map(lambda f: f.text),
        filters(world).map(lambda f: f.text).flatmap(mutated),
        NON_ASCII,
        st.sampled_from(
            [
                "name",
                "name =",
                'name = "',
                "name IN ()",
                "name NOT",
                "name NOT IN",
                'name IN ("a/b",)',
                'name IN ("a/b" "c/d")',
                "Name = 'a/b'",
                "id = 'a/b'",
                'name == "a/b"',
                "name = a/b",
                'name = "a/b" AND name = "c/d"',
                'name = "' + "a/" + "b" * 300 + '"',
                'name IN ("' + '", "'.join(["a/b"] * 200) + '")',
                "(" * 50,
                '"',
                "'",
            ]
        ),
    )


def orders_like():
    texts = [f"{field}{suffix}" for field in ORDER_FIELDS for suffix in ("", " asc", " desc")]
    return st.one_of(
        st.just(""),
        st.text(),
        near(*texts, "name DESC", "created_at ASC", "id asc desc", "digest", "created_at,id", "tags desc"),
        st.sampled_from([" " * 101, "x" * 100, "x" * 101, "\u0130d", "name desç", "id\u00a0desc"]),
        NON_ASCII,
    )


def tokens_like(real_tokens: tuple[str, ...]):
    return st.one_of(
        st.just(""),
        st.text(),
        st.text(alphabet=string.ascii_letters + string.digits + "-_=", max_size=110),
        st.binary(max_size=80).map(lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")),
        st.binary(max_size=80).map(lambda raw: base64.urlsafe_b64encode(b"\x01" + raw).decode()),
        near(*real_tokens),
        NON_ASCII,
    )


PAGE_SIZES_ANY = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-2, 1002),
    st.sampled_from([0, 1, -1, 1000, 1001, 2**31, -(2**31), 2**63 - 1, -(2**63)]),
)


def request_of(request_class, **fields):
    """The request, or the example rejected: a lone surrogate (which st.characters() can draw)
    is text no client can send; protobuf refuses it before anything reaches the wire."""
    try:
        return request_class(**fields)
    except UnicodeEncodeError:
        reject()


def code_of(call, request) -> grpc.StatusCode:
    try:
        call(request, timeout=TIMEOUT)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def assert_still_serving(images, world: World) -> None:
    """A valid call after the fuzzed one succeeds."""
    for folder in world.folders:
        images.List(pb.ListImagesRequest(folder_id=folder, page_size=1), timeout=TIMEOUT)
    images.List(pb.ListImagesRequest(registry_id=world.registry_ids[0], order_by="name desc"), timeout=TIMEOUT)


def real_tokens(images, world: World) -> tuple[str, ...]:
    """Tokens the emulator issued for a few queries of this world."""
    found = []
    for fields in (
        {"folder_id": world.folders[0]},
        {"registry_id": world.registry_ids[0], "order_by": "created_at desc"},
        {"folder_id": world.folders[-1], "order_by": "name", "filter": f'name != "{world.possible_names()[0]}"'},
    ):
        response = images.List(pb.ListImagesRequest(page_size=1, **fields), timeout=TIMEOUT)
        if response.next_page_token:
            found.append(response.next_page_token)
    return tuple(found)


LIST_FIELDS = ("registry_id", "repository_name", "folder_id", "page_size", "page_token", "filter", "order_by")


@examples(250)
@given(world=worlds(max_images=10), data=st.data())
def test_fuzz_list_gives_only_ok_invalid_argument_or_not_found(running_emulator, images, world, data):
    load(running_emulator, world)
    # A valid request (emulator.contract.strategies: any scope of this world, filter, order and page size),
    # then some of its fields (or all) replaced by fuzz, so that a strange value usually reaches
    # the code that reads it instead of failing on another field first.
    drawn = strategies.list_images_requests(
        folder_ids=world.folders,
        registry_ids=world.registry_ids,
        repository_names=world.possible_names(),
        image_names=world.absent_names(),
    )
    empty = {"registry_id": "", "repository_name": "", "folder_id": "", "order_by": "", "filter": "", "page_size": 0}
    valid = {**empty, **data.draw(drawn, label="valid request")}
    token = images.List(pb.ListImagesRequest(**dict(valid, page_size=1)), timeout=TIMEOUT).next_page_token
    valid["page_token"] = data.draw(st.sampled_from(["", token]), label="page_token")
    tokens = tuple(token for token in (token, *real_tokens(images, world)) if token)
    fuzz = {
        "registry_id": ids_like(world),
        "repository_name": names_like(world),
        "folder_id": ids_like(world),
        "page_size": PAGE_SIZES_ANY | strategies.page_sizes(valid=False),
        "page_token": tokens_like(tokens),
        "filter": filters_like(world) | strategies.filters(valid=False, names=world.possible_names()),
        "order_by": orders_like() | strategies.order_bys(valid=False),
    }
    how_many = data.draw(st.sampled_from([1, 1, 2, len(LIST_FIELDS)]), label="how many fields to fuzz")
    fuzzed = data.draw(st.permutations(LIST_FIELDS), label="fields to fuzz")[:how_many]
    fields = {name: data.draw(fuzz[name], label=name) if name in fuzzed else valid[name] for name in LIST_FIELDS}
    code = code_of(images.List, request_of(pb.ListImagesRequest, **fields))
    event(f"List: {code.name}")
    assert code == grpc.StatusCode.OK or code in OK_OR_CLIENT_ERROR, f"List gave {code}"
    assert_still_serving(images, world)


@examples(150)
@given(world=worlds(max_images=10), data=st.data())
def test_fuzz_get_and_delete_give_only_ok_invalid_argument_or_not_found(running_emulator, images, world, data):
    load(running_emulator, world)
    for _ in range(data.draw(st.integers(1, 3), label="calls")):
        image_id = data.draw(ids_like(world), label="image_id")
        code = code_of(images.Get, request_of(pb.GetImageRequest, image_id=image_id))
        event(f"Get: {code.name}")
        assert code == grpc.StatusCode.OK or code in OK_OR_CLIENT_ERROR, f"Get gave {code}"
        code = code_of(images.Delete, request_of(pb.DeleteImageRequest, image_id=image_id))
        assert code == grpc.StatusCode.OK or code in OK_OR_CLIENT_ERROR, f"Delete gave {code}"
    assert_still_serving(images, world)


@examples(150)
@given(world=worlds(max_images=5), data=st.data())
def test_fuzz_operation_get_gives_only_ok_invalid_argument_or_not_found(
    running_emulator, images, operations, world, data
):
    load(running_emulator, world)
    operation_ids = tuple(
        images.Delete(pb.DeleteImageRequest(image_id=spec.id), timeout=TIMEOUT).id for spec in world.images[:2]
    )
    candidates = ids_like(world, operation_ids)
    if operation_ids:
        candidates = st.sampled_from(operation_ids) | candidates
    operation_id = data.draw(candidates, label="operation_id")
    code = code_of(operations.Get, request_of(operation_pb.GetOperationRequest, operation_id=operation_id))
    event(f"OperationService.Get: {code.name}")
    assert code == grpc.StatusCode.OK or code in OK_OR_CLIENT_ERROR, f"OperationService.Get gave {code}"
    for operation_id in operation_ids:
        assert operations.Get(operation_pb.GetOperationRequest(operation_id=operation_id), timeout=TIMEOUT).done
    assert_still_serving(images, world)
