"""RegistryService through the official SDK's stubs over a real channel (issue #9, part 2):
Create/Get/List/Update/Delete/ForceDelete, IP permissions, access bindings, validation at the
wire, idempotency keys and strict auth on every method."""

from __future__ import annotations

import re
import time

import grpc
import pytest
from google.protobuf import empty_pb2, field_mask_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from yandex.cloud.access import access_pb2
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import ip_permission_pb2 as ip_pb
from yandex.cloud.containerregistry.v1 import registry_pb2
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import repository_service_pb2 as repository_pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.containerregistry.v1.repository_service_pb2_grpc import RepositoryServiceStub
from yandex.cloud.operation import operation_service_pb2 as operation_pb

from conftest import FOLDER, assert_invalid, list_pages, rpc_error
from emulator import Emulator
from emulator.contract import strategies

OK = grpc.StatusCode.OK
INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
ALREADY_EXISTS = grpc.StatusCode.ALREADY_EXISTS
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
OTHER_FOLDER = "b1g000000000000other"
ID = re.compile(r"crp[0-9a-v]{17}")
UNKNOWN = "crp0000000000unknown"
ACTIVE = registry_pb2.Registry.Status.ACTIVE
PULL, PUSH = ip_pb.IpPermission.Action.PULL, ip_pb.IpPermission.Action.PUSH
IP_ADD, IP_REMOVE = ip_pb.IpPermissionAction.ADD, ip_pb.IpPermissionAction.REMOVE
BINDING_ADD, BINDING_REMOVE = access_pb2.AccessBindingAction.ADD, access_pb2.AccessBindingAction.REMOVE


@pytest.fixture(scope="module")
def registries(channel):
    """The official SDK's RegistryServiceStub, pointed at the session's emulator."""
    return RegistryServiceStub(channel)


@pytest.fixture(scope="module")
def repositories(channel):
    return RepositoryServiceStub(channel)


def unpack(any_message, message_class):
    assert any_message.Is(message_class.DESCRIPTOR), any_message.type_url
    message = message_class()
    assert any_message.Unpack(message)
    return message


def create(registries, folder_id: str = FOLDER, metadata=None, **fields) -> registry_pb2.Registry:
    """Create a registry through the wire; the Registry of the done operation."""
    operation = registries.Create(pb.CreateRegistryRequest(folder_id=folder_id, **fields), metadata=metadata)
    assert operation.done and not operation.HasField("error"), operation
    return unpack(operation.response, registry_pb2.Registry)


def binding(role: str = "container-registry.images.puller", subject: str = "ajeuser0000000000001"):
    return access_pb2.AccessBinding(role_id=role, subject=access_pb2.Subject(id=subject, type="userAccount"))


def permission(ip: str, action=PULL) -> ip_pb.IpPermission:
    return ip_pb.IpPermission(action=action, ip=ip)


def listed(registries, folder_id: str = FOLDER, **fields) -> list[registry_pb2.Registry]:
    """One List call that must return everything (no next page)."""
    response = registries.List(pb.ListRegistriesRequest(folder_id=folder_id, page_size=1000, **fields))
    assert response.next_page_token == ""
    return list(response.registries)


def ip_permissions(registries, registry_id: str) -> list[tuple[int, str]]:
    response = registries.ListIpPermission(pb.ListIpPermissionRequest(registry_id=registry_id))
    return [(item.action, item.ip) for item in response.permissions]


def bindings(registries, resource_id: str) -> list[tuple[str, str, str]]:
    response = registries.ListAccessBindings(access_pb2.ListAccessBindingsRequest(resource_id=resource_id))
    assert response.next_page_token == ""
    return [(b.role_id, b.subject.id, b.subject.type) for b in response.access_bindings]


# ---- Create ----------------------------------------------------------------------------------------


@pytest.mark.behaviour(
    "RegistryService/Create",
    "documented",
    "Create answers an Operation with CreateRegistryMetadata and the Registry.",
    "yandex/cloud/containerregistry/v1/registry_service.proto",
)
def test_create_returns_a_done_operation_with_metadata_and_the_registry(emulator, registries, operations):
    before = time.time_ns()
    operation = registries.Create(
        pb.CreateRegistryRequest(folder_id=FOLDER, name="my-reg", labels={"team": "ci", "env": ""}, secure=True)
    )
    after = time.time_ns()
    assert operation.done and not operation.HasField("error")
    assert ID.fullmatch(operation.id) and operation.description and operation.created_by
    metadata = unpack(operation.metadata, pb.CreateRegistryMetadata)
    created = unpack(operation.response, registry_pb2.Registry)
    assert metadata.registry_id == created.id and ID.fullmatch(created.id)
    assert (created.folder_id, created.name, dict(created.labels)) == (FOLDER, "my-reg", {"team": "ci", "env": ""})
    assert created.status == ACTIVE
    created_ns = created.created_at.ToNanoseconds()
    assert before - 1_000_000_000 <= created_ns <= after + 1_000_000_000  # the creation's own clock, not a duration
    assert registries.Get(pb.GetRegistryRequest(registry_id=created.id)) == created
    assert listed(registries) == [created]
    assert operations.Get(operation_pb.GetOperationRequest(operation_id=operation.id)) == operation
    assert set(emulator.registries) == {created.id}


@pytest.mark.behaviour(
    "RegistryService/Create",
    "documented",
    "Creating a registry that already exists is ALREADY_EXISTS.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/standard-methods.md#method-create (If you try to create a resource that already exists, the method returns the ALREADY_EXISTS error)",
)
@pytest.mark.behaviour(
    "RegistryService/Create",
    "choice",
    "A folder may hold several registries; a non-empty name is unique in its folder.",
    "the proto comment says one registry per folder, the quotas page counts registries per cloud, and real folders hold several",
)
def test_the_same_name_twice_in_a_folder_is_already_exists_and_adds_nothing(emulator, registries):
    first = create(registries, name="twice")
    state = emulator.state()
    error = rpc_error(registries.Create, pb.CreateRegistryRequest(folder_id=FOLDER, name="twice"))
    assert error.code() == ALREADY_EXISTS, error.details()
    assert "twice" in error.details()
    assert emulator.state() == state
    assert listed(registries) == [first]
    second = create(registries, name="another")
    assert {registry.id for registry in listed(registries)} == {first.id, second.id}  # several in one folder


def test_the_same_name_in_another_folder_is_fine(emulator, registries):
    here = create(registries, name="shared")
    there = create(registries, folder_id=OTHER_FOLDER, name="shared")
    assert here.id != there.id
    assert listed(registries) == [here]
    assert listed(registries, OTHER_FOLDER) == [there]


def test_an_empty_name_is_allowed_and_not_unique(emulator, registries):
    first, second = create(registries), create(registries, name="")
    assert first.name == second.name == "" and first.id != second.id
    assert {r.id for r in listed(registries)} == {first.id, second.id}


def test_create_in_a_folder_the_emulator_cannot_keep_is_invalid(emulator, registries):
    error = rpc_error(registries.Create, pb.CreateRegistryRequest(folder_id="B1G-upper", name="abc"))
    assert_invalid(error, "folder_id")
    assert not emulator.registries


# ---- Get and List ------------------------------------------------------------------------------------


@pytest.mark.parametrize("registry_id", [UNKNOWN, "x", "r" * 50])
def test_get_of_an_unknown_registry_is_not_found(emulator, registries, registry_id):
    error = rpc_error(registries.Get, pb.GetRegistryRequest(registry_id=registry_id))
    assert error.code() == NOT_FOUND, error.details()
    assert registry_id in error.details()


def test_list_sees_its_folder_only_ordered_by_id(emulator, registries):
    made = [emulator.add_registry(FOLDER, name=f"reg-{n}") for n in range(5)]
    emulator.add_registry(OTHER_FOLDER, name="reg-0")
    got = listed(registries)
    assert [r.id for r in got] == sorted(r.id for r in made)
    assert all(r.folder_id == FOLDER for r in got)
    assert listed(registries, "b1g000000000000empty") == []


NAMES = ("alpha", "beta", "gamma", "")  # "" : a registry without a name


@pytest.mark.parametrize(
    ("expression", "keep"),
    [
        ('name = "alpha"', {"alpha"}),
        ("name = 'alpha'", {"alpha"}),
        ('name != "alpha"', {"beta", "gamma", ""}),
        ('name IN ("alpha", "gamma")', {"alpha", "gamma"}),
        ("name in ('beta')", {"beta"}),
        ('name NOT IN ("alpha", "gamma")', {"beta", ""}),
        ('name not in ("nobody")', set(NAMES)),
        ('name = "nobody"', set()),
        ('  name   =   "beta"  ', {"beta"}),
        (f'name = "{"a" * 63}"', set()),  # the longest value the pattern allows
    ],
)
def test_list_filters_on_name(emulator, registries, expression, keep):
    made = {name: emulator.add_registry(FOLDER, name=name).id for name in NAMES}
    emulator.add_registry(OTHER_FOLDER, name="alpha")
    got = [r.id for r in listed(registries, filter=expression)]
    assert got == sorted(made[name] for name in keep)


@pytest.mark.parametrize(
    "expression",
    [
        'name = "ab"',  # shorter than the pattern's 3 characters
        'name = "Alpha"',
        'name = "1abc"',
        'name = "abc-"',
        'name = "a.b.c"',
        f'name = "{"a" * 64}"',
        'name = ""',
        'name IN ("alpha", "Bad")',
        "name IN ()",
        'name ~ "alpha"',
        'id = "crp00000000000000000"',
        "name = alpha",
        "name",
        'name = "alpha" AND name = "beta"',
    ],
)
def test_a_filter_breaking_the_rules_is_invalid_naming_filter(emulator, registries, expression):
    emulator.add_registry(FOLDER, name="alpha")
    error = rpc_error(registries.List, pb.ListRegistriesRequest(folder_id=FOLDER, filter=expression))
    assert_invalid(error, "filter")


def pages(registries, page_size: int, folder_id: str = FOLDER, **fields) -> list[list[str]]:
    """The ids on every page of a List; every page but the last is full."""
    walked = list_pages(registries.List, pb.ListRegistriesRequest, page_size, folder_id=folder_id, **fields)
    assert all(len(page) == page_size for page in walked[:-1]), "a page before the last one is short"
    return [[r.id for r in page] for page in walked]


POOL = ("abc", "web", "api-1", "ci-runner", "")


@st.composite
def filters(draw) -> tuple[str, object]:
    """A filter expression ("": none; else =, !=, IN or NOT IN as emulator.contract.strategies draws them,
    on the pool's names and others) and the model of what it keeps."""
    expression = draw(st.just("") | strategies.filters("RegistryService/List", names=POOL[:-1] + ("zzz",)))
    negated, values = strategies.read_filter(expression)
    return expression, lambda name: (name in values) != negated


@settings(max_examples=40)
@given(
    names=st.lists(st.sampled_from(POOL), max_size=12),
    elsewhere=st.lists(st.sampled_from(POOL), max_size=3),
    chosen=filters(),
    data=st.data(),
)
def test_pages_of_any_size_concatenate_to_one_page(running_emulator, registries, names, elsewhere, chosen, data):
    """Registries in the folder (names may repeat) and in another folder; any page size walks
    the same registries, in the same order, as one big page, and as the model says."""
    running_emulator.reset()
    made = [running_emulator.add_registry(FOLDER, name=name) for name in names]
    for name in elsewhere:
        running_emulator.add_registry(OTHER_FOLDER, name=name)
    expression, keep = chosen
    fields = {"filter": expression} if expression else {}
    whole = [r.id for r in listed(registries, **fields)]
    assert whole == sorted(r.id for r in made if keep(r.name))
    page_size = data.draw(st.integers(1, len(names) + 1), label="page_size")
    walked = pages(registries, page_size, **fields)
    assert [rid for page in walked for rid in page] == whole
    assert len(walked) == max(1, -(-len(whole) // page_size)), "no empty page after a full last one"


@pytest.mark.parametrize(
    "other",
    [
        {"filter": 'name = "abc"'},
        {"filter": 'name != "web"'},
        {"folder_id": OTHER_FOLDER},
    ],
)
def test_a_page_token_reused_for_another_query_is_invalid(emulator, registries, other):
    for _ in range(3):
        emulator.add_registry(FOLDER, name="web")
        emulator.add_registry(OTHER_FOLDER, name="web")
    first = registries.List(pb.ListRegistriesRequest(folder_id=FOLDER, filter='name = "web"', page_size=1))
    assert first.next_page_token
    request = {"folder_id": FOLDER, "filter": 'name = "web"', "page_size": 1} | other
    error = rpc_error(registries.List, pb.ListRegistriesRequest(page_token=first.next_page_token, **request))
    assert_invalid(error, "page_token")


def test_a_page_token_follows_an_equivalent_filter_and_another_page_size(emulator, registries):
    made = sorted(emulator.add_registry(FOLDER, name=name).id for name in ("abc", "web", "abc", "api-1"))
    first = registries.List(pb.ListRegistriesRequest(folder_id=FOLDER, filter='name IN ("abc", "web")', page_size=1))
    rest = registries.List(
        pb.ListRegistriesRequest(
            folder_id=FOLDER, filter="name in ('web','abc')", page_size=10, page_token=first.next_page_token
        )
    )
    wanted = [rid for rid in made if emulator.registries[rid].name in ("abc", "web")]
    assert [r.id for r in (*first.registries, *rest.registries)] == wanted
    assert rest.next_page_token == ""


def test_the_default_page_size_is_100(emulator, registries):
    made = sorted(emulator.add_registry(FOLDER, name="many").id for _ in range(101))
    first = registries.List(pb.ListRegistriesRequest(folder_id=FOLDER))
    assert [r.id for r in first.registries] == made[:100]
    rest = registries.List(pb.ListRegistriesRequest(folder_id=FOLDER, page_token=first.next_page_token))
    assert [r.id for r in rest.registries] == made[100:] and rest.next_page_token == ""


def test_paging_survives_deleting_the_registry_a_page_stopped_at(emulator, registries):
    made = sorted(emulator.add_registry(FOLDER, name=f"reg-{n}").id for n in range(5))
    first = registries.List(pb.ListRegistriesRequest(folder_id=FOLDER, page_size=2))
    assert [r.id for r in first.registries] == made[:2]
    registries.Delete(pb.DeleteRegistryRequest(registry_id=made[1]))
    rest = registries.List(pb.ListRegistriesRequest(folder_id=FOLDER, page_size=10, page_token=first.next_page_token))
    assert [r.id for r in rest.registries] == made[2:]


def test_a_forged_page_token_is_invalid(emulator, registries):
    error = rpc_error(registries.List, pb.ListRegistriesRequest(folder_id=FOLDER, page_token="bm90LWEtdG9rZW4"))
    assert_invalid(error, "page_token")


# ---- Update ------------------------------------------------------------------------------------------


def update(registries, registry_id: str, paths=(), **fields) -> registry_pb2.Registry:
    request = pb.UpdateRegistryRequest(
        registry_id=registry_id, update_mask=field_mask_pb2.FieldMask(paths=list(paths)), **fields
    )
    operation = registries.Update(request)
    assert operation.done and not operation.HasField("error"), operation
    assert unpack(operation.metadata, pb.UpdateRegistryMetadata).registry_id == registry_id
    updated = unpack(operation.response, registry_pb2.Registry)
    assert registries.Get(pb.GetRegistryRequest(registry_id=registry_id)) == updated
    return updated


@pytest.mark.parametrize(
    ("paths", "fields", "name", "labels"),
    [
        (["name"], {"name": "renamed", "labels": {"x": "y"}}, "renamed", {"team": "ci"}),
        (["labels"], {"name": "renamed", "labels": {"x": "y"}}, "before", {"x": "y"}),
        (["labels"], {}, "before", {}),  # labels named in the mask and not set: cleared
        (["name", "labels"], {"name": "renamed"}, "renamed", {}),
        (["name"], {}, "", {"team": "ci"}),  # the name cleared
        ([], {"name": "renamed", "labels": {"x": "y"}}, "renamed", {"x": "y"}),
        ([], {"labels": {"x": "y"}}, "", {"x": "y"}),  # without a mask every field is set: the name reset
        ([], {"name": "renamed"}, "renamed", {}),  # and the labels
        ([], {}, "", {}),
    ],
)
@pytest.mark.behaviour(
    "RegistryService/Update",
    "choice",
    "update_mask may name name and labels.",
    "the reference lists the fields, not the mask's paths",
)
@pytest.mark.behaviour(
    "RegistryService/Update",
    "documented",
    "An Update without update_mask sets every field: those the request leaves unset are reset to their defaults.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/standard-methods.md#method-update (If no update_mask is passed in the request, the values of all fields will be updated; the values of the other fields will be reset to their defaults)",
)
def test_update_changes_the_fields_of_the_mask(emulator, registries, paths, fields, name, labels):
    registry = create(registries, name="before", labels={"team": "ci"})
    updated = update(registries, registry.id, paths, **fields)
    assert (updated.id, updated.folder_id, updated.created_at) == (registry.id, FOLDER, registry.created_at)
    assert (updated.name, dict(updated.labels), updated.status) == (name, labels, ACTIVE)


def test_a_renamed_registry_is_found_by_its_new_name_and_frees_the_old(emulator, registries):
    registry = create(registries, name="old-name")
    update(registries, registry.id, ["name"], name="new-name")
    assert [r.id for r in listed(registries, filter='name = "new-name"')] == [registry.id]
    assert listed(registries, filter='name = "old-name"') == []
    again = create(registries, name="old-name")
    assert {r.id for r in listed(registries)} == {registry.id, again.id}


@pytest.mark.parametrize("paths", [["id"], ["folder_id"], ["name", "status"], ["labels.team"], ["secure"]])
@pytest.mark.behaviour(
    "RegistryService/Update",
    "choice",
    "Any other update_mask path is INVALID_ARGUMENT naming update_mask, and nothing changes.",
    "not documented",
)
def test_an_unknown_update_mask_path_is_invalid_and_changes_nothing(emulator, registries, paths):
    registry = create(registries, name="kept", labels={"a": "b"})
    state = emulator.state()
    request = pb.UpdateRegistryRequest(
        registry_id=registry.id, update_mask=field_mask_pb2.FieldMask(paths=paths), name="other"
    )
    assert_invalid(rpc_error(registries.Update, request), "update_mask")
    assert emulator.state() == state


@pytest.mark.behaviour(
    "RegistryService/Update",
    "choice",
    "A rename to a name taken in the folder is ALREADY_EXISTS.",
    "names are unique in a folder, as at Create",
)
def test_a_rename_to_a_taken_name_is_already_exists(emulator, registries):
    taken = create(registries, name="taken")
    registry = create(registries, name="mine")
    state = emulator.state()
    error = rpc_error(
        registries.Update,
        pb.UpdateRegistryRequest(
            registry_id=registry.id, update_mask=field_mask_pb2.FieldMask(paths=["name"]), name="taken"
        ),
    )
    assert error.code() == ALREADY_EXISTS, error.details()
    assert emulator.state() == state
    assert [r.id for r in listed(registries, filter='name = "taken"')] == [taken.id]
    assert update(registries, registry.id, ["name"], name="mine").name == "mine"  # its own name is not taken


def test_update_of_an_unknown_registry_is_not_found(emulator, registries):
    request = pb.UpdateRegistryRequest(registry_id=UNKNOWN, update_mask=field_mask_pb2.FieldMask(paths=["name"]))
    assert rpc_error(registries.Update, request).code() == NOT_FOUND


# ---- Delete and ForceDelete --------------------------------------------------------------------------


def test_delete_of_an_empty_registry(emulator, registries, operations):
    registry = create(registries, name="empty")
    bystander = create(registries, name="bystander")
    operation = registries.Delete(pb.DeleteRegistryRequest(registry_id=registry.id))
    assert operation.done and not operation.HasField("error")
    assert unpack(operation.metadata, pb.DeleteRegistryMetadata).registry_id == registry.id
    unpack(operation.response, empty_pb2.Empty)
    assert operations.Get(operation_pb.GetOperationRequest(operation_id=operation.id)) == operation
    assert rpc_error(registries.Get, pb.GetRegistryRequest(registry_id=registry.id)).code() == NOT_FOUND
    assert listed(registries) == [bystander]
    assert create(registries, name="empty").id != registry.id  # the name is free again
    again = rpc_error(registries.Delete, pb.DeleteRegistryRequest(registry_id=registry.id))
    assert again.code() == NOT_FOUND


@pytest.mark.behaviour(
    "RegistryService/Delete",
    "choice",
    "A registry's empty repositories go with it.",
    "an empty repository holds nothing to lose",
)
def test_delete_of_a_registry_holding_only_an_upserted_empty_repository(emulator, registries, repositories):
    registry = create(registries, name="upserted")
    operation = repositories.Upsert(repository_pb.UpsertRepositoryRequest(name=f"{registry.id}/team/web"))
    assert operation.done and not operation.HasField("error")
    assert len(emulator.repositories) == 1
    registries.Delete(pb.DeleteRegistryRequest(registry_id=registry.id))
    assert rpc_error(registries.Get, pb.GetRegistryRequest(registry_id=registry.id)).code() == NOT_FOUND
    assert not emulator.repositories
    error = rpc_error(
        repositories.GetByName, repository_pb.GetRepositoryByNameRequest(repository_name=f"{registry.id}/team/web")
    )
    assert error.code() == NOT_FOUND


def test_delete_of_a_registry_emptied_of_its_images(emulator, registries, channel):
    registry = emulator.add_registry(FOLDER, name="emptied")
    image = emulator.add_image(registry.id, "app")
    ImageServiceStub(channel).Delete(image_pb.DeleteImageRequest(image_id=image.id))
    registries.Delete(pb.DeleteRegistryRequest(registry_id=registry.id))
    assert not emulator.registries and not emulator.repositories


@pytest.mark.parametrize("method", ["Delete", "ForceDelete"])
@pytest.mark.behaviour(
    "RegistryService/Delete",
    "documented",
    "Only an empty registry can be deleted: one holding images is refused and nothing changes.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/operations/registry/registry-delete.md (You can only delete an empty registry)",
)
@pytest.mark.behaviour(
    "RegistryService/Delete",
    "choice",
    "The refusal is FAILED_PRECONDITION at the call, naming how many images the registry holds.",
    "the code is not public; FAILED_PRECONDITION is what Yandex documents for deleting a non-empty folder",
)
@pytest.mark.behaviour(
    "RegistryService/ForceDelete",
    "choice",
    "ForceDelete deletes the registry with its images.",
    "declared by the official SDK's descriptors only; what it deletes is read from its name",
)
def test_a_registry_with_images_is_failed_precondition_for_delete_and_gone_with_force_delete(
    emulator, registries, method
):
    registry = emulator.add_registry(FOLDER, name="full")
    emulator.add_image(registry.id, "app", tags=["v1"])
    emulator.add_image(registry.id, "team/web")
    emulator.add_repository(registry.id, "kept-empty")
    bystander = emulator.add_registry(FOLDER, name="bystander")
    kept_image = emulator.add_image(bystander.id, "app")
    state = emulator.state()
    request = pb.DeleteRegistryRequest(registry_id=registry.id)
    if method == "Delete":
        error = rpc_error(registries.Delete, request)
        assert error.code() == FAILED_PRECONDITION, error.details()
        assert "2 images" in error.details()
        assert emulator.state() == state
        assert registries.Get(pb.GetRegistryRequest(registry_id=registry.id)).id == registry.id
        return
    operation = registries.ForceDelete(request)
    assert operation.done and not operation.HasField("error")
    assert unpack(operation.metadata, pb.DeleteRegistryMetadata).registry_id == registry.id
    assert rpc_error(registries.Get, pb.GetRegistryRequest(registry_id=registry.id)).code() == NOT_FOUND
    assert set(emulator.registries) == {bystander.id}
    assert set(emulator.images) == {kept_image.id}
    assert {r.registry_id for r in emulator.repositories.values()} == {bystander.id}


# ---- IP permissions ----------------------------------------------------------------------------------


@pytest.mark.behaviour(
    "RegistryService/SetIpPermission",
    "choice",
    "SetIpPermission replaces the permissions.",
    "the reference says 'Sets', no more",
)
def test_set_ip_permission_replaces_them(emulator, registries, registry):
    first = [permission("10.0.0.0/8"), permission("192.168.1.1", PUSH), permission("2001:db8::/32")]
    operation = registries.SetIpPermission(pb.SetIpPermissionRequest(registry_id=registry.id, ip_permission=first))
    assert operation.done and not operation.HasField("error")
    assert unpack(operation.metadata, pb.SetIpPermissionMetadata).registry_id == registry.id
    unpack(operation.response, empty_pb2.Empty)
    assert ip_permissions(registries, registry.id) == [(p.action, p.ip) for p in first]
    registries.SetIpPermission(
        pb.SetIpPermissionRequest(registry_id=registry.id, ip_permission=[permission("1.2.3.4")])
    )
    assert ip_permissions(registries, registry.id) == [(PULL, "1.2.3.4")]
    registries.SetIpPermission(pb.SetIpPermissionRequest(registry_id=registry.id))
    assert ip_permissions(registries, registry.id) == []


@pytest.mark.behaviour(
    "RegistryService/UpdateIpPermission",
    "choice",
    "ADD appends what is absent, REMOVE takes out what is present, by (action, ip).",
    "the reference names the actions, not their edge cases",
)
def test_update_ip_permission_adds_what_is_absent_and_removes_what_is_present(emulator, registries, registry):
    registries.SetIpPermission(
        pb.SetIpPermissionRequest(registry_id=registry.id, ip_permission=[permission("1.1.1.1"), permission("2.2.2.2")])
    )

    def delta(action, ip, kind=PULL):
        return ip_pb.IpPermissionDelta(action=action, ip_permission=permission(ip, kind))

    deltas = [
        delta(IP_ADD, "3.3.3.3"),
        delta(IP_ADD, "1.1.1.1"),  # present: no duplicate
        delta(IP_ADD, "1.1.1.1", PUSH),  # another action: another permission
        delta(IP_REMOVE, "2.2.2.2"),
        delta(IP_REMOVE, "9.9.9.9"),  # absent: no change
    ]
    operation = registries.UpdateIpPermission(
        pb.UpdateIpPermissionRequest(registry_id=registry.id, ip_permission_deltas=deltas)
    )
    assert operation.done and not operation.HasField("error")
    assert unpack(operation.metadata, pb.UpdateIpPermissionMetadata).registry_id == registry.id
    unpack(operation.response, empty_pb2.Empty)
    assert ip_permissions(registries, registry.id) == [(PULL, "1.1.1.1"), (PULL, "3.3.3.3"), (PUSH, "1.1.1.1")]


@pytest.mark.behaviour(
    "RegistryService/SetIpPermission",
    "choice",
    "A permission given twice is kept once.",
    "a permission is its (action, ip) pair",
)
def test_a_permission_given_twice_is_kept_once(emulator, registries, registry):
    twice = [permission("1.1.1.1"), permission("2.2.2.2"), permission("1.1.1.1")]
    registries.SetIpPermission(pb.SetIpPermissionRequest(registry_id=registry.id, ip_permission=twice))
    assert ip_permissions(registries, registry.id) == [(PULL, "1.1.1.1"), (PULL, "2.2.2.2")]


@pytest.mark.behaviour(
    "RegistryService/ListIpPermission",
    "choice",
    "IP permissions are kept per registry and listed as set.",
    "the reference says no more",
)
def test_ip_permissions_are_per_registry(emulator, registries, registry):
    other = emulator.add_registry(FOLDER, name="other")
    registries.SetIpPermission(
        pb.SetIpPermissionRequest(registry_id=registry.id, ip_permission=[permission("1.1.1.1")])
    )
    assert ip_permissions(registries, other.id) == []


@pytest.mark.behaviour(
    "RegistryService/ListIpPermission",
    "documented",
    "The IP permission methods of an unknown registry are NOT_FOUND.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (NOT_FOUND: The requested resource not found)",
)
def test_ip_permission_methods_on_an_unknown_registry_are_not_found(emulator, registries):
    delta = ip_pb.IpPermissionDelta(action=IP_ADD, ip_permission=permission("1.1.1.1"))
    for method, request in [
        (registries.ListIpPermission, pb.ListIpPermissionRequest(registry_id=UNKNOWN)),
        (registries.SetIpPermission, pb.SetIpPermissionRequest(registry_id=UNKNOWN)),
        (
            registries.UpdateIpPermission,
            pb.UpdateIpPermissionRequest(registry_id=UNKNOWN, ip_permission_deltas=[delta]),
        ),
    ]:
        error = rpc_error(method, request)
        assert error.code() == NOT_FOUND, error.details()
        assert UNKNOWN in error.details()
    assert not emulator.operations


@pytest.mark.behaviour(
    "RegistryService/UpdateIpPermission",
    "choice",
    "At most 1,000 IP permissions a registry; beyond is FAILED_PRECONDITION.",
    "the emulator's bound",
)
def test_at_most_1000_ip_permissions(emulator, registries, registry):
    thousand = [permission(f"10.0.{n // 256}.{n % 256}") for n in range(1000)]
    registries.SetIpPermission(pb.SetIpPermissionRequest(registry_id=registry.id, ip_permission=thousand))
    assert len(ip_permissions(registries, registry.id)) == 1000
    state = emulator.state()
    over = [*thousand, permission("10.9.9.9")]
    error = rpc_error(
        registries.SetIpPermission, pb.SetIpPermissionRequest(registry_id=registry.id, ip_permission=over)
    )
    assert error.code() == FAILED_PRECONDITION, error.details()
    delta = ip_pb.IpPermissionDelta(action=IP_ADD, ip_permission=permission("10.9.9.9"))
    error = rpc_error(
        registries.UpdateIpPermission,
        pb.UpdateIpPermissionRequest(registry_id=registry.id, ip_permission_deltas=[delta]),
    )
    assert error.code() == FAILED_PRECONDITION, error.details()
    assert emulator.state() == state


# ---- access bindings ---------------------------------------------------------------------------------


@pytest.mark.behaviour(
    "RegistryService/SetAccessBindings",
    "choice",
    "SetAccessBindings replaces the bindings; they are returned as set.",
    "the reference says 'Sets', no more",
)
def test_set_access_bindings_replaces_them(emulator, registries, registry):
    given = [binding(), binding("container-registry.images.pusher"), binding(subject="allUsers")]
    operation = registries.SetAccessBindings(
        access_pb2.SetAccessBindingsRequest(resource_id=registry.id, access_bindings=given)
    )
    assert operation.done and not operation.HasField("error")
    assert unpack(operation.metadata, access_pb2.SetAccessBindingsMetadata).resource_id == registry.id
    unpack(operation.response, empty_pb2.Empty)
    assert bindings(registries, registry.id) == [(b.role_id, b.subject.id, b.subject.type) for b in given]
    registries.SetAccessBindings(access_pb2.SetAccessBindingsRequest(resource_id=registry.id))
    assert bindings(registries, registry.id) == []


@pytest.mark.behaviour(
    "RegistryService/UpdateAccessBindings",
    "choice",
    "ADD appends the bindings that are absent, REMOVE takes out those present.",
    "the reference names the actions, not their edge cases",
)
def test_update_access_bindings_adds_and_removes(emulator, registries, registry):
    registries.SetAccessBindings(
        access_pb2.SetAccessBindingsRequest(resource_id=registry.id, access_bindings=[binding(), binding("viewer")])
    )
    deltas = [
        access_pb2.AccessBindingDelta(action=BINDING_ADD, access_binding=binding("editor")),
        access_pb2.AccessBindingDelta(action=BINDING_ADD, access_binding=binding()),  # present already
        access_pb2.AccessBindingDelta(action=BINDING_REMOVE, access_binding=binding("viewer")),
        access_pb2.AccessBindingDelta(action=BINDING_REMOVE, access_binding=binding("admin")),  # absent
    ]
    operation = registries.UpdateAccessBindings(
        access_pb2.UpdateAccessBindingsRequest(resource_id=registry.id, access_binding_deltas=deltas)
    )
    assert operation.done and not operation.HasField("error")
    assert unpack(operation.metadata, access_pb2.UpdateAccessBindingsMetadata).resource_id == registry.id
    unpack(operation.response, empty_pb2.Empty)
    assert [role for role, _, _ in bindings(registries, registry.id)] == ["container-registry.images.puller", "editor"]


@pytest.mark.parametrize(("count", "page_size"), [(5, 1), (5, 2), (5, 5), (5, 6), (0, 1), (150, 0), (150, 100)])
@pytest.mark.behaviour(
    "RegistryService/ListAccessBindings",
    "documented",
    "Access bindings page, 100 a page by default.",
    "yandex/cloud/access/access.proto (ListAccessBindingsRequest.page_size: Default value: 100)",
)
@pytest.mark.behaviour(
    "RegistryService/ListAccessBindings",
    "choice",
    "Access bindings list and page in the order they were set.",
    "the reference gives no order",
)
def test_list_access_bindings_pages_walk_every_binding_once(emulator, registries, registry, count, page_size):
    given = [binding(subject=f"ajeuser{n:013d}") for n in range(count)]
    registries.SetAccessBindings(access_pb2.SetAccessBindingsRequest(resource_id=registry.id, access_bindings=given))
    size = page_size or 100  # the default page size
    walked = list_pages(
        registries.ListAccessBindings, access_pb2.ListAccessBindingsRequest, page_size, resource_id=registry.id
    )
    assert all(len(page) == size for page in walked[:-1]), "a page before the last one is short"
    walked = [[b.subject.id for b in page] for page in walked]
    assert [subject for page in walked for subject in page] == [b.subject.id for b in given]
    assert len(walked) == max(1, -(-count // size))


@pytest.mark.behaviour(
    "RegistryService/ListAccessBindings",
    "choice",
    "A page token of another registry's bindings is INVALID_ARGUMENT.",
    "a token continues only the List that made it",
)
def test_an_access_bindings_page_token_of_another_registry_is_invalid(emulator, registries, registry):
    other = emulator.add_registry(FOLDER, name="other")
    for resource in (registry, other):
        registries.SetAccessBindings(
            access_pb2.SetAccessBindingsRequest(resource_id=resource.id, access_bindings=[binding("a"), binding("b")])
        )
    first = registries.ListAccessBindings(access_pb2.ListAccessBindingsRequest(resource_id=registry.id, page_size=1))
    assert first.next_page_token
    error = rpc_error(
        registries.ListAccessBindings,
        access_pb2.ListAccessBindingsRequest(resource_id=other.id, page_size=1, page_token=first.next_page_token),
    )
    assert_invalid(error, "page_token")


def test_access_binding_methods_on_an_unknown_registry_are_not_found(emulator, registries):
    delta = access_pb2.AccessBindingDelta(action=BINDING_ADD, access_binding=binding())
    for method, request in [
        (registries.ListAccessBindings, access_pb2.ListAccessBindingsRequest(resource_id=UNKNOWN)),
        (registries.SetAccessBindings, access_pb2.SetAccessBindingsRequest(resource_id=UNKNOWN)),
        (
            registries.UpdateAccessBindings,
            access_pb2.UpdateAccessBindingsRequest(resource_id=UNKNOWN, access_binding_deltas=[delta]),
        ),
    ]:
        error = rpc_error(method, request)
        assert error.code() == NOT_FOUND, error.details()
    assert not emulator.operations


@pytest.mark.behaviour(
    "RegistryService/SetAccessBindings",
    "choice",
    "At most 1,000 access bindings a resource: an Update past it is FAILED_PRECONDITION, a Set of more INVALID_ARGUMENT.",
    "the emulator's bound, the most one Set may carry (access.proto: access_bindings size <=1000, hence the Set's INVALID_ARGUMENT)",
)
def test_at_most_1000_access_bindings(emulator, registries, registry):
    thousand = [binding(subject=f"ajeuser{n:013d}") for n in range(1000)]
    registries.SetAccessBindings(access_pb2.SetAccessBindingsRequest(resource_id=registry.id, access_bindings=thousand))
    state = emulator.state()
    delta = access_pb2.AccessBindingDelta(action=BINDING_ADD, access_binding=binding("one-more"))
    error = rpc_error(
        registries.UpdateAccessBindings,
        access_pb2.UpdateAccessBindingsRequest(resource_id=registry.id, access_binding_deltas=[delta]),
    )
    assert error.code() == FAILED_PRECONDITION, error.details()
    over = access_pb2.SetAccessBindingsRequest(resource_id=registry.id, access_bindings=[*thousand, binding("x")])
    assert_invalid(rpc_error(registries.SetAccessBindings, over), "access_bindings")  # the request's own annotation
    assert emulator.state() == state


# ---- validation through the wire ---------------------------------------------------------------------


def labels(count: int) -> dict[str, str]:
    return {f"k{n}": "v" for n in range(count)}


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def ip_delta(**fields) -> ip_pb.IpPermissionDelta:
    return ip_pb.IpPermissionDelta(**fields)


def binding_delta(**fields) -> access_pb2.AccessBindingDelta:
    return access_pb2.AccessBindingDelta(**fields)


ADD_ONE = ip_delta(action=IP_ADD, ip_permission=permission("1.1.1.1"))

# (method, request for an existing registry id, the field named, or None: valid, answered with `code`)
VALIDATION = {
    "registry_id 50": ("Get", lambda r: pb.GetRegistryRequest(registry_id="r" * 50), None, NOT_FOUND),
    "registry_id 51": ("Get", lambda r: pb.GetRegistryRequest(registry_id="r" * 51), "registry_id", None),
    "registry_id empty": ("Get", lambda r: pb.GetRegistryRequest(), "registry_id", None),
    "delete registry_id 51": ("Delete", lambda r: pb.DeleteRegistryRequest(registry_id="r" * 51), "registry_id", None),
    "ip list registry_id 51": (
        "ListIpPermission",
        lambda r: pb.ListIpPermissionRequest(registry_id="r" * 51),
        "registry_id",
        None,
    ),
    "folder_id 50": ("Create", lambda r: pb.CreateRegistryRequest(folder_id="b" * 50), None, OK),
    "folder_id 51": ("Create", lambda r: pb.CreateRegistryRequest(folder_id="b" * 51), "folder_id", None),
    "folder_id empty": ("Create", lambda r: pb.CreateRegistryRequest(name="abc"), "folder_id", None),
    "list folder_id empty": ("List", lambda r: pb.ListRegistriesRequest(), "folder_id", None),
    "labels 64": ("Create", lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels=labels(64)), None, OK),
    "labels 65": ("Create", lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels=labels(65)), "labels", None),
    "update labels 65": (
        "Update",
        lambda r: pb.UpdateRegistryRequest(registry_id=r, update_mask=mask("labels"), labels=labels(65)),
        "labels",
        None,
    ),
    "label key 63": ("Create", lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels={"k" * 63: "v"}), None, OK),
    "label key 64": (
        "Create",
        lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels={"k" * 64: "v"}),
        "labels",
        None,
    ),
    "label key empty": (
        "Create",
        lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels={"": "v"}),
        "labels",
        None,
    ),
    "label key pattern ok": (
        "Create",
        lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels={"k_-9": "v"}),
        None,
        OK,
    ),
    "label key upper": (
        "Create",
        lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels={"Key": "v"}),
        "labels",
        None,
    ),
    "label key digit first": (
        "Create",
        lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels={"9k": "v"}),
        "labels",
        None,
    ),
    "label value 63": (
        "Create",
        lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels={"k": "v" * 63}),
        None,
        OK,
    ),
    "label value 64": (
        "Create",
        lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels={"k": "v" * 64}),
        "labels",
        None,
    ),
    "label value empty": ("Create", lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels={"k": ""}), None, OK),
    "label value pattern": (
        "Create",
        lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, labels={"k": "a.b"}),
        "labels",
        None,
    ),
    "name 3": ("Create", lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, name="a-b"), None, OK),
    "name 2": ("Create", lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, name="ab"), "name", None),
    "name 63": ("Create", lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, name="a" * 63), None, OK),
    "name 64": ("Create", lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, name="a" * 64), "name", None),
    "name upper": ("Create", lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, name="Abc"), "name", None),
    "name digit first": ("Create", lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, name="1ab"), "name", None),
    "name dash last": ("Create", lambda r: pb.CreateRegistryRequest(folder_id=FOLDER, name="ab-"), "name", None),
    "update name": (
        "Update",
        lambda r: pb.UpdateRegistryRequest(registry_id=r, update_mask=mask("name"), name="A_b"),
        "name",
        None,
    ),
    "page_size 1000": ("List", lambda r: pb.ListRegistriesRequest(folder_id=FOLDER, page_size=1000), None, OK),
    "page_size 1001": ("List", lambda r: pb.ListRegistriesRequest(folder_id=FOLDER, page_size=1001), "page_size", None),
    "page_size -1": ("List", lambda r: pb.ListRegistriesRequest(folder_id=FOLDER, page_size=-1), "page_size", None),
    "page_token 101": (
        "List",
        lambda r: pb.ListRegistriesRequest(folder_id=FOLDER, page_token="a" * 101),
        "page_token",
        None,
    ),
    "filter 1000": (
        "List",
        lambda r: pb.ListRegistriesRequest(folder_id=FOLDER, filter='name = "main"'.ljust(1000)),
        None,
        OK,
    ),
    "filter 1001": (
        "List",
        lambda r: pb.ListRegistriesRequest(folder_id=FOLDER, filter='name = "main"'.ljust(1001)),
        "filter",
        None,
    ),
    "ip plain": (
        "SetIpPermission",
        lambda r: pb.SetIpPermissionRequest(registry_id=r, ip_permission=[permission("10.0.0.1")]),
        None,
        OK,
    ),
    "ip cidr": (
        "SetIpPermission",
        lambda r: pb.SetIpPermissionRequest(registry_id=r, ip_permission=[permission("10.0.0.0/8")]),
        None,
        OK,
    ),
    "ip v6": (
        "SetIpPermission",
        lambda r: pb.SetIpPermissionRequest(registry_id=r, ip_permission=[permission("fe80::1/64")]),
        None,
        OK,
    ),
    "ip prefix 0": (
        "SetIpPermission",
        lambda r: pb.SetIpPermissionRequest(registry_id=r, ip_permission=[permission("10.0.0.1/0")]),
        "ip_permission[0].ip",
        None,
    ),
    "ip three parts": (
        "SetIpPermission",
        lambda r: pb.SetIpPermissionRequest(registry_id=r, ip_permission=[permission("1.1.1.1"), permission("10.0.0")]),
        "ip_permission[1].ip",
        None,
    ),
    "ip words": (
        "SetIpPermission",
        lambda r: pb.SetIpPermissionRequest(registry_id=r, ip_permission=[permission("localhost")]),
        "ip_permission[0].ip",
        None,
    ),
    "ip action unset": (
        "SetIpPermission",
        lambda r: pb.SetIpPermissionRequest(registry_id=r, ip_permission=[ip_pb.IpPermission(ip="1.1.1.1")]),
        "ip_permission[0].action",
        None,
    ),
    "ip action unknown": (
        "SetIpPermission",
        lambda r: pb.SetIpPermissionRequest(registry_id=r, ip_permission=[ip_pb.IpPermission(action=65, ip="1.1.1.1")]),
        "ip_permission[0].action",
        None,
    ),
    "ip deltas 1": (
        "UpdateIpPermission",
        lambda r: pb.UpdateIpPermissionRequest(registry_id=r, ip_permission_deltas=[ADD_ONE]),
        None,
        OK,
    ),
    "ip deltas 0": (
        "UpdateIpPermission",
        lambda r: pb.UpdateIpPermissionRequest(registry_id=r),
        "ip_permission_deltas",
        None,
    ),
    "ip delta action unset": (
        "UpdateIpPermission",
        lambda r: pb.UpdateIpPermissionRequest(
            registry_id=r, ip_permission_deltas=[ip_delta(ip_permission=permission("1.1.1.1"))]
        ),
        "ip_permission_deltas[0].action",
        None,
    ),
    "ip delta permission unset": (
        "UpdateIpPermission",
        lambda r: pb.UpdateIpPermissionRequest(registry_id=r, ip_permission_deltas=[ADD_ONE, ip_delta(action=IP_ADD)]),
        "ip_permission_deltas[1].ip_permission",
        None,
    ),
    "ip delta nested ip": (
        "UpdateIpPermission",
        lambda r: pb.UpdateIpPermissionRequest(
            registry_id=r, ip_permission_deltas=[ip_delta(action=IP_ADD, ip_permission=permission("1.1"))]
        ),
        "ip_permission_deltas[0].ip_permission.ip",
        None,
    ),
    "role_id 64": (
        "SetAccessBindings",
        lambda r: access_pb2.SetAccessBindingsRequest(resource_id=r, access_bindings=[binding("r" * 64)]),
        None,
        OK,
    ),
    "role_id 65": (
        "SetAccessBindings",
        lambda r: access_pb2.SetAccessBindingsRequest(resource_id=r, access_bindings=[binding("r" * 65)]),
        "access_bindings[0].role_id",
        None,
    ),
    "role_id empty": (
        "SetAccessBindings",
        lambda r: access_pb2.SetAccessBindingsRequest(resource_id=r, access_bindings=[binding("")]),
        "access_bindings[0].role_id",
        None,
    ),
    "subject unset": (
        "SetAccessBindings",
        lambda r: access_pb2.SetAccessBindingsRequest(
            resource_id=r, access_bindings=[access_pb2.AccessBinding(role_id="x")]
        ),
        "access_bindings[0].subject",
        None,
    ),
    "subject id 100": (
        "SetAccessBindings",
        lambda r: access_pb2.SetAccessBindingsRequest(resource_id=r, access_bindings=[binding(subject="s" * 100)]),
        None,
        OK,
    ),
    "subject id 101": (
        "SetAccessBindings",
        lambda r: access_pb2.SetAccessBindingsRequest(resource_id=r, access_bindings=[binding(subject="s" * 101)]),
        "access_bindings[0].subject.id",
        None,
    ),
    "binding deltas 0": (
        "UpdateAccessBindings",
        lambda r: access_pb2.UpdateAccessBindingsRequest(resource_id=r),
        "access_binding_deltas",
        None,
    ),
    "binding delta role_id 65": (
        "UpdateAccessBindings",
        lambda r: access_pb2.UpdateAccessBindingsRequest(
            resource_id=r, access_binding_deltas=[binding_delta(action=BINDING_ADD, access_binding=binding("r" * 65))]
        ),
        "access_binding_deltas[0].access_binding.role_id",
        None,
    ),
    "binding delta action unset": (
        "UpdateAccessBindings",
        lambda r: access_pb2.UpdateAccessBindingsRequest(
            resource_id=r, access_binding_deltas=[binding_delta(access_binding=binding())]
        ),
        "access_binding_deltas[0].action",
        None,
    ),
    "resource_id 64": (
        "ListAccessBindings",
        lambda r: access_pb2.ListAccessBindingsRequest(resource_id="r" * 64),
        None,
        NOT_FOUND,
    ),
    "resource_id 65": (
        "ListAccessBindings",
        lambda r: access_pb2.ListAccessBindingsRequest(resource_id="r" * 65),
        "resource_id",
        None,
    ),
    "bindings page_size 1000": (
        "ListAccessBindings",
        lambda r: access_pb2.ListAccessBindingsRequest(resource_id=r, page_size=1000),
        None,
        OK,
    ),
    "bindings page_size 1001": (
        "ListAccessBindings",
        lambda r: access_pb2.ListAccessBindingsRequest(resource_id=r, page_size=1001),
        "page_size",
        None,
    ),
}


@pytest.mark.parametrize(("method", "build", "field", "code"), list(VALIDATION.values()), ids=list(VALIDATION))
def test_annotations_reach_the_wire(emulator, registries, registry, method, build, field, code):
    """At a limit: answered normally (or NOT_FOUND for a well-formed unknown id); past it:
    INVALID_ARGUMENT naming exactly the field, and nothing changes."""
    call = getattr(registries, method)
    state = emulator.state()
    if field is None:
        if code == OK:
            call(build(registry.id))
        else:
            assert rpc_error(call, build(registry.id)).code() == code
        return
    assert_invalid(rpc_error(call, build(registry.id)), field)
    assert emulator.state() == state


def test_every_broken_field_is_named_at_once(emulator, registries):
    request = pb.CreateRegistryRequest(folder_id="b" * 51, name="X", labels={"Bad": "v"})
    assert_invalid(rpc_error(registries.Create, request), "folder_id", "name", "labels")
    assert not emulator.registries


# ---- idempotency ---------------------------------------------------------------------------------------


def key(value: str) -> tuple:
    return (("idempotency-key", value),)


@pytest.mark.behaviour(
    "RegistryService/Create",
    "documented",
    "A Create repeated with its idempotency-key answers the first operation and makes nothing new.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/idempotency.md (it checks whether an operation with this UUID has already been created. If so, the server returns the Operation object with this operation's current status)",
)
def test_create_repeated_with_an_idempotency_key_returns_the_first_operation(emulator, registries):
    request = pb.CreateRegistryRequest(folder_id=FOLDER, name="once", labels={"a": "b"})
    first = registries.Create(request, metadata=key("create-1"))
    again = registries.Create(request, metadata=key("create-1"))
    assert again == first
    assert len(emulator.registries) == 1 and len(emulator.operations) == 1
    another_key = rpc_error(registries.Create, request, metadata=key("create-2"))  # a new attempt: name taken
    assert another_key.code() == ALREADY_EXISTS


def test_an_idempotency_key_reused_for_another_request_answers_the_first_operation(emulator, registries):
    """The API design guide: a known key answers its operation (tests/test_sdk.py has the warning)."""
    first = registries.Create(pb.CreateRegistryRequest(folder_id=FOLDER, name="once"), metadata=key("k"))
    state = emulator.state()
    again = registries.Create(pb.CreateRegistryRequest(folder_id=FOLDER, name="twice"), metadata=key("k"))
    assert again == first
    assert emulator.state() == state


def test_a_repeated_delete_returns_the_first_operation_after_the_registry_is_gone(emulator, registries, registry):
    request = pb.DeleteRegistryRequest(registry_id=registry.id)
    first = registries.Delete(request, metadata=key("delete"))
    assert registries.Delete(request, metadata=key("delete")) == first
    assert rpc_error(registries.Delete, request).code() == NOT_FOUND


def test_a_repeated_set_changes_nothing_made_since(emulator, registries, registry):
    first = pb.SetIpPermissionRequest(registry_id=registry.id, ip_permission=[permission("1.1.1.1")])
    operation = registries.SetIpPermission(first, metadata=key("set"))
    registries.SetIpPermission(
        pb.SetIpPermissionRequest(registry_id=registry.id, ip_permission=[permission("2.2.2.2")])
    )
    assert registries.SetIpPermission(first, metadata=key("set")) == operation
    assert ip_permissions(registries, registry.id) == [(PULL, "2.2.2.2")]


# ---- strict auth ---------------------------------------------------------------------------------------

TOKEN = "t1.registries-test-token"
BEARER = (("authorization", f"Bearer {TOKEN}"),)
IP_DELTA = ip_pb.IpPermissionDelta(action=IP_ADD, ip_permission=permission("1.1.1.1"))
BINDING_DELTA = access_pb2.AccessBindingDelta(action=BINDING_ADD, access_binding=binding("editor"))

# Every RegistryService method: its request for a registry (id) in a folder.
REQUESTS = {
    "Get": lambda r, f: pb.GetRegistryRequest(registry_id=r),
    "List": lambda r, f: pb.ListRegistriesRequest(folder_id=f),
    "Create": lambda r, f: pb.CreateRegistryRequest(folder_id=f, name="made"),
    "Update": lambda r, f: pb.UpdateRegistryRequest(registry_id=r, update_mask=mask("labels"), labels={"k": "v"}),
    "Delete": lambda r, f: pb.DeleteRegistryRequest(registry_id=r),
    "ForceDelete": lambda r, f: pb.DeleteRegistryRequest(registry_id=r),
    "ListAccessBindings": lambda r, f: access_pb2.ListAccessBindingsRequest(resource_id=r),
    "SetAccessBindings": lambda r, f: access_pb2.SetAccessBindingsRequest(resource_id=r, access_bindings=[binding()]),
    "UpdateAccessBindings": lambda r, f: access_pb2.UpdateAccessBindingsRequest(
        resource_id=r, access_binding_deltas=[BINDING_DELTA]
    ),
    "ListIpPermission": lambda r, f: pb.ListIpPermissionRequest(registry_id=r),
    "SetIpPermission": lambda r, f: pb.SetIpPermissionRequest(registry_id=r, ip_permission=[permission("2.2.2.2")]),
    "UpdateIpPermission": lambda r, f: pb.UpdateIpPermissionRequest(registry_id=r, ip_permission_deltas=[IP_DELTA]),
}


def test_the_strict_matrix_covers_every_method():
    service = pb.DESCRIPTOR.services_by_name["RegistryService"]
    assert set(REQUESTS) == {method.name for method in service.methods}


@pytest.fixture(scope="module")
def strict():
    with Emulator(auth="strict", tokens={TOKEN: [FOLDER]}) as emulator:
        channel = emulator.channel()
        yield emulator, RegistryServiceStub(channel)
        channel.close()


@pytest.fixture
def strict_world(strict):
    """A registry in the token's folder and one (holding an image) in another folder."""
    emulator, stub = strict
    emulator.reset()
    own = emulator.add_registry(FOLDER, name="own")
    other = emulator.add_registry(
        OTHER_FOLDER,
        name="other",
        ip_permissions=[{"action": "PULL", "ip": "9.9.9.9"}],
        access_bindings=[{"role_id": "viewer", "subject": {"id": "allUsers", "type": "system"}}],
    )
    emulator.add_image(other.id, "app")
    return emulator, stub, own, other


@pytest.mark.parametrize("method", list(REQUESTS))
def test_strict_another_folder_is_permission_denied(strict_world, method):
    emulator, stub, _, other = strict_world
    state = emulator.state()
    error = rpc_error(getattr(stub, method), REQUESTS[method](other.id, OTHER_FOLDER), metadata=BEARER)
    assert error.code() == DENIED, error.details()
    assert emulator.state() == state


@pytest.mark.parametrize("method", list(REQUESTS))
def test_strict_no_token_is_unauthenticated(strict_world, method):
    emulator, stub, own, _ = strict_world
    state = emulator.state()
    error = rpc_error(getattr(stub, method), REQUESTS[method](own.id, FOLDER))
    assert error.code() == UNAUTHENTICATED, error.details()
    assert emulator.state() == state


@pytest.mark.parametrize("method", list(REQUESTS))
def test_strict_the_token_works_in_its_folder(strict_world, method):
    emulator, stub, own, other = strict_world
    response = getattr(stub, method)(REQUESTS[method](own.id, FOLDER), metadata=BEARER)
    if method == "Get":
        assert response.id == own.id
    elif method == "List":
        assert [r.id for r in response.registries] == [own.id]
    elif method in ("ListAccessBindings", "ListIpPermission"):
        assert response == type(response)()
    else:
        assert response.done and not response.HasField("error"), response
    if method in ("Delete", "ForceDelete"):
        assert set(emulator.registries) == {other.id}
    assert other.id in emulator.registries and len(emulator.images) == 1


@pytest.mark.parametrize("method", [m for m in REQUESTS if m not in ("List", "Create")])
def test_strict_an_unknown_registry_is_not_found_before_the_folder_check(strict_world, method):
    _, stub, _, _ = strict_world
    error = rpc_error(getattr(stub, method), REQUESTS[method](UNKNOWN, FOLDER), metadata=BEARER)
    assert error.code() == NOT_FOUND, error.details()


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("images", "registries"),
        ("repositories", "registries"),
        ("registries", "repositories"),
        ("registries", "images"),
    ],
)
def test_a_page_token_of_another_list_method_is_invalid(emulator, channel, source, target):
    """Accepted, such a token resumes after a key of another kind of record: registries (or
    images, repositories) are silently skipped."""
    for n in range(3):
        registry = emulator.add_registry(FOLDER, name=f"reg-{n}")
        for path in ("app", "web"):
            emulator.add_image(registry.id, path)
    stubs = {
        "images": (ImageServiceStub(channel).List, image_pb.ListImagesRequest),
        "repositories": (RepositoryServiceStub(channel).List, repository_pb.ListRepositoriesRequest),
        "registries": (RegistryServiceStub(channel).List, pb.ListRegistriesRequest),
    }
    list_source, source_request = stubs[source]
    token = list_source(source_request(folder_id=FOLDER, page_size=1)).next_page_token
    assert token
    list_target, target_request = stubs[target]
    assert_invalid(rpc_error(list_target, target_request(folder_id=FOLDER, page_token=token)), "page_token")
