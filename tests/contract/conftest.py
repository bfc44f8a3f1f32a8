"""The contract suite's target: the in-process emulator by default, or any endpoint.

Set these to run the same tests against another endpoint (read-only: nothing is changed there):
    YCR_CONTRACT_API_ENDPOINT   the SDK's discovery endpoint, HOST:PORT (production: api.cloud.yandex.net:443)
    YCR_CONTRACT_REGISTRY_ID    the registry to read; its folder (RegistryService.Get) is the folder scope
    YCR_CONTRACT_CLOUD_REGISTRY_ID  a Cloud Registry DOCKER registry to read (one of the two is required;
                                the tests of an API without one are skipped, saying which to set)
    YCR_CONTRACT_IAM_TOKEN      an IAM token that may read that folder, or instead
    YCR_CONTRACT_OAUTH_TOKEN    an OAuth token, which the SDK exchanges through IamTokenService
    YCR_CONTRACT_CA_FILE        optional: a PEM file trusted instead of the system roots (a private CA)
Any of them set makes the endpoint the target; missing or contradictory ones stop pytest at start
(exit code 4) with a message naming what to set, never a silent fallback to the emulator.

Without them the suite seeds an in-process emulator (tests/contract/seed.py) with TLS and strict
auth, reached through the same official SDK, so both targets see the same client.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
import yandexcloud
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import lifecycle_policy_service_pb2 as policy_pb
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1 import repository_service_pb2 as repository_pb
from yandex.cloud.containerregistry.v1 import scanner_service_pb2 as scanner_pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.lifecycle_policy_service_pb2_grpc import LifecyclePolicyServiceStub
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.containerregistry.v1.repository_service_pb2_grpc import RepositoryServiceStub
from yandex.cloud.containerregistry.v1.scanner_service_pb2_grpc import ScannerServiceStub
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from emulator import Emulator
from emulator.contract.client import RegistryClient
from emulator.contract.comparison import LISTED
from tests.contract import seed
from tests.contract.relations import TIMEOUT, everything
from tests.contract.target import settings_from

TOKEN = "t1.contract-token"  # what the in-process emulator's strict auth accepts, for its folder only


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "emulator_choice: a relation the documentation does not state, which the emulator chose "
        "(tests/contract; deselect with -m 'not emulator_choice' to check only documented behaviour)",
    )
    settings_from(os.environ)  # a bad setting stops pytest here, before any test runs


def pytest_report_header(config: pytest.Config) -> str:
    settings = settings_from(os.environ)
    return f"contract target: {settings.describe() if settings else 'the in-process emulator (tests/contract/seed.py)'}"


@dataclass(frozen=True)
class Target:
    """What the suite runs against: the official SDK's stubs, the registry and its folder."""

    description: str
    images: ImageServiceStub
    registries: RegistryServiceStub
    repositories: RepositoryServiceStub
    operations: OperationServiceStub
    lifecycle_policies: LifecyclePolicyServiceStub
    scanner: ScannerServiceStub
    registry_id: str
    folder_id: str

    def stub(self, service: str):
        """The stub of a service by its short name (``LifecyclePolicyService``)."""
        return {
            "ImageService": self.images,
            "RegistryService": self.registries,
            "RepositoryService": self.repositories,
            "OperationService": self.operations,
            "LifecyclePolicyService": self.lifecycle_policies,
            "ScannerService": self.scanner,
        }[service]


def _connect(sdk: yandexcloud.SDK, registry_id: str, description: str) -> Target:
    """The stubs, and the registry's folder; a target that cannot be reached or refuses the
    credentials fails every test with the answer it gave."""
    try:
        stubs = [sdk.client(stub) for stub in (ImageServiceStub, RegistryServiceStub, RepositoryServiceStub)]
        operations, policies = sdk.client(OperationServiceStub), sdk.client(LifecyclePolicyServiceStub)
        scanner = sdk.client(ScannerServiceStub)
        registry = stubs[1].Get(registry_pb.GetRegistryRequest(registry_id=registry_id), timeout=TIMEOUT)
    except grpc.RpcError as error:
        answer = f"{error.code().name}: {error.details()}"
    else:
        return Target(description, *stubs, operations, policies, scanner, registry_id, registry.folder_id)
    pytest.fail(
        f"the contract target ({description}) answered RegistryService.Get of {registry_id} with {answer}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def in_process() -> Iterator[Emulator | None]:
    """The in-process emulator, seeded, when no endpoint is given (None then)."""
    if settings_from(os.environ) is not None:
        yield None
        return
    with Emulator(tls=True, auth="strict", tokens={TOKEN: [seed.FOLDER]}) as emulator:
        emulator.load_seed(seed.contract_seed())
        yield emulator


@pytest.fixture(scope="session")
def target(in_process) -> Target:
    settings = settings_from(os.environ)
    if settings is not None:
        if settings.registry_id is None:
            pytest.skip("Container Registry's contract: set YCR_CONTRACT_REGISTRY_ID to check it")
        credential = {"iam_token": settings.iam_token} if settings.iam_token else {"token": settings.oauth_token}
        with warnings.catch_warnings():  # the SDK warns that OAuth tokens are deprecated (see README)
            warnings.filterwarnings("ignore", "The 'token' argument", DeprecationWarning)
            sdk = yandexcloud.SDK(endpoint=settings.endpoint, root_certificates=settings.ca_pem, **credential)
        return _connect(sdk, settings.registry_id, settings.describe())
    sdk = yandexcloud.SDK(endpoint=in_process.endpoint, root_certificates=in_process.ca_pem, iam_token=TOKEN)
    return _connect(sdk, seed.REGISTRY_ID, "the in-process emulator")


@dataclass(frozen=True)
class CloudTarget:
    """Cloud Registry's side of the target: a read-only client of its endpoint (yandexcloud 0.413's
    SDK.client() cannot build Cloud Registry's stubs; this client finds the service through endpoint
    discovery, as go-sdk does, and sends the IAM token as the SDK would), a DOCKER registry and its folder."""

    description: str
    client: RegistryClient
    registry_id: str
    folder_id: str

    def call(self, method: str, **fields):
        """One Cloud Registry read (``ArtifactService/List``)."""
        return self.client.call(f"cloudregistry.{method}", **fields)

    def pages(self, method: str, page_size: int, **fields) -> list:
        """Every page of a Cloud Registry List, each as the list of what it lists."""
        listed = LISTED[f"cloudregistry.{method}"]
        return [
            list(getattr(page, listed)) for page in self.client.pages(f"cloudregistry.{method}", page_size, **fields)
        ]

    def everything(self, method: str, **fields) -> list:
        return [item for page in self.pages(method, 1000, **fields) for item in page]


@pytest.fixture(scope="session")
def cloud(in_process) -> Iterator[CloudTarget]:
    settings = settings_from(os.environ)
    if settings is not None:
        if settings.cloud_registry_id is None:
            pytest.skip("Cloud Registry's contract: set YCR_CONTRACT_CLOUD_REGISTRY_ID to check it")
        options = {"ca_pem": settings.ca_pem, "iam_token": settings.iam_token, "oauth_token": settings.oauth_token}
        registry_id, description, endpoint = settings.cloud_registry_id, settings.describe(), settings.endpoint
    else:
        registry_id, description, endpoint = seed.CLOUD_REGISTRY_ID, "the in-process emulator", in_process.endpoint
        options = {"ca_pem": in_process.ca_pem, "iam_token": TOKEN}
    client, answer = None, None
    try:  # what fails here fails every test with the target's answer, in one line (no traceback)
        client = RegistryClient(endpoint, timeout=TIMEOUT, **options)
        registry = client.call("cloudregistry.RegistryService/Get", registry_id=registry_id)
    except grpc.RpcError as error:
        answer = f"answered Cloud Registry's RegistryService.Get of {registry_id} with {error.code().name}: {error.details()}"
    except ValueError as error:  # the client's: an endpoint it cannot reach, a CA that does not fit
        answer = f"cannot be reached: {error}"
    if answer is None and registry.kind != registry.DOCKER:
        answer = f"names {registry_id}, a {registry.Kind.Name(registry.kind)} registry: the suite reads a DOCKER one"
    if answer is not None:
        if client is not None:
            client.close()
        pytest.fail(f"the contract target ({description}) {answer}", pytrace=False)
    with client:
        yield CloudTarget(description, client, registry_id, registry.folder_id)


# ---- the target's data, read once per session (the suite assumes nobody changes it meanwhile) ----


@pytest.fixture(scope="session")
def registry_images(target) -> list:
    return everything(target.images.List, image_pb.ListImagesRequest, registry_id=target.registry_id)


@pytest.fixture(scope="session")
def folder_images(target) -> list:
    return everything(target.images.List, image_pb.ListImagesRequest, folder_id=target.folder_id)


@pytest.fixture(scope="session")
def folder_registries(target) -> list:
    return everything(target.registries.List, registry_pb.ListRegistriesRequest, folder_id=target.folder_id)


@pytest.fixture(scope="session")
def registry_repositories(target) -> list:
    return everything(target.repositories.List, repository_pb.ListRepositoriesRequest, registry_id=target.registry_id)


@pytest.fixture(scope="session")
def registry_policies(target) -> list:
    """The registry's lifecycle policies, each with its dry runs' results: (policy, results)."""
    policies = everything(
        target.lifecycle_policies.List, policy_pb.ListLifecyclePoliciesRequest, registry_id=target.registry_id
    )
    return [
        (
            policy,
            everything(
                target.lifecycle_policies.ListDryRunResults,
                policy_pb.ListDryRunLifecyclePolicyResultsRequest,
                lifecycle_policy_id=policy.id,
            ),
        )
        for policy in policies
    ]


@pytest.fixture(scope="session")
def registry_scans(target, registry_repositories) -> list:
    """The scan results of the registry's repositories."""
    return [
        result
        for repository in registry_repositories
        for result in everything(target.scanner.List, scanner_pb.ListScanResultsRequest, repository_id=repository.id)
    ]


@pytest.fixture(scope="session")
def folder_repositories(target) -> list:
    return everything(target.repositories.List, repository_pb.ListRepositoriesRequest, folder_id=target.folder_id)
