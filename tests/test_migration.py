"""Cloud Registry's MigrationService over the wire: a folder's or cloud's Container Registry registries
become Cloud Registry DOCKER registries with the same ids, images, bindings, IP permissions and
policies; the operation and the status dashboards follow the move; fault rules fail parts of it.

Documented (docs en/container-registry/tutorials/container-registry-migration.md): what moves, ids and
image addresses persist, statuses CREATED/SCHEDULED/IN_PROGRESS/COMPLETED/FAILED, complete when
failed = 0 and completed = total, redirects on unless disabled. The emulator's choices are marked so.
"""

from __future__ import annotations

import grpc
import pytest
from yandex.cloud.cloudregistry.v1 import artifact_service_pb2 as artifacts_pb
from yandex.cloud.cloudregistry.v1 import artifact_service_pb2_grpc as artifacts_grpc
from yandex.cloud.cloudregistry.v1 import lifecycle_policy_service_pb2 as lifecycle_pb
from yandex.cloud.cloudregistry.v1 import lifecycle_policy_service_pb2_grpc as lifecycle_grpc
from yandex.cloud.cloudregistry.v1 import migration_pb2
from yandex.cloud.cloudregistry.v1 import migration_service_pb2 as pb
from yandex.cloud.cloudregistry.v1 import migration_service_pb2_grpc as migration_grpc
from yandex.cloud.cloudregistry.v1 import registry_pb2 as cloud_registry
from yandex.cloud.cloudregistry.v1 import registry_service_pb2 as cloud_pb
from yandex.cloud.cloudregistry.v1 import registry_service_pb2_grpc as cloud_grpc
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as cr_pb
from yandex.cloud.containerregistry.v1 import registry_service_pb2_grpc as cr_grpc
from yandex.cloud.operation import operation_service_pb2 as operations_pb
from yandex.cloud.operation import operation_service_pb2_grpc as operations_grpc

from emulator import Emulator
from emulator.state.migrations import DEFAULT_CLOUD_ID

FOLDER = "b1g0000000000000migr"
OTHER = "b1g0000000000000othr"
START_FOLDER = "cloudregistry.MigrationService/StartFolder"
BINDING = {"role_id": "container-registry.images.puller", "subject": {"id": "ajeuser", "type": "userAccount"}}


class Clients:
    def __init__(self, channel: grpc.Channel):
        self.migration = migration_grpc.MigrationServiceStub(channel)
        self.cloud = cloud_grpc.RegistryServiceStub(channel)
        self.artifacts = artifacts_grpc.ArtifactServiceStub(channel)
        self.lifecycle = lifecycle_grpc.LifecyclePolicyServiceStub(channel)
        self.cr = cr_grpc.RegistryServiceStub(channel)
        self.operations = operations_grpc.OperationServiceStub(channel)

    def folder_dashboard(self, folder_id: str = FOLDER, **limits):
        return self.migration.GetFolderMigrationStatusDashboard(
            pb.GetFolderMigrationStatusDashboardRequest(folder_id=folder_id, **limits)
        )

    def poll(self, operation_id: str):
        return self.operations.Get(operations_pb.GetOperationRequest(operation_id=operation_id))


@pytest.fixture
def emulator():
    with Emulator() as running:
        yield running


@pytest.fixture
def clients(emulator):
    with grpc.insecure_channel(emulator.endpoint) as channel:
        yield Clients(channel)


def _registry(emulator: Emulator, folder: str = FOLDER, name: str = "prod"):
    registry = emulator.add_registry(
        folder, name=name, labels={"team": "web"}, access_bindings=[BINDING],
        ip_permissions=[{"action": "PULL", "ip": "10.0.0.0/8"}],
    )  # fmt: skip
    emulator.add_image(registry.id, "app", tags=["v1"], digest="sha256:" + "1" * 64)
    emulator.add_image(registry.id, "app", tags=["v2", "latest"], digest="sha256:" + "2" * 64)
    emulator.add_image(registry.id, "web", tags=["v1"], digest="sha256:" + "3" * 64)
    emulator.add_repository(registry.id, "app", access_bindings=[BINDING])
    return registry


def test_a_folder_moves_with_its_ids_images_bindings_and_ip_permissions(emulator, clients):
    registry = _registry(emulator)
    untouched = emulator.add_registry(OTHER, name="elsewhere")
    images_before = {image.id: (image.digest, tuple(image.tags)) for image in emulator.images.values()}
    operation = clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))
    assert operation.done and not operation.HasField("error")
    metadata = pb.StartFolderMigrationMetadata()
    operation.metadata.Unpack(metadata)
    assert metadata.folder_id == FOLDER and list(metadata.registry_ids) == [registry.id]
    moved = clients.cloud.Get(cloud_pb.GetRegistryRequest(registry_id=registry.id))  # the same id
    assert (moved.kind, moved.type, moved.name, dict(moved.labels)) == (
        cloud_registry.Registry.DOCKER,
        cloud_registry.Registry.LOCAL,
        "prod",
        {"team": "web"},
    )
    assert {image.id: (image.digest, tuple(image.tags)) for image in emulator.images.values()} == images_before
    permissions = clients.cloud.ListIpPermissions(cloud_pb.ListIpPermissionsRequest(registry_id=registry.id))
    assert [(p.ip, p.action) for p in permissions.permissions] == [("10.0.0.0/8", 1)]
    bindings = clients.cloud.ListAccessBindings(
        __import__("yandex.cloud.access.access_pb2", fromlist=["x"]).ListAccessBindingsRequest(resource_id=registry.id)
    )
    assert [b.role_id for b in bindings.access_bindings] == ["container-registry.images.puller"]
    package = clients.artifacts.GetByPath(artifacts_pb.GetArtifactByPathRequest(registry_id=registry.id, path="app"))
    package_bindings = clients.artifacts.ListAccessBindings(
        __import__("yandex.cloud.access.access_pb2", fromlist=["x"]).ListAccessBindingsRequest(resource_id=package.id)
    )
    assert [b.role_id for b in package_bindings.access_bindings] == ["container-registry.images.puller"]
    listed = clients.cloud.ListArtifacts(cloud_pb.ListArtifactsRequest(registry_id=registry.id, path="app"))
    assert sorted(artifact.name for artifact in listed.artifacts) == ["latest", "v1", "v2"]
    with pytest.raises(grpc.RpcError) as gone:  # Container Registry no longer has it
        clients.cr.Get(cr_pb.GetRegistryRequest(registry_id=registry.id))
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    assert clients.cr.Get(cr_pb.GetRegistryRequest(registry_id=untouched.id)).folder_id == OTHER
    dashboard = clients.folder_dashboard()
    assert dashboard.status == migration_pb2.COMPLETED
    assert (dashboard.progress.registries.total, dashboard.progress.registries.completed) == (1, 1)
    assert (dashboard.progress.repositories.total, dashboard.progress.repositories.completed) == (2, 2)
    assert (dashboard.progress.tags.total, dashboard.progress.tags.completed) == (4, 4)
    assert dashboard.progress.registries.failed == 0


def test_a_folder_with_nothing_to_move_says_so(clients):
    operation = clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))
    metadata = pb.StartFolderMigrationMetadata()
    operation.metadata.Unpack(metadata)
    assert operation.done and list(metadata.registry_ids) == []
    assert clients.folder_dashboard().status == migration_pb2.MIGRATION_STATUS_UNSPECIFIED


def test_the_dashboard_follows_a_pending_operation(emulator, clients):
    emulator.configure_operations({START_FOLDER: "polls:3"})
    registry = _registry(emulator)
    operation = clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))
    assert not operation.done
    first = clients.folder_dashboard()
    assert first.status == migration_pb2.SCHEDULED and first.progress.repositories.scheduled == 2
    [registry_view] = first.top_in_progress_registries
    assert registry_view.registry_id == registry.id and registry_view.status == migration_pb2.SCHEDULED
    clients.poll(operation.id)  # one of three polls: a third of the way
    middle = clients.folder_dashboard()
    assert middle.status == migration_pb2.IN_PROGRESS
    assert (middle.progress.repositories.in_progress, middle.progress.repositories.scheduled) == (1, 1)
    assert [r.repository_name for r in middle.top_in_progress_registries[0].top_in_progress_repositories] == ["app"]
    clients.cr.Get(cr_pb.GetRegistryRequest(registry_id=registry.id))  # still Container Registry's meanwhile
    clients.poll(operation.id)
    assert clients.poll(operation.id).done
    assert clients.folder_dashboard().status == migration_pb2.COMPLETED
    assert (
        clients.cloud.Get(cloud_pb.GetRegistryRequest(registry_id=registry.id)).kind == cloud_registry.Registry.DOCKER
    )


def test_a_second_start_while_one_runs_is_refused_naming_it(emulator, clients):
    """The emulator's choice: the tutorial says to check the running operation before starting again."""
    emulator.configure_operations({START_FOLDER: "polls:5"})
    registry = _registry(emulator)
    first = clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))
    with pytest.raises(grpc.RpcError) as refused:
        clients.migration.StartCloud(pb.StartCloudMigrationRequest(cloud_id=DEFAULT_CLOUD_ID))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"Registry {registry.id} is being migrated by operation {first.id}" in refused.value.details()


def test_cancel_moves_nothing(emulator, clients):
    emulator.configure_operations({START_FOLDER: "polls:5"})
    registry = _registry(emulator)
    operation = clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))
    cancelled = clients.operations.Cancel(operations_pb.CancelOperationRequest(operation_id=operation.id))
    assert cancelled.done and cancelled.error.code == grpc.StatusCode.CANCELLED.value[0]
    assert clients.cr.Get(cr_pb.GetRegistryRequest(registry_id=registry.id)).id == registry.id
    assert clients.folder_dashboard().status == migration_pb2.MIGRATION_STATUS_UNSPECIFIED


def test_a_fault_rule_fails_a_repository_visibly_and_a_second_start_moves_it(emulator, clients):
    registry = _registry(emulator)
    emulator.add_fault(
        method=START_FOLDER, count=1,
        migration_failure={"registry_id": registry.id, "repository": "web", "code": "INTERNAL", "message": "copy failed"},
    )  # fmt: skip
    operation = clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))
    assert operation.done and operation.error.code == grpc.StatusCode.INTERNAL.value[0]
    assert "1 of 1 registries failed to migrate" in operation.error.message and "copy failed" in operation.error.message
    dashboard = clients.folder_dashboard()
    assert dashboard.status == migration_pb2.FAILED
    assert (dashboard.progress.repositories.completed, dashboard.progress.repositories.failed) == (1, 1)
    [failed] = dashboard.top_failed_registries
    assert failed.registry_id == registry.id and failed.status == migration_pb2.FAILED
    [repository] = failed.top_failed_repositories
    assert (repository.repository_name, repository.error_code, repository.error_message) == (
        "web",
        "INTERNAL",
        "copy failed",
    )
    assert clients.cr.Get(cr_pb.GetRegistryRequest(registry_id=registry.id)).id == registry.id  # stays
    again = clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))  # the rule is spent
    assert again.done and not again.HasField("error")
    assert clients.folder_dashboard().status == migration_pb2.COMPLETED


def test_a_fault_rule_fails_a_tag(emulator, clients):
    registry = _registry(emulator)
    emulator.add_fault(
        method=START_FOLDER,
        migration_failure={"registry_id": registry.id, "repository": "app", "tag": "v2", "code": "DATA_LOSS"},
    )
    clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))
    [failed] = clients.folder_dashboard(failed_tags_limit=5).top_failed_registries
    assert [(t.repository_name, t.tag, t.error_code) for t in failed.top_failed_tags] == [("app", "v2", "DATA_LOSS")]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"migration_failure": {"repository": "x", "code": "INTERNAL"}}, "registry_id: is required"),
        ({"migration_failure": {"registry_id": "r", "tag": "v1", "code": "INTERNAL"}}, "tag: goes with repository"),
        ({"migration_failure": {"registry_id": "r", "code": "BROKEN"}}, "code: must be a gRPC status name"),
        ({"migration_failure": {"registry_id": "r", "code": "INTERNAL"}, "code": "INTERNAL"}, "does nothing else"),
    ],
)
def test_a_bad_migration_failure_rule_is_refused(emulator, rule, message):
    with pytest.raises(ValueError, match=message):
        emulator.add_fault(method=START_FOLDER, **rule)
    with pytest.raises(ValueError, match="applies to cloudregistry.MigrationService/StartFolder"):
        emulator.add_fault(method="ImageService/Delete", migration_failure={"registry_id": "r", "code": "INTERNAL"})
    assert emulator.faults == []


def test_lifecycle_and_scan_policies_are_converted(emulator, clients):
    registry = _registry(emulator)
    repository = emulator.repositories
    app = next(r for r in repository.values() if r.path == "app")
    emulator.add_lifecycle_policy(
        app.id, name="untagged", status="ACTIVE",
        rules=[{"untagged": True, "expire_period": "172800s", "retained_top": 1}, {"tag_regexp": "v.*", "expire_period": "864000s"}],
    )  # fmt: skip
    emulator.load_seed({"registries": []})
    from yandex.cloud.containerregistry.v1 import scan_policy_service_pb2 as scan_pb
    from yandex.cloud.containerregistry.v1 import scan_policy_service_pb2_grpc as scan_grpc

    with grpc.insecure_channel(emulator.endpoint) as channel:
        rules = {"push_rule": {"repository_prefixes": ["app"]}, "schedule_rules": [
            {"repository_prefixes": ["*"], "rescan_period": "90000s"}]}  # fmt: skip
        from google.protobuf import json_format

        request = json_format.ParseDict(
            {"registry_id": registry.id, "name": "scans", "rules": rules}, scan_pb.CreateScanPolicyRequest()
        )
        scan_grpc.ScanPolicyServiceStub(channel).Create(request)
    clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))
    [policy] = clients.lifecycle.List(lifecycle_pb.ListLifecyclePolicyRequest(registry_id=registry.id)).policies
    assert policy.state == 2  # ENABLED
    kinds = [(rule.path_prefix, rule.WhichOneof("kind"), rule.docker_filters.tag_status) for rule in policy.rules]
    assert kinds == [("app", "keep_by_version", 3), ("app", "delete", 3), ("app", "delete", 2)]
    assert policy.rules[1].delete.older_than_days == 2 and policy.rules[2].version_regexp == "v.*"
    from yandex.cloud.cloudregistry.v1 import scan_policy_service_pb2 as cloud_scan_pb
    from yandex.cloud.cloudregistry.v1 import scan_policy_service_pb2_grpc as cloud_scan_grpc

    with grpc.insecure_channel(emulator.endpoint) as channel:
        scan = cloud_scan_grpc.ScanPolicyServiceStub(channel).GetByRegistry(
            cloud_scan_pb.GetScanPolicyByRegistryRequest(registry_id=registry.id)
        )
    assert list(scan.rules.push_rule.paths) == ["app"]
    assert scan.rules.schedule_rules[0].amount == 2  # 25 hours: scanned no less often, in whole days


def test_a_policy_that_cannot_be_converted_fails_its_repository_visibly(emulator, clients):
    registry = _registry(emulator)
    app = next(r for r in emulator.repositories.values() if r.path == "app")
    emulator.add_lifecycle_policy(
        app.id,
        status="ACTIVE",
        rules=[{"tag_regexp": "v.*", "expire_period": "86400s"}, {"tag_regexp": "l.*", "retained_top": 2}],
    )
    operation = clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))
    assert operation.error.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    [failed] = clients.folder_dashboard().top_failed_registries
    [repository] = failed.top_failed_repositories
    assert repository.repository_name == "app" and "cannot be converted exactly" in repository.error_message
    assert clients.cr.Get(cr_pb.GetRegistryRequest(registry_id=registry.id)).id == registry.id


def test_clouds_group_folders_for_start_cloud_and_its_dashboard(emulator, clients):
    emulator.set_folder_cloud(OTHER, "b1g00000000000cloud2")
    here, there = _registry(emulator), _registry(emulator, OTHER, "other")
    operation = clients.migration.StartCloud(pb.StartCloudMigrationRequest(cloud_id="b1g00000000000cloud2"))
    metadata = pb.StartCloudMigrationMetadata()
    operation.metadata.Unpack(metadata)
    assert list(metadata.registry_ids) == [there.id]
    dashboard = clients.migration.GetCloudMigrationStatusDashboard(
        pb.GetCloudMigrationStatusDashboardRequest(cloud_id="b1g00000000000cloud2")
    )
    assert dashboard.status == migration_pb2.COMPLETED and dashboard.progress.registries.total == 1
    assert clients.cr.Get(cr_pb.GetRegistryRequest(registry_id=here.id)).id == here.id  # the default cloud's


def test_redirects_are_kept_and_reported(emulator, clients):
    registry = _registry(emulator)
    clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER, disable_redirects=True))
    assert emulator.state()["migrations"][0]["redirects"] is False
    operation = clients.migration.ToggleFolderRedirects(pb.ToggleFolderRedirectsRequest(folder_id=FOLDER, enabled=True))
    metadata = pb.ToggleFolderRedirectsMetadata()
    operation.metadata.Unpack(metadata)
    assert list(metadata.registry_ids) == [registry.id] and metadata.enabled
    assert emulator.state()["migrations"][0]["redirects"] is True
    clients.migration.ToggleRegistryRedirects(pb.ToggleRegistryRedirectsRequest(registry_id=registry.id))
    assert emulator.state()["migrations"][0]["redirects"] is False
    never = emulator.add_registry(FOLDER, name="never")
    with pytest.raises(grpc.RpcError) as refused:
        clients.migration.ToggleRegistryRedirects(pb.ToggleRegistryRedirectsRequest(registry_id=never.id, enabled=True))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as missing:
        clients.migration.ToggleRegistryRedirects(pb.ToggleRegistryRedirectsRequest(registry_id="crp00000000000000000"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_cloud_wide_call_needs_a_token_for_every_folder():
    with Emulator(auth="strict", tokens={"folder-only": [FOLDER], "all": None}) as emulator:
        with grpc.insecure_channel(emulator.endpoint) as channel:
            migration = migration_grpc.MigrationServiceStub(channel)
            request = pb.StartCloudMigrationRequest(cloud_id=DEFAULT_CLOUD_ID)
            with pytest.raises(grpc.RpcError) as refused:
                migration.StartCloud(request, metadata=[("authorization", "Bearer folder-only")])
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "acts on a whole cloud" in refused.value.details()
            assert migration.StartCloud(request, metadata=[("authorization", "Bearer all")]).done
            folder = pb.StartFolderMigrationRequest(folder_id=FOLDER)
            assert migration.StartFolder(folder, metadata=[("authorization", "Bearer folder-only")]).done


def test_migrations_and_clouds_survive_the_state_file(emulator, clients):
    emulator.set_folder_cloud(OTHER, "b1g00000000000cloud2")
    registry = _registry(emulator)
    emulator.add_fault(method=START_FOLDER, migration_failure={"registry_id": registry.id, "code": "ABORTED"})
    clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))
    state = emulator.state()
    assert state["clouds"] == {"b1g00000000000cloud2": [OTHER]}
    with Emulator() as restarted:
        restarted.load_seed(state)
        assert restarted.state()["migrations"] == state["migrations"]
        with grpc.insecure_channel(restarted.endpoint) as channel:
            again = Clients(channel).folder_dashboard()
        assert again.status == migration_pb2.FAILED and again.top_failed_registries[0].registry_id == registry.id


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ({"clouds": {"b1gc": ["b1gf"], "b1gd": ["b1gf"]}}, "folder b1gf is in cloud b1gc already"),
        ({"clouds": {"b1gc": "b1gf"}}, "clouds.b1gc: must be a list"),
        ({"migrations": [{"registry_id": "r"}]}, r"migrations\[0\].folder_id: is required"),
    ],
)
def test_a_bad_clouds_or_migrations_seed_loads_nothing(emulator, seed, message):
    with pytest.raises(ValueError, match=message):
        emulator.load_seed({"registries": [{"folder_id": FOLDER}], **seed})
    assert emulator.registries == {}


def test_an_operation_error_fails_the_whole_start_and_moves_nothing(emulator, clients):
    registry = _registry(emulator)
    emulator.add_fault(method=START_FOLDER, operation_error={"code": "UNAVAILABLE", "message": "try later"}, count=1)
    operation = clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER))
    assert operation.done and operation.error.code == grpc.StatusCode.UNAVAILABLE.value[0]
    assert clients.cr.Get(cr_pb.GetRegistryRequest(registry_id=registry.id)).id == registry.id
    assert clients.folder_dashboard().status == migration_pb2.MIGRATION_STATUS_UNSPECIFIED
    assert clients.migration.StartFolder(pb.StartFolderMigrationRequest(folder_id=FOLDER)).done
    assert emulator.store._plans == {}  # nothing of the failed start is left behind
    assert clients.folder_dashboard().status == migration_pb2.COMPLETED
