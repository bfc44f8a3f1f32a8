"""Image lists (multi-arch manifest lists): an image an image list references cannot be deleted
(FAILED_PRECONDITION naming the lists), as production refuses it; seeds, the Python API and the
control plane declare them; the state keeps them."""

from __future__ import annotations

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub

from conftest import FOLDER, rpc_error
from emulator import Emulator, SeedError
from emulator.control.process import EmulatorProcess

Code = grpc.StatusCode
DIGESTS = [f"sha256:{n:064x}" for n in range(1, 5)]


@pytest.fixture
def multiarch(emulator, registry):
    amd64 = emulator.add_image(registry.id, "app", digest=DIGESTS[0], tags=["amd64"])
    arm64 = emulator.add_image(registry.id, "app", digest=DIGESTS[1], tags=["arm64"])
    listed = emulator.add_image(registry.id, "app", digest=DIGESTS[2], tags=["latest"], manifests=DIGESTS[:2])
    return amd64, arm64, listed


@pytest.mark.behaviour(
    "ImageService/Delete",
    "choice",
    "An image a multi-arch image list references is FAILED_PRECONDITION naming the lists.",
    "production refuses it in public traces; the message is the emulator's",
)
def test_a_referenced_image_cannot_be_deleted(emulator, images, multiarch):
    amd64, _, listed = multiarch
    err = rpc_error(images.Delete, pb.DeleteImageRequest(image_id=amd64.id))
    assert err.code() == Code.FAILED_PRECONDITION
    assert listed.id in err.details() and amd64.id in err.details()
    assert amd64.id in emulator.images and len(emulator.operations) == 0


def test_deleting_the_list_first_frees_its_images(emulator, images, multiarch):
    amd64, arm64, listed = multiarch
    assert images.Delete(pb.DeleteImageRequest(image_id=listed.id)).done
    assert images.Delete(pb.DeleteImageRequest(image_id=amd64.id)).done
    assert images.Delete(pb.DeleteImageRequest(image_id=arm64.id)).done
    assert emulator.images == {}


def test_two_lists_name_both_and_both_must_go(emulator, registry, images, multiarch):
    amd64, _, listed = multiarch
    second = emulator.add_image(registry.id, "app", digest=DIGESTS[3], manifests=[DIGESTS[0]])
    err = rpc_error(images.Delete, pb.DeleteImageRequest(image_id=amd64.id))
    assert listed.id in err.details() and second.id in err.details()
    images.Delete(pb.DeleteImageRequest(image_id=listed.id))
    err = rpc_error(images.Delete, pb.DeleteImageRequest(image_id=amd64.id))
    assert err.code() == Code.FAILED_PRECONDITION and listed.id not in err.details()


def test_a_pending_delete_of_a_referenced_image_is_refused_at_the_call(emulator, images, multiarch):
    emulator.configure_operations("polls:3")
    err = rpc_error(images.Delete, pb.DeleteImageRequest(image_id=multiarch[0].id))
    assert err.code() == Code.FAILED_PRECONDITION
    assert emulator.operations == {}


def test_force_delete_of_a_registry_takes_the_lists_first(emulator, registry, channel, multiarch):
    assert RegistryServiceStub(channel).ForceDelete(registry_pb.DeleteRegistryRequest(registry_id=registry.id)).done
    assert emulator.images == {} and emulator.registries == {}


@pytest.mark.parametrize(
    ("manifests", "message"),
    [
        (["sha256:" + "f" * 64], "no other image with digest"),  # not in the repository
        ([DIGESTS[2]], "no other image with digest"),  # itself
        (["sha1:abc"], "sha256"),
        ("sha256:abc", "a list"),
    ],
)
def test_bad_manifests_are_refused_and_add_nothing(emulator, registry, manifests, message):
    emulator.add_image(registry.id, "app", digest=DIGESTS[0])
    before = set(emulator.images)
    with pytest.raises(ValueError, match=message):
        emulator.add_image(registry.id, "app", digest=DIGESTS[2], manifests=manifests)
    assert set(emulator.images) == before


def test_an_image_of_another_repository_cannot_be_referenced(emulator, registry):
    emulator.add_image(registry.id, "other", digest=DIGESTS[0])
    with pytest.raises(ValueError, match="manifests"):
        emulator.add_image(registry.id, "app", manifests=[DIGESTS[0]])


def _seed(images: list[dict]) -> dict:
    return {"registries": [{"id": "crplists", "folder_id": FOLDER, "images": images}]}


def test_a_seed_may_name_a_list_before_its_images_and_the_state_keeps_it(emulator, images):
    emulator.load_seed(
        _seed(
            [
                {"repository": "app", "id": "crplist", "digest": DIGESTS[2], "manifests": DIGESTS[:2]},
                {"repository": "app", "id": "crpamd", "digest": DIGESTS[0]},
                {"repository": "app", "id": "crparm", "digest": DIGESTS[1]},
            ]
        )
    )
    assert rpc_error(images.Delete, pb.DeleteImageRequest(image_id="crpamd")).code() == Code.FAILED_PRECONDITION
    state = emulator.state(complete=False)
    (entry,) = [image for image in state["registries"][0]["images"] if image["id"] == "crplist"]
    assert entry["manifests"] == DIGESTS[:2]
    with Emulator() as second:
        second.load_seed(state)
        assert second.state(complete=False) == state


def test_a_bad_manifest_in_a_seed_names_the_entry_and_loads_nothing(emulator):
    seed = _seed([{"repository": "app", "digest": DIGESTS[0]}, {"repository": "app", "manifests": [DIGESTS[3]]}])
    with pytest.raises(SeedError, match=r"^registries\[0\]\.images\[1\]\.manifests: "):
        emulator.load_seed(seed)
    assert emulator.images == {} and emulator.registries == {}


def test_the_control_plane_adds_image_lists():
    with EmulatorProcess() as process:
        registry = process.add_registry(FOLDER)
        child = process.add_image(registry.id, "app", digest=DIGESTS[0])
        process.add_image(registry.id, "app", digest=DIGESTS[1], manifests=[DIGESTS[0]])
        with pytest.raises(ValueError, match="manifests"):
            process.add_image(registry.id, "app", manifests=[DIGESTS[3]])
        channel = process.channel()
        from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub

        err = rpc_error(ImageServiceStub(channel).Delete, pb.DeleteImageRequest(image_id=child.id))
        assert err.code() == Code.FAILED_PRECONDITION
        channel.close()


# ---- image lists of image lists, cycles, and loads that fail halfway (issue #20: P3, P4, P5) ----


def _nested(emulator, registry):
    """A list of a list: top -> middle -> (amd64, arm64), and a plain image beside them."""
    emulator.add_image(registry.id, "app", digest=DIGESTS[0])
    emulator.add_image(registry.id, "app", digest=DIGESTS[1])
    emulator.add_image(registry.id, "app", digest=DIGESTS[2], manifests=DIGESTS[:2])
    emulator.add_image(registry.id, "app", digest=DIGESTS[3], manifests=[DIGESTS[2]])
    emulator.add_image(registry.id, "plain")


@pytest.mark.behaviour(
    "RegistryService/ForceDelete",
    "choice",
    "ForceDelete deletes image lists before the images they reference, at any depth.",
    "so that it never stops halfway",
)
def test_force_delete_takes_lists_of_lists_in_dependency_order(emulator, registry, channel):
    """P3: FAILED_PRECONDITION 'Image B is referenced by image list A' after deleting one image."""
    _nested(emulator, registry)
    done = RegistryServiceStub(channel).ForceDelete(registry_pb.DeleteRegistryRequest(registry_id=registry.id))
    assert done.done and not done.HasField("error"), done
    assert emulator.images == {} and emulator.registries == {}


def test_image_lists_that_reference_each_other_are_refused_at_load(emulator):
    """P4: a cycle loaded, and nothing in its registry could ever be deleted again (a list's digest
    hashes its content: no real registry holds one)."""
    seed = _seed(
        [
            {"repository": "app", "digest": DIGESTS[0], "manifests": [DIGESTS[1]]},
            {"repository": "app", "digest": DIGESTS[1], "manifests": [DIGESTS[0]]},
        ]
    )
    with pytest.raises(SeedError, match=r"^registries\[0\]\.images\[1\]\.manifests: .*cycle"):
        emulator.load_seed(seed)
    assert emulator.images == {} and emulator.registries == {}


def test_a_cycle_through_a_longer_path_is_refused_in_python_too(emulator, registry):
    from emulator.state.seed import set_manifests

    _nested(emulator, registry)
    bottom = next(image for image in emulator.images.values() if image.digest == DIGESTS[0])
    before = emulator.state()
    with pytest.raises(SeedError, match="manifests: .*cycle"):
        set_manifests(emulator.store, bottom, [DIGESTS[3]])
    assert emulator.state() == before


FAILING_HALFWAY = _seed(
    [
        {"repository": "app", "digest": DIGESTS[0], "manifests": [DIGESTS[1]]},
        {"repository": "app", "digest": DIGESTS[1]},
        {"repository": "app", "digest": DIGESTS[2], "manifests": ["sha256:" + "e" * 64]},
    ]
)


def test_a_seed_failing_after_a_list_is_set_keeps_nothing(emulator):
    """P5: the rollback deleted in an order the list refused: FailedPrecondition instead of the
    SeedError, and the registry and two images stayed."""
    with pytest.raises(SeedError, match=r"^registries\[0\]\.images\[2\]\.manifests: "):
        emulator.load_seed(FAILING_HALFWAY)
    assert emulator.images == {} and emulator.registries == {}


def test_the_control_plane_answers_such_a_seed_400_and_keeps_nothing():
    with EmulatorProcess() as process:
        with pytest.raises(ValueError, match=r"^registries\[0\]\.images\[2\]\.manifests"):  # its 400
            process.load_seed(FAILING_HALFWAY)
        assert process.images == {} and process.registries == {}


@pytest.mark.parametrize("target", ["referenced image", "registry with images"])
def test_an_operation_error_rule_never_hides_a_refusal(emulator, registry, channel, multiarch, target):
    """P15: with an operation_error rule, deleting a referenced image or a registry that holds images
    answered OK with an errored operation; production refuses them at the call, rule or not."""
    rule = {"operation_error": {"code": "INTERNAL", "message": "injected"}}
    if target == "referenced image":
        emulator.add_fault(method="ImageService/Delete", **rule)
        call, request = ImageServiceStub(channel).Delete, pb.DeleteImageRequest(image_id=multiarch[0].id)
    else:
        emulator.add_fault(method="RegistryService/Delete", **rule)
        call = RegistryServiceStub(channel).Delete
        request = registry_pb.DeleteRegistryRequest(registry_id=registry.id)
    err = rpc_error(call, request)
    assert err.code() == Code.FAILED_PRECONDITION, err.details()
    assert emulator.operations == {}
