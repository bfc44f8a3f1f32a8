"""Cloud Registry's RegistryService and ArtifactService through the wire, with the official Python
SDK's generated stubs on a channel (its ``SDK.client()`` knows no cloudregistry service) and its
operation waiter: one state with Container Registry, each API seeing its own registries; a Docker
registry's images browsable and deletable as artifacts.

Documented: what the protos and the Cloud Registry docs say (cited in docs/cloud-registry.md).
The emulator's choice: what nothing public says, marked so in each test's docstring."""

from __future__ import annotations

import re

import grpc
import pytest

from emulator import Emulator

pytest.importorskip("yandexcloud")
from google.protobuf.field_mask_pb2 import FieldMask  # noqa: E402
from google.protobuf.timestamp_pb2 import Timestamp  # noqa: E402
from yandex.cloud.access import access_pb2  # noqa: E402
from yandex.cloud.cloudregistry.v1 import (  # noqa: E402
    artifact_pb2,
    artifact_service_pb2,
    artifact_service_pb2_grpc,
    ip_permission_pb2,
    pattern_filter_pb2,
    registry_pb2,
    registry_service_pb2,
    registry_service_pb2_grpc,
)
from yandex.cloud.containerregistry.v1 import (  # noqa: E402
    image_service_pb2,
    image_service_pb2_grpc,
)
from yandex.cloud.containerregistry.v1 import (  # noqa: E402
    registry_service_pb2 as old_registry_service_pb2,
)
from yandex.cloud.containerregistry.v1 import (  # noqa: E402
    registry_service_pb2_grpc as old_registry_service_pb2_grpc,
)
from yandex.cloud.endpoint import api_endpoint_service_pb2, api_endpoint_service_pb2_grpc  # noqa: E402
from yandex.cloud.operation import operation_service_pb2_grpc  # noqa: E402

from emulator.state.artifacts import tag_artifact_id
from tests.support.docs import assert_on_page
from tests.support.exercised import assert_exercised

FOLDER = "b1gcloudregistry0001"
Registry = registry_pb2.Registry
Artifact = artifact_pb2.Artifact


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:
        yield running


@pytest.fixture
def fresh(emulator):
    emulator.reset()
    return emulator


@pytest.fixture(scope="module")
def stubs(emulator):
    with emulator.channel() as channel:
        yield type(
            "Stubs",
            (),
            {
                "registries": registry_service_pb2_grpc.RegistryServiceStub(channel),
                "artifacts": artifact_service_pb2_grpc.ArtifactServiceStub(channel),
                "operations": operation_service_pb2_grpc.OperationServiceStub(channel),
                "old_registries": old_registry_service_pb2_grpc.RegistryServiceStub(channel),
                "images": image_service_pb2_grpc.ImageServiceStub(channel),
                "endpoints": api_endpoint_service_pb2_grpc.ApiEndpointServiceStub(channel),
            },
        )


def refused(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call(request, timeout=10)
    return raised.value


def create(stubs, **fields) -> Registry:
    fields = {"folder_id": FOLDER, "kind": Registry.DOCKER, "type": Registry.LOCAL, **fields}
    operation = stubs.registries.Create(registry_service_pb2.CreateRegistryRequest(**fields), timeout=10)
    assert operation.done and not operation.HasField("error"), operation.error
    metadata = registry_service_pb2.CreateRegistryMetadata()
    operation.metadata.Unpack(metadata)
    created = Registry()
    operation.response.Unpack(created)
    assert created.id == metadata.registry_id
    return created


def listed(stubs, **fields) -> list[Registry]:
    request = registry_service_pb2.ListRegistriesRequest(folder_id=FOLDER, page_size=1000, **fields)
    return list(stubs.registries.List(request, timeout=10).registries)


# ---- registries -----------------------------------------------------------------------------


@pytest.mark.behaviour(
    "cloudregistry.RegistryService/Create",
    "documented",
    "Registries of every kind and type are created and read back.",
    "yandex/cloud/cloudregistry/v1/registry_service.proto",
)
@pytest.mark.behaviour(
    "cloudregistry.RegistryService/List",
    "documented",
    "List filters by kind, type and name.",
    "yandex/cloud/cloudregistry/v1/registry_service.proto",
)
def test_registries_of_every_kind_and_type_are_created_read_and_listed_by_kind_type_and_name(fresh, stubs):
    made = {}
    for kind in ("MAVEN", "NPM", "DOCKER", "DEBIAN", "NUGET", "PYPI", "BINARY", "GO"):
        for registry_type in ("LOCAL", "REMOTE", "VIRTUAL", "TRANSITIONAL"):
            name = f"{kind.lower()}-{registry_type.lower()}"
            made[name] = create(
                stubs, name=name, kind=Registry.Kind.Value(kind), type=Registry.Type.Value(registry_type),
                description=f"a {kind} registry", properties={"source": "@docker-hub"}, labels={"team": "web"},
                pattern_filter=pattern_filter_pb2.PatternFilter(include_patterns=["**"], exclude_patterns=["**/latest"]),
            )  # fmt: skip
    maven = made["maven-remote"]
    got = stubs.registries.Get(registry_service_pb2.GetRegistryRequest(registry_id=maven.id), timeout=10)
    assert got == maven
    assert (got.kind, got.type, got.status, got.description) == (
        Registry.MAVEN,
        Registry.REMOTE,
        Registry.ACTIVE,
        "a MAVEN registry",
    )
    assert dict(got.properties) == {"source": "@docker-hub"} and dict(got.labels) == {"team": "web"}
    assert list(got.pattern_filter.exclude_patterns) == ["**/latest"]
    assert got.id.startswith("cn1") and len(got.id) == 20  # Documented: cn1fsnc2dak... in the docs' examples
    assert len(listed(stubs)) == 32
    dockers = listed(stubs, kind=[Registry.DOCKER])
    assert {r.name for r in dockers} == {f"docker-{t}" for t in ("local", "remote", "virtual", "transitional")}
    assert {r.name for r in listed(stubs, kind=[Registry.NPM, Registry.GO], type=[Registry.VIRTUAL])} == {
        "npm-virtual", "go-virtual",
    }  # fmt: skip
    assert [r.name for r in listed(stubs, name_filter='name = "pypi-local"')] == ["pypi-local"]
    assert len(listed(stubs, name_filter='name != "pypi-local"', status=[Registry.ACTIVE])) == 31
    assert listed(stubs, status=[Registry.DELETING]) == []


@pytest.mark.behaviour(
    "cloudregistry.RegistryService/List",
    "documented",
    "List pages by 10 by default; its pages make the whole.",
    "yandex/cloud/cloudregistry/v1/registry_service.proto (Default value: 10)",
)
@pytest.mark.behaviour(
    "cloudregistry.RegistryService/List",
    "choice",
    "A page token reused with another query (another kind) is INVALID_ARGUMENT.",
    "a token continues only the List that made it",
)
def test_a_list_pages_by_ten_by_default_and_its_pages_make_the_whole(fresh, stubs):
    """Documented: "Default value: 10" (ListRegistriesRequest.page_size)."""
    for n in range(23):
        create(stubs, name=f"registry-{n:02d}")
    first = stubs.registries.List(registry_service_pb2.ListRegistriesRequest(folder_id=FOLDER), timeout=10)
    assert len(first.registries) == 10 and first.next_page_token
    pages, token = [], ""
    while True:
        request = registry_service_pb2.ListRegistriesRequest(folder_id=FOLDER, page_size=7, page_token=token)
        answer = stubs.registries.List(request, timeout=10)
        pages.extend(answer.registries)
        token = answer.next_page_token
        if not token:
            break
    assert pages == listed(stubs)
    other = registry_service_pb2.ListRegistriesRequest(
        folder_id=FOLDER, kind=[Registry.MAVEN], page_token=first.next_page_token
    )
    assert refused(stubs.registries.List, other).code() == grpc.StatusCode.INVALID_ARGUMENT  # bound to its query


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"kind": Registry.KIND_UNSPECIFIED}, "kind"),
        ({"type": Registry.TYPE_UNSPECIFIED}, "type"),
        ({"name": "Bad_Name"}, "name"),
        ({"properties": {"bad-key": "x"}}, "properties"),
        ({"properties": {"key": "bad value"}}, "properties"),
        ({"labels": {"Bad": "x"}}, "labels"),
        ({"description": "x" * 1025}, "description"),
        (
            {"pattern_filter": pattern_filter_pb2.PatternFilter(include_patterns=["a b"])},
            "pattern_filter.include_patterns",
        ),
    ],
)
@pytest.mark.behaviour(
    "cloudregistry.RegistryService/Create",
    "documented",
    "Every annotated field of the request is checked as annotated, and a refused Create makes nothing.",
    "yandex/cloud/cloudregistry/v1/registry_service.proto",
)
def test_a_create_the_annotations_refuse_names_the_field_and_makes_nothing(fresh, stubs, fields, named):
    request = registry_service_pb2.CreateRegistryRequest(
        **{"folder_id": FOLDER, "kind": Registry.DOCKER, "type": Registry.LOCAL, **fields}
    )
    error = refused(stubs.registries.Create, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(f"{named}:") or f"; {named}:" in error.details() or named in error.details()
    assert listed(stubs) == []


@pytest.mark.behaviour(
    "cloudregistry.RegistryService/Create",
    "choice",
    "A name is unique in its folder among Cloud Registry's registries; Container Registry's are named apart.",
    "the two APIs share one state but not their registries",
)
def test_a_name_is_unique_in_its_folder_among_cloud_registry_registries(fresh, stubs):
    """The emulator's choice: Container Registry's and Cloud Registry's registries are named apart
    (two services), as the docs say nothing of a name shared between them."""
    create(stubs, name="shared")
    again = registry_service_pb2.CreateRegistryRequest(
        folder_id=FOLDER, name="shared", kind=Registry.NPM, type=Registry.LOCAL
    )
    assert refused(stubs.registries.Create, again).code() == grpc.StatusCode.ALREADY_EXISTS
    fresh.add_registry(FOLDER, name="shared")  # a Container Registry registry of the same name
    assert [r.name for r in listed(stubs)] == ["shared"]


@pytest.mark.behaviour(
    "cloudregistry.RegistryService/Update",
    "choice",
    "update_mask may name name, labels, description, properties and pattern_filter; modified_at moves with each update.",
    "the reference lists the fields, not the mask's paths",
)
def test_update_changes_what_its_mask_names_and_modified_at(fresh, stubs):
    registry = create(stubs, name="before", description="old", properties={"source": "a"})
    request = registry_service_pb2.UpdateRegistryRequest(
        registry_id=registry.id,
        update_mask=FieldMask(paths=["description", "properties", "pattern_filter"]),
        name="ignored-by-the-mask",
        description="new",
        properties={"readOnly": "true"},
        pattern_filter=pattern_filter_pb2.PatternFilter(include_patterns=["library/**"]),
    )
    operation = stubs.registries.Update(request, timeout=10)
    updated = Registry()
    operation.response.Unpack(updated)
    got = stubs.registries.Get(registry_service_pb2.GetRegistryRequest(registry_id=registry.id), timeout=10)
    assert got == updated
    assert (got.name, got.description, dict(got.properties)) == ("before", "new", {"readOnly": "true"})
    assert list(got.pattern_filter.include_patterns) == ["library/**"]
    assert got.kind == registry.kind and got.created_at == registry.created_at
    assert got.modified_at.ToNanoseconds() >= registry.modified_at.ToNanoseconds()
    bad = registry_service_pb2.UpdateRegistryRequest(registry_id=registry.id, update_mask=FieldMask(paths=["kind"]))
    error = refused(stubs.registries.Update, bad)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith("update_mask:")


@pytest.mark.behaviour(
    "cloudregistry.RegistryService/Update",
    "documented",
    "An Update without update_mask sets every field: those the request leaves unset are reset to their defaults.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/standard-methods.md#method-update (If no update_mask is passed in the request, the values of all fields will be updated; the values of the other fields will be reset to their defaults)",
)
def test_an_update_without_a_mask_sets_every_field(fresh, stubs):
    registry = create(stubs, name="before", description="old", properties={"source": "a"}, labels={"team": "ci"})
    request = registry_service_pb2.UpdateRegistryRequest(registry_id=registry.id, description="new")
    stubs.registries.Update(request, timeout=10)
    got = stubs.registries.Get(registry_service_pb2.GetRegistryRequest(registry_id=registry.id), timeout=10)
    assert (got.name, got.description, dict(got.properties), dict(got.labels)) == ("", "new", {}, {})
    assert not got.HasField("pattern_filter") or not got.pattern_filter.include_patterns


@pytest.mark.behaviour(
    "RegistryService/Get",
    "choice",
    "Container Registry's calls do not find Cloud Registry's registries or images (NOT_FOUND), nor the other way round.",
    "one state serves both APIs; only the migration makes a registry Cloud Registry's, and then no longer Container Registry's, where production, redirects disabled, keeps two independent data copies (https://github.com/yandex-cloud/docs/blob/master/en/container-registry/tutorials/container-registry-migration.md)",
)
@pytest.mark.behaviour(
    "cloudregistry.RegistryService/Get",
    "choice",
    "Cloud Registry's calls do not find Container Registry's registries (NOT_FOUND), nor the other way round.",
    "one state serves both APIs; only the migration makes a registry Cloud Registry's, and then no longer Container Registry's, where production, redirects disabled, keeps two independent data copies (https://github.com/yandex-cloud/docs/blob/master/en/container-registry/tutorials/container-registry-migration.md)",
)
def test_each_api_sees_only_its_own_registries_and_images(fresh, stubs):
    """The emulator's choice (one state, two services): Container Registry's calls do not find
    Cloud Registry's registries or their images, and Cloud Registry's do not find Container
    Registry's (the migration, #23, is what moves a registry from one to the other)."""
    new = create(stubs, name="new-one")
    fresh.add_image(new.id, "library/ubuntu", tags=["latest"])
    old = fresh.add_registry(FOLDER, name="old-one")
    old_image = fresh.add_image(old.id, "app", tags=["v1"])
    assert [r.id for r in listed(stubs)] == [new.id]
    old_list = stubs.old_registries.List(old_registry_service_pb2.ListRegistriesRequest(folder_id=FOLDER), timeout=10)
    assert [r.id for r in old_list.registries] == [old.id]
    images = stubs.images.List(image_service_pb2.ListImagesRequest(folder_id=FOLDER), timeout=10).images
    assert [image.id for image in images] == [old_image.id]
    for call, request in (
        (stubs.old_registries.Get, old_registry_service_pb2.GetRegistryRequest(registry_id=new.id)),
        (stubs.images.List, image_service_pb2.ListImagesRequest(registry_id=new.id)),
        (stubs.registries.Get, registry_service_pb2.GetRegistryRequest(registry_id=old.id)),
        (stubs.registries.ListArtifacts, registry_service_pb2.ListArtifactsRequest(registry_id=old.id)),
    ):
        assert refused(call, request).code() == grpc.StatusCode.NOT_FOUND, request


@pytest.mark.behaviour(
    "cloudregistry.RegistryService/ForceDelete",
    "documented",
    "ForceDelete deletes the registry along with all its repositories and data.",
    "yandex/cloud/cloudregistry/v1/registry_service.proto",
)
@pytest.mark.behaviour(
    "cloudregistry.RegistryService/Delete",
    "choice",
    "Delete refuses a registry that holds images (FAILED_PRECONDITION), as Container Registry's does.",
    "the reference does not say; ForceDelete exists for the other case",
)
def test_delete_refuses_a_registry_with_images_and_force_delete_takes_them(fresh, stubs):
    """Documented: ForceDelete "deletes the specified registry along with all its repositories and
    data"; the emulator's choice: a plain Delete of a registry holding images is refused as Container
    Registry's is (FAILED_PRECONDITION at the call); folders alone do not keep it."""
    registry = create(stubs, name="holding")
    fresh.add_image(registry.id, "app", tags=["v1"])
    error = refused(stubs.registries.Delete, registry_service_pb2.DeleteRegistryRequest(registry_id=registry.id))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "not empty" in error.details()
    assert [r.id for r in listed(stubs)] == [registry.id]
    operation = stubs.registries.ForceDelete(
        registry_service_pb2.DeleteRegistryRequest(registry_id=registry.id), timeout=10
    )
    assert operation.done and not operation.HasField("error")
    assert listed(stubs) == [] and fresh.store.images == {}
    maven = create(stubs, name="folders-only", kind=Registry.MAVEN)
    upsert(stubs, maven.id, "com/example")
    operation = stubs.registries.Delete(registry_service_pb2.DeleteRegistryRequest(registry_id=maven.id), timeout=10)
    assert operation.done and not operation.HasField("error") and listed(stubs) == []
    assert fresh.store.folders == {}


@pytest.mark.behaviour(
    "cloudregistry.RegistryService/ListIpPermissions",
    "choice",
    "IP permissions and access bindings are kept and listed as set, as Container Registry's are.",
    "the reference says no more",
)
@pytest.mark.behaviour(
    "cloudregistry.RegistryService/SetIpPermissions",
    "choice",
    "IP permissions and access bindings are kept and listed as set, as Container Registry's are.",
    "the reference says no more",
)
@pytest.mark.behaviour(
    "cloudregistry.RegistryService/UpdateIpPermissions",
    "choice",
    "IP permissions and access bindings are kept and listed as set, as Container Registry's are.",
    "the reference says no more",
)
@pytest.mark.behaviour(
    "cloudregistry.RegistryService/ListAccessBindings",
    "choice",
    "IP permissions and access bindings are kept and listed as set, as Container Registry's are.",
    "the reference says no more",
)
@pytest.mark.behaviour(
    "cloudregistry.RegistryService/SetAccessBindings",
    "choice",
    "IP permissions and access bindings are kept and listed as set, as Container Registry's are.",
    "the reference says no more",
)
def test_ip_permissions_and_access_bindings_are_kept_as_set(fresh, stubs):
    registry = create(stubs, name="guarded")
    pull = ip_permission_pb2.IpPermission(action=ip_permission_pb2.IpPermission.PULL, ip="10.0.0.0/8")
    push = ip_permission_pb2.IpPermission(action=ip_permission_pb2.IpPermission.PUSH, ip="10.1.2.11")
    stubs.registries.SetIpPermissions(
        registry_service_pb2.SetIpPermissionsRequest(registry_id=registry.id, ip_permissions=[pull]), timeout=10
    )
    delta = ip_permission_pb2.IpPermissionDelta(action=ip_permission_pb2.ADD, ip_permission=push)
    stubs.registries.UpdateIpPermissions(
        registry_service_pb2.UpdateIpPermissionsRequest(registry_id=registry.id, ip_permission_deltas=[delta]),
        timeout=10,
    )
    permissions = stubs.registries.ListIpPermissions(
        registry_service_pb2.ListIpPermissionsRequest(registry_id=registry.id), timeout=10
    ).permissions
    assert list(permissions) == [pull, push]
    empty = registry_service_pb2.UpdateIpPermissionsRequest(registry_id=registry.id)
    assert refused(stubs.registries.UpdateIpPermissions, empty).code() == grpc.StatusCode.INVALID_ARGUMENT
    binding = access_pb2.AccessBinding(
        role_id="cloud-registry.artifacts.puller", subject=access_pb2.Subject(id="allUsers", type="system")
    )
    stubs.registries.SetAccessBindings(
        access_pb2.SetAccessBindingsRequest(resource_id=registry.id, access_bindings=[binding]), timeout=10
    )
    bindings = stubs.registries.ListAccessBindings(
        access_pb2.ListAccessBindingsRequest(resource_id=registry.id), timeout=10
    ).access_bindings
    assert list(bindings) == [binding]


@pytest.mark.behaviour(
    "ApiEndpointService/Get",
    "documented",
    "Cloud Registry is discovered by the endpoint id `cloud-registry`, as go-sdk resolves it.",
    "https://github.com/yandex-cloud/go-sdk/blob/master/cloud_registry.go",
)
def test_endpoint_discovery_answers_the_sdks_cloud_registry_id(stubs):
    """Documented: go-sdk resolves Cloud Registry by the endpoint id "cloud-registry"."""
    endpoint = stubs.endpoints.Get(api_endpoint_service_pb2.GetApiEndpointRequest(api_endpoint_id="cloud-registry"))
    assert endpoint.id == "cloud-registry" and endpoint.address


# ---- artifacts ------------------------------------------------------------------------------


def upsert(stubs, registry_id: str, path: str) -> Artifact:
    request = artifact_service_pb2.UpsertFolderRequest(registry_id=registry_id, path=path)
    operation = stubs.artifacts.UpsertFolder(request, timeout=10)
    assert operation.done and not operation.HasField("error"), operation.error
    folder = Artifact()
    operation.response.Unpack(folder)
    return folder


def children(stubs, registry_id: str, path: str = "", **fields) -> list[tuple[str, str, str]]:
    request = registry_service_pb2.ListArtifactsRequest(registry_id=registry_id, path=path, page_size=1000, **fields)
    return [
        (Artifact.Kind.Name(node.kind), node.path, node.name)
        for node in stubs.registries.ListArtifacts(request, timeout=10).artifacts
    ]


@pytest.fixture
def docker(fresh, stubs):
    """A Docker registry: library/ubuntu with two tags on one image and an untagged image, app with v1."""
    registry = create(stubs, name="docker")
    tagged = fresh.add_image(registry.id, "library/ubuntu", tags=["latest", "24.04"], created_at="2026-01-01T00:00:00Z")
    untagged = fresh.add_image(registry.id, "library/ubuntu", created_at="2026-01-02T00:00:00Z")
    app = fresh.add_image(registry.id, "app", tags=["v1"], created_at="2026-01-03T00:00:00Z")
    return registry, tagged, untagged, app


@pytest.mark.behaviour(
    "cloudregistry.RegistryService/ListArtifacts",
    "choice",
    "A Docker registry is a tree: `library/ubuntu` is the package ubuntu in the folder library, each tag an artifact.",
    "inferred from AffectedArtifact's `/library/ubuntu/latest` and the filtering patterns page; nothing public shows the list",
)
@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/GetByPath",
    "choice",
    "GetByPath finds a package, then a folder, then an artifact at the path.",
    "a path may name both a package and a folder",
)
def test_a_docker_registry_is_a_tree_of_folders_packages_and_artifacts(docker, stubs):
    """Documented: an artifact's full path is like /library/ubuntu/latest, its version the part after
    the last "/" (AffectedArtifact); top-level nodes have an empty path (the docs' list example).
    The emulator's choice: a repository is a PACKAGE, each of its tags an ARTIFACT named by the tag,
    an untagged image one named by its digest; a path may be given with or without "/" around it."""
    registry, tagged, untagged, app = docker
    assert children(stubs, registry.id) == [("FOLDER", "", "library"), ("PACKAGE", "", "app")]
    assert children(stubs, registry.id, "library") == [("PACKAGE", "library", "ubuntu")]
    expected = [
        ("ARTIFACT", "library/ubuntu", "24.04"),
        ("ARTIFACT", "library/ubuntu", "latest"),
        ("ARTIFACT", "library/ubuntu", untagged.digest),
    ]
    assert children(stubs, registry.id, "library/ubuntu") == expected
    assert children(stubs, registry.id, "/library/ubuntu/") == expected
    latest = stubs.artifacts.GetByPath(
        artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry.id, path="/library/ubuntu/latest"),
        timeout=10,
    )
    assert stubs.artifacts.Get(artifact_service_pb2.GetArtifactRequest(artifact_id=latest.id), timeout=10) == latest
    docker_content = latest.content.docker
    assert docker_content.manifest_digest == tagged.digest
    assert docker_content.image_manifest.config.digest == tagged.config.digest
    assert [layer.digest for layer in docker_content.image_manifest.layers] == [layer.digest for layer in tagged.layers]
    assert latest.registry_id == registry.id and latest.status == Artifact.ACTIVE
    assert latest.created_at.ToNanoseconds() == tagged.created_at_ns
    package = stubs.artifacts.GetByPath(
        artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry.id, path="library/ubuntu"), timeout=10
    )
    assert (package.kind, package.name, package.HasField("content")) == (Artifact.PACKAGE, "ubuntu", False)
    for path in ("library/ubuntu/nothing", "nowhere", "library/ubuntu/latest/deeper"):
        request = artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry.id, path=path)
        assert refused(stubs.artifacts.GetByPath, request).code() == grpc.StatusCode.NOT_FOUND, path
    unknown = artifact_service_pb2.GetArtifactRequest(artifact_id="cn1nosuchartifact000")
    assert refused(stubs.artifacts.Get, unknown).code() == grpc.StatusCode.NOT_FOUND
    missing = registry_service_pb2.ListArtifactsRequest(registry_id=registry.id, path="no/such")
    assert refused(stubs.registries.ListArtifacts, missing).code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/Get",
    "choice",
    "An image list is an artifact whose content.docker holds a manifest_list of the images it references.",
    "docker_content.proto has the field; what fills it is not shown anywhere",
)
def test_an_image_list_is_an_artifact_with_a_manifest_list(fresh, docker, stubs):
    registry, tagged, untagged, _ = docker
    image_list = fresh.add_image(
        registry.id, "library/ubuntu", tags=["multi"], manifests=[tagged.digest, untagged.digest]
    )
    multi = stubs.artifacts.GetByPath(
        artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry.id, path="library/ubuntu/multi"), timeout=10
    )
    assert multi.content.docker.manifest_digest == image_list.digest
    digests = [entry.manifest_descriptor.digest for entry in multi.content.docker.manifest_list.manifests]
    assert digests == [tagged.digest, untagged.digest]


def test_the_same_image_is_one_record_whatever_shows_it(fresh, docker, stubs):
    """One state: a tag put on an image through the Python API is an artifact at once; an image
    deleted is gone from the tree."""
    registry, tagged, untagged, _ = docker
    fresh.store.tag_image(untagged.id, "rc")
    names = [name for _, _, name in children(stubs, registry.id, "library/ubuntu")]
    assert names == ["24.04", "latest", "rc"]  # the untagged artifact is now named by its tag
    fresh.store.delete_image(tagged.id)
    assert [name for _, _, name in children(stubs, registry.id, "library/ubuntu")] == ["rc"]


def list_all(stubs, **fields) -> list[Artifact]:
    found, token = [], ""
    while True:
        request = artifact_service_pb2.ListArtifactsWithFiltersRequest(page_size=2, page_token=token, **fields)
        answer = stubs.artifacts.List(request, timeout=10)
        found.extend(answer.artifacts)
        token = answer.next_page_token
        if not token:
            return found


@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/List",
    "documented",
    "List filters by kind, registry kind, name, path, creation time and labels, and orders by name, created_at or modified_at.",
    "yandex/cloud/cloudregistry/v1/artifact_service.proto",
)
def test_artifact_lists_filter_order_and_page(docker, stubs):
    registry, tagged, untagged, app = docker
    everything = list_all(stubs, registry_id=registry.id)
    assert len(everything) == 7  # library, ubuntu, app, 24.04, latest, <digest>, v1
    assert everything == list_all(stubs, folder_id=FOLDER)
    assert [a.id for a in everything] == sorted(a.id for a in everything)  # by id unless ordered
    only = list_all(stubs, registry_id=registry.id, kind=[Artifact.ARTIFACT], order_by="created_at desc, name")
    assert [a.name for a in only] == ["v1", untagged.digest, "24.04", "latest"]
    in_ubuntu = list_all(stubs, registry_id=registry.id, path_filter='path = "library/ubuntu"')
    assert {a.name for a in in_ubuntu} == {"24.04", "latest", untagged.digest}
    assert [a.name for a in list_all(stubs, registry_id=registry.id, name_filter='name = "v1"')] == ["v1"]
    created_after = Timestamp()
    created_after.FromNanoseconds(app.created_at_ns)
    later = list_all(stubs, folder_id=FOLDER, kind=[Artifact.ARTIFACT], created_after=created_after)
    assert [a.name for a in later] == ["v1"]
    assert list_all(stubs, registry_id=registry.id, labels=["env=prod"]) == []  # no artifact has labels
    assert list_all(stubs, folder_id=FOLDER, registry_kind=[Registry.MAVEN]) == []
    for fields, named in (
        ({"registry_id": registry.id, "order_by": "size"}, "order_by"),
        ({"registry_id": registry.id, "name_filter": "name ~ 'x'"}, "name_filter"),
        ({"registry_id": registry.id, "labels": ["no-equals-sign"]}, "labels"),
        ({}, "registry_id"),
    ):
        error = refused(stubs.artifacts.List, artifact_service_pb2.ListArtifactsWithFiltersRequest(**fields))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith(f"{named}:"), fields


@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/Delete",
    "choice",
    "Deleting a tag takes the tag off its image; the image goes with its last tag.",
    "nothing public says what a Docker artifact's delete does",
)
def test_deleting_a_tag_keeps_its_image_while_another_tag_names_it(fresh, docker, stubs):
    """The emulator's choice: deleting a tag artifact takes the tag off; its image goes with its
    last tag. Deleting an untagged artifact deletes its image."""
    registry, tagged, untagged, _ = docker

    def delete(path: str):
        artifact = stubs.artifacts.GetByPath(
            artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry.id, path=path), timeout=10
        )
        operation = stubs.artifacts.Delete(
            artifact_service_pb2.DeleteArtifactRequest(artifact_id=artifact.id), timeout=10
        )
        metadata = artifact_service_pb2.DeleteArtifactMetadata()
        operation.metadata.Unpack(metadata)
        assert operation.done and not operation.HasField("error") and metadata.artifact_id == artifact.id

    delete("library/ubuntu/latest")
    assert fresh.store.images[tagged.id].tags == ["24.04"]
    delete("library/ubuntu/24.04")
    assert tagged.id not in fresh.store.images
    delete(f"library/ubuntu/{untagged.digest}")
    assert children(stubs, registry.id, "library") == []  # the package went with its last image
    assert children(stubs, registry.id) == [("FOLDER", "", "library"), ("PACKAGE", "", "app")]


@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/Delete",
    "choice",
    "Deleting a folder or a package deletes what lies under it.",
    "nothing public says",
)
def test_deleting_a_folder_or_package_deletes_what_lies_under_it(fresh, docker, stubs):
    registry, *_ = docker
    folder = stubs.artifacts.GetByPath(
        artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry.id, path="library"), timeout=10
    )
    operation = stubs.artifacts.Delete(artifact_service_pb2.DeleteArtifactRequest(artifact_id=folder.id), timeout=10)
    assert operation.done and not operation.HasField("error")
    assert children(stubs, registry.id) == [("PACKAGE", "", "app")]
    assert [image.repository for image in fresh.store.images.values()] == ["app"]


@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/Delete",
    "choice",
    "An image an image list outside the deletion references is FAILED_PRECONDITION at the call.",
    "as ImageService.Delete refuses it",
)
def test_an_image_an_outside_list_references_is_not_deleted(fresh, docker, stubs):
    registry, tagged, _, _ = docker
    fresh.add_image(registry.id, "library/ubuntu", tags=["multi"], manifests=[tagged.digest])
    latest = stubs.artifacts.GetByPath(
        artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry.id, path="library/ubuntu/latest"), timeout=10
    )
    stubs.artifacts.Delete(artifact_service_pb2.DeleteArtifactRequest(artifact_id=latest.id), timeout=10)  # a tag
    fresh.store.untag_image(tagged.id, "24.04")
    untagged = stubs.artifacts.GetByPath(
        artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry.id, path=f"library/ubuntu/{tagged.digest}"),
        timeout=10,
    )
    error = refused(stubs.artifacts.Delete, artifact_service_pb2.DeleteArtifactRequest(artifact_id=untagged.id))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert tagged.id in fresh.store.images


@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/UpsertFolder",
    "choice",
    "UpsertFolder makes the folder and those above it, and answers the same folder again.",
    "the reference: 'Creates or updates'; Terraform's provider tests upsert nested folders",
)
def test_upsert_folder_makes_the_folders_of_a_path_once(fresh, stubs):
    """Documented: the Terraform provider's tests upsert "/common-artifacts/some-folder" and
    "common-artifacts/some-folder" as one folder. The emulator's choice: the folders above it are
    made too; a package's path is not a folder (FAILED_PRECONDITION)."""
    registry = create(stubs, name="maven", kind=Registry.MAVEN)
    folder = upsert(stubs, registry.id, "/common-artifacts/some-folder")
    assert (folder.kind, folder.path, folder.name) == (Artifact.FOLDER, "common-artifacts", "some-folder")
    assert upsert(stubs, registry.id, "common-artifacts/some-folder/") == folder
    assert children(stubs, registry.id) == [("FOLDER", "", "common-artifacts")]
    assert folder.created_by  # the caller
    docker = create(stubs, name="docker")
    fresh.add_image(docker.id, "team/web", tags=["v1"])
    request = artifact_service_pb2.UpsertFolderRequest(registry_id=docker.id, path="team/web")
    assert refused(stubs.artifacts.UpsertFolder, request).code() == grpc.StatusCode.FAILED_PRECONDITION
    for bad in ("a//b", "../up", "has space"):
        request = artifact_service_pb2.UpsertFolderRequest(registry_id=registry.id, path=bad)
        error = refused(stubs.artifacts.UpsertFolder, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith("path:"), bad
    request = artifact_service_pb2.UpsertFolderRequest(registry_id=registry.id)
    assert refused(stubs.artifacts.UpsertFolder, request).code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/ListAccessBindings",
    "choice",
    "Folders, packages and artifacts have access bindings of their own, kept as set.",
    "the reference says no more",
)
@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/SetAccessBindings",
    "choice",
    "Folders, packages and artifacts have access bindings of their own, kept as set.",
    "the reference says no more",
)
def test_artifacts_have_access_bindings_of_their_own(fresh, docker, stubs):
    registry, *_ = docker
    binding = access_pb2.AccessBinding(
        role_id="cloud-registry.artifacts.puller", subject=access_pb2.Subject(id="ajeuser", type="userAccount")
    )
    for path in ("library", "library/ubuntu", "library/ubuntu/latest"):
        node = stubs.artifacts.GetByPath(
            artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry.id, path=path), timeout=10
        )
        stubs.artifacts.SetAccessBindings(
            access_pb2.SetAccessBindingsRequest(resource_id=node.id, access_bindings=[binding]), timeout=10
        )
        got = stubs.artifacts.ListAccessBindings(access_pb2.ListAccessBindingsRequest(resource_id=node.id), timeout=10)
        assert list(got.access_bindings) == [binding], path
    state = fresh.state()
    with Emulator() as other:
        other.load_seed(state)
        assert other.state() == state  # folders and artifacts' bindings are kept


@pytest.mark.behaviour(
    "cloudregistry.RegistryService/UpdateAccessBindings",
    "choice",
    "ADD appends the bindings that are absent, REMOVE takes out those present, as Container Registry's do.",
    "the reference names the actions, not their edge cases",
)
@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/UpdateAccessBindings",
    "choice",
    "ADD appends the bindings that are absent, REMOVE takes out those present, as Container Registry's do.",
    "the reference names the actions, not their edge cases",
)
def test_update_access_bindings_adds_what_is_absent_and_removes_what_is_present(fresh, docker, stubs):
    registry, *_ = docker
    latest = stubs.artifacts.GetByPath(
        artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry.id, path="library/ubuntu/latest"), timeout=10
    )
    puller, pusher = (
        access_pb2.AccessBinding(
            role_id=f"cloud-registry.artifacts.{role}", subject=access_pb2.Subject(id="ajeuser", type="userAccount")
        )
        for role in ("puller", "pusher")
    )
    deltas = [
        access_pb2.AccessBindingDelta(action=access_pb2.ADD, access_binding=puller),  # present: nothing changes
        access_pb2.AccessBindingDelta(action=access_pb2.ADD, access_binding=pusher),
        access_pb2.AccessBindingDelta(action=access_pb2.REMOVE, access_binding=puller),
    ]
    for stub, resource_id in ((stubs.registries, registry.id), (stubs.artifacts, latest.id)):
        stub.SetAccessBindings(
            access_pb2.SetAccessBindingsRequest(resource_id=resource_id, access_bindings=[puller]), timeout=10
        )
        stub.UpdateAccessBindings(
            access_pb2.UpdateAccessBindingsRequest(resource_id=resource_id, access_binding_deltas=deltas), timeout=10
        )
        listed = stub.ListAccessBindings(access_pb2.ListAccessBindingsRequest(resource_id=resource_id), timeout=10)
        assert list(listed.access_bindings) == [pusher], resource_id


def test_a_seed_holds_cloud_registry_registries_and_folders_and_refuses_what_create_refuses(fresh):
    seed = {
        "registries": [
            {
                "folder_id": FOLDER, "name": "docker", "kind": "DOCKER", "description": "d",
                "properties": {"source": "@docker-hub"}, "pattern_filter": {"include_patterns": ["**"]},
                "folders": [{"path": "team/tools", "created_by": "ajeuser"}],
                "images": [{"repository": "team/web", "tags": ["v1"]}],
                "artifact_access_bindings": [
                    {"path": "team/web/v1", "access_bindings": [{"role_id": "viewer", "subject": {"id": "u", "type": "userAccount"}}]}
                ],
            },
            {"folder_id": FOLDER, "name": "maven", "kind": "MAVEN", "type": "REMOTE"},
        ]
    }  # fmt: skip
    fresh.load_seed(seed)
    registries = {r.name: r for r in fresh.store.registries.values()}
    assert (registries["docker"].kind, registries["docker"].type) == ("DOCKER", "LOCAL")  # LOCAL unless given
    assert registries["maven"].type == "REMOTE"
    assert sorted(f.path for f in fresh.store.folders.values()) == ["team", "team/tools"]
    before = fresh.state()
    for registry, problem in (
        ({"kind": "NOPE"}, "kind"),
        ({"kind": "MAVEN", "properties": {"bad-key": "x"}}, "properties"),
        ({"type": "LOCAL"}, "only a Cloud Registry registry"),
        ({"kind": "MAVEN", "images": [{"repository": "a", "tags": ["v1"]}]}, "holds no Docker images"),
        ({"kind": "DOCKER", "folders": [{"path": "../x"}]}, "folders[0].path"),
        ({"kind": "DOCKER", "artifact_access_bindings": [{"path": "x/y", "access_bindings": []}]}, "not found"),
    ):
        with pytest.raises(ValueError, match=re.escape(problem)):
            fresh.load_seed({"registries": [{"folder_id": FOLDER, **registry}]})
        assert fresh.state() == before, registry  # nothing of a bad seed stays


# ---- the Cloud Registry page's recipe, run as written---------------------------------------------

DOC_CLOUD_REGISTRY = """\
import grpc
from yandex.cloud.cloudregistry.v1 import artifact_service_pb2 as artifacts_pb, artifact_service_pb2_grpc
from yandex.cloud.cloudregistry.v1 import registry_service_pb2 as registries_pb, registry_service_pb2_grpc

from emulator import Emulator

with Emulator() as emulator:
    registry = emulator.add_registry("b1g0000000000000demo", name="docker", kind="DOCKER")
    image = emulator.add_image(registry.id, "library/ubuntu", tags=["latest", "24.04"])
    channel = grpc.insecure_channel(emulator.endpoint)  # Cloud Registry's stubs on a channel
    registries = registry_service_pb2_grpc.RegistryServiceStub(channel)
    artifacts = artifact_service_pb2_grpc.ArtifactServiceStub(channel)
    tree = registries.ListArtifacts(registries_pb.ListArtifactsRequest(registry_id=registry.id, path="library/ubuntu"))
    print([artifact.name for artifact in tree.artifacts])  # ['24.04', 'latest']
    latest = artifacts.GetByPath(artifacts_pb.GetArtifactByPathRequest(registry_id=registry.id, path="library/ubuntu/latest"))
    assert latest.content.docker.manifest_digest == image.digest
    operation = artifacts.Delete(artifacts_pb.DeleteArtifactRequest(artifact_id=latest.id))
    print(operation.done, emulator.images[image.id].tags)  # True ['24.04']: the image keeps its other tag
"""


def test_the_cloud_registry_recipe_runs_as_written(capsys):

    assert_on_page("cloud-registry.md", DOC_CLOUD_REGISTRY=DOC_CLOUD_REGISTRY)
    exec(compile(DOC_CLOUD_REGISTRY, "docs/cloud-registry.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == ["['24.04', 'latest']", "True ['24.04']"]


def test_the_sdk_waits_for_cloud_registry_operations_and_cannot_build_its_clients(ycr, ycr_sdk, ycr_channel):
    """Documented (yandexcloud 0.413.0): SDK.client() has no cloudregistry entry; its operation
    waiter, which asks OperationService, works for Cloud Registry's operations."""
    with pytest.raises(RuntimeError, match="Unknown service"):
        ycr_sdk.client(registry_service_pb2_grpc.RegistryServiceStub)
    stub = registry_service_pb2_grpc.RegistryServiceStub(ycr_channel)
    request = registry_service_pb2.CreateRegistryRequest(
        folder_id=FOLDER, name="waited", kind=Registry.NPM, type=Registry.LOCAL
    )
    operation = stub.Create(request, timeout=10)
    result = ycr_sdk.wait_operation_and_get_result(
        operation, response_type=Registry, meta_type=registry_service_pb2.CreateRegistryMetadata
    )
    assert result.response.name == "waited" and result.meta.registry_id == result.response.id
    assert_exercised("python", "a Cloud Registry operation waited", ycr.calls)


# ---- scans and scan policies ----------------------------------------------------------------

from yandex.cloud.cloudregistry.v1 import (  # noqa: E402
    scan_policy_pb2,
    scan_policy_service_pb2,
    scan_policy_service_pb2_grpc,
    scanner_pb2,
    scanner_service_pb2,
    scanner_service_pb2_grpc,
)
from yandex.cloud.containerregistry.v1 import scanner_service_pb2 as old_scanner_service_pb2  # noqa: E402
from yandex.cloud.containerregistry.v1 import scanner_service_pb2_grpc as old_scanner_service_pb2_grpc  # noqa: E402

REPORT = [
    {"severity": "LOW", "package": {"name": "CVE-2024-0001", "package": "zlib", "version": "1.2", "fixed_by": "1.3"}},
    {"severity": "CRITICAL", "package": {"name": "CVE-2024-6387", "package": "openssh-server", "type": "deb"}},
    {"severity": "HIGH", "package": {"name": "CVE-2024-0002", "package": "openssl", "origin": "os"}},
]


@pytest.fixture
def scanning(emulator):
    with emulator.channel() as channel:
        yield (
            scanner_service_pb2_grpc.ScannerServiceStub(channel),
            scan_policy_service_pb2_grpc.ScanPolicyServiceStub(channel),
            old_scanner_service_pb2_grpc.ScannerServiceStub(channel),
        )


def artifact_at(stubs, registry_id: str, path: str) -> Artifact:
    request = artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry_id, path=path)
    return stubs.artifacts.GetByPath(request, timeout=10)


@pytest.mark.behaviour(
    "cloudregistry.ScannerService/Scan",
    "documented",
    "Scan takes an artifact id and answers a ScanResult; Get, GetLast (the last finished) and ListVulnerabilities read it.",
    "yandex/cloud/cloudregistry/v1/scanner_service.proto",
)
@pytest.mark.behaviour(
    "cloudregistry.ScannerService/Get",
    "documented",
    "Scan takes an artifact id and answers a ScanResult; Get, GetLast (the last finished) and ListVulnerabilities read it.",
    "yandex/cloud/cloudregistry/v1/scanner_service.proto",
)
@pytest.mark.behaviour(
    "cloudregistry.ScannerService/GetLast",
    "documented",
    "Scan takes an artifact id and answers a ScanResult; Get, GetLast (the last finished) and ListVulnerabilities read it.",
    "yandex/cloud/cloudregistry/v1/scanner_service.proto",
)
@pytest.mark.behaviour(
    "cloudregistry.ScannerService/ListVulnerabilities",
    "documented",
    "Scan takes an artifact id and answers a ScanResult; Get, GetLast (the last finished) and ListVulnerabilities read it.",
    "yandex/cloud/cloudregistry/v1/scanner_service.proto",
)
def test_an_artifact_scan_finds_the_report_of_its_digest(fresh, docker, stubs, scanning):
    """Documented: Scan takes an artifact id; ScanMetadata names the artifact; GetLast is the last
    finished result. On Container Registry's engine: what a scan finds is the seeded report."""
    scanner, _, old_scanner = scanning
    registry, tagged, _, _ = docker
    fresh.add_vulnerability_report(tagged.digest, REPORT)
    latest = artifact_at(stubs, registry.id, "library/ubuntu/latest")
    operation = scanner.Scan(scanner_service_pb2.ScanRequest(artifact_id=latest.id), timeout=10)
    metadata, done = scanner_service_pb2.ScanMetadata(), scanner_pb2.ScanResult()
    operation.metadata.Unpack(metadata)
    operation.response.Unpack(done)
    assert metadata.artifact_id == latest.id and operation.done
    assert (done.artifact_id, done.status) == (latest.id, scanner_pb2.ScanResult.READY)
    assert (done.vulnerabilities.critical, done.vulnerabilities.high, done.vulnerabilities.low) == (1, 1, 1)
    assert done.id.startswith("che")
    last = scanner.GetLast(scanner_service_pb2.GetLastScanResultRequest(artifact_id=latest.id), timeout=10)
    assert last == done == scanner.Get(scanner_service_pb2.GetScanResultRequest(scan_result_id=done.id), timeout=10)
    by_severity = scanner.ListVulnerabilities(
        scanner_service_pb2.ListVulnerabilitiesRequest(scan_result_id=done.id, order_by="severity"), timeout=10
    ).vulnerabilities
    assert [v.name for v in by_severity] == ["CVE-2024-6387", "CVE-2024-0002", "CVE-2024-0001"]
    zlib = by_severity[2]
    assert (zlib.package_name, zlib.package_version, zlib.package_fixed_version) == ("zlib", "1.2", "1.3")
    high = scanner_service_pb2.ListVulnerabilitiesFilter(severity=scanner_pb2.Vulnerability.HIGH)
    only = scanner.ListVulnerabilities(
        scanner_service_pb2.ListVulnerabilitiesRequest(scan_result_id=done.id, filter=high), timeout=10
    )
    assert [v.name for v in only.vulnerabilities] == ["CVE-2024-0002"]
    # One state, two APIs: Container Registry's scanner does not find this result, nor the image.
    old = old_scanner_service_pb2.GetScanResultRequest(scan_result_id=done.id)
    assert refused(old_scanner.Get, old).code() == grpc.StatusCode.NOT_FOUND
    old = old_scanner_service_pb2.ScanRequest(image_id=tagged.id)
    assert refused(old_scanner.Scan, old).code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.behaviour(
    "cloudregistry.ScannerService/List",
    "documented",
    "List filters on status, orders by status (critical first) and pages, 10 a page by default.",
    "yandex/cloud/cloudregistry/v1/scanner_service.proto (ListScanResultsRequest: page_size Default value: 10; filter by ScanResult.status; ordering only on ScanResult.status, critical first)",
)
@pytest.mark.behaviour(
    "cloudregistry.ScannerService/List",
    "choice",
    "Without order_by the results list by id; pages go by position.",
    "the reference gives no default order",
)
def test_an_artifacts_results_list_by_status_and_page(fresh, docker, stubs, scanning):
    scanner, _, _ = scanning
    registry, tagged, _, _ = docker
    latest = artifact_at(stubs, registry.id, "library/ubuntu/latest")
    for _ in range(3):
        scanner.Scan(scanner_service_pb2.ScanRequest(artifact_id=latest.id), timeout=10)
    fresh.configure_operations({"cloudregistry.ScannerService/Scan": "polls:2"})
    pending = scanner.Scan(scanner_service_pb2.ScanRequest(artifact_id=latest.id), timeout=10)
    assert not pending.done
    everything = scanner.List(scanner_service_pb2.ListScanResultsRequest(artifact_id=latest.id), timeout=10)
    assert len(everything.scan_results) == 4 and not everything.next_page_token
    assert [r.id for r in everything.scan_results] == sorted(r.id for r in everything.scan_results)
    running = scanner_service_pb2.ListScanResultsFilter(status=scanner_pb2.ScanResult.RUNNING)
    listed = scanner.List(scanner_service_pb2.ListScanResultsRequest(artifact_id=latest.id, filter=running), timeout=10)
    assert [r.status for r in listed.scan_results] == [scanner_pb2.ScanResult.RUNNING]
    first = scanner.List(scanner_service_pb2.ListScanResultsRequest(artifact_id=latest.id, page_size=3), timeout=10)
    rest = scanner.List(
        scanner_service_pb2.ListScanResultsRequest(
            artifact_id=latest.id, page_size=3, page_token=first.next_page_token
        ),
        timeout=10,
    )
    assert list(first.scan_results) + list(rest.scan_results) == list(everything.scan_results)
    package = artifact_at(stubs, registry.id, "library/ubuntu")
    error = refused(scanner.Scan, scanner_service_pb2.ScanRequest(artifact_id=package.id))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "only Docker images" in error.details()
    fresh.configure_operations({})
    fresh.add_vulnerability_report(tagged.digest, REPORT)
    for _ in range(7):  # 11 results, these 7 with a critical vulnerability
        scanner.Scan(scanner_service_pb2.ScanRequest(artifact_id=latest.id), timeout=10)
    by_default = scanner.List(scanner_service_pb2.ListScanResultsRequest(artifact_id=latest.id), timeout=10)
    assert len(by_default.scan_results) == 10 and by_default.next_page_token
    request = scanner_service_pb2.ListScanResultsRequest(artifact_id=latest.id, order_by="status", page_size=20)
    by_status = scanner.List(request, timeout=10).scan_results
    assert [r.vulnerabilities.critical for r in by_status] == [1] * 7 + [0] * 4


@pytest.mark.behaviour(
    "cloudregistry.ScanPolicyService/Create",
    "documented",
    "Only a LOCAL or REMOTE DOCKER registry takes a scan policy.",
    "https://github.com/yandex-cloud/docs/blob/master/en/cloud-registry/operations/registry/scanning.md (You can only configure scanning for local and remote Docker registries)",
)
@pytest.mark.behaviour(
    "cloudregistry.ScanPolicyService/Create",
    "choice",
    "One scan policy a registry: a second is ALREADY_EXISTS, one for another kind or type of registry FAILED_PRECONDITION.",
    "the page names the registries that can be scanned, not how many policies one has or the codes; GetByRegistry answers 'the' policy",
)
@pytest.mark.behaviour(
    "cloudregistry.ScanPolicyService/Get",
    "documented",
    "Get answers the policy by id.",
    "yandex/cloud/cloudregistry/v1/scan_policy_service.proto",
)
@pytest.mark.behaviour(
    "cloudregistry.ScanPolicyService/GetByRegistry",
    "documented",
    "GetByRegistry answers the registry's policy; NOT_FOUND once it is deleted.",
    "yandex/cloud/cloudregistry/v1/scan_policy_service.proto; https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (NOT_FOUND: The requested resource not found)",
)
@pytest.mark.behaviour(
    "cloudregistry.ScanPolicyService/Update",
    "documented",
    "Update changes only the fields its update_mask names.",
    "yandex/cloud/cloudregistry/v1/scan_policy_service.proto (update_mask: which fields of the scan policy resource are going to be updated)",
)
@pytest.mark.behaviour(
    "cloudregistry.ScanPolicyService/Delete",
    "documented",
    "Delete deletes the policy.",
    "yandex/cloud/cloudregistry/v1/scan_policy_service.proto",
)
def test_a_registrys_scan_policy_is_kept_once_and_only_for_local_and_remote_docker(fresh, stubs, scanning):
    """Documented: "You can only configure scanning for local and remote Docker registries"
    (operations/registry/scanning.md); GetByRegistry answers the registry's one policy."""
    _, policies, _ = scanning
    registry = create(stubs, name="scanned")
    rules = scan_policy_pb2.ScanRules(
        push_rule=scan_policy_pb2.PushRule(paths=["library"]),
        schedule_rules=[
            scan_policy_pb2.ScheduledRule(amount=7, interval_unit=scan_policy_pb2.ScheduledRule.DAYS, paths=["*"])
        ],
    )
    request = scan_policy_service_pb2.CreateScanPolicyRequest(
        registry_id=registry.id, name="nightly", rules=rules, scan_lang_packages=True
    )
    operation = policies.Create(request, timeout=10)
    created, metadata = scan_policy_pb2.ScanPolicy(), scan_policy_service_pb2.CreateScanPolicyMetadata()
    operation.response.Unpack(created)
    operation.metadata.Unpack(metadata)
    assert (metadata.registry_id, metadata.name, metadata.scan_lang_packages) == (registry.id, "nightly", True)
    by_registry = policies.GetByRegistry(
        scan_policy_service_pb2.GetScanPolicyByRegistryRequest(registry_id=registry.id), timeout=10
    )
    assert by_registry == created and created.rules == rules and created.scan_policy_options.scan_lang_packages
    assert refused(policies.Create, request).code() == grpc.StatusCode.ALREADY_EXISTS
    update = scan_policy_service_pb2.UpdateScanPolicyRequest(
        scan_policy_id=created.id, update_mask=FieldMask(paths=["disabled"]), disabled=True, name="ignored"
    )
    policies.Update(update, timeout=10)
    got = policies.Get(scan_policy_service_pb2.GetScanPolicyRequest(scan_policy_id=created.id), timeout=10)
    assert got.disabled and got.name == "nightly"
    bad = scan_policy_service_pb2.CreateScanPolicyRequest(
        registry_id=registry.id, rules=scan_policy_pb2.ScanRules(push_rule=scan_policy_pb2.PushRule(paths=["Bad Path"]))
    )
    error = refused(policies.Create, bad)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "rules.push_rule.paths" in error.details()
    for kind, registry_type in ((Registry.MAVEN, Registry.LOCAL), (Registry.DOCKER, Registry.VIRTUAL)):
        other = create(stubs, name=f"other-{kind}-{registry_type}", kind=kind, type=registry_type)
        request = scan_policy_service_pb2.CreateScanPolicyRequest(registry_id=other.id, rules=rules)
        assert refused(policies.Create, request).code() == grpc.StatusCode.FAILED_PRECONDITION
    state = fresh.state()
    with Emulator() as again:
        again.load_seed(state)
        assert again.state() == state
    policies.Delete(scan_policy_service_pb2.DeleteScanPolicyRequest(scan_policy_id=created.id), timeout=10)
    request = scan_policy_service_pb2.GetScanPolicyByRegistryRequest(registry_id=registry.id)
    assert refused(policies.GetByRegistry, request).code() == grpc.StatusCode.NOT_FOUND


# ---- lifecycle policies ---------------------------------------------------------------------

from yandex.cloud.cloudregistry.v1 import (  # noqa: E402
    lifecycle_policy_pb2,
    lifecycle_policy_service_pb2,
    lifecycle_policy_service_pb2_grpc,
)

LP = lifecycle_policy_pb2
DAY = 86_400


def rule(**fields) -> lifecycle_policy_pb2.LifecycleRule:
    return LP.LifecycleRule(**fields)


@pytest.fixture
def policies(emulator):
    with emulator.channel() as channel:
        yield lifecycle_policy_service_pb2_grpc.LifecyclePolicyServiceStub(channel)


@pytest.fixture
def aged(fresh, stubs):
    """A Docker registry whose ubuntu package holds 5 tagged versions a day apart (v1 oldest, 5 days
    old) and 2 untagged ones, and whose vault package holds 3 tagged versions."""
    registry = create(stubs, name="aged")
    now = fresh.store.clock.now_ns() // 10**9
    for n in range(1, 6):
        fresh.add_image(registry.id, "library/ubuntu", tags=[f"v{n}"], created_at_ns=(now - (6 - n) * DAY) * 10**9)
    for n in range(2):
        fresh.add_image(registry.id, "library/ubuntu", created_at_ns=(now - 10 * DAY + n) * 10**9)
    for n in range(1, 4):
        fresh.add_image(registry.id, "vault", tags=[f"1.{n}"], created_at_ns=(now - (4 - n) * DAY) * 10**9)
    return registry


def make_policy(policies, registry_id: str, rules, **fields) -> LP.LifecyclePolicy:
    request = lifecycle_policy_service_pb2.CreateLifecyclePolicyRequest(registry_id=registry_id, rules=rules, **fields)
    operation = policies.Create(request, timeout=10)
    assert operation.done and not operation.HasField("error"), operation.error
    created, metadata = LP.LifecyclePolicy(), lifecycle_policy_service_pb2.CreateLifecyclePolicyMetadata()
    operation.response.Unpack(created)
    operation.metadata.Unpack(metadata)
    assert metadata.policy_id == created.id
    return created


def dry_run(policies, policy_id: str) -> lifecycle_policy_service_pb2.DryRunLifecyclePolicyResponse:
    operation = policies.DryRun(
        lifecycle_policy_service_pb2.DryRunLifecyclePolicyRequest(policy_id=policy_id), timeout=10
    )
    result = lifecycle_policy_service_pb2.DryRunLifecyclePolicyResponse()
    operation.response.Unpack(result)
    return result


def doomed(policies, run_id: str, **fields) -> list[tuple[str, str, int]]:
    request = lifecycle_policy_service_pb2.ListDryRunLifecyclePolicyArtifactsRequest(dry_run_id=run_id, **fields)
    return [
        (a.path, LP.LifecycleRuleType.Name(a.affected_by.rule_type), a.affected_by.rule_index)
        for a in policies.ListDryRunArtifacts(request, timeout=10).artifacts
    ]


@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/Create",
    "documented",
    "At most 10 policies a registry.",
    "https://github.com/yandex-cloud/docs/blob/master/en/_includes/cloud-registry/cloud-registry-limits.md (Maximum number of lifecycle policies per registry: 10)",
)
@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/Create",
    "choice",
    "The 11th policy is RESOURCE_EXHAUSTED; a Create without state makes a DISABLED policy.",
    "the limits page gives the number, not the code; the reference gives no default state, and DISABLED runs nothing",
)
@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/ChangeState",
    "documented",
    "At most one policy of a registry is active.",
    "https://github.com/yandex-cloud/docs/blob/master/en/_includes/cloud-registry/cloud-registry-limits.md (Maximum number of active lifecycle policies per registry: 1)",
)
@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/ChangeState",
    "choice",
    "Enabling a second policy of a registry is FAILED_PRECONDITION.",
    "the limits page gives the limit, not the code production answers",
)
@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/Get",
    "documented",
    "Get answers the policy as created.",
    "yandex/cloud/cloudregistry/v1/lifecycle_policy_service.proto",
)
@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/List",
    "documented",
    "List pages a registry's policies.",
    "yandex/cloud/cloudregistry/v1/lifecycle_policy_service.proto",
)
@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/Update",
    "choice",
    "update_mask may name name, description, rules (replaced whole) and state.",
    "the reference lists the fields, not the mask's paths",
)
def test_a_policy_is_created_read_listed_updated_and_enabled_once_a_registry(fresh, aged, policies):
    """Documented: at most 10 policies a registry and 1 enabled; new policies are best created
    DISABLED (the emulator's default when state is unset); ChangeState answers Empty."""
    keep = rule(keep_by_version=LP.KeepByVersionLifecycleRule(keep_versions_count=2))
    first = make_policy(policies, aged.id, [keep], name="keep-two", description="d")
    assert (first.state, first.registry_id, first.name, first.created_by) == (
        LP.DISABLED,
        aged.id,
        "keep-two",
        first.created_by,
    )
    assert first.id.startswith("cn1") and list(first.rules) == [keep]
    got = policies.Get(lifecycle_policy_service_pb2.GetLifecyclePolicyRequest(policy_id=first.id), timeout=10)
    assert got == first
    policies.ChangeState(
        lifecycle_policy_service_pb2.ChangeLifecyclePolicyStateRequest(policy_id=first.id, state=LP.ENABLED), timeout=10
    )
    second = make_policy(policies, aged.id, [keep], name="another")
    enable = lifecycle_policy_service_pb2.ChangeLifecyclePolicyStateRequest(policy_id=second.id, state=LP.ENABLED)
    assert refused(policies.ChangeState, enable).code() == grpc.StatusCode.FAILED_PRECONDITION
    for n in range(8):
        make_policy(policies, aged.id, [keep], name=f"more-{n}")
    one_more = lifecycle_policy_service_pb2.CreateLifecyclePolicyRequest(registry_id=aged.id, rules=[keep])
    assert refused(policies.Create, one_more).code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    listed = policies.List(
        lifecycle_policy_service_pb2.ListLifecyclePolicyRequest(registry_id=aged.id, page_size=4), timeout=10
    )
    assert len(listed.policies) == 4 and listed.next_page_token
    update = lifecycle_policy_service_pb2.UpdateLifecyclePolicyRequest(
        policy_id=second.id, update_mask=FieldMask(paths=["description", "rules"]), description="new",
        rules=[keep, rule(delete=LP.DeleteLifecycleRule(type=LP.HARD_DELETE, always=True))],
    )  # fmt: skip
    policies.Update(update, timeout=10)
    got = policies.Get(lifecycle_policy_service_pb2.GetLifecyclePolicyRequest(policy_id=second.id), timeout=10)
    assert (got.description, len(got.rules), got.state) == ("new", 2, LP.DISABLED)
    assert got.modified_at.ToNanoseconds() >= got.created_at.ToNanoseconds()


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        ([LP.LifecycleRule(path_prefix="/x")], "rules[0]"),
        ([LP.LifecycleRule(delete=LP.DeleteLifecycleRule(type=LP.HARD_DELETE))], "rules[0].delete"),
        ([LP.LifecycleRule(delete=LP.DeleteLifecycleRule(always=True))], "rules[0].delete.type"),
        ([LP.LifecycleRule(keep_by_version=LP.KeepByVersionLifecycleRule())], "rules[0].keep_by_version"),
        ([LP.LifecycleRule(keep_by_age=LP.KeepByAgeLifecycleRule(younger_than_days=-1))], "rules[0].keep_by_age"),
        (
            [LP.LifecycleRule(version_regexp="(", delete=LP.DeleteLifecycleRule(type=LP.HARD_DELETE, always=True))],
            "rules[0].version_regexp",
        ),
        ([LP.LifecycleRule(keep_by_age=LP.KeepByAgeLifecycleRule(younger_than_days=1))] * 11, "rules"),
    ],
)
@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/Create",
    "documented",
    "At most 10 rules a policy; a rule has one action (keep_by_age, keep_by_version or delete), a delete rule one condition.",
    "https://github.com/yandex-cloud/docs/blob/master/en/_includes/cloud-registry/cloud-registry-limits.md (Maximum number of rules per lifecycle policy: 10); https://github.com/yandex-cloud/docs/blob/master/en/cloud-registry/concepts/lifecycle-policy.md (mutually exclusive; you can only specify one action per rule, one deletion condition)",
)
@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/Create",
    "choice",
    "An 11th rule, a rule without an action, a delete rule without condition or type, a count outside 0-36,500 or a regexp that does not compile is INVALID_ARGUMENT naming it.",
    "what production refuses is not public; these rules could not run",
)
def test_a_rule_production_could_not_run_is_refused_naming_it(fresh, aged, policies, rules, named):
    request = lifecycle_policy_service_pb2.CreateLifecyclePolicyRequest(registry_id=aged.id, rules=rules)
    error = refused(policies.Create, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith(f"{named}"), error.details()
    assert fresh.store.cloud_lifecycle_policies == {}


@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/DryRun",
    "documented",
    "KEEP rules win over delete rules; version counts are per package; a rule applies to what matches all its filters.",
    "https://github.com/yandex-cloud/docs/blob/master/en/cloud-registry/concepts/lifecycle-policy.md",
)
@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/ListDryRunArtifacts",
    "documented",
    "The affected artifacts filter on path and version and order by path, ascending by default.",
    'yandex/cloud/cloudregistry/v1/lifecycle_policy_service.proto (path_filter, version_filter; order_by: Defaults to "path asc" when empty)',
)
@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/GetDryRunResult",
    "documented",
    "GetDryRunResult answers the dry run's result again.",
    "yandex/cloud/cloudregistry/v1/lifecycle_policy_service.proto",
)
def test_a_dry_run_says_what_keep_and_delete_rules_would_delete(fresh, aged, policies):
    """Documented: KEEP rules win over delete rules; version counts are per package; a rule applies
    to what matches all its filters (path_prefix, version_regexp, tag_status); the dry run counts
    hard and soft deletions and lists the artifacts with the rule that would delete each."""
    rules = [
        rule(path_prefix="/library/ubuntu", docker_filters=LP.DockerFilters(tag_status=LP.DockerFilters.UNTAGGED),
             delete=LP.DeleteLifecycleRule(type=LP.HARD_DELETE, older_than_days=7)),
        rule(docker_filters=LP.DockerFilters(tag_status=LP.DockerFilters.TAGGED),
             delete=LP.DeleteLifecycleRule(type=LP.SOFT_DELETE, cooldown_period_days=7,
                                           version_condition=LP.DeleteByVersionCondition(versions_count_greater_than=1))),
        rule(version_regexp="v[12]", keep_by_version=LP.KeepByVersionLifecycleRule(keep_versions_count=1)),
    ]  # fmt: skip
    policy = make_policy(policies, aged.id, rules, name="tidy")
    result = dry_run(policies, policy.id)
    # ubuntu: untagged (10 days) -> rule 0 HARD; v1..v4 beyond the newest tagged -> rule 1 SOFT, but v2
    # (the newest of v1, v2) is kept by rule 2; vault: 1.1 and 1.2 -> rule 1 SOFT.
    assert doomed(policies, result.dry_run_id) == sorted(
        [(f"/library/ubuntu/{image.digest}", "LIFECYCLE_RULE_TYPE_HARD_DELETE", 0)
         for image in fresh.images.values() if not image.tags]
        + [(f"/library/ubuntu/v{n}", "LIFECYCLE_RULE_TYPE_SOFT_DELETE", 1) for n in (1, 3, 4)]
        + [(f"/vault/1.{n}", "LIFECYCLE_RULE_TYPE_SOFT_DELETE", 1) for n in (1, 2)]
    )  # fmt: skip
    assert (result.artifacts_to_hard_delete_count, result.artifacts_to_soft_delete_count) == (2, 5)
    assert list(result.policy_snapshot) == rules and result.policy_id == policy.id
    assert doomed(policies, result.dry_run_id, version_filter='version = "v3"') == [
        ("/library/ubuntu/v3", "LIFECYCLE_RULE_TYPE_SOFT_DELETE", 1)
    ]
    assert [
        p for p, _, _ in doomed(policies, result.dry_run_id, path_filter='path != "/vault/1.1"', order_by="path desc")
    ][:1] == ["/vault/1.2"]
    again = policies.GetDryRunResult(
        lifecycle_policy_service_pb2.GetDryRunLifecyclePolicyResultRequest(dry_run_id=result.dry_run_id), timeout=10
    )
    assert again == result
    assert len(fresh.images) == 10  # a dry run deletes nothing


@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/ListDryRunResults",
    "documented",
    "Results list newest first by default, and from run_after on.",
    "yandex/cloud/cloudregistry/v1/lifecycle_policy_service.proto",
)
@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService/Delete",
    "choice",
    "A deleted policy takes its dry-run results.",
    "a result belongs to its policy",
)
def test_dry_run_results_list_newest_first_within_a_time_range(fresh, aged, policies):
    policy = make_policy(policies, aged.id, [rule(delete=LP.DeleteLifecycleRule(type=LP.HARD_DELETE, always=True))])
    runs = [dry_run(policies, policy.id) for _ in range(3)]
    listed = policies.ListDryRunResults(
        lifecycle_policy_service_pb2.ListDryRunLifecyclePolicyResultsRequest(policy_id=policy.id), timeout=10
    ).results
    assert [r.dry_run_id for r in listed] == [
        r.dry_run_id for r in sorted(runs, key=lambda r: (r.run_at.ToNanoseconds(), r.dry_run_id), reverse=True)
    ]
    after = runs[-1].run_at
    later = policies.ListDryRunResults(
        lifecycle_policy_service_pb2.ListDryRunLifecyclePolicyResultsRequest(policy_id=policy.id, run_after=after),
        timeout=10,
    ).results
    assert runs[-1].dry_run_id in [r.dry_run_id for r in later]
    policies.Delete(lifecycle_policy_service_pb2.DeleteLifecyclePolicyRequest(policy_id=policy.id), timeout=10)
    request = lifecycle_policy_service_pb2.GetDryRunLifecyclePolicyResultRequest(dry_run_id=runs[0].dry_run_id)
    assert refused(policies.GetDryRunResult, request).code() == grpc.StatusCode.NOT_FOUND  # gone with its policy


def test_policies_and_their_dry_runs_are_kept_by_the_state_file_and_seeds(fresh, aged, policies):
    policy = make_policy(
        policies, aged.id, [rule(delete=LP.DeleteLifecycleRule(type=LP.HARD_DELETE, older_than_days=3))]
    )
    dry_run(policies, policy.id)
    state = fresh.state()
    [entry] = [registry for registry in state["registries"] if registry["id"] == aged.id]
    assert [p["id"] for p in entry["lifecycle_policies"]] == [policy.id]
    with Emulator() as again:
        again.load_seed(state)
        assert again.state() == state
    for bad, problem in (
        ({"rules": [{"delete": {"type": "HARD_DELETE"}}]}, "lifecycle_policies[0]: rules[0].delete: needs a condition"),
        ({"rules": [{"keep_by_age": {"younger_than_days": "x"}}]}, "lifecycle_policies[0].rules[0]: does not fit"),
        ({"state": "ON"}, "lifecycle_policies[0].state: must be one of DISABLED, ENABLED"),
    ):
        seed = {"registries": [{"folder_id": FOLDER, "kind": "DOCKER", "lifecycle_policies": [bad]}]}
        with pytest.raises(ValueError, match=re.escape(problem)):
            fresh.load_seed(seed)
    assert fresh.state() == state  # nothing of a bad seed stays


# ---- found by review ------------------------------------------------------------------------


def test_deleting_a_package_leaves_the_packages_below_it(fresh, stubs):
    """Found by review: deleting the package svc dropped the repository svc/api too, leaving its image
    with no repository (then state() failed and calls on it answered INTERNAL)."""
    registry = create(stubs, name="nested")
    fresh.add_image(registry.id, "svc", tags=["v1"])
    inner = fresh.add_image(registry.id, "svc/api", tags=["1"])
    package = artifact_at(stubs, registry.id, "svc")
    stubs.artifacts.Delete(artifact_service_pb2.DeleteArtifactRequest(artifact_id=package.id), timeout=10)
    assert list(fresh.images) == [inner.id]
    assert artifact_at(stubs, registry.id, "svc/api/1").content.docker.manifest_digest == inner.digest
    assert children(stubs, registry.id) == [("FOLDER", "", "svc")]
    fresh.state()  # every image has its repository


def test_a_path_that_is_a_package_is_listed_once(fresh, stubs):
    """Found by review: svc (a package) and svc/api (whose path makes the folder svc) showed svc twice."""
    registry = create(stubs, name="both")
    fresh.add_image(registry.id, "svc/api", tags=["1"])
    fresh.add_image(registry.id, "svc", tags=["v1"])
    assert children(stubs, registry.id) == [("PACKAGE", "", "svc")]
    assert children(stubs, registry.id, "svc") == [("PACKAGE", "svc", "api"), ("ARTIFACT", "svc", "v1")]
    kinds = [a.kind for a in list_all(stubs, registry_id=registry.id) if a.name == "svc"]
    assert kinds == [Artifact.PACKAGE]


@pytest.mark.behaviour(
    "cloudregistry.ArtifactService/GetByPath",
    "choice",
    "Paths are taken with or without slashes around them; a path of slashes alone is INVALID_ARGUMENT.",
    "the docs write both forms",
)
def test_filters_and_paths_take_slashes_around_them(docker, stubs):
    """Found by review: path_filter = "/library/ubuntu" matched nothing; GetByPath("/") was NOT_FOUND
    and ListArtifacts took a path beyond 1,024 characters made of slashes."""
    registry, *_ = docker
    assert len(list_all(stubs, registry_id=registry.id, path_filter='path = "/library/ubuntu"')) == 3
    for path in ("/", "//"):
        request = artifact_service_pb2.GetArtifactByPathRequest(registry_id=registry.id, path=path)
        error = refused(stubs.artifacts.GetByPath, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith("path:")
    request = registry_service_pb2.ListArtifactsRequest(registry_id=registry.id, path="/" * 1030)
    error = refused(stubs.registries.ListArtifacts, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith("path:")


@pytest.mark.behaviour(
    "RepositoryService/Get",
    "choice",
    "A Cloud Registry package's id is NOT_FOUND to RepositoryService.Get.",
    "each API sees only its own registries",
)
def test_container_registry_calls_do_not_reveal_a_cloud_registry_package(fresh, docker, stubs):
    """Found by review: RepositoryService.Get of a package's id answered with its registry and path."""
    from yandex.cloud.containerregistry.v1 import repository_service_pb2, repository_service_pb2_grpc

    registry, *_ = docker
    package = artifact_at(stubs, registry.id, "library/ubuntu")
    with fresh.channel() as channel:
        repositories = repository_service_pb2_grpc.RepositoryServiceStub(channel)
        error = refused(repositories.Get, repository_service_pb2.GetRepositoryRequest(repository_id=package.id))
    assert error.code() == grpc.StatusCode.NOT_FOUND and error.details() == f"Repository {package.id} not found"


def test_a_seeded_scan_result_names_its_images_artifact(fresh, docker, stubs):
    """Found by review: a seed's result could name an artifact that is not its image's."""
    registry, tagged, _, _ = docker
    package = artifact_at(stubs, registry.id, "library/ubuntu")  # a package's id is its repository's
    result = {
        "id": "che00000000000000001", "image_id": tagged.id, "repository_id": package.id,
        "folder_id": FOLDER, "status": "READY", "scanned_at": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    before = fresh.state()
    for artifact_id in ("cn1garbagegarbagegar", artifact_at(stubs, registry.id, "app/v1").id):
        with pytest.raises(ValueError, match="artifact_id"):
            fresh.load_seed({"registries": [], "scan_results": [{**result, "artifact_id": artifact_id}]})
        assert fresh.state() == before
    latest = artifact_at(stubs, registry.id, "library/ubuntu/latest").id
    fresh.load_seed({"registries": [], "scan_results": [{**result, "artifact_id": latest}]})
    assert fresh.store.scan_results["che00000000000000001"].artifact_id == latest


def test_a_container_registry_images_seeded_scan_result_names_no_artifact(fresh, docker, stubs):
    """A result without an artifact is Container Registry's (also of an image moved to Cloud Registry
    since: tests/test_migration.py); one naming an artifact must be of a Cloud Registry image."""
    registry = fresh.add_registry(FOLDER, name="container-registry")
    image = fresh.add_image(registry.id, "app", tags=["v1"])
    [repository_id] = [repository.id for repository in fresh.store._repositories_of(registry.id)]
    result = {
        "id": "che00000000000000002", "image_id": image.id, "repository_id": repository_id, "folder_id": FOLDER,
        "status": "READY", "scanned_at": "2026-01-01T00:00:00Z",
        "artifact_id": artifact_at(stubs, docker[0].id, "library/ubuntu/latest").id,
    }  # fmt: skip
    before = fresh.state()
    with pytest.raises(ValueError, match="artifact_id: only a Cloud Registry image's result names an artifact"):
        fresh.load_seed({"registries": [], "scan_results": [result]})
    assert fresh.state() == before


@pytest.mark.behaviour(
    "cloudregistry.LifecyclePolicyService",
    "documented",
    "An ENABLED policy's run deletes what HARD rules select now, and what SOFT rules select after their cooldown.",
    "https://github.com/yandex-cloud/docs/blob/master/en/cloud-registry/concepts/lifecycle-policy.md",
)
def test_an_enabled_policy_runs_hard_deletes_now_and_soft_deletes_after_its_cooldown(fresh, aged, policies, stubs):
    """Documented: SOFT_DELETE "marks artifacts for deletion ... they remain in the registry during the
    cooldown period ... After this period ends, the artifacts are permanently deleted"; HARD_DELETE
    removes them. The emulator's choice: a run is a step on demand (or on the lifecycle schedule);
    marked artifacts show status DELETED; each deletion records a DeleteArtifact operation."""
    rules = [
        rule(docker_filters=LP.DockerFilters(tag_status=LP.DockerFilters.UNTAGGED),
             delete=LP.DeleteLifecycleRule(type=LP.HARD_DELETE, always=True)),
        rule(path_prefix="/vault", delete=LP.DeleteLifecycleRule(type=LP.SOFT_DELETE, cooldown_period_days=2,
             version_condition=LP.DeleteByVersionCondition(versions_count_greater_than=1))),
    ]  # fmt: skip
    policy = make_policy(policies, aged.id, rules, state=LP.ENABLED)
    disabled = make_policy(policies, aged.id, rules)
    with pytest.raises(ValueError, match="only an ENABLED policy runs"):
        fresh.run_lifecycle_policies(disabled.id)
    [run] = [run for run in fresh.run_lifecycle_policies() if run.lifecycle_policy_id == policy.id]
    untagged = [image for image in fresh.images.values() if not image.tags]
    assert untagged == [] and len(run.deleted) == 2 and len(run.operations) == 2
    assert sorted(artifact_at(stubs, aged.id, f"vault/1.{n}").id for n in (1, 2)) == sorted(run.soft_deleted)
    marked = artifact_at(stubs, aged.id, "vault/1.1")
    assert marked.status == Artifact.DELETED and artifact_at(stubs, aged.id, "vault/1.3").status == Artifact.ACTIVE
    deleted = list_all(stubs, registry_id=aged.id, status=[Artifact.DELETED])
    assert sorted(a.name for a in deleted) == ["1.1", "1.2"]
    state = fresh.state()
    with Emulator() as again:  # the marks are kept by the state file
        again.load_seed(state)
        assert again.state() == state
    fresh.advance_time(DAY)
    fresh.run_lifecycle_policies(policy.id)
    assert sorted(t for image in fresh.images.values() for t in image.tags if t.startswith("1.")) == [
        "1.1",
        "1.2",
        "1.3",
    ]
    fresh.advance_time(DAY)
    [again] = fresh.run_lifecycle_policies(policy.id)
    assert sorted(again.deleted) == sorted(run.soft_deleted) and again.soft_deleted == ()
    assert sorted(t for image in fresh.images.values() for t in image.tags if t.startswith("1.")) == ["1.3"]
    operation = fresh.store.operations[again.operations[0]]
    assert (operation.created_by, operation.metadata_type) == (
        f"lifecycle-policy:{policy.id}",
        "yandex.cloud.cloudregistry.v1.DeleteArtifactMetadata",
    )


def test_images_with_ids_of_any_seeded_length_are_artifacts_get_and_delete_find(fresh, stubs):
    """Found by the example project (#24): a seed may give an image any id of 1-50 characters, but
    Get and Delete found an artifact only by a 20-character image id, so List showed `oldweb` and
    Delete answered "Artifact oldweb not found"."""
    registry = create(stubs, name="short-ids")
    untagged = fresh.add_image(registry.id, "app", id="oldweb")
    tagged = fresh.add_image(registry.id, "app", id="amuchlongerimageidthantwenty", tags=["v1"])
    listed = {
        artifact.name: artifact.id
        for artifact in list_all(stubs, registry_id=registry.id)
        if artifact.kind == Artifact.ARTIFACT
    }
    assert listed == {untagged.digest: "oldweb", "v1": tag_artifact_id(tagged.id, "v1")}
    for artifact_id in listed.values():
        got = stubs.artifacts.Get(artifact_service_pb2.GetArtifactRequest(artifact_id=artifact_id), timeout=10)
        assert got.id == artifact_id
    for artifact_id in listed.values():
        operation = stubs.artifacts.Delete(artifact_service_pb2.DeleteArtifactRequest(artifact_id=artifact_id))
        assert operation.done and not operation.HasField("error"), operation.error
    assert fresh.store.images.keys().isdisjoint({untagged.id, tagged.id})
