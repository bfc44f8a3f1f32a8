"""A stateful model test: random sequences of adds, tag moves, deletes, re-adds of deleted ids,
Gets, paged Lists (page tokens carried across later steps) and resets, each answer compared with
a plain-Python model of the service (dicts and lists, no emulator code).

The model's paging is the documented keyset semantics: a page holds the images of the CURRENT
state whose sort key (field value, id) lies strictly after the key of the last image of the
previous page, in the requested direction, sorted, the first page_size of them; a next page token
comes back exactly when more follow. So a token stays exact whatever happens to the image it
stopped at (deleted, or deleted and added again with another created_at: D8), and a token from
before reset() is INVALID_ARGUMENT naming page_token, whatever its scope (D10).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import grpc
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb

from conftest import violation_fields
from emulator.contract import strategies

FOLDERS = ("b1gmodelfoldera", "b1gmodelfolderb")
EMPTY_FOLDER = "b1gmodelfolderz"  # never holds a registry: lists nothing
REGISTRY_IDS = ("crpmodelregb", "crpmodelrega", "crpmodelregc")  # the last is often absent: NOT_FOUND
REPOSITORIES = ("app", "team", "team/web")  # "team" is a prefix of "team/web"
NAMES = tuple(f"{registry}/{path}" for registry in REGISTRY_IDS for path in REPOSITORIES)
# A small pool, so that deletes hit live images and deleted ids come back.
IMAGE_IDS = tuple(f"crpimg{c}" for c in "7k2q0v5m9c")  # not in the order they are added
BASE_NS = 1_700_000_000 * 1_000_000_000
CREATED_AT = (BASE_NS, BASE_NS + 1, BASE_NS + 1_000_000_000)  # few values: ties on created_at
TAGS = ("latest", "v1", "stable")
ORDER_FIELDS = ("id", "name", "created_at")
TIMEOUT = 10


@dataclass
class ModelImage:
    id: str
    registry_id: str
    repository: str
    digest: str
    created_at_ns: int
    tags: list[str]

    @property
    def name(self) -> str:
        return f"{self.registry_id}/{self.repository}"

    def as_tuple(self) -> tuple:
        return (self.id, self.name, self.digest, tuple(self.tags), self.created_at_ns)


def wire_tuple(image) -> tuple:
    return (image.id, image.name, image.digest, tuple(image.tags), image.created_at.ToNanoseconds())


@dataclass(frozen=True)
class Query:
    """A List request and what it means: scope, filter (negated, names) and order."""

    kind: str  # folder, registry or repository
    value: str
    name_filter: tuple[bool, frozenset[str]] | None
    filter_text: str
    order: str
    descending: bool
    order_text: str
    page_size: int

    def request(self, page_token: str = "") -> pb.ListImagesRequest:
        scope_field = {"folder": "folder_id", "registry": "registry_id", "repository": "repository_name"}[self.kind]
        return pb.ListImagesRequest(
            **{scope_field: self.value},
            filter=self.filter_text,
            order_by=self.order_text,
            page_size=self.page_size,
            page_token=page_token,
        )

    def key(self, image: ModelImage) -> tuple:
        value = {"id": image.id, "name": image.name, "created_at": image.created_at_ns}[self.order]
        return (value, image.id)

    def after(self, key: tuple, last: tuple | None) -> bool:
        return last is None or (key < last if self.descending else key > last)


@dataclass(frozen=True)
class Cursor:
    """An open paging run: its query, the token of the next page, the key it stopped at."""

    query: Query
    token: str
    last_key: tuple
    epoch: int  # the reset generation that issued the token
    pages: int = 1


@dataclass
class Model:
    registries: dict[str, str] = field(default_factory=dict)  # id -> folder
    images: dict[str, ModelImage] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)  # id -> created_at it had, until re-added

    def in_query(self, query: Query, image: ModelImage) -> bool:
        if query.kind == "folder":
            in_scope = self.registries[image.registry_id] == query.value
        elif query.kind == "registry":
            in_scope = image.registry_id == query.value
        else:
            in_scope = image.name == query.value
        if query.name_filter is None:
            return in_scope
        negated, names = query.name_filter
        return in_scope and (image.name in names) != negated

    def page(self, query: Query, last_key: tuple | None) -> tuple[list[ModelImage], bool]:
        """The page after ``last_key`` (None: the first page) and whether more follow."""
        candidates = [
            image
            for image in self.images.values()
            if self.in_query(query, image) and query.after(query.key(image), last_key)
        ]
        candidates.sort(key=query.key, reverse=query.descending)
        size = query.page_size or 100
        return candidates[:size], len(candidates) > size

    def scope_exists(self, query: Query) -> bool:
        return query.kind == "folder" or query.value.partition("/")[0] in self.registries


def registry_sets(min_size: int = 0):
    """Registries by id, each in one of the folders."""
    return st.dictionaries(st.sampled_from(REGISTRY_IDS), st.sampled_from(FOLDERS), min_size=min_size)


def image_batches(min_size: int, max_size: int):
    """Images to add: (registry number, repository, id, created_at, tags)."""
    return st.lists(
        st.tuples(
            st.integers(0, len(REGISTRY_IDS) - 1),
            st.sampled_from(REPOSITORIES),
            st.sampled_from(IMAGE_IDS),
            st.sampled_from(CREATED_AT),
            st.lists(st.sampled_from(TAGS), max_size=3),
        ),
        min_size=min_size,
        max_size=max_size,
    )


def mostly(present: list[str], every: tuple[str, ...]):
    """Values in use now (so that pages are not empty), or any value."""
    return st.sampled_from(sorted(present)) | st.sampled_from(every) if present else st.sampled_from(every)


@st.composite
def queries(draw, model: Model) -> Query:
    kind = draw(st.sampled_from(["registry", "folder", "repository"]))
    names = mostly([image.name for image in model.images.values()], NAMES)
    if kind == "folder":
        value = draw(mostly(list(model.registries.values()), (*FOLDERS, EMPTY_FOLDER)))
    elif kind == "registry":
        value = draw(mostly(list(model.registries), REGISTRY_IDS))
    else:
        value = draw(names)
    # No filter, or =, !=, IN, NOT IN on names in use, possible names and others (emulator.contract.strategies).
    in_use = sorted({image.name for image in model.images.values()})
    filter_text = draw(st.just("") | strategies.filters("ImageService/List", names=[*in_use, *NAMES]))
    name_filter = strategies.read_filter(filter_text) if filter_text else None
    order = draw(st.sampled_from(ORDER_FIELDS))
    direction = draw(st.sampled_from([None, "asc", "desc"]))
    order_text = order if direction is None else f"{order} {direction}"
    if order == "id" and direction is None and draw(st.booleans()):
        order_text = ""  # empty: ascending by id
    page_size = draw(st.sampled_from([1, 2, 1, 2, 3, 0]))  # 0 means 100
    return Query(kind, value, name_filter, filter_text, order, direction == "desc", order_text, page_size)


class ServiceMachine(RuleBasedStateMachine):
    """Drives the session emulator (Python API for adds, the wire for everything else)."""

    cursors = Bundle("cursors")

    def __init__(self, emulator, images):
        super().__init__()
        self.emulator = emulator
        self.images = images
        self.model = Model()
        self.epoch = 0
        self.digests = 0

    def _reset(self, registries: dict[str, str]) -> None:
        self.emulator.reset()
        self.model = Model()
        for registry_id, folder in registries.items():
            self.emulator.add_registry(folder, id=registry_id)
            self.model.registries[registry_id] = folder

    @initialize(target=cursors, registries=registry_sets(min_size=1), batch=image_batches(4, 10), data=st.data())
    def start(self, registries, batch, data):
        """Registries, images and an open paging run: every run starts with something to page through."""
        self._reset(registries)
        self.add_images(batch)
        return self.list_first_page(data)

    # ---- writes --------------------------------------------------------------------------

    def _add(self, registry_id: str, repository: str, image_id: str, created_at_ns: int, tags: list[str]) -> None:
        self.digests += 1
        digest = "sha256:" + hashlib.sha256(f"{image_id}/{self.digests}".encode()).hexdigest()
        if image_id in self.model.images:
            with pytest.raises(ValueError, match="already exists"):
                self.emulator.add_image(registry_id, repository, id=image_id, digest=digest, tags=tags)
            return
        record = self.emulator.add_image(
            registry_id, repository, id=image_id, digest=digest, tags=tags, created_at_ns=created_at_ns
        )
        assert (record.id, record.name) == (image_id, f"{registry_id}/{repository}")
        given = list(dict.fromkeys(tags))
        name = record.name
        for other in self.model.images.values():  # a tag moves off the image of the repository that held it
            if other.name == name:
                other.tags = [tag for tag in other.tags if tag not in given]
        self.model.images[image_id] = ModelImage(image_id, registry_id, repository, digest, created_at_ns, given)
        self.model.deleted.pop(image_id, None)

    @precondition(lambda self: self.model.registries)
    @rule(batch=image_batches(1, 4))
    def add_images(self, batch):
        """A few images (a live id again is a ValueError), tags moving between them."""
        registries = sorted(self.model.registries)
        if not registries:
            return
        for registry, repository, image_id, created_at_ns, tags in batch:
            self._add(registries[registry % len(registries)], repository, image_id, created_at_ns, tags)

    @precondition(lambda self: self.model.deleted and self.model.registries)
    @rule(data=st.data())
    def add_deleted_id_again(self, data):
        """A deleted id comes back with another created_at: a token that stopped at it must not jump (D8)."""
        image_id = data.draw(st.sampled_from(sorted(self.model.deleted)), label="image_id")
        before = self.model.deleted[image_id]
        created_at_ns = data.draw(st.sampled_from([t for t in CREATED_AT if t != before]), label="created_at_ns")
        registry_id = data.draw(st.sampled_from(sorted(self.model.registries)), label="registry_id")
        repository = data.draw(st.sampled_from(REPOSITORIES), label="repository")
        tags = data.draw(st.lists(st.sampled_from(TAGS), max_size=2), label="tags")
        self._add(registry_id, repository, image_id, created_at_ns, tags)

    @rule(data=st.data())
    def delete_some(self, data):
        """Delete a live image (usually) or any id of the pool."""
        live = sorted(self.model.images)
        pool = st.sampled_from(live) | st.sampled_from(IMAGE_IDS) if live else st.sampled_from(IMAGE_IDS)
        self.delete(data.draw(pool, label="image_id"))

    def delete(self, image_id: str) -> None:
        """Get, Delete and Get again, through the wire."""
        self.get(image_id)
        request = pb.DeleteImageRequest(image_id=image_id)
        if image_id not in self.model.images:
            with pytest.raises(grpc.RpcError) as caught:
                self.images.Delete(request, timeout=TIMEOUT)
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND, caught.value.details()
            return
        operation = self.images.Delete(request, timeout=TIMEOUT)
        assert operation.done and not operation.HasField("error")
        image = self.model.images.pop(image_id)
        self.model.deleted[image_id] = image.created_at_ns
        self.get(image_id)

    @rule(now=st.booleans(), registries=registry_sets(), batch=image_batches(0, 6))
    def reset(self, now, registries, batch):
        """reset(), then some registries and images again (maybe under the same ids): every earlier
        token is void, whether its registry came back or not (D10)."""
        if not now:  # half the time: paging runs need steps without resets too
            return
        self._reset(registries)
        self.epoch += 1
        self.add_images(batch)

    @rule(target=cursors, cursor=consumes(cursors), registries=registry_sets(), batch=image_batches(0, 6))
    def reset_then_next_page(self, cursor, registries, batch):
        """A token from before reset(): INVALID_ARGUMENT naming page_token, even when its registry
        is gone (validation before existence, D10)."""
        self.reset(True, registries, batch)
        return self.next_page(cursor, False)

    # ---- reads ---------------------------------------------------------------------------

    def get(self, image_id: str) -> None:
        request = pb.GetImageRequest(image_id=image_id)
        if image_id not in self.model.images:
            with pytest.raises(grpc.RpcError) as caught:
                self.images.Get(request, timeout=TIMEOUT)
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND, caught.value.details()
            return
        assert wire_tuple(self.images.Get(request, timeout=TIMEOUT)) == self.model.images[image_id].as_tuple()

    def _page(self, query: Query, token: str, last_key: tuple | None, pages: int) -> Cursor | None:
        """Ask for one page and compare it with the model's; the cursor to the next page, if any."""
        response = self.images.List(query.request(token), timeout=TIMEOUT)
        expected, more = self.model.page(query, last_key)
        where = f"page {pages} of {query}"
        assert [wire_tuple(image) for image in response.images] == [image.as_tuple() for image in expected], where
        assert bool(response.next_page_token) == more, where
        if not more:
            return None
        return Cursor(query, response.next_page_token, query.key(expected[-1]), self.epoch, pages)

    @rule(target=cursors, data=st.data())
    def list_first_page(self, data):
        query = data.draw(queries(self.model), label="query")
        if not self.model.scope_exists(query):
            with pytest.raises(grpc.RpcError) as caught:
                self.images.List(query.request(), timeout=TIMEOUT)
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND, caught.value.details()
            return multiple()
        cursor = self._page(query, "", None, 1)
        return multiple() if cursor is None else cursor

    def _continue(self, cursor: Cursor) -> Cursor | None:
        if cursor.epoch != self.epoch:  # issued before reset(): rejected before scope or folder is looked at
            with pytest.raises(grpc.RpcError) as caught:
                self.images.List(cursor.query.request(cursor.token), timeout=TIMEOUT)
            error = caught.value
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
            assert violation_fields(error) == {"page_token"}, error.details()
            return None
        return self._page(cursor.query, cursor.token, cursor.last_key, cursor.pages + 1)

    @rule(target=cursors, cursor=consumes(cursors), twice=st.booleans())
    def next_page(self, cursor, twice):
        """``twice``: a token may be used again (a retry), and answers from the state of now."""
        if twice:
            self._continue(cursor)
        following = self._continue(cursor)
        return multiple() if following is None else following

    @rule(
        target=cursors,
        cursor=consumes(cursors),
        again=st.sampled_from([True, True, False]),
        created_at_ns=st.sampled_from(CREATED_AT),
        repository=st.sampled_from(REPOSITORIES),
    )
    def move_where_cursor_stopped_then_next_page(self, cursor, again, created_at_ns, repository):
        """Delete the image a token stopped at and maybe add its id again, with another created_at
        or in another repository (D8): the next page still starts right after the key the token
        stopped at, not after the key the id has now."""
        image = self.model.images.get(cursor.last_key[1])
        if cursor.epoch == self.epoch and image is not None:
            self.delete(image.id)
            if again:
                self._add(image.registry_id, repository, image.id, created_at_ns, [])
        return self.next_page(cursor, False)


def test_the_service_behaves_like_its_model(running_emulator, images):
    """About 10 s when it passes. A failure is shrunk to a few steps (about 30 s), saved in
    hypothesis' example database and replayed first the next time."""
    run_state_machine_as_test(
        lambda: ServiceMachine(running_emulator, images),
        settings=settings(
            max_examples=100,
            stateful_step_count=50,
            deadline=None,
            report_multiple_bugs=False,  # shrink the first bug found only: seconds, not minutes
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
