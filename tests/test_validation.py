"""The validation matrix, through the wire: every rule of the requests the emulator serves,
at, just under and just over its limit, with the status code, a message naming the field and
``google.rpc.BadRequest`` field violations readable with grpcio-status."""

from __future__ import annotations

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.operation import operation_service_pb2 as operation_pb

from conftest import FOLDER, assert_invalid, rpc_error, violations_of

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND


def description_of(err: grpc.RpcError, field: str) -> str:
    return " ".join(v.description for v in violations_of(err) if v.field == field)


# ---- ListImagesRequest: registry_id, folder_id ------------------------------------------------


@pytest.mark.parametrize("length", [1, 20, 49, 50])
def test_list_unknown_registry_id_up_to_50_chars_is_not_found(emulator, images, length):
    registry_id = ("crp" + "0" * 60)[:length]
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry_id))
    assert err.code() == NOT_FOUND, err.details()


def test_list_registry_id_of_50_chars_that_exists_lists_its_images(emulator, images):
    registry = emulator.add_registry(FOLDER, id="r" * 50)
    added = emulator.add_image(registry.id, "web")
    response = images.List(pb.ListImagesRequest(registry_id="r" * 50))
    assert [image.id for image in response.images] == [added.id]


@pytest.mark.parametrize("length", [51, 52, 200])
def test_list_registry_id_over_50_chars_is_invalid(emulator, images, length):
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id="c" * length))
    (violation,) = assert_invalid(err, "registry_id")
    assert "50" in violation.description


@pytest.mark.parametrize("length", [1, 49, 50])
def test_list_folder_id_up_to_50_chars_is_ok(emulator, images, length):
    folder_id = ("b1g" + "f" * 60)[:length]
    registry = emulator.add_registry(folder_id)
    added = emulator.add_image(registry.id, "web")
    response = images.List(pb.ListImagesRequest(folder_id=folder_id))
    assert [image.id for image in response.images] == [added.id]
    assert response.next_page_token == ""


@pytest.mark.parametrize("length", [51, 52, 200])
def test_list_folder_id_over_50_chars_is_invalid(emulator, images, length):
    err = rpc_error(images.List, pb.ListImagesRequest(folder_id="b" * length))
    (violation,) = assert_invalid(err, "folder_id")
    assert "50" in violation.description


# ---- ListImagesRequest: repository_name pattern -----------------------------------------------

GOOD_PATHS = ["ubuntu", "a", "0", "a.b", "a-b", "a_b", "a.b-c_d", "team/web", "a/b/c/d", "x1/y-2/z_3.4"]
BAD_PATHS = [
    "Ubuntu",
    "team/Web",
    "a//b",
    "/a",
    "a/",
    "a b",
    "a..b",
    "a.-b",
    "-a",
    "a-",
    "_a",
    "a_",
    ".a",
    "a:latest",
    "a@b",
    "a/b/",
    "ä",
]


@pytest.mark.parametrize("path", GOOD_PATHS)
def test_list_repository_name_matching_the_pattern_is_accepted(emulator, registry, images, path):
    added = emulator.add_image(registry.id, path)
    emulator.add_image(registry.id, "other-repo")
    response = images.List(pb.ListImagesRequest(repository_name=f"{registry.id}/{path}"))
    assert [image.id for image in response.images] == [added.id]


@pytest.mark.parametrize("path", ["ubuntu", "a.b-c_d", "a/b/c"])
def test_list_repository_name_matching_the_pattern_with_unknown_registry_is_not_found(emulator, images, path):
    # A well-formed name is never INVALID_ARGUMENT: its registry part is looked up.
    err = rpc_error(images.List, pb.ListImagesRequest(repository_name=path))
    assert err.code() == NOT_FOUND, err.details()


@pytest.mark.parametrize("path", BAD_PATHS)
@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    "repository_name must match its pattern.",
    "yandex/cloud/containerregistry/v1/image_service.proto",
)
def test_list_repository_name_not_matching_the_pattern_is_invalid(emulator, registry, images, path):
    err = rpc_error(images.List, pb.ListImagesRequest(repository_name=f"{registry.id}/{path}"))
    assert_invalid(err, "repository_name")


@pytest.mark.parametrize("name", ["Crp", "CRP0000/web", " crp/web", "crp/web ", "crp/web\n"])
def test_list_repository_name_pattern_is_a_full_match(emulator, images, name):
    err = rpc_error(images.List, pb.ListImagesRequest(repository_name=name))
    assert_invalid(err, "repository_name")


# ---- ListImagesRequest: page_size -------------------------------------------------------------


@pytest.fixture
def many_images(emulator, registry):
    """1001 images in ``registry``."""
    for _ in range(1001):
        emulator.add_image(registry.id, "web")
    return registry


def test_list_page_size_1000_is_ok(many_images, images):
    response = images.List(pb.ListImagesRequest(registry_id=many_images.id, page_size=1000))
    assert len(response.images) == 1000
    assert response.next_page_token
    rest = images.List(
        pb.ListImagesRequest(registry_id=many_images.id, page_size=1000, page_token=response.next_page_token)
    )
    assert len(rest.images) == 1
    assert rest.next_page_token == ""
    assert len({image.id for image in [*response.images, *rest.images]}) == 1001


def test_list_page_size_999_is_ok(many_images, images):
    response = images.List(pb.ListImagesRequest(registry_id=many_images.id, page_size=999))
    assert len(response.images) == 999
    assert response.next_page_token


@pytest.mark.parametrize("page_size", [1001, 1002, 10**6, 2**62])
@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    "page_size above 1000 is INVALID_ARGUMENT naming page_size.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Image/list.md (The maximum value is 1000)",
)
def test_list_page_size_over_1000_is_invalid(emulator, registry, images, page_size):
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry.id, page_size=page_size))
    (violation,) = assert_invalid(err, "page_size")
    assert "1000" in violation.description


@pytest.mark.parametrize("page_size", [-1, -2, -1000, -(2**63)])
@pytest.mark.behaviour(
    "ImageService/List",
    "choice",
    "A negative page_size is INVALID_ARGUMENT.",
    "the annotation bounds only the maximum; a negative size means nothing",
)
def test_list_negative_page_size_is_invalid(emulator, registry, images, page_size):
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry.id, page_size=page_size))
    assert_invalid(err, "page_size")


@pytest.mark.behaviour(
    "ImageService/List",
    "documented",
    "page_size 0 means the default, 100.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/api-ref/grpc/Image/list.md (Default value: 100)",
)
def test_list_page_size_0_means_100(emulator, registry, images):
    added = {emulator.add_image(registry.id, "web").id for _ in range(101)}
    first = images.List(pb.ListImagesRequest(registry_id=registry.id, page_size=0))
    assert len(first.images) == 100
    assert first.next_page_token
    second = images.List(pb.ListImagesRequest(registry_id=registry.id, page_token=first.next_page_token))
    assert len(second.images) == 1
    assert second.next_page_token == ""
    assert {image.id for image in [*first.images, *second.images]} == added


def test_list_page_size_1_is_ok(emulator, registry, images):
    emulator.add_image(registry.id, "web")
    emulator.add_image(registry.id, "web")
    response = images.List(pb.ListImagesRequest(registry_id=registry.id, page_size=1))
    assert len(response.images) == 1
    assert response.next_page_token


# ---- ListImagesRequest: page_token length -----------------------------------------------------


@pytest.mark.parametrize("length", [1, 50, 99, 100])
def test_list_page_token_up_to_100_chars_not_issued_is_invalid_as_not_issued(emulator, registry, images, length):
    token = ("AbCdEfGh0123456789-_" * 10)[:length]
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry.id, page_token=token))
    assert_invalid(err, "page_token")
    too_long = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry.id, page_token="A" * 101))
    # Not the length rule: the token is refused because the emulator did not issue it.
    assert description_of(err, "page_token") != description_of(too_long, "page_token")


@pytest.mark.parametrize("length", [101, 102, 1000])
def test_list_page_token_over_100_chars_is_invalid_on_length(emulator, registry, images, length):
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry.id, page_token="A" * length))
    (violation,) = assert_invalid(err, "page_token")
    assert "100" in violation.description


def test_list_issued_page_token_is_accepted(emulator, registry, images):
    for _ in range(3):
        emulator.add_image(registry.id, "web")
    first = images.List(pb.ListImagesRequest(registry_id=registry.id, page_size=2))
    assert 0 < len(first.next_page_token) <= 100
    second = images.List(
        pb.ListImagesRequest(registry_id=registry.id, page_size=2, page_token=first.next_page_token)
    )
    assert len(second.images) == 1


# ---- ListImagesRequest: filter length ---------------------------------------------------------


def filter_of_length(registry_id: str, length: int) -> tuple[str, str]:
    """A valid ``name IN (...)`` filter of exactly ``length`` characters (each value <= 256
    characters), and the repository path of its last value."""
    head, tail = "name IN (", ")"
    prefix = f"{registry_id}/"
    values = []
    room = length - len(head) - len(tail)
    while True:
        separator = 2 if values else 0  # ", "
        inside = room - separator - 2  # characters between the quotes of the last value
        if inside <= 256:
            assert inside > len(prefix)
            last_path = "a" * (inside - len(prefix))
            values.append(f'"{prefix}{last_path}"')
            break
        values.append(f'"{prefix}' + "b" * (200 - len(prefix)) + '"')
        room -= separator + 202
    text = head + ", ".join(values) + tail
    assert len(text) == length
    return text, last_path


@pytest.mark.parametrize("length", [999, 1000])
def test_list_filter_up_to_1000_chars_is_ok(emulator, registry, images, length):
    text, last_path = filter_of_length(registry.id, length)
    added = emulator.add_image(registry.id, last_path)
    emulator.add_image(registry.id, "other")
    response = images.List(pb.ListImagesRequest(registry_id=registry.id, filter=text))
    assert [image.id for image in response.images] == [added.id]


@pytest.mark.parametrize("length", [1001, 1002, 2000])
def test_list_filter_over_1000_chars_is_invalid(emulator, registry, images, length):
    err = rpc_error(
        images.List, pb.ListImagesRequest(registry_id=registry.id, filter=filter_of_length(registry.id, length)[0])
    )
    (violation,) = assert_invalid(err, "filter")
    assert "1000" in violation.description


# ---- ListImagesRequest: order_by length -------------------------------------------------------


@pytest.mark.parametrize("length", [99, 100])
def test_list_order_by_up_to_100_chars_is_ok(emulator, registry, images, length):
    low = emulator.add_image(registry.id, "web", id="crpaaaaaaaaaaaaaaaaa")
    high = emulator.add_image(registry.id, "web", id="crpbbbbbbbbbbbbbbbbb")
    order_by = "id" + " " * (length - 6) + "desc"
    assert len(order_by) == length
    response = images.List(pb.ListImagesRequest(registry_id=registry.id, order_by=order_by))
    assert [image.id for image in response.images] == [high.id, low.id]


@pytest.mark.parametrize("length", [101, 102, 500])
def test_list_order_by_over_100_chars_is_invalid(emulator, registry, images, length):
    order_by = "id" + " " * (length - 6) + "desc"
    err = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry.id, order_by=order_by))
    (violation,) = assert_invalid(err, "order_by")
    assert "100" in violation.description


# ---- GetImageRequest / DeleteImageRequest: image_id -------------------------------------------


def call_get(images, image_id):
    return images.Get(pb.GetImageRequest(image_id=image_id))


def call_delete(images, image_id):
    return images.Delete(pb.DeleteImageRequest(image_id=image_id))


CALLS = [pytest.param(call_get, id="Get"), pytest.param(call_delete, id="Delete")]


@pytest.mark.parametrize("call", CALLS)
def test_image_id_is_required(emulator, images, call):
    err = rpc_error(call, images, "")
    (violation,) = assert_invalid(err, "image_id")
    assert "required" in violation.description.lower()


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("length", [1, 20, 49, 50])
def test_unknown_image_id_up_to_50_chars_is_not_found(emulator, registry, images, call, length):
    emulator.add_image(registry.id, "web")
    err = rpc_error(call, images, ("crp" + "z" * 60)[:length])
    assert err.code() == NOT_FOUND, err.details()


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("length", [51, 52, 300])
def test_image_id_over_50_chars_is_invalid(emulator, registry, images, call, length):
    emulator.add_image(registry.id, "web")
    err = rpc_error(call, images, "c" * length)
    (violation,) = assert_invalid(err, "image_id")
    assert "50" in violation.description


def test_get_image_id_of_50_chars_that_exists(emulator, registry, images):
    added = emulator.add_image(registry.id, "web", id="i" * 50)
    assert images.Get(pb.GetImageRequest(image_id="i" * 50)).id == added.id


def test_delete_image_id_of_50_chars_that_exists(emulator, registry, images, operations):
    emulator.add_image(registry.id, "web", id="i" * 50)
    operation = images.Delete(pb.DeleteImageRequest(image_id="i" * 50))
    assert operation.done
    assert operations.Get(operation_pb.GetOperationRequest(operation_id=operation.id)).id == operation.id
    err = rpc_error(images.Get, pb.GetImageRequest(image_id="i" * 50))
    assert err.code() == NOT_FOUND


# ---- OperationService.Get ---------------------------------------------------------------------


@pytest.mark.behaviour(
    "OperationService/Get", "documented", "operation_id is required.", "yandex/cloud/operation/operation_service.proto"
)
def test_operation_id_is_required(emulator, operations):
    err = rpc_error(operations.Get, operation_pb.GetOperationRequest(operation_id=""))
    (violation,) = assert_invalid(err, "operation_id")
    assert "required" in violation.description.lower()


@pytest.mark.parametrize("operation_id", ["crp00000000000000000", "x", "o" * 50, "o" * 51, "o" * 500])
@pytest.mark.behaviour(
    "OperationService/Get",
    "documented",
    "An unknown operation is NOT_FOUND.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (NOT_FOUND: The requested resource not found); what clients expect too (go-sdk retries a NotFound)",
)
def test_unknown_operation_id_is_not_found(emulator, operations, operation_id):
    # operation_id has no length annotation: any unknown id is NOT_FOUND.
    err = rpc_error(operations.Get, operation_pb.GetOperationRequest(operation_id=operation_id))
    assert err.code() == NOT_FOUND, err.details()


def test_known_operation_id_is_found(emulator, registry, images, operations):
    image = emulator.add_image(registry.id, "web")
    operation = images.Delete(pb.DeleteImageRequest(image_id=image.id))
    got = operations.Get(operation_pb.GetOperationRequest(operation_id=operation.id))
    assert got.id == operation.id and got.done


# ---- several rules at once --------------------------------------------------------------------


def test_list_every_broken_annotation_is_reported(emulator, registry, images):
    request = pb.ListImagesRequest(
        registry_id="c" * 51,
        repository_name="Bad//Name",
        folder_id="b" * 51,
        page_size=1001,
        page_token="A" * 101,
        filter='name = "' + "a" * 1000 + '"',
        order_by="id" + " " * 100,
    )
    err = rpc_error(images.List, request)
    fields = ["registry_id", "repository_name", "folder_id", "page_size", "page_token", "filter", "order_by"]
    found = assert_invalid(err, *fields)
    assert len(found) == len(fields)


@pytest.mark.parametrize(
    "request_fields, fields",
    [
        ({"registry_id": "c" * 51, "page_size": 1001}, ["registry_id", "page_size"]),
        ({"folder_id": "b" * 51, "order_by": "x" * 101}, ["folder_id", "order_by"]),
        ({"repository_name": "UPPER/x", "page_token": "t" * 101, "filter": "f" * 1001}, [
            "repository_name",
            "page_token",
            "filter",
        ]),
    ],
)
def test_list_broken_annotations_are_reported_together(emulator, images, request_fields, fields):
    err = rpc_error(images.List, pb.ListImagesRequest(**request_fields))
    assert_invalid(err, *fields)


def test_list_every_broken_list_rule_is_reported(emulator, registry, images):
    """page_size < 0, a bad filter and a bad order_by in one request: each is reported."""
    request = pb.ListImagesRequest(
        registry_id=registry.id,
        page_size=-1,
        filter='name ~ "x"',
        order_by="size",
    )
    err = rpc_error(images.List, request)
    assert_invalid(err, "page_size", "filter", "order_by")
