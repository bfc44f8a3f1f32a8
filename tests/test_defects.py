"""Regression tests for the defects an adversarial probe found (issue 8), through the wire.
Each failed on the code before its fix."""

from __future__ import annotations

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.endpoint import api_endpoint_service_pb2 as endpoint_pb
from yandex.cloud.endpoint import api_endpoint_service_pb2_grpc as endpoint_grpc
from yandex.cloud.operation import operation_service_pb2 as operation_pb
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from conftest import FOLDER, rpc_error
from emulator import Emulator


def _page(images, **request):
    return images.List(pb.ListImagesRequest(**request))


def test_d8_a_cursor_resumes_at_the_key_it_stopped_at_not_at_a_re_added_image(emulator, registry, images):
    """Delete the image a created_at page token points at, re-add one with the same id and a
    later created_at: the images that existed throughout must still come on the next page."""
    added = [
        emulator.add_image(registry.id, "app", created_at=f"2026-01-{day:02d}T00:00:00Z") for day in range(1, 11)
    ]
    first = _page(images, registry_id=registry.id, order_by="created_at", page_size=3)
    assert [image.id for image in first.images] == [image.id for image in added[:3]]
    pointed_at = added[2]
    images.Delete(pb.DeleteImageRequest(image_id=pointed_at.id))
    emulator.add_image(registry.id, "app", id=pointed_at.id, created_at="2027-01-01T00:00:00Z")
    rest = _page(images, registry_id=registry.id, order_by="created_at", page_size=100, page_token=first.next_page_token)
    assert [image.id for image in rest.images] == [image.id for image in added[3:]] + [pointed_at.id]


@pytest.mark.parametrize("order_by", ["id", "id desc", "name", "name desc", "created_at", "created_at desc"])
def test_d8_paging_survives_the_deletion_of_the_image_a_token_points_at(emulator, registry, images, order_by):
    for n in range(8):
        emulator.add_image(registry.id, f"repo{n % 3}", created_at=f"2026-01-0{n % 4 + 1}T00:00:00Z")
    every = [image.id for image in _page(images, folder_id=FOLDER, order_by=order_by, page_size=100).images]
    first = _page(images, folder_id=FOLDER, order_by=order_by, page_size=3)
    images.Delete(pb.DeleteImageRequest(image_id=first.images[-1].id))
    rest = _page(images, folder_id=FOLDER, order_by=order_by, page_size=100, page_token=first.next_page_token)
    assert [image.id for image in rest.images] == every[3:]


def test_d8_a_long_repository_name_pages_within_the_token_limit(emulator, registry, images):
    from emulator.state.repositories import MAX_REPOSITORY_NAME

    repository = "/".join(["a" * 30] * 8)[: MAX_REPOSITORY_NAME - len(registry.id) - 1]  # the longest name allowed
    assert len(f"{registry.id}/{repository}") == MAX_REPOSITORY_NAME
    for _ in range(3):
        emulator.add_image(registry.id, repository)
    first = _page(images, registry_id=registry.id, order_by="name desc", page_size=1)
    assert 0 < len(first.next_page_token) <= 100
    second = _page(images, registry_id=registry.id, order_by="name desc", page_size=5, page_token=first.next_page_token)
    assert len(second.images) == 2


def test_d8_the_store_keeps_nothing_for_deleted_images(emulator, registry, images):
    for _ in range(5):
        image = emulator.add_image(registry.id, "app", tags=["latest"])
        images.Delete(pb.DeleteImageRequest(image_id=image.id))
    store = emulator.store
    assert store.images == {} and store.repositories == {}  # its repository (not kept) went with it
    assert store._image_index.contents() == {}  # an emptied scope keeps no index
    assert store._repository_index.contents() == {}
    assert store._lists == {} and store._referenced_by == {}


@pytest.mark.parametrize("scope", ["unknown", "other folder"])
def test_d10_a_bad_page_token_is_invalid_before_existence_and_permission(scope):
    with Emulator(auth="strict", tokens={"ci": ["b1gallowed"]}) as emulator:
        other = emulator.add_registry("b1gother")
        registry_id = "crpnope" if scope == "unknown" else other.id
        channel = emulator.channel()
        try:
            stub = pb_grpc_stub(channel)
            error = rpc_error(
                stub.List,
                pb.ListImagesRequest(registry_id=registry_id, page_token="garbage"),
                metadata=(("authorization", "Bearer ci"),),
            )
        finally:
            channel.close()
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in error.details()


def pb_grpc_stub(channel):
    from yandex.cloud.containerregistry.v1 import image_service_pb2_grpc

    return image_service_pb2_grpc.ImageServiceStub(channel)


LONG = "x" * 100_000


@pytest.mark.parametrize(
    "call",
    [
        lambda stubs: stubs["operations"].Get(operation_pb.GetOperationRequest(operation_id=LONG)),
        lambda stubs: stubs["images"].List(pb.ListImagesRequest(repository_name="a" * 100_000 + "/b")),
        lambda stubs: stubs["endpoints"].Get(endpoint_pb.GetApiEndpointRequest(api_endpoint_id=LONG)),
    ],
    ids=["operation_id", "repository_name", "api_endpoint_id"],
)
def test_d6_an_unbounded_id_is_not_found_with_a_short_message(emulator, channel, images, operations, call):
    stubs = {"images": images, "operations": operations, "endpoints": endpoint_grpc.ApiEndpointServiceStub(channel)}
    error = rpc_error(call, stubs)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert len(error.details()) < 200


@pytest.mark.behaviour(
    "OperationService/Get",
    "choice",
    "The newest 10,000 finished operations are kept (settable); an older one is NOT_FOUND.",
    "how long production keeps them is not public",
)
def test_finished_operations_are_kept_up_to_the_limit_with_their_idempotency_keys():
    assert Emulator.__init__.__kwdefaults__["max_operations"] == 10_000  # the default; 3 here
    with Emulator(max_operations=3) as emulator:
        registry = emulator.add_registry(FOLDER)
        channel = emulator.channel()
        try:
            stub = pb_grpc_stub(channel)
            answers = []
            for n in range(5):
                image = emulator.add_image(registry.id, "app")
                key = (("idempotency-key", f"key{n}"),)
                answers.append((image.id, key, stub.Delete(pb.DeleteImageRequest(image_id=image.id), metadata=key)))
            kept = emulator.operations
            assert list(kept) == [operation.id for _, _, operation in answers[2:]]
            evicted = answers[0][2].id
            error = rpc_error(OperationServiceStub(channel).Get, operation_pb.GetOperationRequest(operation_id=evicted))
            assert error.code() == grpc.StatusCode.NOT_FOUND
            # A kept key still answers its operation; a forgotten one is a fresh Delete (NOT_FOUND).
            image_id, key, operation = answers[4]
            assert stub.Delete(pb.DeleteImageRequest(image_id=image_id), metadata=key).id == operation.id
            image_id, key, _ = answers[0]
            error = rpc_error(stub.Delete, pb.DeleteImageRequest(image_id=image_id), metadata=key)
            assert error.code() == grpc.StatusCode.NOT_FOUND
        finally:
            channel.close()


def test_the_operations_limit_is_checked():
    with pytest.raises(ValueError, match="max_operations"):
        Emulator(max_operations=-1)


# ---- D2: token specs -------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("ci", ("ci", None)),
        ("ci=b1ga", ("ci", frozenset({"b1ga"}))),
        ("ci=b1ga,b1gb", ("ci", frozenset({"b1ga", "b1gb"}))),
        ("ci=*", ("ci", None)),
        ("dG9rZW4==*", ("dG9rZW4=", None)),  # split at the last '='
        ("dG9rZW4===*", ("dG9rZW4==", None)),
        ("dG9rZW4===b1ga", ("dG9rZW4==", frozenset({"b1ga"}))),
    ],
)
def test_d2_token_specs(spec, expected):
    from emulator.rpc.auth import parse_token_spec

    assert parse_token_spec(spec) == expected


@pytest.mark.parametrize("spec", ["ci=", "ci=b1ga,", "ci=,b1ga", "dG9rZW4==", "=b1ga", "ci=B1GA", "c i=b1ga"])
def test_d2_an_empty_or_bad_folder_list_is_refused(spec):
    from emulator.rpc.auth import parse_token_spec

    with pytest.raises(ValueError, match="token spec"):
        parse_token_spec(spec)


def test_d2_the_standalone_process_refuses_an_empty_folder_list():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--require-token", "ci="],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "folder list" in result.stderr and "listening" not in result.stdout


def test_d2_an_empty_folder_list_in_python_means_no_folder():
    with Emulator(auth="strict", tokens={"ci": []}) as emulator:
        registry = emulator.add_registry(FOLDER)
        channel = emulator.channel()
        try:
            error = rpc_error(
                pb_grpc_stub(channel).List,
                pb.ListImagesRequest(registry_id=registry.id),
                metadata=(("authorization", "Bearer ci"),),
            )
        finally:
            channel.close()
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


# ---- IAM tokens: self-contained, expiring ----------------------------------------------


def test_iam_tokens_expire_and_keep_nothing_per_token():
    from emulator.api.errors import Unauthenticated
    from emulator.rpc.auth import IAM_TOKEN_LIFETIME_NS, Auth

    now = [1_000_000_000_000]
    auth = Auth("strict", {"oauth": ["b1ga"]}, clock=lambda: now[0])
    token, expires_ns = auth.issue_iam_token("oauth")
    assert expires_ns == now[0] + IAM_TOKEN_LIFETIME_NS
    before = dict(vars(auth))
    for _ in range(100):
        auth.issue_iam_token("oauth")
    assert {name: value for name, value in vars(auth).items()} == before  # nothing grows
    assert auth.authenticate(f"Bearer {token}").folders == frozenset({"b1ga"})
    now[0] = expires_ns
    with pytest.raises(Unauthenticated, match="expired"):
        auth.authenticate(f"Bearer {token}")


@pytest.mark.parametrize("mode", ["any", "strict"])
def test_a_tampered_or_reconfigured_iam_token_is_refused_in_strict_mode(mode):
    from emulator.api.errors import Unauthenticated
    from emulator.rpc.auth import Auth

    auth = Auth(mode, {"oauth": ["b1ga"]})
    token, _ = auth.issue_iam_token("oauth")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    if mode == "strict":
        with pytest.raises(Unauthenticated):
            auth.authenticate(f"Bearer {tampered}")
        auth.configure("strict", {"other": None})
        with pytest.raises(Unauthenticated):
            auth.authenticate(f"Bearer {token}")
    else:  # any token goes in mode any, but an IAM token keeps its credential's folders
        assert auth.authenticate(f"Bearer {token}").folders == frozenset({"b1ga"})


# ---- filter and order_by white space: ASCII space and tab only ---------------------------


@pytest.mark.parametrize("blank", ["\u00a0", "\u2003", "\x1c", "\n", "\r", "\x0b"])
@pytest.mark.parametrize("field", ["filter", "order_by"])
@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "Only the ASCII space and tab separate words in filter and order_by.",
    "other Unicode white space would be invisible to a user reading the expression",
)
def test_only_ascii_space_and_tab_separate_words(emulator, registry, images, blank, field):
    emulator.add_image(registry.id, "app")
    text = {"filter": f'name{blank}=\t"{registry.id}/app"', "order_by": f"name{blank}desc"}[field]
    error = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry.id, **{field: text}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and field in error.details()
    spaced = {"filter": f' \tname \t= \t"{registry.id}/app" \t', "order_by": " \tname \tdesc \t"}[field]
    assert len(images.List(pb.ListImagesRequest(registry_id=registry.id, **{field: spaced})).images) == 1


@pytest.mark.parametrize("order_by", ["created_at", "created_at desc"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "1500-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"])
def test_a_page_can_stop_at_any_time_the_emulator_accepts(emulator, registry, images, order_by, moment):
    """Found by review: the cursor's created_at did not fit int64 before 1677 or after 2262."""
    edge = emulator.add_image(registry.id, "app", id="e" * 50, created_at=moment)
    other = emulator.add_image(registry.id, "app", id="o" * 50, created_at="2026-01-01T00:00:00Z")
    first = _page(images, registry_id=registry.id, order_by=order_by, page_size=1)
    assert 0 < len(first.next_page_token) <= 100
    second = _page(images, registry_id=registry.id, order_by=order_by, page_size=1, page_token=first.next_page_token)
    assert {first.images[0].id, second.images[0].id} == {edge.id, other.id}
    assert not second.next_page_token


# ---- found by review: settings that must never be weaker than asked -------------------------


def test_tokens_without_a_mode_mean_strict_in_python():
    with Emulator(tokens={"ci": ["b1gallowed"]}) as emulator:
        assert emulator.auth.mode == "strict"
        emulator.configure_auth(tokens={"other": None})
        assert emulator.auth.mode == "strict"
        emulator.configure_auth()
        assert emulator.auth.mode == "none"


def test_tokens_without_a_mode_mean_strict_through_the_control_plane():
    from emulator.control.remote import RemoteEmulator

    with Emulator(admin_port=0) as emulator:
        RemoteEmulator(emulator.endpoint, emulator.admin_url).configure_auth(tokens={"ci": ["b1gallowed"]})
        assert emulator.auth.mode == "strict"


@pytest.mark.parametrize("specs", [["ci=b1ga", "ci"], ["ci=b1ga", "ci=b1gb"], ["ci", "ci"]])
def test_a_token_given_twice_is_refused(specs):
    from emulator.rpc.auth import parse_token_specs

    with pytest.raises(ValueError, match="given twice"):
        parse_token_specs(specs)


def test_operation_metadata_holds_strings_only(emulator):
    """Found by review: a float metadata value of 1e400 became Infinity in GET /state."""
    from emulator.state.codecs import SeedError

    seed = {
        "registries": [],
        "operations": [{"id": "opx", "metadata_type": "google.protobuf.UninterpretedOption", "metadata": {"double_value": 1e400}}],
    }
    with pytest.raises(SeedError, match=r"operations\[0\]\.metadata\.double_value: must be a string"):
        emulator.load_seed(seed)
    assert not emulator.operations


def test_a_negative_max_operations_flag_is_refused_by_name():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--max-operations", "-1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "--max-operations: must be 0 or more" in result.stderr
