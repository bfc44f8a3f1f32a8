"""Which API methods each official SDK's scenario in the suite calls, declared once.

The fidelity page (docs/fidelity.md) reads it to say which SDKs exercise each method; the test that
runs a scenario checks, with ``assert_exercised``, that the emulator recorded calls of exactly these
methods. So the page cannot claim an SDK calls a method it does not, nor miss one it does.
Methods are written as the catalogue names them: ``ImageService/List``, ``cloudregistry.RegistryService/Get``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from emulator.rpc.services import CATALOGUE

SDKS = ("python", "go v1", "go v2", "node")  # the page's order


@dataclass(frozen=True)
class Scenario:
    test: str  # the test that runs it and checks its calls: ``tests/test_x.py::test_name``
    methods: frozenset[str]


def _methods(names: str) -> frozenset[str]:
    """The methods named in ``names``, separated by white space."""
    return frozenset(names.split())


GO_TEST = "tests/test_clients_go.py::test_the_go_sdk_against_the_standalone_emulator"
NODE_TEST = "tests/test_clients_node.py::test_the_node_sdk_against_the_standalone_emulator"

# Steps every SDK's scenarios share (tests/support/scenarios.py checks what they leave behind).
LIFECYCLE_STEP = (
    " LifecyclePolicyService/Create LifecyclePolicyService/Get LifecyclePolicyService/DryRun"
    " LifecyclePolicyService/GetDryRunResult LifecyclePolicyService/ListDryRunResultAffectedImages"
    " LifecyclePolicyService/Delete"
)
SCAN_STEP = " ScannerService/Scan ScannerService/Get ScannerService/GetLast ScannerService/ListVulnerabilities"
CLOUD_REGISTRY_STEP = (
    " cloudregistry.RegistryService/List cloudregistry.RegistryService/ListArtifacts"
    " cloudregistry.ArtifactService/GetByPath cloudregistry.ArtifactService/Get cloudregistry.ArtifactService/Delete"
)

# go-sdk v1 and v2 run the same scenarios (tests/clients/go/check) and call the same methods, but for
# v2's migration step (MIGRATION_STEP, below).
GO = {
    "auth": Scenario(GO_TEST, _methods("ApiEndpointService/List IamTokenService/Create RegistryService/List")),
    "images": Scenario(
        GO_TEST,
        _methods(
            "ApiEndpointService/List ImageService/List ImageService/Get ImageService/Delete OperationService/Get"
            " RepositoryService/GetByName" + LIFECYCLE_STEP + SCAN_STEP
        ),
    ),
    "errors": Scenario(
        GO_TEST,
        _methods(
            "ApiEndpointService/List ImageService/List ImageService/Get ImageService/Delete OperationService/Get"
            " RegistryService/Create RegistryService/Delete"
        ),
    ),
    "workflow": Scenario(
        GO_TEST,
        _methods(
            "ApiEndpointService/List ImageService/List ImageService/Delete OperationService/Get"
            " RegistryService/Create RegistryService/Get RegistryService/List RegistryService/Delete"
            " RepositoryService/GetByName RepositoryService/List" + CLOUD_REGISTRY_STEP
        ),
    ),
}
# go-sdk v2's workflow ends with the migration step, which v1's go-genproto (v0.111.0, the older
# MigrationService: StartCloud only) cannot take.
MIGRATION_STEP = (
    " cloudregistry.MigrationService/StartFolder cloudregistry.MigrationService/GetFolderMigrationStatusDashboard"
    " cloudregistry.RegistryService/Get RegistryService/Get"
)
GO_V2 = GO | {"workflow": Scenario(GO_TEST, GO["workflow"].methods | _methods(MIGRATION_STEP))}

EXERCISED: dict[str, dict[str, Scenario]] = {
    "python": {
        "list, get, delete and wait": Scenario(
            "tests/test_sdk.py::test_the_sdk_lists_gets_deletes_and_waits",
            _methods(
                "ApiEndpointService/List ImageService/List ImageService/Get ImageService/Delete OperationService/Get"
            ),
        ),
        "an OAuth token traded": Scenario(
            "tests/test_sdk.py::test_an_oauth_token_is_exchanged_through_iam",
            _methods("ApiEndpointService/List IamTokenService/Create ImageService/List"),
        ),
        "the clean-up workflow": Scenario(
            "tests/test_sdk_workflow.py::test_the_sdk_runs_the_clean_up_workflow_end_to_end",
            _methods(
                "ApiEndpointService/List RegistryService/Create RegistryService/List RegistryService/Get"
                " RegistryService/Delete RepositoryService/List RepositoryService/GetByName ImageService/List"
                " ImageService/Delete OperationService/Get"
            ),
        ),
        "a full registry's delete refused": Scenario(
            "tests/test_sdk_workflow.py::test_deleting_a_registry_that_holds_images_fails_and_deletes_nothing",
            _methods(
                "ApiEndpointService/List RegistryService/Create RegistryService/Get RegistryService/Delete"
                " RepositoryService/Upsert RepositoryService/List OperationService/Get"
            ),
        ),
        "a lifecycle policy": Scenario(
            "tests/test_lifecycle_policies.py::test_the_python_sdk_through_a_whole_lifecycle",
            _methods(
                "ApiEndpointService/List LifecyclePolicyService/Create LifecyclePolicyService/DryRun"
                " LifecyclePolicyService/ListDryRunResultAffectedImages LifecyclePolicyService/Update"
                " ImageService/List OperationService/Get"
            ),
        ),
        "a scan": Scenario(
            "tests/test_scans.py::test_the_python_sdk_scans_and_waits",
            _methods("ApiEndpointService/List ScannerService/Scan OperationService/Get"),
        ),
        "a Cloud Registry operation waited": Scenario(
            "tests/test_cloud_registry.py::test_the_sdk_waits_for_cloud_registry_operations_and_cannot_build_its_clients",
            _methods("ApiEndpointService/List cloudregistry.RegistryService/Create OperationService/Get"),
        ),
    },
    "go v1": GO,
    "go v2": GO_V2,
    "node": {
        "images": Scenario(
            NODE_TEST,
            _methods(
                "ImageService/List ImageService/Get ImageService/Delete OperationService/Get OperationService/Cancel"
                " RepositoryService/GetByName" + LIFECYCLE_STEP + SCAN_STEP
            ),
        ),
        "errors": Scenario(
            NODE_TEST,
            _methods("ImageService/List ImageService/Get ImageService/Delete OperationService/Get RegistryService/Get"),
        ),
        "registries": Scenario(
            NODE_TEST,
            _methods(
                "ImageService/List ImageService/Delete OperationService/Get RegistryService/Create RegistryService/Get"
                " RegistryService/List RegistryService/Delete RepositoryService/GetByName RepositoryService/List"
                + CLOUD_REGISTRY_STEP
            ),
        ),
        "oauth": Scenario(NODE_TEST, _methods("IamTokenService/Create ImageService/List")),
    },
}


def short_name(full: str) -> str:
    """A recorded call's method (``yandex.cloud.containerregistry.v1.ImageService/List``) as the
    catalogue names it; a method the emulator does not serve keeps its full name."""
    method = CATALOGUE.method(full)
    return method.short if method is not None else full


def assert_exercised(sdk: str, scenario: str, calls: Iterable[dict]) -> None:
    """AssertionError unless ``calls`` (the emulator's recorded calls of one run of the scenario)
    are calls of exactly the methods declared for it, each at least once."""
    declared = EXERCISED[sdk][scenario].methods
    called = {short_name(call["method"]) for call in calls}
    if called != declared:
        raise AssertionError(
            f"{sdk} {scenario}: the run called methods tests/support/exercised.py does not declare: "
            f"{sorted(called - declared)}; it declares methods the run did not call: {sorted(declared - called)}. "
            "Correct the declaration, then regenerate the fidelity page: python -m tests.support.fidelity --write"
        )
