"""Operations that pend: polls:N and delay:MS modes, per method or for all, observed by raw
polling and by the SDK's waiter; what a pending operation shows (the image still there, a registry
CREATING or DELETING); Cancel; idempotency keys and strict auth on pending operations; and every
place a mode is set (Python, CLI, control plane, seeds and the state file)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import warnings

import grpc
import pytest
import yandexcloud
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import registry_pb2
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1 import repository_service_pb2 as repository_pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.operation import operation_service_pb2 as operation_pb
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from conftest import FOLDER, rpc_error
from emulator import Emulator
from emulator.api.wire import POOL
from emulator.control.process import EmulatorProcess
from emulator.rpc.services import CATALOGUE

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated class RetryInterceptor:DeprecationWarning")
Code = grpc.StatusCode
OTHER_FOLDER = "b1gotherfolder000000"
TOKEN = "t1.modes-token"


def poll(stubs, operation_id: str, metadata=()) -> operation_pb.Operation:
    return stubs.operations.Get(operation_pb.GetOperationRequest(operation_id=operation_id), metadata=metadata)


def test_the_mutating_methods_are_every_served_method_that_answers_an_operation():
    from emulator.rpc.server import SERVICES

    answering = {
        f"{CATALOGUE.service(service).short}/{method.name}"
        for service in SERVICES
        for method in POOL.FindServiceByName(service).methods
        if method.output_type.full_name == "yandex.cloud.operation.Operation"
        and not service.startswith("yandex.cloud.operation")
    }
    assert answering == {method.short for method in CATALOGUE.methods(mutating=True)}


@pytest.mark.parametrize("polls", [1, 2, 5])
@pytest.mark.behaviour(
    "ImageService/Delete",
    "choice",
    "Delete is done at once by default; under an operation mode it pends and the image stays listed until done.",
    "production finishes deletes later and clients poll; both paths must be testable",
)
def test_polls_mode_a_deleted_image_stays_until_the_nth_get(emulator, registry, stubs, polls):
    emulator.configure_operations(f"polls:{polls}")
    image = emulator.add_image(registry.id, "app", tags=["latest"])
    operation = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
    assert not operation.done and not operation.HasField("response")
    for _ in range(polls - 1):
        assert not poll(stubs, operation.id).done
        assert stubs.images.Get(image_pb.GetImageRequest(image_id=image.id)).id == image.id
        listed = stubs.images.List(image_pb.ListImagesRequest(registry_id=registry.id)).images
        assert [i.id for i in listed] == [image.id]
    done = poll(stubs, operation.id)
    assert done.done and done.response.type_url.endswith("google.protobuf.Empty")
    assert done.modified_at.ToNanoseconds() >= done.created_at.ToNanoseconds()
    assert rpc_error(stubs.images.Get, image_pb.GetImageRequest(image_id=image.id)).code() == Code.NOT_FOUND
    assert poll(stubs, operation.id) == done  # done stays done


def test_a_mode_for_one_method_leaves_the_others_immediate(emulator, registry, stubs):
    emulator.configure_operations({"ImageService/Delete": "polls:2"})
    assert emulator.operation_modes == {"ImageService/Delete": "polls:2"}
    image = emulator.add_image(registry.id, "app")
    assert not stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id)).done
    created = stubs.registries.Create(registry_pb.CreateRegistryRequest(folder_id=FOLDER, name="at-once"))
    assert created.done


def test_a_method_mode_wins_over_the_mode_for_every_method(emulator, registry, stubs):
    emulator.configure_operations(["polls:3", "yandex.cloud.containerregistry.v1.ImageService/Delete=immediate"])
    image = emulator.add_image(registry.id, "app")
    assert stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id)).done
    assert not stubs.registries.Create(registry_pb.CreateRegistryRequest(folder_id=FOLDER, name="later")).done


def test_delay_mode_pends_until_its_time(emulator, registry, stubs):
    emulator.configure_operations("delay:600000")  # ten minutes: pending for the whole test
    image = emulator.add_image(registry.id, "app")
    operation = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
    for _ in range(3):
        assert not poll(stubs, operation.id).done
    assert image.id in emulator.images


def test_delay_mode_finishes_without_polls_when_due(emulator, registry, stubs):
    emulator.configure_operations("delay:1")
    image = emulator.add_image(registry.id, "app")
    operation = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
    # Whenever it is next looked at (a List, not a poll), it is done once 1 ms has passed.
    deadline = 200
    while image.id in emulator.images and deadline:
        stubs.images.List(image_pb.ListImagesRequest(registry_id=registry.id), timeout=5)
        deadline -= 1
    assert image.id not in emulator.images
    assert poll(stubs, operation.id).done


@pytest.fixture(scope="module")
def tls_emulator():
    with Emulator(tls=True) as running:
        yield running


@pytest.mark.parametrize("mode", ["polls:3", "delay:50"])
def test_the_sdk_waiter_waits_for_a_pending_delete(tls_emulator, mode):
    tls_emulator.reset()
    tls_emulator.configure_operations(mode)
    registry = tls_emulator.add_registry(FOLDER)
    image = tls_emulator.add_image(registry.id, "app")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sdk = yandexcloud.SDK(endpoint=tls_emulator.endpoint, root_certificates=tls_emulator.ca_pem, iam_token="t1.x")
    operation = sdk.client(ImageServiceStub).Delete(image_pb.DeleteImageRequest(image_id=image.id))
    assert not operation.done
    result = sdk.wait_operation_and_get_result(operation, meta_type=image_pb.DeleteImageMetadata, timeout=30)
    assert result.meta.image_id == image.id
    assert image.id not in tls_emulator.images


@pytest.mark.behaviour(
    "RegistryService/Create",
    "choice",
    "A registry is CREATING while its Create pends, then ACTIVE.",
    "Registry.Status has CREATING; when production shows it is not public",
)
def test_a_registry_is_creating_then_active(emulator, stubs):
    emulator.configure_operations({"RegistryService/Create": "polls:2"})
    operation = stubs.registries.Create(registry_pb.CreateRegistryRequest(folder_id=FOLDER, name="new-one"))
    metadata = registry_pb.CreateRegistryMetadata()
    operation.metadata.Unpack(metadata)
    got = stubs.registries.Get(registry_pb.GetRegistryRequest(registry_id=metadata.registry_id))
    assert got.status == registry_pb2.Registry.CREATING
    assert not poll(stubs, operation.id).done
    done = poll(stubs, operation.id)
    response = registry_pb2.Registry()
    assert done.done and done.response.Unpack(response)
    assert response.status == registry_pb2.Registry.ACTIVE and response.id == metadata.registry_id
    got = stubs.registries.Get(registry_pb.GetRegistryRequest(registry_id=metadata.registry_id))
    assert got.status == registry_pb2.Registry.ACTIVE


@pytest.mark.behaviour(
    "RegistryService/Delete",
    "choice",
    "A registry is DELETING while its Delete pends.",
    "Registry.Status has DELETING; when production shows it is not public",
)
def test_a_registry_is_deleting_until_done(emulator, registry, stubs):
    emulator.configure_operations({"RegistryService/Delete": "polls:2"})
    operation = stubs.registries.Delete(registry_pb.DeleteRegistryRequest(registry_id=registry.id))
    assert not operation.done
    got = stubs.registries.Get(registry_pb.GetRegistryRequest(registry_id=registry.id))
    assert got.status == registry_pb2.Registry.DELETING
    listed = stubs.registries.List(registry_pb.ListRegistriesRequest(folder_id=FOLDER)).registries
    assert [r.status for r in listed] == [registry_pb2.Registry.DELETING]
    poll(stubs, operation.id)
    assert poll(stubs, operation.id).done
    err = rpc_error(stubs.registries.Get, registry_pb.GetRegistryRequest(registry_id=registry.id))
    assert err.code() == Code.NOT_FOUND


def test_a_full_registry_is_refused_at_the_call_even_when_deletes_pend(emulator, registry, stubs):
    emulator.configure_operations("polls:5")
    image = emulator.add_image(registry.id, "app")
    pending = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
    assert not pending.done
    # Public clean-up scripts sleep before deleting the registry: its images are still there.
    err = rpc_error(stubs.registries.Delete, registry_pb.DeleteRegistryRequest(registry_id=registry.id))
    assert err.code() == Code.FAILED_PRECONDITION, err.details()
    assert emulator.operations.keys() == {pending.id}


def test_a_pending_delete_that_meets_a_change_finishes_with_its_error(emulator, registry, stubs):
    emulator.configure_operations({"RegistryService/Delete": "polls:1"})
    operation = stubs.registries.Delete(registry_pb.DeleteRegistryRequest(registry_id=registry.id))
    emulator.add_image(registry.id, "app")  # added while the delete pends
    done = poll(stubs, operation.id)
    assert done.done and done.error.code == Code.FAILED_PRECONDITION.value[0], done
    got = stubs.registries.Get(registry_pb.GetRegistryRequest(registry_id=registry.id))
    assert got.status == registry_pb2.Registry.ACTIVE  # nothing deleted, status back


def test_an_image_being_deleted_cannot_be_deleted_again(emulator, registry, stubs):
    emulator.configure_operations("polls:2")
    image = emulator.add_image(registry.id, "app")
    first = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
    err = rpc_error(stubs.images.Delete, image_pb.DeleteImageRequest(image_id=image.id))
    assert err.code() == Code.FAILED_PRECONDITION and first.id in err.details()
    assert set(emulator.operations) == {first.id}


def test_a_repeat_with_the_idempotency_key_answers_the_pending_operation(emulator, registry, stubs):
    emulator.configure_operations("polls:2")
    image = emulator.add_image(registry.id, "app")
    key = (("idempotency-key", "retry-1"),)
    first = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id), metadata=key)
    again = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id), metadata=key)
    assert again == first and not again.done
    poll(stubs, first.id)
    poll(stubs, first.id)
    assert stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id), metadata=key).done


@pytest.mark.behaviour(
    "OperationService/Cancel",
    "choice",
    "Cancelling a pending operation whose change is still to come finishes it CANCELLED; the change is never made.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/operation.md#cancel says Cancel is best effort and answers the Operation with its current status, not what a cancelled one holds",
)
def test_cancel_a_pending_delete(emulator, registry, stubs):
    emulator.configure_operations("polls:3")
    image = emulator.add_image(registry.id, "app")
    operation = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
    cancelled = stubs.operations.Cancel(operation_pb.CancelOperationRequest(operation_id=operation.id))
    assert cancelled.done and cancelled.error.code == Code.CANCELLED.value[0]
    assert poll(stubs, operation.id) == cancelled
    assert stubs.images.Get(image_pb.GetImageRequest(image_id=image.id)).id == image.id
    again = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))  # no longer being deleted
    assert not again.done


@pytest.mark.behaviour(
    "OperationService/Cancel",
    "choice",
    "Cancelling a pending Create takes the registry back.",
    "nothing is left of a change that never happened",
)
def test_cancel_a_pending_create_takes_the_registry_back(emulator, stubs):
    emulator.configure_operations("polls:3")
    operation = stubs.registries.Create(registry_pb.CreateRegistryRequest(folder_id=FOLDER, name="undone"))
    stubs.operations.Cancel(operation_pb.CancelOperationRequest(operation_id=operation.id))
    assert emulator.registries == {}


def test_cancel_a_registry_delete_makes_it_active_again(emulator, registry, stubs):
    emulator.configure_operations("polls:3")
    operation = stubs.registries.Delete(registry_pb.DeleteRegistryRequest(registry_id=registry.id))
    stubs.operations.Cancel(operation_pb.CancelOperationRequest(operation_id=operation.id))
    got = stubs.registries.Get(registry_pb.GetRegistryRequest(registry_id=registry.id))
    assert got.status == registry_pb2.Registry.ACTIVE


@pytest.mark.behaviour(
    "OperationService/Cancel",
    "documented",
    "Cancelling a done operation, or one whose change was made at the call, answers it as it is, unchanged.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/operation.md#cancel (the server returns the Operation object with the current status; best effort: the operation may be at a stage when no cancellation is possible)",
)
@pytest.mark.behaviour(
    "OperationService/Cancel",
    "documented",
    "Cancelling an unknown operation is NOT_FOUND.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (NOT_FOUND: The requested resource not found)",
)
def test_what_is_past_cancelling_is_answered_as_it_is(emulator, registry, stubs):
    image = emulator.add_image(registry.id, "app")
    done = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
    assert done.done and not done.HasField("error")
    answered = stubs.operations.Cancel(operation_pb.CancelOperationRequest(operation_id=done.id))
    assert answered == stubs.operations.Get(operation_pb.GetOperationRequest(operation_id=done.id)) == done
    emulator.configure_operations("polls:3")
    update = stubs.registries.Update(registry_pb.UpdateRegistryRequest(registry_id=registry.id, labels={"a": "b"}))
    assert not update.done  # its change is made: an operation without pending work to undo
    answered = stubs.operations.Cancel(operation_pb.CancelOperationRequest(operation_id=update.id))
    assert answered == update  # still pending, as it was
    poll(stubs, update.id)
    poll(stubs, update.id)
    finished = poll(stubs, update.id)  # the third poll, as polls:3 says
    assert (
        finished.done
        and not finished.HasField("error")
        and stubs.registries.Get(registry_pb.GetRegistryRequest(registry_id=registry.id)).labels == {"a": "b"}
    )
    err = rpc_error(stubs.operations.Cancel, operation_pb.CancelOperationRequest(operation_id="crpunknown"))
    assert err.code() == Code.NOT_FOUND


@pytest.mark.behaviour(
    "RepositoryService/Delete",
    "choice",
    "A repository whose Delete pends stays until the operation is done.",
    "the change is made when its operation is done",
)
def test_a_pending_repository_delete_keeps_it_until_done(emulator, registry, stubs):
    emulator.configure_operations({"RepositoryService/Delete": "polls:2"})
    repository = emulator.add_repository(registry.id, "empty")
    operation = stubs.repositories.Delete(repository_pb.DeleteRepositoryRequest(repository_id=repository.id))
    assert stubs.repositories.Get(repository_pb.GetRepositoryRequest(repository_id=repository.id)).id
    poll(stubs, operation.id)
    poll(stubs, operation.id)
    err = rpc_error(stubs.repositories.Get, repository_pb.GetRepositoryRequest(repository_id=repository.id))
    assert err.code() == Code.NOT_FOUND


@pytest.fixture(scope="module")
def strict():
    with Emulator(auth="strict", tokens={TOKEN: [FOLDER]}, operations="polls:2") as running:
        yield running


def test_strict_auth_a_refused_poll_does_not_count(strict):
    strict.reset()
    other = strict.add_registry(OTHER_FOLDER)
    image = strict.add_image(other.id, "app")
    admin = "t1.admin"
    strict.configure_auth("strict", {TOKEN: [FOLDER], admin: None})
    stubs = type("Stubs", (), {})()
    channel = strict.channel()
    stubs.images, stubs.operations = ImageServiceStub(channel), OperationServiceStub(channel)
    operation = stubs.images.Delete(
        image_pb.DeleteImageRequest(image_id=image.id), metadata=(("authorization", f"Bearer {admin}"),)
    )
    mine = (("authorization", f"Bearer {TOKEN}"),)
    for _ in range(3):
        err = rpc_error(
            stubs.operations.Get, operation_pb.GetOperationRequest(operation_id=operation.id), metadata=mine
        )
        assert err.code() == Code.PERMISSION_DENIED
    err = rpc_error(
        stubs.operations.Cancel, operation_pb.CancelOperationRequest(operation_id=operation.id), metadata=mine
    )
    assert err.code() == Code.PERMISSION_DENIED
    admins = (("authorization", f"Bearer {admin}"),)
    assert not poll(stubs, operation.id, admins).done  # the refused polls did not count
    assert poll(stubs, operation.id, admins).done
    channel.close()


def test_reset_restores_the_modes_the_emulator_started_with(strict):
    strict.configure_operations("immediate")
    strict.reset()
    assert strict.operation_modes == {"*": "polls:2"}


@pytest.mark.parametrize(
    "bad",
    ["polls:0", "polls:1001", "delay:3600001", "sometimes", "polls", "immediate:3", "NoService/Delete=polls:2",
     "ImageService/List=polls:2"],
)  # fmt: skip
def test_bad_modes_are_refused_naming_them(emulator, bad):
    with pytest.raises(ValueError, match="operation mode"):
        emulator.configure_operations(bad)
    assert emulator.operation_modes == {}


def test_a_method_given_twice_is_refused(emulator):
    with pytest.raises(ValueError, match="twice"):
        emulator.configure_operations(["ImageService/Delete=polls:2", "ImageService/Delete=delay:5"])


def test_seed_modes_and_a_pending_operation_survive_export_and_load(emulator, registry, stubs):
    emulator.configure_operations({"ImageService/Delete": "polls:2", "RegistryService/Delete": "delay:600000"})
    image = emulator.add_image(registry.id, "app")
    pending = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
    other = emulator.add_registry(FOLDER, name="other")
    deleting = stubs.registries.Delete(registry_pb.DeleteRegistryRequest(registry_id=other.id))
    state = emulator.state(complete=False)
    assert state["operation_modes"] == emulator.operation_modes
    with Emulator() as second:
        second.load_seed(json.loads(json.dumps(state)))
        assert second.operation_modes == emulator.operation_modes
        assert second.registries[other.id].status == "DELETING"
        second_stubs = type("Stubs", (), {})()
        channel = second.channel()
        second_stubs.operations = OperationServiceStub(channel)
        assert not poll(second_stubs, pending.id).done
        assert poll(second_stubs, pending.id).done
        assert image.id not in second.images
        assert not poll(second_stubs, deleting.id).done
        channel.close()


@pytest.mark.parametrize(
    ("pending", "message"),
    [
        ({"action": "explode", "target": "x", "polls_left": 1}, "pending.action"),
        ({"action": "delete_image", "target": "x"}, "exactly one of polls_left and due_at"),
        ({"action": "delete_image", "target": "x", "polls_left": 0}, "pending.polls_left"),
        ({"action": "delete_image", "target": "x", "due_at": "soon"}, "pending.due_at"),
    ],
)
def test_bad_pending_entries_are_seed_errors(emulator, pending, message):
    entry = {
        "id": "crpop",
        "metadata_type": "yandex.cloud.containerregistry.v1.DeleteImageMetadata",
        "pending": pending,
    }
    with pytest.raises(ValueError, match=message):
        emulator.load_seed({"registries": [], "operations": [entry]})
    assert emulator.operations == {}


def test_a_pending_operation_cannot_be_done(emulator):
    entry = {
        "id": "crpop",
        "metadata_type": "yandex.cloud.containerregistry.v1.DeleteImageMetadata",
        "done": True,
        "pending": {"action": "delete_image", "target": "x", "polls_left": 1},
    }
    with pytest.raises(ValueError, match="not done"):
        emulator.load_seed({"registries": [], "operations": [entry]})


def test_the_cli_sets_modes_and_refuses_bad_ones(tmp_path):
    bad = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--operations", "polls:0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "operation mode" in bad.stderr, bad.stderr
    state = tmp_path / "state.json"
    args = ["--state-file", str(state), "--operations", "polls:2", "--operations", "RegistryService/Create=immediate"]
    with EmulatorProcess(args) as process:
        assert process.operation_modes == {"*": "polls:2", "RegistryService/Create": "immediate"}
        registry = process.add_registry(FOLDER)
        image = process.add_image(registry.id, "app")
        channel = process.channel()
        stubs = type("Stubs", (), {})()
        stubs.images, stubs.operations = ImageServiceStub(channel), OperationServiceStub(channel)
        operation = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
        assert not poll(stubs, operation.id).done
        channel.close()
        assert process.stop(signal.SIGTERM) == 0
    # The pending operation survives the restart and finishes on its next poll there.
    with EmulatorProcess(["--state-file", str(state)], empty=False) as restarted:
        channel = restarted.channel()
        stubs = type("Stubs", (), {})()
        stubs.operations = OperationServiceStub(channel)
        assert image.id in restarted.images
        assert poll(stubs, operation.id).done
        assert image.id not in restarted.images
        channel.close()


def test_the_control_plane_sets_modes(tmp_path):
    with EmulatorProcess() as process:
        process.configure_operations({"ImageService/Delete": "delay:250"})
        assert process.operation_modes == {"ImageService/Delete": "delay:250"}
        with pytest.raises(ValueError, match="operation mode"):
            process.configure_operations({"ImageService/Delete": "later"})
        assert process.operation_modes == {"ImageService/Delete": "delay:250"}
        process.reset()
        assert process.operation_modes == {}


# ---- the boundaries and per-method modes a mutation run found untested (issue #20) ----------------


@pytest.mark.parametrize("mode", ["polls:1", "polls:1000", "delay:0", "delay:3600000"])
def test_the_documented_extremes_are_accepted(emulator, mode):
    emulator.configure_operations(mode)
    assert emulator.operation_modes == {"*": mode}


@pytest.mark.behaviour(
    "RegistryService/ForceDelete",
    "choice",
    "ForceDelete has an operation mode of its own, apart from Delete's.",
    "it is a method of its own",
)
def test_force_delete_follows_its_own_mode_not_deletes(emulator, registry, stubs):
    """RegistryService/ForceDelete is a method of its own: a mode for Delete leaves it immediate,
    and its own mode makes it pend."""
    emulator.configure_operations({"RegistryService/Delete": "polls:3"})
    other = emulator.add_registry(FOLDER, name="other")
    assert stubs.registries.ForceDelete(registry_pb.DeleteRegistryRequest(registry_id=other.id)).done
    emulator.configure_operations({"RegistryService/ForceDelete": "polls:2"})
    pending = stubs.registries.ForceDelete(registry_pb.DeleteRegistryRequest(registry_id=registry.id))
    assert not pending.done
    assert poll(stubs, pending.id).done is False and poll(stubs, pending.id).done
