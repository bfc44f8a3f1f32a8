"""Get, Delete and OperationService.Get through the official SDK's stubs, and the
realism of the records the emulator generates."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import grpc
import pytest
from google.protobuf import empty_pb2
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.operation import operation_service_pb2 as operation_pb

from conftest import FOLDER, rpc_error
from emulator import Blob

ID = re.compile(r"crp[0-9a-v]{17}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
CREATED = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=timezone.utc)


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def test_get_returns_every_field(emulator, registry, images):
    config = Blob(id="crpconfig000000000001", digest="sha256:" + "c" * 64, size=1500)
    layers = [
        Blob(id="crplayer0000000000001", digest="sha256:" + "1" * 64, size=1000, urls=("https://a.example/1",)),
        Blob(id="crplayer0000000000002", digest="sha256:" + "2" * 64, size=2345),
    ]
    added = emulator.add_image(
        registry.id,
        "team/web",
        digest="sha256:" + "a" * 64,
        tags=["v1", "latest"],
        created_at_ns=_ns(CREATED),
        config=config,
        layers=layers,
    )
    image = images.Get(pb.GetImageRequest(image_id=added.id))
    assert image.id == added.id
    assert image.name == f"{registry.id}/team/web"
    assert image.digest == "sha256:" + "a" * 64
    assert image.compressed_size == 1000 + 2345 + 1500  # the layers and the config, as production
    assert (image.config.id, image.config.digest, image.config.size) == (config.id, config.digest, 1500)
    assert [(b.id, b.digest, b.size, list(b.urls)) for b in image.layers] == [
        (layer.id, layer.digest, layer.size, list(layer.urls)) for layer in layers
    ]
    assert list(image.tags) == ["v1", "latest"]
    assert image.created_at.ToDatetime(tzinfo=timezone.utc) == CREATED


def test_generated_records_look_real(emulator, registry, images):
    added = emulator.add_image(registry.id, "ubuntu")
    image = images.Get(pb.GetImageRequest(image_id=added.id))
    assert ID.fullmatch(registry.id) and ID.fullmatch(image.id)
    assert DIGEST.fullmatch(image.digest)
    assert image.layers and all(DIGEST.fullmatch(layer.digest) and layer.size > 0 for layer in image.layers)
    assert image.compressed_size == sum(layer.size for layer in image.layers) + image.config.size
    assert DIGEST.fullmatch(image.config.digest) and image.config.size > 0
    assert abs(image.created_at.ToDatetime(tzinfo=timezone.utc) - datetime.now(timezone.utc)).total_seconds() < 60


def test_compressed_size_given_is_kept(emulator, registry, images):
    added = emulator.add_image(registry.id, "ubuntu", compressed_size=7)
    assert images.Get(pb.GetImageRequest(image_id=added.id)).compressed_size == 7


@pytest.mark.behaviour(
    "ImageService/Get",
    "documented",
    "A tag given to a new image moves off the image that held it.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/concepts/docker-image.md (a pushed tag is deleted from the old version and written to the new one)",
)
def test_a_tag_moves_to_the_newer_image_of_the_repository(emulator, registry, images):
    old = emulator.add_image(registry.id, "app", tags=["latest", "v1"])
    other_repo = emulator.add_image(registry.id, "other", tags=["latest"])
    new = emulator.add_image(registry.id, "app", tags=["latest"])
    assert list(images.Get(pb.GetImageRequest(image_id=old.id)).tags) == ["v1"]
    assert list(images.Get(pb.GetImageRequest(image_id=new.id)).tags) == ["latest"]
    assert list(images.Get(pb.GetImageRequest(image_id=other_repo.id)).tags) == ["latest"]


def test_one_image_per_repository_and_digest(emulator, registry):
    digest = "sha256:" + "d" * 64
    emulator.add_image(registry.id, "app", digest=digest)
    emulator.add_image(registry.id, "other", digest=digest)  # another repository may share it
    with pytest.raises(ValueError, match="digest"):
        emulator.add_image(registry.id, "app", digest=digest)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"repository": "Upper"}, "repository"),
        ({"repository": "a//b"}, "repository"),
        ({"repository": "app", "digest": "sha256:xyz"}, "digest"),
        ({"repository": "app", "tags": ["bad tag"]}, "tags"),
        ({"repository": "app", "id": "NOT-AN-ID"}, "id"),
        ({"repository": "app", "compressed_size": -1}, "compressed_size"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(emulator, registry, arguments, named):
    with pytest.raises(ValueError, match=named):
        emulator.add_image(registry.id, **arguments)
    assert not emulator.store.images


def test_get_unknown_image_is_not_found(emulator, images):
    error = rpc_error(images.Get, pb.GetImageRequest(image_id="crp00000000000000000"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "crp00000000000000000" in error.details()


@pytest.mark.behaviour(
    "ImageService/Delete",
    "documented",
    "Delete answers an Operation with DeleteImageMetadata and google.protobuf.Empty.",
    "yandex/cloud/containerregistry/v1/image_service.proto",
)
def test_delete_returns_a_done_operation(emulator, registry, images, operations):
    added = emulator.add_image(registry.id, "ubuntu")
    before = datetime.now(timezone.utc)
    operation = images.Delete(pb.DeleteImageRequest(image_id=added.id))
    assert ID.fullmatch(operation.id)
    assert operation.description
    assert operation.created_by
    assert operation.done
    created = operation.created_at.ToDatetime(tzinfo=timezone.utc)
    assert abs((created - before).total_seconds()) < 60
    assert operation.modified_at.ToDatetime(tzinfo=timezone.utc) >= created
    assert operation.metadata.type_url == "type.googleapis.com/yandex.cloud.containerregistry.v1.DeleteImageMetadata"
    metadata = pb.DeleteImageMetadata()
    assert operation.metadata.Unpack(metadata)
    assert metadata.image_id == added.id
    assert operation.WhichOneof("result") == "response"
    assert operation.response.type_url == "type.googleapis.com/google.protobuf.Empty"
    assert operation.response.Unpack(empty_pb2.Empty())
    assert operations.Get(operation_pb.GetOperationRequest(operation_id=operation.id)) == operation


def test_delete_removes_the_image_everywhere(emulator, registry, images):
    kept = emulator.add_image(registry.id, "ubuntu", tags=["22.04"])
    gone = emulator.add_image(registry.id, "ubuntu", tags=["latest"])
    images.Delete(pb.DeleteImageRequest(image_id=gone.id))
    assert rpc_error(images.Get, pb.GetImageRequest(image_id=gone.id)).code() == grpc.StatusCode.NOT_FOUND
    for request in (
        pb.ListImagesRequest(folder_id=FOLDER),
        pb.ListImagesRequest(registry_id=registry.id),
        pb.ListImagesRequest(repository_name=f"{registry.id}/ubuntu"),
        pb.ListImagesRequest(folder_id=FOLDER, order_by="name desc"),
        pb.ListImagesRequest(folder_id=FOLDER, order_by="created_at"),
        pb.ListImagesRequest(folder_id=FOLDER, filter=f'name = "{registry.id}/ubuntu"'),
    ):
        assert [image.id for image in images.List(request).images] == [kept.id]
    # The deleted image's tag and digest are free again.
    again = emulator.add_image(registry.id, "ubuntu", digest=gone.digest, tags=["latest"])
    assert list(images.Get(pb.GetImageRequest(image_id=again.id)).tags) == ["latest"]


@pytest.mark.behaviour(
    "ImageService/Delete",
    "choice",
    "Deleting an unknown or deleted image is NOT_FOUND and records no operation.",
    "a second delete has nothing to delete",
)
def test_deleting_twice_is_not_found_and_changes_nothing(emulator, registry, images, operations):
    added = emulator.add_image(registry.id, "ubuntu")
    other = emulator.add_image(registry.id, "ubuntu")
    images.Delete(pb.DeleteImageRequest(image_id=added.id))
    operations_before = dict(emulator.store.operations)
    error = rpc_error(images.Delete, pb.DeleteImageRequest(image_id=added.id))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert emulator.store.operations == operations_before
    assert [i.id for i in images.List(pb.ListImagesRequest(registry_id=registry.id)).images] == [other.id]


def test_unknown_operation_is_not_found(emulator, operations):
    error = rpc_error(operations.Get, operation_pb.GetOperationRequest(operation_id="crp00000000000000000"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_operations_survive_the_image(emulator, registry, images, operations):
    added = emulator.add_image(registry.id, "ubuntu")
    operation = images.Delete(pb.DeleteImageRequest(image_id=added.id))
    emulator.add_image(registry.id, "ubuntu")
    fetched = operations.Get(operation_pb.GetOperationRequest(operation_id=operation.id))
    assert fetched.done and fetched.id == operation.id


def test_reset_empties_everything(emulator, registry, images, operations):
    added = emulator.add_image(registry.id, "ubuntu")
    operation = images.Delete(pb.DeleteImageRequest(image_id=emulator.add_image(registry.id, "x").id))
    emulator.reset()
    assert rpc_error(images.Get, pb.GetImageRequest(image_id=added.id)).code() == grpc.StatusCode.NOT_FOUND
    assert (
        rpc_error(operations.Get, operation_pb.GetOperationRequest(operation_id=operation.id)).code()
        == grpc.StatusCode.NOT_FOUND
    )
    assert rpc_error(images.List, pb.ListImagesRequest(registry_id=registry.id)).code() == grpc.StatusCode.NOT_FOUND


def test_undecodable_request_is_invalid_argument(running_emulator, channel):
    call = channel.unary_unary("/yandex.cloud.containerregistry.v1.ImageService/Get")
    error = rpc_error(call, b"\xff\xff\xff")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "request" in error.details()


def test_a_moved_tag_leaves_the_cached_answer_too(emulator, registry, images):
    old = emulator.add_image(registry.id, "app", tags=["latest", "v1"])
    assert list(images.Get(pb.GetImageRequest(image_id=old.id)).tags) == ["latest", "v1"]  # now cached
    listed = images.List(pb.ListImagesRequest(registry_id=registry.id))
    assert list(listed.images[0].tags) == ["latest", "v1"]
    emulator.add_image(registry.id, "app", tags=["latest"])
    assert list(images.Get(pb.GetImageRequest(image_id=old.id)).tags) == ["v1"]
    by_id = {i.id: list(i.tags) for i in images.List(pb.ListImagesRequest(registry_id=registry.id)).images}
    assert by_id[old.id] == ["v1"]


@pytest.mark.parametrize("layers", [[], None, [Blob(id="crpl", digest="sha256:" + "e" * 64, size=5)] * 40])
def test_list_pages_are_canonical_protobuf(emulator, registry, channel, layers):
    """The emulator assembles List pages from cached bytes; they must be exactly what
    protobuf itself would serialize, for small and large images, with and without a token."""
    for n in range(3):
        emulator.add_image(registry.id, "app", layers=layers, config=Blob(id="c", digest="sha256:" + "f" * 64, size=1))
    raw_list = channel.unary_unary("/yandex.cloud.containerregistry.v1.ImageService/List")
    for page_size in (2, 100):
        raw = raw_list(pb.ListImagesRequest(registry_id=registry.id, page_size=page_size).SerializeToString())
        parsed = pb.ListImagesResponse.FromString(raw)
        assert parsed.SerializeToString() == raw
        assert len(parsed.images) == min(page_size, 3)
        assert bool(parsed.next_page_token) == (page_size == 2)
