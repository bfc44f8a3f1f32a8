"""Records handed to users are copies: changing one never changes what the emulator serves (#12
item 9). What users then reach for is in the API instead: delete an image, move or remove a tag,
in Python and over the control plane."""

from __future__ import annotations

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub

from conftest import FOLDER, rpc_error
from emulator.control.process import EmulatorProcess


def test_changing_a_returned_image_changes_nothing_served(emulator, registry, images):
    image = emulator.add_image(registry.id, "app", tags=["latest"])
    image.tags.append("hacked")
    emulator.images[image.id].tags.append("hacked-too")
    emulator.images[image.id].digest = "sha256:" + "0" * 64
    served = images.Get(pb.GetImageRequest(image_id=image.id))
    assert list(served.tags) == ["latest"] and served.digest != "sha256:" + "0" * 64
    assert emulator.images[image.id].tags == ["latest"]


def test_changing_a_returned_registry_changes_nothing_served(emulator, channel):
    registry = emulator.add_registry(FOLDER, labels={"env": "ci"})
    registry.labels["env"] = "hacked"
    emulator.registries[registry.id].labels["extra"] = "x"
    emulator.registries[registry.id].name = "renamed"
    served = RegistryServiceStub(channel).Get(registry_pb.GetRegistryRequest(registry_id=registry.id))
    assert dict(served.labels) == {"env": "ci"} and served.name == registry.name


def test_seeded_records_are_copies_too(emulator, images):
    registries, loaded = emulator.load_seed(
        {"registries": [{"folder_id": FOLDER, "images": [{"repository": "app", "tags": ["v1"]}]}]}
    )
    loaded[0].tags.clear()
    assert list(images.Get(pb.GetImageRequest(image_id=loaded[0].id)).tags) == ["v1"]
    # A sequence of copies made when read: each read is a new copy, equal to the last.
    assert len(loaded) == 1 and loaded[0] is not loaded[0] and loaded == [loaded[0]] == list(loaded[:1])
    assert loaded[0].tags == ["v1"] and [registry.folder_id for registry in registries] == [FOLDER]


def test_delete_image_in_python(emulator, registry, images):
    image = emulator.add_image(registry.id, "app")
    assert emulator.delete_image(image.id).id == image.id
    assert rpc_error(images.Get, pb.GetImageRequest(image_id=image.id)).code() == grpc.StatusCode.NOT_FOUND
    assert emulator.operations == {}  # not a call: no operation
    with pytest.raises(ValueError, match="^image_id: "):
        emulator.delete_image(image.id)


def test_move_and_remove_a_tag_in_python(emulator, registry, images):
    old = emulator.add_image(registry.id, "app", tags=["latest", "v1"], created_at="2020-01-01T00:00:00Z")
    new = emulator.add_image(registry.id, "app", created_at="2020-01-02T00:00:00Z")
    moved = emulator.tag_image(new.id, "latest")
    assert moved.tags == ["latest"]
    assert list(images.Get(pb.GetImageRequest(image_id=old.id)).tags) == ["v1"]
    assert list(images.Get(pb.GetImageRequest(image_id=new.id)).tags) == ["latest"]
    # Both were modified now: last_modified orders them after their creation.
    page = images.List(pb.ListImagesRequest(registry_id=registry.id, order_by="last_modified"))
    assert {image.id for image in page.images} == {old.id, new.id}
    assert emulator.images[old.id].last_modified_ns > emulator.images[old.id].created_at_ns
    emulator.untag_image(old.id, "v1")
    assert list(images.Get(pb.GetImageRequest(image_id=old.id)).tags) == []
    with pytest.raises(ValueError, match="no tag"):
        emulator.untag_image(old.id, "v1")
    with pytest.raises(ValueError, match="not a valid Docker tag"):
        emulator.tag_image(old.id, "no spaces")
    assert emulator.tag_image(new.id, "latest").tags == ["latest"]  # already there: nothing changes


def test_the_same_over_the_control_plane():
    with EmulatorProcess() as process:
        registry = process.add_registry(FOLDER)
        first = process.add_image(registry.id, "app", tags=["latest"])
        second = process.add_image(registry.id, "app")
        assert process.tag_image(second.id, "latest").tags == ["latest"]
        assert process.images[first.id].tags == []
        assert process.untag_image(second.id, "latest").tags == []
        with pytest.raises(ValueError, match="no tag"):
            process.untag_image(second.id, "latest")
        assert process.delete_image(first.id).id == first.id
        assert set(process.images) == {second.id}
        with pytest.raises(ValueError, match="^image_id: "):
            process.delete_image(first.id)


def test_an_images_repr_shows_when_it_was_made():
    """#24, found by a new user: Image's repr hid created_at, which tests about clean-up by age need."""
    from emulator import Emulator

    with Emulator() as emulator:
        registry = emulator.add_registry("b1greprs000000000000")
        image = emulator.add_image(registry.id, "app", tags=["v1"], created_at="2026-01-02T03:04:05Z")
    assert "created_at=2026-01-02T03:04:05Z" in repr(image), repr(image)
