"""The whole registry workflow through the unmodified official SDK, against the standalone
emulator over TLS with strict auth: create a registry and wait; add images (control plane);
find the registry by name; walk its repositories; list and delete each repository's images,
waiting for each operation; delete the emptied registry and wait; Get gives NOT_FOUND. And the
same Delete on a registry that still holds images: FAILED_PRECONDITION, nothing deleted."""

from __future__ import annotations

import warnings

import grpc
import pytest
import yandexcloud
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import registry_pb2, repository_pb2
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1 import repository_service_pb2 as repository_pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.containerregistry.v1.repository_service_pb2_grpc import RepositoryServiceStub

from conftest import rpc_error
from emulator.control.process import EmulatorProcess
from tests.support.exercised import assert_exercised

# The SDK's operation waiter builds a RetryInterceptor it deprecates itself.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated class RetryInterceptor:DeprecationWarning")
FOLDER = "b1gworkflow000000000"
TOKEN = "t1.workflow-token"
PATHS = ("app", "team/web", "team/worker")


@pytest.fixture(scope="module")
def process():
    with EmulatorProcess(["--tls-port", "0", "--auth", "strict", "--require-token", f"{TOKEN}={FOLDER}"]) as running:
        yield running


@pytest.fixture
def sdk(process) -> yandexcloud.SDK:
    process.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return yandexcloud.SDK(endpoint=process.tls_endpoint, root_certificates=process.ca_pem, iam_token=TOKEN)


def _create_registry(sdk: yandexcloud.SDK, name: str) -> registry_pb2.Registry:
    operation = sdk.client(RegistryServiceStub).Create(
        registry_pb.CreateRegistryRequest(folder_id=FOLDER, name=name, labels={"team": "ci"})
    )
    result = sdk.wait_operation_and_get_result(
        operation, response_type=registry_pb2.Registry, meta_type=registry_pb.CreateRegistryMetadata
    )
    assert result.meta.registry_id == result.response.id
    return result.response


def test_the_sdk_runs_the_clean_up_workflow_end_to_end(sdk, process):
    created = _create_registry(sdk, "workflow")
    assert (created.name, created.folder_id, dict(created.labels)) == ("workflow", FOLDER, {"team": "ci"})
    _create_registry(sdk, "bystander")
    added = {path: [process.add_image(created.id, path, tags=[f"v{n}"]).id for n in range(2)] for path in PATHS}

    registries = sdk.client(RegistryServiceStub)
    found = registries.List(registry_pb.ListRegistriesRequest(folder_id=FOLDER, filter='name = "workflow"'))
    assert [registry.id for registry in found.registries] == [created.id]

    repositories = sdk.client(RepositoryServiceStub)
    listed = repositories.List(repository_pb.ListRepositoriesRequest(registry_id=created.id, order_by="name"))
    assert [repository.name for repository in listed.repositories] == [f"{created.id}/{path}" for path in PATHS]
    by_name = repositories.GetByName(repository_pb.GetRepositoryByNameRequest(repository_name=f"{created.id}/app"))
    assert by_name == listed.repositories[0]

    images = sdk.client(ImageServiceStub)
    for repository in listed.repositories:
        page = images.List(image_pb.ListImagesRequest(repository_name=repository.name))
        path = repository.name.partition("/")[2]
        assert sorted(image.id for image in page.images) == sorted(added[path])
        for image in page.images:
            operation = images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
            result = sdk.wait_operation_and_get_result(operation, meta_type=image_pb.DeleteImageMetadata)
            assert result.meta.image_id == image.id
    emptied = repositories.List(repository_pb.ListRepositoriesRequest(registry_id=created.id))
    assert list(emptied.repositories) == []  # repositories go with their last image

    operation = registries.Delete(registry_pb.DeleteRegistryRequest(registry_id=created.id))
    result = sdk.wait_operation_and_get_result(operation, meta_type=registry_pb.DeleteRegistryMetadata)
    assert result.meta.registry_id == created.id
    err = rpc_error(registries.Get, registry_pb.GetRegistryRequest(registry_id=created.id))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert [registry.name for registry in process.registries.values()] == ["bystander"]
    assert_exercised("python", "the clean-up workflow", process.calls)


def test_deleting_a_registry_that_holds_images_fails_and_deletes_nothing(sdk, process):
    created = _create_registry(sdk, "still-full")
    image = process.add_image(created.id, "app", tags=["latest"])
    upserted = sdk.create_operation_and_get_result(
        repository_pb.UpsertRepositoryRequest(name=f"{created.id}/empty"),
        RepositoryServiceStub,
        "Upsert",
        response_type=repository_pb2.Repository,
    ).response
    registries = sdk.client(RegistryServiceStub)

    err = rpc_error(registries.Delete, registry_pb.DeleteRegistryRequest(registry_id=created.id))

    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err.details()
    assert created.id in err.details()
    assert registries.Get(registry_pb.GetRegistryRequest(registry_id=created.id)).status == registry_pb2.Registry.ACTIVE
    assert image.id in process.images
    repositories = sdk.client(RepositoryServiceStub)
    names = [r.name for r in repositories.List(repository_pb.ListRepositoriesRequest(folder_id=FOLDER)).repositories]
    assert sorted(names) == [f"{created.id}/app", upserted.name]
    assert_exercised("python", "a full registry's delete refused", process.calls)
