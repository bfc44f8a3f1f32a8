"""A resource that a pending operation is creating or deleting takes no other operation that would
create or delete it until that one is done or cancelled (issue #20, P1, P2, P13): one operation
at a time marks a resource, so no completion can overwrite another's mark, and Cancel always
has something to take back. Pending work is keyed by the kind of its target, not its bare id."""

from __future__ import annotations

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import registry_pb2
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1 import repository_service_pb2 as repository_pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.operation import operation_service_pb2 as operation_pb

from conftest import FOLDER, rpc_error

Code = grpc.StatusCode


def poll(stubs, operation_id: str) -> operation_pb.Operation:
    return stubs.operations.Get(operation_pb.GetOperationRequest(operation_id=operation_id))


def created(stubs) -> tuple[operation_pb.Operation, str]:
    operation = stubs.registries.Create(registry_pb.CreateRegistryRequest(folder_id=FOLDER, name="pending"))
    metadata = registry_pb.CreateRegistryMetadata()
    operation.metadata.Unpack(metadata)
    return operation, metadata.registry_id


def status(stubs, registry_id: str) -> int:
    return stubs.registries.Get(registry_pb.GetRegistryRequest(registry_id=registry_id)).status


@pytest.mark.parametrize("method", ["Delete", "ForceDelete"])
@pytest.mark.behaviour(
    "RegistryService/Delete",
    "choice",
    "A registry a pending operation is creating or deleting takes no other Delete (FAILED_PRECONDITION naming it).",
    "one operation at a time on a resource keeps a finished Create from reviving a deleted registry",
)
def test_a_registry_being_created_cannot_be_deleted_and_its_create_can_be_cancelled(emulator, stubs, method):
    """P1: the Delete went through, and cancelling the Create then answered NOT_FOUND."""
    emulator.configure_operations({"RegistryService/Create": "polls:5"})
    create, registry_id = created(stubs)
    before = emulator.state()
    request = registry_pb.DeleteRegistryRequest(registry_id=registry_id)
    err = rpc_error(getattr(stubs.registries, method), request)
    assert err.code() == Code.FAILED_PRECONDITION, err.details()
    assert "being created" in err.details() and create.id in err.details()
    assert emulator.state() == before  # refused: nothing recorded
    cancelled = stubs.operations.Cancel(operation_pb.CancelOperationRequest(operation_id=create.id))
    assert cancelled.done and cancelled.error.code == Code.CANCELLED.value[0]
    assert registry_id not in emulator.registries


def test_a_finished_create_never_takes_back_a_later_mark(emulator, stubs):
    """P2: Create (polls:1), Delete (polls:3) while it pended: the Create's completion set the
    DELETING registry back to ACTIVE. Now the Delete waits for the Create, and then pends itself."""
    emulator.configure_operations({"RegistryService/Create": "polls:1", "RegistryService/Delete": "polls:3"})
    create, registry_id = created(stubs)
    assert status(stubs, registry_id) == registry_pb2.Registry.CREATING
    err = rpc_error(stubs.registries.Delete, registry_pb.DeleteRegistryRequest(registry_id=registry_id))
    assert err.code() == Code.FAILED_PRECONDITION
    assert poll(stubs, create.id).done
    assert status(stubs, registry_id) == registry_pb2.Registry.ACTIVE
    delete = stubs.registries.Delete(registry_pb.DeleteRegistryRequest(registry_id=registry_id))
    assert not delete.done and status(stubs, registry_id) == registry_pb2.Registry.DELETING
    assert poll(stubs, create.id).done
    assert status(stubs, registry_id) == registry_pb2.Registry.DELETING


def test_cancelling_a_create_whose_registry_is_gone_still_cancels(emulator, stubs):
    """Cancel takes back what is there: a registry removed meanwhile (a reset of the store's
    registry by the Python API) leaves nothing to take back, and the Cancel is not NOT_FOUND."""
    emulator.configure_operations({"RegistryService/Create": "polls:5"})
    create, registry_id = created(stubs)
    emulator.store.delete_registry(registry_id)
    cancelled = stubs.operations.Cancel(operation_pb.CancelOperationRequest(operation_id=create.id))
    assert cancelled.done and cancelled.error.code == Code.CANCELLED.value[0]


def test_pending_work_is_keyed_by_kind_not_by_a_shared_id(emulator, stubs):
    """P13: ids are unique per kind; a seed may give an image and a registry the same id. A pending
    Delete of the image blocked deleting the registry (and a repository) sharing its id."""
    shared = "crpsharedid000000001"
    emulator.load_seed(
        {
            "registries": [
                {
                    "folder_id": FOLDER,
                    "images": [{"repository": "app", "id": shared}],
                    "repositories": [{"path": "kept", "id": shared}],
                },
                {"folder_id": FOLDER, "id": shared},
            ]
        }
    )
    emulator.configure_operations("polls:3")
    image_delete = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=shared))
    assert not image_delete.done
    repository_delete = stubs.repositories.Delete(repository_pb.DeleteRepositoryRequest(repository_id=shared))
    assert not repository_delete.done
    registry_delete = stubs.registries.Delete(registry_pb.DeleteRegistryRequest(registry_id=shared))
    assert not registry_delete.done
    for operation in (image_delete, repository_delete, registry_delete):
        for _ in range(3):
            done = poll(stubs, operation.id)
        assert done.done and not done.HasField("error"), done


def test_a_seeded_emulator_never_reissues_a_loaded_operation_id(tmp_path):
    """P16: Emulator(random_seed=7) after loading the state an earlier random_seed=7 run wrote issued an
    operation id that already existed, and overwrote that operation."""
    from emulator import Emulator

    def run() -> tuple[Emulator, ImageServiceStub]:
        emulator = Emulator(random_seed=7).start()
        return emulator, ImageServiceStub(emulator.channel())

    seed = {"registries": [{"folder_id": FOLDER, "id": "crpseven", "images": [
        {"repository": "app", "id": f"crpimage{n}", "digest": f"sha256:{n:064x}"} for n in range(3)
    ]}]}  # fmt: skip
    first, images = run()
    first.load_seed(seed)  # explicit ids and digests: loading draws nothing from the id stream
    images.Delete(image_pb.DeleteImageRequest(image_id="crpimage0"))  # its operation: the stream's first id
    state = first.state()
    first.stop()
    second, images = run()
    second.load_seed(state)
    loaded = dict(second.operations)
    new = images.Delete(image_pb.DeleteImageRequest(image_id="crpimage1"))  # the stream's first id again
    assert new.id not in loaded
    assert {key: second.operations[key] for key in loaded} == loaded  # none overwritten
    second.stop()


def test_a_cancelled_delay_operation_leaves_no_timer_behind(emulator, registry, stubs):
    """P12: each cancelled delay-mode operation kept its timer entry until its due time (~210 B,
    up to an hour)."""
    emulator.configure_operations("delay:3600000")
    for _ in range(50):
        image = emulator.add_image(registry.id, "app")
        operation = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
        stubs.operations.Cancel(operation_pb.CancelOperationRequest(operation_id=operation.id))
    assert emulator.store.log._due == []


def test_a_seed_may_not_hold_two_pending_operations_on_one_resource(emulator):
    """P2 through a seed: a pending Create (polls 1) and a pending Delete (polls 3) of one registry
    loaded, and one Get of the Create set the DELETING registry back to ACTIVE. Refused at load,
    naming the second one, and nothing of the seed kept."""
    from emulator import SeedError

    pending = {"metadata_type": "yandex.cloud.containerregistry.v1.CreateRegistryMetadata", "done": False}
    seed = {
        "registries": [{"id": "crpseededtwice000001", "folder_id": FOLDER, "status": "CREATING"}],
        "operations": [
            {**pending, "id": "crpseededcreate00001",
             "pending": {"action": "create_registry", "target": "crpseededtwice000001", "polls_left": 1}},
            {**pending, "id": "crpseededdelete00001",
             "pending": {"action": "delete_registry", "target": "crpseededtwice000001", "polls_left": 3}},
        ],
    }  # fmt: skip
    with pytest.raises(SeedError, match=r"^operations\[1\]\.pending: Registry crpseededtwice000001 is already "):
        emulator.load_seed(seed)
    assert emulator.registries == {} and emulator.operations == {}
