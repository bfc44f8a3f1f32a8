"""A small world on two folders and a meaningful request for every served method in it: what the
hostile-wire tests mutate and the authorization test sends as a caller without access.

A new service's request types need an entry in ``valid_fields`` (both tests fail until they have one).
"""

from __future__ import annotations

from typing import Any

from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import image_service_pb2_grpc
from yandex.cloud.containerregistry.v1 import scanner_pb2 as scanner_pb
from yandex.cloud.containerregistry.v1 import scanner_service_pb2 as scanner_service_pb
from yandex.cloud.containerregistry.v1.scanner_service_pb2_grpc import ScannerServiceStub

from emulator import Emulator
from emulator.state.scans import SECURE_RULES

CR = "yandex.cloud.containerregistry.v1"
CLOUD = "yandex.cloud.cloudregistry.v1"
FOLDER = "b1g00000000000hostile"
OTHER_FOLDER = "b1g000000000000other"
MIGRATION_FOLDER = "b1g0000000000migrate"  # no registries: a start that gets through moves nothing
MIGRATION_CLOUD = "b1g00000hostilecloud"  # MIGRATION_FOLDER's cloud, alone in it
MOVED = "crp00000000000moved0"  # a registry migrated before: a Cloud Registry registry with its record
OAUTH_TOKEN = "hostile-token"  # what CreateIamTokenRequest trades
TIMEOUT = 10


def load_world(emulator: Emulator, metadata: tuple = ()) -> dict:
    """Registries in FOLDER ("mine") and OTHER_FOLDER with images, a finished operation in FOLDER
    and a real page token. ``metadata``: what the Delete and List that make them send."""
    mine = emulator.add_registry(FOLDER, name="mine")
    other = emulator.add_registry(OTHER_FOLDER, name="other")
    for registry in (mine, other):
        for path in ("app", "app", "team/web"):
            emulator.add_image(registry.id, path, tags=["latest"])
    victim = emulator.add_image(mine.id, "victim")
    channel = emulator.channel()
    images = image_service_pb2_grpc.ImageServiceStub(channel)
    operation = images.Delete(pb.DeleteImageRequest(image_id=victim.id), metadata=metadata, timeout=TIMEOUT)
    query = {"registry_id": mine.id, "order_by": "created_at desc", "filter": f'name != "{mine.id}/team/web"'}
    token = images.List(pb.ListImagesRequest(page_size=1, **query), metadata=metadata, timeout=TIMEOUT)
    scanned = emulator.add_image(mine.id, "app", tags=["scanned"])
    done = ScannerServiceStub(channel).Scan(
        scanner_service_pb.ScanRequest(image_id=scanned.id), metadata=metadata, timeout=TIMEOUT
    )
    scan = scanner_pb.ScanResult()
    done.response.Unpack(scan)
    channel.close()
    emulator.set_folder_cloud(MIGRATION_FOLDER, MIGRATION_CLOUD)
    moved = {"registry_id": MOVED, "folder_id": MIGRATION_FOLDER, "cloud_id": MIGRATION_CLOUD, "run": "before"}
    registry = {"id": MOVED, "folder_id": MIGRATION_FOLDER, "name": "moved", "kind": "DOCKER"}
    emulator.load_seed({"registries": [registry], "migrations": [{**moved, "done": True, "status": "COMPLETED"}]})
    cloud = emulator.add_registry(FOLDER, name="cloud", kind="DOCKER", folders=[{"path": "tools"}])
    emulator.add_registry(OTHER_FOLDER, name="cloud", kind="DOCKER")
    tagged = emulator.add_image(cloud.id, "library/ubuntu", tags=["latest"])
    artifact = emulator.store.get_artifact_by_path(cloud.id, "library/ubuntu/latest").id
    cloud_scan = emulator.store.start_scan(artifact_id=artifact)
    emulator.store._finish_scan(cloud_scan.id, "READY")
    return {
        "cloud": cloud.id,
        "artifact": artifact,
        "tagged": tagged.id,
        "cloud_scan": cloud_scan.id,
        "cloud_scan_policy": emulator.store.add_scan_policy(cloud.id, rules=CLOUD_SCAN_RULES).id,
        "cloud_policy": (cloud_policy := emulator.store.add_cloud_policy(cloud.id, rules=[CLOUD_KEEP_ONE]).id),
        "cloud_dry_run": emulator.store.cloud_dry_run(cloud_policy).id,
        "mine": mine.id,
        "other": other.id,
        "image": next(iter(emulator.images)),
        "operation": operation.id,
        "list": dict(query, folder_id=FOLDER, page_size=1, page_token=token.next_page_token),
        "repository": (repository := emulator.add_repository(mine.id, "app").id),
        "policy": (policy := emulator.add_lifecycle_policy(repository, name="keep-one", rules=[KEEP_ONE]).id),
        "dry_run": emulator.store.dry_run_lifecycle_policy(policy).id,
        "scan": scan.id,
        "scanned": scan.image_id,
        "scan_policy": emulator.store.add_scan_policy(mine.id, rules=SECURE_RULES).id,
    }


KEEP_ONE = {"tag_regexp": ".*", "retained_top": 1}
SCAN_RULES = {"push_rule": {"repository_prefixes": ["team"]}}
CLOUD_KEEP_ONE = {"keep_by_version": {"keep_versions_count": "1"}}
CLOUD_SCAN_RULES = {
    "push_rule": {"paths": ["library"]},
    "schedule_rules": [{"amount": 7, "interval_unit": 1, "paths": ["*"]}],
}


def valid_fields(request_type: str, service: str, world: dict) -> dict[str, Any]:
    """The fields of a request of ``request_type`` (full name) to ``service`` (short name), each set
    to something meaningful in ``world``: everything it names lies in FOLDER."""
    ip_permission = {"action": 1, "ip": "10.0.0.0/8"}
    binding = {"role_id": "container-registry.images.puller", "subject": {"id": "ajeuser", "type": "userAccount"}}
    resource = {
        "RepositoryService": world["repository"],
        "cloudregistry.RegistryService": world["cloud"],
        "cloudregistry.ArtifactService": world["artifact"],
    }.get(service, world["mine"])
    fields = {
        **cloud_registry_fields(world),
        f"{CR}.ListImagesRequest": world["list"],
        f"{CR}.GetImageRequest": {"image_id": world["image"]},
        f"{CR}.DeleteImageRequest": {"image_id": world["image"]},
        "yandex.cloud.operation.GetOperationRequest": {"operation_id": world["operation"]},
        "yandex.cloud.operation.CancelOperationRequest": {"operation_id": world["operation"]},
        "yandex.cloud.endpoint.GetApiEndpointRequest": {"api_endpoint_id": "container-registry"},
        "yandex.cloud.endpoint.ListApiEndpointsRequest": {"page_size": 10, "page_token": "next"},
        "yandex.cloud.iam.v1.CreateIamTokenRequest": {"yandex_passport_oauth_token": OAUTH_TOKEN},
        "yandex.cloud.iam.v1.CreateIamTokenForServiceAccountRequest": {"service_account_id": "ajeserviceaccount000"},
        "yandex.cloud.iam.v1.RevokeIamTokenRequest": {"iam_token": "t1.emulator.token"},
        f"{CR}.GetRegistryRequest": {"registry_id": world["mine"]},
        f"{CR}.ListRegistriesRequest": {"folder_id": FOLDER, "page_size": 1, "filter": 'name = "mine"'},
        f"{CR}.CreateRegistryRequest": {"folder_id": FOLDER, "name": "created", "labels": {"a": "b"}},
        f"{CR}.UpdateRegistryRequest": {"registry_id": world["mine"], "labels": {"a": "b"}},
        f"{CR}.DeleteRegistryRequest": {"registry_id": world["mine"]},
        f"{CR}.ListIpPermissionRequest": {"registry_id": world["mine"]},
        f"{CR}.SetIpPermissionRequest": {"registry_id": world["mine"], "ip_permission": [ip_permission]},
        f"{CR}.UpdateIpPermissionRequest": {
            "registry_id": world["mine"],
            "ip_permission_deltas": [{"action": 1, "ip_permission": ip_permission}],
        },
        f"{CR}.GetRepositoryRequest": {"repository_id": world["repository"]},
        f"{CR}.GetRepositoryByNameRequest": {"repository_name": f"{world['mine']}/app"},
        f"{CR}.ListRepositoriesRequest": {"registry_id": world["mine"], "page_size": 1, "order_by": "name"},
        f"{CR}.UpsertRepositoryRequest": {"name": f"{world['mine']}/upserted"},
        f"{CR}.DeleteRepositoryRequest": {"repository_id": world["repository"]},
        f"{CR}.GetLifecyclePolicyRequest": {"lifecycle_policy_id": world["policy"]},
        f"{CR}.ListLifecyclePoliciesRequest": {"registry_id": world["mine"], "order_by": "name desc"},
        f"{CR}.CreateLifecyclePolicyRequest": {
            "repository_id": world["repository"],
            "name": "new",
            "status": 2,
            "rules": [KEEP_ONE],
        },
        f"{CR}.UpdateLifecyclePolicyRequest": {
            "lifecycle_policy_id": world["policy"],
            "update_mask": {"paths": ["description"]},
            "description": "d",
        },
        f"{CR}.DeleteLifecyclePolicyRequest": {"lifecycle_policy_id": world["policy"]},
        f"{CR}.DryRunLifecyclePolicyRequest": {"lifecycle_policy_id": world["policy"]},
        f"{CR}.GetDryRunLifecyclePolicyResultRequest": {"dry_run_lifecycle_policy_result_id": world["dry_run"]},
        f"{CR}.ListDryRunLifecyclePolicyResultsRequest": {"lifecycle_policy_id": world["policy"], "page_size": 1},
        f"{CR}.ListDryRunLifecyclePolicyResultAffectedImagesRequest": {
            "dry_run_lifecycle_policy_result_id": world["dry_run"],
            "order_by": "created_at desc",
        },
        f"{CR}.ScanRequest": {"image_id": world["image"]},
        f"{CR}.GetScanResultRequest": {"scan_result_id": world["scan"]},
        f"{CR}.GetLastScanResultRequest": {"image_id": world["scanned"]},
        f"{CR}.ListScanResultsRequest": {"repository_id": world["repository"], "order_by": "status"},
        f"{CR}.ListVulnerabilitiesRequest": {"scan_result_id": world["scan"], "filter": 'severity = "HIGH"'},
        f"{CR}.GetScanPolicyRequest": {"scan_policy_id": world["scan_policy"]},
        f"{CR}.GetScanPolicyByRegistryRequest": {"registry_id": world["mine"]},
        f"{CR}.CreateScanPolicyRequest": {"registry_id": world["mine"], "rules": SCAN_RULES},
        f"{CR}.UpdateScanPolicyRequest": {"scan_policy_id": world["scan_policy"], "rules": SCAN_RULES},
        f"{CR}.DeleteScanPolicyRequest": {"scan_policy_id": world["scan_policy"]},
        "yandex.cloud.access.ListAccessBindingsRequest": {"resource_id": resource, "page_size": 1},
        "yandex.cloud.access.SetAccessBindingsRequest": {"resource_id": resource, "access_bindings": [binding]},
        "yandex.cloud.access.UpdateAccessBindingsRequest": {
            "resource_id": resource,
            "access_binding_deltas": [{"action": 1, "access_binding": binding}],
        },
    }
    return fields[request_type]


def cloud_registry_fields(world: dict) -> dict[str, dict[str, Any]]:
    """Cloud Registry's requests (the access-binding ones are shared: see valid_fields)."""
    ip_permission = {"action": 1, "ip": "10.0.0.0/8"}
    return {
        f"{CLOUD}.GetRegistryRequest": {"registry_id": world["cloud"]},
        f"{CLOUD}.ListRegistriesRequest": {
            "folder_id": FOLDER,
            "page_size": 1,
            "kind": [3],
            "name_filter": 'name = "cloud"',
        },
        f"{CLOUD}.CreateRegistryRequest": {"folder_id": FOLDER, "name": "created", "kind": 1, "type": 1},
        f"{CLOUD}.UpdateRegistryRequest": {"registry_id": world["cloud"], "description": "d"},
        f"{CLOUD}.DeleteRegistryRequest": {"registry_id": world["cloud"]},
        f"{CLOUD}.ListIpPermissionsRequest": {"registry_id": world["cloud"]},
        f"{CLOUD}.SetIpPermissionsRequest": {"registry_id": world["cloud"], "ip_permissions": [ip_permission]},
        f"{CLOUD}.UpdateIpPermissionsRequest": {
            "registry_id": world["cloud"],
            "ip_permission_deltas": [{"action": 1, "ip_permission": ip_permission}],
        },
        f"{CLOUD}.ListArtifactsRequest": {"registry_id": world["cloud"], "path": "library", "page_size": 1},
        f"{CLOUD}.GetArtifactRequest": {"artifact_id": world["artifact"]},
        f"{CLOUD}.GetArtifactByPathRequest": {"registry_id": world["cloud"], "path": "library/ubuntu"},
        f"{CLOUD}.ListArtifactsWithFiltersRequest": {"folder_id": FOLDER, "page_size": 1, "kind": [3]},
        f"{CLOUD}.DeleteArtifactRequest": {"artifact_id": world["artifact"]},
        f"{CLOUD}.UpsertFolderRequest": {"registry_id": world["cloud"], "path": "tools/new"},
        f"{CLOUD}.ScanRequest": {"artifact_id": world["artifact"]},
        f"{CLOUD}.GetScanResultRequest": {"scan_result_id": world["cloud_scan"]},
        f"{CLOUD}.GetLastScanResultRequest": {"artifact_id": world["artifact"]},
        f"{CLOUD}.ListScanResultsRequest": {"artifact_id": world["artifact"], "page_size": 1, "order_by": "status"},
        f"{CLOUD}.ListVulnerabilitiesRequest": {"scan_result_id": world["cloud_scan"], "filter": {"severity": 2}},
        f"{CLOUD}.GetScanPolicyRequest": {"scan_policy_id": world["cloud_scan_policy"]},
        f"{CLOUD}.GetScanPolicyByRegistryRequest": {"registry_id": world["cloud"]},
        f"{CLOUD}.CreateScanPolicyRequest": {"registry_id": world["cloud"], "rules": CLOUD_SCAN_RULES},
        f"{CLOUD}.UpdateScanPolicyRequest": {"scan_policy_id": world["cloud_scan_policy"], "disabled": True},
        f"{CLOUD}.DeleteScanPolicyRequest": {"scan_policy_id": world["cloud_scan_policy"]},
        f"{CLOUD}.CreateLifecyclePolicyRequest": {
            "registry_id": world["cloud"],
            "name": "keep",
            "rules": [{"keep_by_version": {"keep_versions_count": 1}}],
        },
        f"{CLOUD}.UpdateLifecyclePolicyRequest": {  # a mask: without one every field is set, state too
            "policy_id": world["cloud_policy"],
            "description": "d",
            "update_mask": {"paths": ["description"]},
        },
        f"{CLOUD}.DeleteLifecyclePolicyRequest": {"policy_id": world["cloud_policy"]},
        f"{CLOUD}.GetLifecyclePolicyRequest": {"policy_id": world["cloud_policy"]},
        f"{CLOUD}.ListLifecyclePolicyRequest": {"registry_id": world["cloud"], "page_size": 1},
        f"{CLOUD}.ChangeLifecyclePolicyStateRequest": {"policy_id": world["cloud_policy"], "state": 2},
        f"{CLOUD}.DryRunLifecyclePolicyRequest": {"policy_id": world["cloud_policy"]},
        f"{CLOUD}.GetDryRunLifecyclePolicyResultRequest": {"dry_run_id": world["cloud_dry_run"]},
        f"{CLOUD}.ListDryRunLifecyclePolicyResultsRequest": {"policy_id": world["cloud_policy"], "order_by": "run_at"},
        f"{CLOUD}.ListDryRunLifecyclePolicyArtifactsRequest": {
            "dry_run_id": world["cloud_dry_run"],
            "path_filter": 'path != "/x"',
        },
        **migration_fields(),
    }


def migration_fields() -> dict[str, dict[str, Any]]:
    """MigrationService's requests, on a folder and cloud of their own: a start that gets through moves nothing."""
    limits = {"failed_registries_limit": 5, "failed_tags_limit": 5}
    return {
        f"{CLOUD}.StartFolderMigrationRequest": {"folder_id": MIGRATION_FOLDER, "disable_redirects": True},
        f"{CLOUD}.StartCloudMigrationRequest": {"cloud_id": MIGRATION_CLOUD},
        f"{CLOUD}.GetFolderMigrationStatusDashboardRequest": {"folder_id": MIGRATION_FOLDER, **limits},
        f"{CLOUD}.GetCloudMigrationStatusDashboardRequest": {"cloud_id": MIGRATION_CLOUD, **limits},
        f"{CLOUD}.ToggleRegistryRedirectsRequest": {"registry_id": MOVED, "enabled": True},
        f"{CLOUD}.ToggleFolderRedirectsRequest": {"folder_id": MIGRATION_FOLDER},
        f"{CLOUD}.ToggleCloudRedirectsRequest": {"cloud_id": MIGRATION_CLOUD, "enabled": True},
    }
