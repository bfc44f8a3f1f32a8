"""Fast tests of the state layer alone (no sockets, no protobuf), beside the through-the-wire
ones: keyset cursors, the retention of finished operations, and value checks."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.api.ids import id_of_bits
from emulator.api.values import TIMESTAMP_MAX_NS, TIMESTAMP_MIN_NS, ValueProblem
from emulator.rpc.paging import MAX_TOKEN_LENGTH, PageTokens
from emulator.state.listing import Scope, UnknownCursor
from emulator.state.records import Blob, Operation
from emulator.state.store import Store

FOLDER = "b1gstore"


def _store_with(count: int, repositories: tuple[str, ...] = ("app", "team/web")) -> tuple[Store, str]:
    store = Store(random_seed=7)
    registry = store.add_registry(FOLDER)
    for n in range(count):
        store.add_image(registry.id, repositories[n % len(repositories)], created_at_ns=1_000 + n % 3)
    return store, registry.id


def _walk(store: Store, scope: Scope, order: str, descending: bool, limit: int) -> list[str]:
    seen, cursor = [], None
    while True:
        page, cursor = store.list_images(scope, order=order, descending=descending, after=cursor, limit=limit)
        seen.extend(image.id for image in page)
        if cursor is None:
            return seen


@pytest.mark.parametrize("order", ["id", "name", "created_at"])
@pytest.mark.parametrize("descending", [False, True])
def test_walking_by_cursors_gives_every_image_once_in_order(order, descending):
    store, registry_id = _store_with(25)
    scope = Scope("registry", registry_id)
    every, _ = store.list_images(scope, order=order, descending=descending, limit=1000)
    assert _walk(store, scope, order, descending, limit=4) == [image.id for image in every]


def test_a_cursor_outlives_the_image_it_names():
    store, registry_id = _store_with(6)
    scope = Scope("registry", registry_id)
    page, cursor = store.list_images(scope, order="created_at", limit=2)
    store.delete_image(page[-1].id)
    rest, _ = store.list_images(scope, order="created_at", after=cursor, limit=100)
    every, _ = store.list_images(scope, order="created_at", limit=100)
    assert [image.id for image in rest] == [image.id for image in every if image.id not in {p.id for p in page}]


def test_a_name_cursor_naming_an_unknown_repository_is_refused():
    store, registry_id = _store_with(3)
    with pytest.raises(UnknownCursor):
        store.list_images(Scope("registry", registry_id), order="name", after=(99, "crpx"), limit=1)


@pytest.mark.parametrize("ns", [TIMESTAMP_MIN_NS, -1, 0, TIMESTAMP_MAX_NS])
def test_every_cursor_fits_a_page_token(ns):
    tokens = PageTokens()
    for cursor in [("x" * 50,), (ns, "x" * 50), (2**40, "x" * 50)]:
        token = tokens.issue("query", cursor)
        assert len(token) <= MAX_TOKEN_LENGTH
        assert tokens.read("query", token) == cursor


def _operation(n: int, *, done: bool = True, key: str | None = None) -> Operation:
    return Operation(
        id=f"op{n}", description="", created_at_ns=0, created_by="", modified_at_ns=0, done=done,
        metadata_type="yandex.cloud.containerregistry.v1.DeleteImageMetadata", metadata={}, idempotency_key=key,
    )  # fmt: skip


def test_the_oldest_finished_operations_go_first_with_their_keys_and_pending_ones_stay():
    store = Store(max_operations=2)
    store.add_operation(_operation(0, done=False, key="k0"))
    for n in range(1, 5):
        store.add_operation(_operation(n, key=f"k{n}"))
    assert list(store.operations) == ["op0", "op3", "op4"]
    assert store.operation_for_key("k0").id == "op0"
    assert store.operation_for_key("k1") is None and store.operation_for_key("k4").id == "op4"


@pytest.mark.parametrize(
    "arguments, field",
    [
        ({"digest": "sha256:XYZ"}, "digest"),
        ({"compressed_size": -1}, "compressed_size"),
        ({"compressed_size": 2**63}, "compressed_size"),
        ({"created_at_ns": TIMESTAMP_MAX_NS + 1}, "created_at"),
        ({"id": "UPPER"}, "id"),
    ],
)
def test_bad_values_are_value_problems_naming_the_field(arguments, field):
    store = Store()
    registry = store.add_registry(FOLDER)
    with pytest.raises(ValueProblem) as caught:
        store.add_image(registry.id, "app", **arguments)
    assert caught.value.field == field
    assert not store.images


def test_a_refused_image_leaves_no_empty_repository_behind():
    """Found by the state-file property: a repository made for an image that was then refused
    stayed empty and not kept, and the exported state no longer loaded."""
    store = Store()
    registry = store.add_registry(FOLDER)
    store.add_image(registry.id, "app", digest="sha256:" + "1" * 64)
    with pytest.raises(ValueError, match="digest"):
        store.add_image(registry.id, "app", digest="sha256:" + "1" * 64)
    huge = Blob(id="crpblob", digest="sha256:" + "2" * 64, size=2**63 - 1)
    with pytest.raises(ValueError, match="2\\^63-1"):
        store.add_image(registry.id, "new/path", layers=[huge, huge])
    assert [repository.path for repository in store.repositories.values()] == ["app"]


@pytest.mark.parametrize("count", [0, 1, 999, 1000, 1001, 5432])
def test_keys_in_order_fill_a_sorted_list_exactly_as_sorting_them_would(count):
    """fill_sorted lays keys out in SortedList's own layout (no second sort): the same list, its
    invariants hold, and it keeps working; the installed sortedcontainers has that layout."""
    from sortedcontainers import SortedList

    from emulator.state import listing

    assert listing._KNOWN_LAYOUT
    keys = sorted((n * 7919 % 10007, f"id{n}") for n in range(count))
    filled = SortedList()
    listing.fill_sorted(filled, keys)
    filled._check()
    assert list(filled) == list(SortedList(keys)) and len(filled) == count
    filled.add((5000, "new"))
    if keys:
        filled.discard(keys[0])
    filled._check()
    listing.fill_sorted(filled, [(1, "again")])  # not empty: merged by update
    assert list(filled) == sorted([*keys[1:], (5000, "new"), (1, "again")])


@given(st.binary(min_size=11, max_size=11))
def test_an_id_of_85_bits_is_base32hex_of_them(raw):
    """Derived blob ids (state files derive them again on load) stay what base32hex made."""
    expected = "crp" + base64.b32hexencode(raw).decode()[:17].lower()
    assert id_of_bits(int.from_bytes(raw, "big") >> 3) == expected


def test_an_image_derives_each_blob_once_and_the_same_every_time():
    store = Store()
    registry = store.add_registry("b1gderived")
    image = store.add_image(registry.id, "app", id="crpfixedid0000000001")
    config, layers, size = image.blobs()
    assert (config, layers, size) == (image.config, image.layers, image.compressed_size)
    assert size == config.size + sum(layer.size for layer in layers)
    seed = hashlib.sha256(b"crpfixedid0000000001/config").digest()
    assert config.id == "crp" + base64.b32hexencode(seed[:11]).decode()[:17].lower()


# ---- the operation log on its own: what a mutation run of it found unchecked (issue #20) ----------


def _log(**kwargs):
    from emulator.state.operation_log import Effect, OperationLog
    from emulator.state.records import Action

    return OperationLog({action: Effect() for action in Action}, **kwargs)


def _done(operation_id: str, key: str | None = None) -> Operation:
    return Operation(operation_id, "d", 0, "s", 0, True, "m", {}, idempotency_key=key)


@pytest.mark.parametrize("bad", [-1, True, 1.5, "3"])
def test_the_finished_operations_kept_must_be_a_whole_number_from_zero(bad):
    with pytest.raises(ValueError, match="^max_operations: "):
        _log(max_finished=bad)


def test_keeping_no_finished_operations_is_allowed_and_keeps_none():
    log = _log(max_finished=0)
    log.add(_done("crpa", key="k"))
    assert log.operations == {} and log.for_key("k") is None


def test_an_operation_log_needs_an_effect_for_every_action():
    from emulator.state.operation_log import Effect, OperationLog
    from emulator.state.records import Action

    with pytest.raises(ValueError, match="effects: none given for .*DELETE_IMAGE"):
        OperationLog({action: Effect() for action in Action if action is not Action.DELETE_IMAGE})


def test_loaded_finished_operations_count_towards_the_limit_and_take_their_keys_along():
    log = _log(max_finished=2)
    for n in range(3):
        log.add(_done(f"crp{n}", key=f"key{n}"))
    assert list(log.operations) == ["crp1", "crp2"]
    assert log.for_key("key0") is None and log.for_key("key2").id == "crp2"
    assert "key0" not in log._idempotency  # forgotten with its operation: nothing kept per call


def test_what_cancel_and_a_busy_target_say(emulator, registry):
    """The messages a client shows: 'Operation cancelled', 'is done', 'is being deleted'."""
    from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
    from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
    from yandex.cloud.operation import operation_service_pb2 as operation_pb
    from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

    from conftest import rpc_error

    with emulator.channel() as channel:
        images, operations = ImageServiceStub(channel), OperationServiceStub(channel)
        emulator.configure_operations("polls:3")
        image = emulator.add_image(registry.id, "app")
        pending = images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
        busy = rpc_error(images.Delete, image_pb.DeleteImageRequest(image_id=image.id))
        assert busy.details() == (
            f"Image {image.id} is being deleted by operation {pending.id}; wait for it to be done, or cancel it"
        )
        cancelled = operations.Cancel(operation_pb.CancelOperationRequest(operation_id=pending.id))
        assert cancelled.error.message == "Operation cancelled"
        again = operations.Cancel(operation_pb.CancelOperationRequest(operation_id=pending.id))
        assert again == cancelled  # past cancelling: answered as it is
        unknown = rpc_error(operations.Get, operation_pb.GetOperationRequest(operation_id="crpunknownoperation"))
        assert unknown.details() == "Operation crpunknownoperation not found"


def test_operations_finished_at_runtime_count_towards_the_limit_too():
    """Done at the call, or later (here: cancelled), each finished operation counts."""
    from emulator.state.operation_modes import Mode
    from emulator.state.records import Action, Pending

    log = _log(max_finished=1)
    log.modes = {"*": Mode("polls", 2)}
    for name in ("crpfirst", "crpsecond"):
        operation = _done(name)
        operation.done, operation.pending = False, Pending(Action.DELETE_IMAGE, f"{name}image")
        log.start(operation, "ImageService/Delete")
    assert set(log.operations) == {"crpfirst", "crpsecond"}  # pending ones are never dropped
    log.cancel("crpfirst", 0)
    log.cancel("crpsecond", 0)
    assert list(log.operations) == ["crpsecond"]
