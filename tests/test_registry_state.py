"""Registries' and repositories' state outside the wire: seeds (repositories with ids, kept or
not, access bindings, IP permissions; bad entries named by path, all or nothing), the
``state()``/``load_seed`` round trip with operations and their responses, the standalone
process's state file, the control plane and ``RemoteEmulator``, and ``Emulator.add_registry``'s
extra fields."""

from __future__ import annotations

import json
import re

import grpc
import pytest
from yandex.cloud.access import access_pb2
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import ip_permission_pb2, registry_pb2
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1 import repository_service_pb2 as repository_pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.containerregistry.v1.repository_service_pb2_grpc import RepositoryServiceStub
from yandex.cloud.operation import operation_service_pb2 as operation_pb
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from conftest import FOLDER, rpc_error
from emulator import Emulator, SeedError
from emulator.control.process import EmulatorProcess
from emulator.control.remote import RemoteEmulator
from tests.test_control_plane import http
from tests.test_standalone import run_to_exit, write_seed

REGISTRY_ID = "crpseededregistry001"
VIEWER = {
    "role_id": "container-registry.images.puller",
    "subject": {"id": "aje0000000000viewer", "type": "userAccount"},
}
ADMIN = {"role_id": "admin", "subject": {"id": "group1", "type": "group"}}
PULL = {"action": "PULL", "ip": "10.0.0.0/8"}
PUSH = {"action": "PUSH", "ip": "192.168.1.7"}


def seed() -> dict:
    """One registry with a kept empty repository, a declared one holding an image (not kept),
    a declared kept one holding an image, and one made by its image alone. A fresh copy: tests edit it."""
    return json.loads(
        json.dumps(
            {
                "registries": [
                    {
                        "id": REGISTRY_ID,
                        "folder_id": FOLDER,
                        "name": "seeded",
                        "access_bindings": [VIEWER, ADMIN],
                        "ip_permissions": [PULL, PUSH],
                        "repositories": [
                            {"path": "empty", "id": "crprepoempty", "access_bindings": [ADMIN]},
                            {"path": "team/web", "id": "crprepoweb", "kept": False},
                            {"path": "kept", "id": "crprepokept", "kept": True},
                        ],
                        "images": [
                            {"repository": "team/web", "id": "crpimageweb"},
                            {"repository": "kept", "id": "crpimagekept"},
                            {"repository": "plain", "id": "crpimageplain"},
                        ],
                    }
                ]
            }
        )
    )


class Stubs:
    def __init__(self, channel: grpc.Channel):
        self.images = ImageServiceStub(channel)
        self.registries = RegistryServiceStub(channel)
        self.repositories = RepositoryServiceStub(channel)
        self.operations = OperationServiceStub(channel)

    def repository(self, name: str):
        return self.repositories.GetByName(repository_pb.GetRepositoryByNameRequest(repository_name=name))

    def repository_bindings(self, repository_id: str) -> list[dict]:
        request = access_pb2.ListAccessBindingsRequest(resource_id=repository_id)
        return [binding_dict(b) for b in self.repositories.ListAccessBindings(request).access_bindings]

    def registry_bindings(self, registry_id: str) -> list[dict]:
        request = access_pb2.ListAccessBindingsRequest(resource_id=registry_id)
        return [binding_dict(b) for b in self.registries.ListAccessBindings(request).access_bindings]

    def ip_permissions(self, registry_id: str) -> list[dict]:
        request = registry_pb.ListIpPermissionRequest(registry_id=registry_id)
        return [
            {"action": ip_permission_pb2.IpPermission.Action.Name(p.action), "ip": p.ip}
            for p in self.registries.ListIpPermission(request).permissions
        ]

    def operation(self, operation_id: str):
        return self.operations.Get(operation_pb.GetOperationRequest(operation_id=operation_id))


def binding_dict(binding) -> dict:
    return {"role_id": binding.role_id, "subject": {"id": binding.subject.id, "type": binding.subject.type}}


@pytest.fixture(scope="session")
def stubs(channel) -> Stubs:
    return Stubs(channel)


def frozen(emulator) -> str:
    return json.dumps(emulator.state(), sort_keys=True)


# ---- seeds -------------------------------------------------------------------------------------


def test_a_seed_declares_repositories_with_their_ids_and_kept_flags(emulator, stubs):
    emulator.load_seed(seed())
    assert {r.path: (r.id, r.kept) for r in emulator.repositories.values()} == {
        "empty": ("crprepoempty", True),
        "team/web": ("crprepoweb", False),
        "kept": ("crprepokept", True),
        "plain": (emulator.store.get_repository_by_name(f"{REGISTRY_ID}/plain").id, False),
    }
    for path, repository_id in (("empty", "crprepoempty"), ("team/web", "crprepoweb"), ("kept", "crprepokept")):
        assert stubs.repository(f"{REGISTRY_ID}/{path}").id == repository_id
    # Declared but not kept: goes with its last image; kept ones stay.
    for image_id in ("crpimageweb", "crpimagekept", "crpimageplain"):
        stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image_id))
    assert sorted(r.id for r in emulator.repositories.values()) == ["crprepoempty", "crprepokept"]
    error = rpc_error(stubs.repositories.Get, repository_pb.GetRepositoryRequest(repository_id="crprepoweb"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_a_seed_gives_access_bindings_and_ip_permissions(emulator, stubs):
    emulator.load_seed(seed())
    assert stubs.registry_bindings(REGISTRY_ID) == [VIEWER, ADMIN]
    assert stubs.ip_permissions(REGISTRY_ID) == [PULL, PUSH]
    assert stubs.repository_bindings("crprepoempty") == [ADMIN]
    assert stubs.repository_bindings("crprepoweb") == []


def test_a_repository_that_is_not_kept_must_hold_an_image_of_the_seed(emulator):
    data = seed()
    data["registries"][0]["images"] = [
        image for image in data["registries"][0]["images"] if image["id"] != "crpimageweb"
    ]
    with pytest.raises(SeedError, match=r"^registries\[0\]\.repositories\[1\]\.kept: "):
        emulator.load_seed(data)
    assert emulator.registries == {} and emulator.repositories == {} and emulator.images == {}


def _set(path: str, value):
    """An edit of seed(): set the value at a dotted path (list items by number)."""

    def edit(data: dict) -> None:
        *parents, last = path.split(".")
        target = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return edit


def _drop(path: str):
    def edit(data: dict) -> None:
        *parents, last = path.split(".")
        target = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]

    return edit


R0 = "registries.0"
BAD_SEEDS = [
    (_set(f"{R0}.repositories.0.id", "BAD-ID"), "registries[0].repositories[0].id"),
    (_set(f"{R0}.repositories.0.id", "crprepoweb"), "registries[0].repositories[1].id"),  # an id given twice
    (_set(f"{R0}.repositories.1.kept", "no"), "registries[0].repositories[1].kept"),
    (_set(f"{R0}.repositories.1.colour", "red"), "registries[0].repositories[1].colour"),
    (_drop(f"{R0}.repositories.1.path"), "registries[0].repositories[1].path"),
    (_set(f"{R0}.repositories.2", "kept"), "registries[0].repositories[2]"),
    (_set(f"{R0}.repositories", {"path": "x"}), "registries[0].repositories"),
    (
        _set(f"{R0}.repositories.0.access_bindings.0.role_id", ""),
        "registries[0].repositories[0].access_bindings[0].role_id",
    ),
    (_drop(f"{R0}.access_bindings.1.role_id"), "registries[0].access_bindings[1].role_id"),
    (_set(f"{R0}.access_bindings.0.role_id", "r" * 65), "registries[0].access_bindings[0].role_id"),
    (_set(f"{R0}.access_bindings.0.subject.id", ""), "registries[0].access_bindings[0].subject.id"),
    (_drop(f"{R0}.access_bindings.0.subject"), "registries[0].access_bindings[0].subject"),
    (_set(f"{R0}.access_bindings.0.subject.type", "t" * 101), "registries[0].access_bindings[0].subject.type"),
    (_set(f"{R0}.access_bindings.0.extra", 1), "registries[0].access_bindings[0]"),
    (_set(f"{R0}.access_bindings", VIEWER), "registries[0].access_bindings"),
    (_set(f"{R0}.ip_permissions.1.ip", "not-an-ip"), "registries[0].ip_permissions[1].ip"),
    (_set(f"{R0}.ip_permissions.0.action", "NOPE"), "registries[0].ip_permissions[0]"),
    (_drop(f"{R0}.ip_permissions.0.action"), "registries[0].ip_permissions[0].action"),
    (_set(f"{R0}.ip_permissions.0.action", "ACTION_UNSPECIFIED"), "registries[0].ip_permissions[0].action"),
]


@pytest.mark.parametrize(("edit", "named"), BAD_SEEDS, ids=[named for _, named in BAD_SEEDS])
def test_a_bad_entry_is_named_by_its_path_and_loads_nothing(emulator, edit, named):
    existing = emulator.add_registry(FOLDER, name="before")
    emulator.add_repository(existing.id, "app")
    before = frozen(emulator)
    bad = seed()
    edit(bad)
    good = {  # a good registry first: taken back too
        "id": "crpgoodfirst",
        "folder_id": FOLDER,
        "repositories": [{"path": "first", "id": "crpfirstrepo"}, {"path": "held", "kept": False}],
        "images": [{"repository": "held"}],
    }
    data = {"registries": [good, bad["registries"][0]]}
    with pytest.raises(SeedError) as caught:
        emulator.load_seed(data)
    assert str(caught.value).startswith(named.replace("registries[0]", "registries[1]")), str(caught.value)
    assert frozen(emulator) == before


def test_a_bad_repository_path_is_named_path(emulator):
    data = seed()
    data["registries"][0]["repositories"][0]["path"] = "Bad"
    with pytest.raises(SeedError, match=r"^registries\[0\]\.repositories\[0\]\.path: "):
        emulator.load_seed(data)


def test_a_repository_path_declared_twice_in_a_registry_is_refused(emulator):
    data = seed()
    repositories = data["registries"][0]["repositories"]
    repositories.append({"path": repositories[0]["path"]})
    with pytest.raises(SeedError, match=rf"^registries\[0\]\.repositories\[{len(repositories) - 1}\]\.path: .*twice"):
        emulator.load_seed(data)
    assert emulator.registries == {} and emulator.repositories == {}


def test_a_repository_id_taken_by_an_existing_repository_is_refused(emulator):
    registry = emulator.add_registry(FOLDER)
    emulator.add_repository(registry.id, "app", id="crprepoempty")
    before = frozen(emulator)
    with pytest.raises(SeedError, match=r"^registries\[0\]\.repositories\[0\]\.id: "):
        emulator.load_seed(seed())
    assert frozen(emulator) == before


TOO_MANY = "more than 1000 access bindings or IP permissions raise FailedPrecondition, not a ValueError naming them"


def too_many(where: str) -> list[dict]:
    if where.endswith("ip_permissions"):
        return [{"action": "PULL", "ip": f"10.0.{n // 256}.{n % 256}"} for n in range(1001)]
    return [{"role_id": "viewer", "subject": {"id": f"aje{n:05d}", "type": "userAccount"}} for n in range(1001)]


@pytest.mark.parametrize("where", ["access_bindings", "ip_permissions", "repositories.0.access_bindings"])
def test_more_than_1000_bindings_or_permissions_in_a_seed_are_a_seed_error(emulator, where):
    data = seed()
    _set(f"{R0}.{where}", too_many(where))(data)
    path = "registries[0]." + where.replace(".0.", "[0].")
    with pytest.raises(SeedError, match="^" + re.escape(path)):
        emulator.load_seed(data)
    assert emulator.registries == {}


def test_a_seed_file_with_more_than_1000_bindings_stops_the_start_with_a_message(tmp_path):
    data = seed()
    data["registries"][0]["access_bindings"] = too_many("access_bindings")
    result = run_to_exit("--port", "0", "--seed", str(write_seed(tmp_path, data)), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "registries[0].access_bindings: at most 1000" in result.stderr and "Traceback" not in result.stderr


# ---- state() and load_seed: the round trip ----------------------------------------------------


def busy(emulator, stubs) -> dict:
    """Operations of every kind that carries a response or changes the new resources."""
    made = {}
    operation = stubs.registries.Create(
        registry_pb.CreateRegistryRequest(folder_id=FOLDER, name="made", labels={"a": "b"})
    )
    made["create"] = operation
    registry = registry_pb2.Registry()
    operation.response.Unpack(registry)
    made["upsert"] = stubs.repositories.Upsert(
        repository_pb.UpsertRepositoryRequest(name=f"{registry.id}/app"), metadata=(("idempotency-key", "up-1"),)
    )
    repository_id = stubs.repository(f"{registry.id}/app").id
    made["set-bindings"] = stubs.repositories.SetAccessBindings(
        access_pb2.SetAccessBindingsRequest(
            resource_id=repository_id,
            access_bindings=[
                access_pb2.AccessBinding(role_id="viewer", subject=access_pb2.Subject(id="aje1", type="userAccount"))
            ],
        )
    )
    made["registry-bindings"] = stubs.registries.SetAccessBindings(
        access_pb2.SetAccessBindingsRequest(
            resource_id=registry.id,
            access_bindings=[
                access_pb2.AccessBinding(role_id="admin", subject=access_pb2.Subject(id="group1", type="group"))
            ],
        )
    )
    made["ip"] = stubs.registries.SetIpPermission(
        registry_pb.SetIpPermissionRequest(
            registry_id=registry.id,
            ip_permission=[
                ip_permission_pb2.IpPermission(action=ip_permission_pb2.IpPermission.Action.PUSH, ip="10.1.2.3")
            ],
        )
    )
    image = emulator.add_image(registry.id, "web")
    made["delete-image"] = stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
    made["update"] = stubs.registries.Update(registry_pb.UpdateRegistryRequest(registry_id=registry.id, name="renamed"))
    emulator.add_image(registry.id, "held")
    return made


@pytest.mark.parametrize("complete", [True, False], ids=["complete", "as-the-state-file"])
def test_state_reloads_into_a_new_emulator_with_repositories_bindings_and_operations(emulator, stubs, complete):
    emulator.load_seed(seed())
    made = busy(emulator, stubs)
    state = emulator.state(complete=complete)
    with Emulator() as again:
        again.load_seed(json.loads(json.dumps(state)))
        assert again.state() == emulator.state()
        assert again.repositories.keys() == emulator.repositories.keys()
        for repository_id, repository in emulator.repositories.items():
            loaded = again.repositories[repository_id]
            assert (loaded.name, loaded.kept, loaded.access_bindings) == (
                repository.name,
                repository.kept,
                repository.access_bindings,
            )
        channel = again.channel()
        try:
            other = Stubs(channel)
            for operation in made.values():
                assert other.operation(operation.id).SerializeToString() == operation.SerializeToString()
            # The idempotency key came along with the request's digest.
            created = registry_pb2.Registry()
            made["create"].response.Unpack(created)
            request = repository_pb.UpsertRepositoryRequest(name=f"{created.id}/app")
            assert other.repositories.Upsert(request, metadata=(("idempotency-key", "up-1"),)) == made["upsert"]
            assert other.repository(f"{created.id}/app") == stubs.repository(f"{created.id}/app")
            # kept flags work after the reload: the seed's not-kept repository goes with its image.
            other.images.Delete(image_pb.DeleteImageRequest(image_id="crpimageweb"))
            assert "crprepoweb" not in again.repositories
            other.images.Delete(image_pb.DeleteImageRequest(image_id="crpimagekept"))
            assert "crprepokept" in again.repositories
        finally:
            channel.close()


def test_a_create_registry_operation_reads_back_the_same_bytes_after_a_reload(emulator, stubs):
    operation = stubs.registries.Create(registry_pb.CreateRegistryRequest(folder_id=FOLDER, name="bytes"))
    assert operation.done and operation.response.type_url.endswith("yandex.cloud.containerregistry.v1.Registry")
    with Emulator() as again:
        again.load_seed(emulator.state(complete=False))
        channel = again.channel()
        try:
            read = Stubs(channel).operation(operation.id)
        finally:
            channel.close()
    assert read.SerializeToString() == operation.SerializeToString()
    assert read.response.value == operation.response.value


# ---- the standalone process and its state file ------------------------------------------------


def test_registries_and_repositories_survive_a_restart_with_the_state_file(tmp_path):
    state = tmp_path / "state.json"
    empty = tmp_path / "seed.json"
    empty.write_text('{"registries": []}')
    args = ["--seed", str(empty), "--state-file", str(state)]
    binding = access_pb2.AccessBinding(role_id="viewer", subject=access_pb2.Subject(id="aje1", type="userAccount"))
    first = EmulatorProcess(args, empty=False).start()
    try:
        channel = first.channel()
        stubs = Stubs(channel)
        created = stubs.registries.Create(registry_pb.CreateRegistryRequest(folder_id=FOLDER, name="kept-over"))
        registry = registry_pb2.Registry()
        created.response.Unpack(registry)
        upserted = stubs.repositories.Upsert(repository_pb.UpsertRepositoryRequest(name=f"{registry.id}/app"))
        repository = stubs.repository(f"{registry.id}/app")
        for service, resource_id in ((stubs.repositories, repository.id), (stubs.registries, registry.id)):
            service.SetAccessBindings(
                access_pb2.SetAccessBindingsRequest(resource_id=resource_id, access_bindings=[binding])
            )
        stubs.registries.SetIpPermission(
            registry_pb.SetIpPermissionRequest(
                registry_id=registry.id,
                ip_permission=[
                    ip_permission_pb2.IpPermission(action=ip_permission_pb2.IpPermission.Action.PULL, ip="10.0.0.1")
                ],
            )
        )
        image = first.add_image(registry.id, "web")
        web = stubs.repository(f"{registry.id}/web")
        channel.close()
        expected = first.state()
    finally:
        assert first.stop() == 0
    assert json.loads(state.read_text())["registries"][0]["id"] == registry.id

    second = EmulatorProcess(args, empty=False).start()
    try:
        assert second.state() == expected
        channel = second.channel()
        stubs = Stubs(channel)
        assert stubs.registries.Get(registry_pb.GetRegistryRequest(registry_id=registry.id)) == registry
        assert stubs.repository(f"{registry.id}/app") == repository
        assert stubs.repository(f"{registry.id}/web") == web
        assert stubs.repository_bindings(repository.id) == [binding_dict(binding)]
        assert stubs.registry_bindings(registry.id) == [binding_dict(binding)]
        assert stubs.ip_permissions(registry.id) == [{"action": "PULL", "ip": "10.0.0.1"}]
        assert stubs.operation(created.id) == created
        assert stubs.operation(upserted.id) == upserted
        stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))  # "web" was never kept
        error = rpc_error(stubs.repositories.Get, repository_pb.GetRepositoryRequest(repository_id=web.id))
        assert error.code() == grpc.StatusCode.NOT_FOUND
        channel.close()
    finally:
        assert second.stop() == 0


# ---- the control plane and RemoteEmulator ------------------------------------------------------


@pytest.fixture(scope="module")
def admin_emulator():
    with Emulator(admin_port=0) as emulator:
        yield emulator


@pytest.fixture
def admin(admin_emulator):
    admin_emulator.reset()
    return admin_emulator


@pytest.fixture
def admin_stubs(admin):
    channel = admin.channel()
    yield Stubs(channel)
    channel.close()


def test_post_repositories_adds_a_kept_repository(admin, admin_stubs):
    registry = admin.add_registry(FOLDER)
    status, answer = http("POST", admin.admin_url + "/repositories", {"registry_id": registry.id, "path": "team/web"})
    assert status == 200, answer
    got = admin_stubs.repository(f"{registry.id}/team/web")
    assert answer == {
        "registry_id": registry.id,
        "name": f"{registry.id}/team/web",
        "path": "team/web",
        "id": got.id,
        "kept": True,
    }
    body = {"registry_id": registry.id, "path": "app", "id": "crpgivenrepo", "access_bindings": [VIEWER]}
    status, answer = http("POST", admin.admin_url + "/repositories", body)
    assert status == 200, answer
    assert answer["id"] == "crpgivenrepo" and answer["access_bindings"] == [VIEWER]
    assert admin_stubs.repository(f"{registry.id}/app").id == "crpgivenrepo"
    assert admin_stubs.repository_bindings("crpgivenrepo") == [VIEWER]
    # An existing repository is returned, and kept from now on.
    image = admin.add_image(registry.id, "plain")
    status, answer = http("POST", admin.admin_url + "/repositories", {"registry_id": registry.id, "path": "plain"})
    assert status == 200 and answer["id"] == admin_stubs.repository(f"{registry.id}/plain").id
    admin_stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
    assert admin_stubs.repository(f"{registry.id}/plain").id == answer["id"]


BAD_BODIES = [
    ({"path": "app"}, "registry_id"),
    ({"registry_id": "REGISTRY"}, "path"),
    ({"registry_id": "crpnosuchregistry", "path": "app"}, "registry_id"),
    ({"registry_id": "REGISTRY", "path": "app", "id": "BAD-ID"}, "id"),
    ({"registry_id": "REGISTRY", "path": "app", "colour": "red"}, "colour"),
    ({"registry_id": "REGISTRY", "path": 7}, "path"),
    (
        {"registry_id": "REGISTRY", "path": "app", "access_bindings": [{"role_id": "viewer"}]},
        "access_bindings[0].subject",
    ),
    (
        {"registry_id": "REGISTRY", "path": "app", "access_bindings": [{**VIEWER, "role_id": ""}]},
        "access_bindings[0].role_id",
    ),
    ({"registry_id": "REGISTRY", "path": "app", "access_bindings": "viewer"}, "access_bindings"),
    (["REGISTRY", "app"], "body"),
]


@pytest.mark.parametrize(("body", "named"), BAD_BODIES, ids=[f"{n}-{named}" for n, (_, named) in enumerate(BAD_BODIES)])
def test_post_repositories_with_a_bad_body_is_400_naming_the_field(admin, body, named):
    registry = admin.add_registry(FOLDER)
    before = frozen(admin)
    body = json.loads(json.dumps(body).replace("REGISTRY", registry.id))
    status, answer = http("POST", admin.admin_url + "/repositories", body)
    assert status == 400, answer
    assert answer["error"].startswith(f"{named}:") or answer["error"].startswith(f"{named} "), answer
    assert frozen(admin) == before


def test_post_repositories_with_more_than_1000_bindings_is_400_and_adds_nothing(admin):
    registry = admin.add_registry(FOLDER)
    body = {"registry_id": registry.id, "path": "app", "access_bindings": too_many("access_bindings")}
    status, answer = http("POST", admin.admin_url + "/repositories", body)
    assert (status, admin.repositories) == (400, {}), answer
    assert answer["error"].startswith("access_bindings"), answer


def test_post_repositories_with_a_bad_path_names_path(admin):
    registry = admin.add_registry(FOLDER)
    status, answer = http("POST", admin.admin_url + "/repositories", {"registry_id": registry.id, "path": "Bad"})
    assert status == 400
    assert answer["error"].startswith("path:"), answer


def test_post_repositories_refuses_kept_false(admin):
    """A repository that is not kept exists only while it holds images: an empty one must not be
    made (its state could not be loaded again: the seed rules refuse it)."""
    registry = admin.add_registry(FOLDER)
    status, answer = http(
        "POST", admin.admin_url + "/repositories", {"registry_id": registry.id, "path": "a", "kept": False}
    )
    assert status == 400 and answer["error"].startswith("kept"), answer
    Emulator().load_seed(admin.state())


def remote_of(emulator: Emulator) -> RemoteEmulator:
    return RemoteEmulator(emulator.endpoint, emulator.admin_url)


def essentials(repositories: dict) -> dict:
    return {r.id: (r.registry_id, r.name, r.path, r.kept, r.access_bindings) for r in repositories.values()}


def test_remote_emulator_add_repository_and_repositories_agree_with_the_wire(admin, admin_stubs):
    remote = remote_of(admin)
    registry = remote.add_registry(FOLDER, name="remote")
    made = remote.add_repository(registry.id, "app", access_bindings=[VIEWER])
    assert (made.registry_id, made.name, made.path, made.kept) == (registry.id, f"{registry.id}/app", "app", True)
    assert [binding.subject_id for binding in made.access_bindings] == [VIEWER["subject"]["id"]]
    given = remote.add_repository(registry.id, "team/web", id="crpremoterepo")
    assert given.id == "crpremoterepo"
    remote.add_image(registry.id, "web")
    assert essentials(remote.repositories) == essentials(admin.repositories)
    assert len(remote.repositories) == 3
    for repository in remote.repositories.values():
        assert admin_stubs.repository(repository.name).id == repository.id
        got = admin_stubs.repositories.Get(repository_pb.GetRepositoryRequest(repository_id=repository.id))
        assert got.name == repository.name
    assert admin_stubs.repository_bindings(made.id) == [VIEWER]


def test_remote_emulator_add_repository_refuses_bad_input_with_value_error(admin):
    remote = remote_of(admin)
    registry = remote.add_registry(FOLDER)
    for arguments, named in (
        ({"registry_id": "crpnosuchregistry", "path": "app"}, "registry_id"),
        ({"registry_id": registry.id, "path": "app", "id": "BAD-ID"}, "id"),
        ({"registry_id": registry.id, "path": "app", "access_bindings": [{"role_id": ""}]}, "access_bindings[0]"),
    ):
        with pytest.raises(ValueError, match="^" + re.escape(named)):
            remote.add_repository(**arguments)
    assert remote.repositories == {}


def test_remote_emulator_add_registry_with_bindings_permissions_and_repositories(admin, admin_stubs):
    remote = remote_of(admin)
    registry = remote.add_registry(
        FOLDER,
        access_bindings=[VIEWER],
        ip_permissions=[PUSH],
        repositories=[{"path": "app", "id": "crpremoteapp", "access_bindings": [ADMIN]}],
    )
    assert [b.role_id for b in registry.access_bindings] == [VIEWER["role_id"]]
    assert [(p.action, p.ip) for p in registry.ip_permissions] == [(PUSH["action"], PUSH["ip"])]
    assert admin_stubs.registry_bindings(registry.id) == [VIEWER]
    assert admin_stubs.ip_permissions(registry.id) == [PUSH]
    assert admin_stubs.repository(f"{registry.id}/app").id == "crpremoteapp"
    assert admin_stubs.repository_bindings("crpremoteapp") == [ADMIN]
    assert essentials(remote.repositories) == essentials(admin.repositories)


# ---- Emulator.add_registry and add_repository ---------------------------------------------------


def test_add_registry_applies_bindings_permissions_and_repositories(emulator, stubs):
    registry = emulator.add_registry(
        FOLDER,
        access_bindings=[VIEWER, ADMIN],
        ip_permissions=[PULL],
        repositories=[{"path": "app", "id": "crpaddapp"}, {"path": "team/web", "access_bindings": [VIEWER]}],
    )
    assert stubs.registry_bindings(registry.id) == [VIEWER, ADMIN]
    assert stubs.ip_permissions(registry.id) == [PULL]
    assert stubs.repository(f"{registry.id}/app").id == "crpaddapp"
    web = stubs.repository(f"{registry.id}/team/web")
    assert stubs.repository_bindings(web.id) == [VIEWER]
    assert all(repository.kept for repository in emulator.repositories.values())


def test_add_registry_refuses_images(emulator):
    with pytest.raises(ValueError, match="^images"):
        emulator.add_registry(FOLDER, images=[{"repository": "app"}])
    assert emulator.registries == {}


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"access_bindings": [{**VIEWER, "role_id": ""}]}, "access_bindings[0].role_id"),
        ({"ip_permissions": [{"action": "PULL", "ip": "nope"}]}, "ip_permissions[0].ip"),
        ({"repositories": [{"path": "app"}, {"path": "b", "id": "BAD-ID"}]}, "repositories[1].id"),
        (
            {"repositories": [{"path": "app", "access_bindings": [{"role_id": "x"}]}]},
            "repositories[0].access_bindings[0]",
        ),
        (
            {"repositories": [{"path": "app", "id": "crpsameid"}, {"path": "b", "id": "crpsameid"}]},
            "repositories[1].id",
        ),
    ],
)
def test_add_registry_with_a_bad_part_adds_nothing(emulator, fields, named):
    before = frozen(emulator)
    with pytest.raises(ValueError) as caught:
        emulator.add_registry(FOLDER, **fields)
    assert str(caught.value).startswith(named), str(caught.value)
    assert frozen(emulator) == before and emulator.repositories == {}


def test_add_registry_refuses_a_repository_that_is_not_kept_and_holds_no_image(emulator):
    with pytest.raises(ValueError, match=r"^repositories\[0\]\.kept"):
        emulator.add_registry(FOLDER, repositories=[{"path": "app", "kept": False}])
    assert emulator.registries == {} and emulator.repositories == {}


def test_add_repository_refuses_kept_false(emulator, registry):
    with pytest.raises(ValueError, match="^kept"):
        emulator.add_repository(registry.id, "app", kept=False)
    assert emulator.repositories == {}


def test_add_repository_of_an_existing_repository_keeps_its_access_bindings(emulator, registry, stubs):
    made = emulator.add_repository(registry.id, "app")
    binding = access_pb2.AccessBinding(role_id="viewer", subject=access_pb2.Subject(id="aje1", type="userAccount"))
    stubs.repositories.SetAccessBindings(
        access_pb2.SetAccessBindingsRequest(resource_id=made.id, access_bindings=[binding])
    )
    assert emulator.add_repository(registry.id, "app").id == made.id
    assert stubs.repository_bindings(made.id) == [binding_dict(binding)]


def test_add_repository_with_too_many_bindings_is_a_value_error_and_adds_nothing(emulator, registry):
    with pytest.raises(ValueError, match="^access_bindings"):
        emulator.add_repository(registry.id, "app", access_bindings=too_many("access_bindings"))
    assert emulator.repositories == {}


def test_add_repository_returns_the_existing_repository_and_keeps_it(emulator, registry, stubs):
    image = emulator.add_image(registry.id, "app")
    first = emulator.store.get_repository_by_name(f"{registry.id}/app")
    assert not first.kept
    again = emulator.add_repository(registry.id, "app")
    assert again.id == first.id and again.kept
    stubs.images.Delete(image_pb.DeleteImageRequest(image_id=image.id))
    assert stubs.repository(f"{registry.id}/app").id == first.id
    with pytest.raises(ValueError, match="^id"):
        emulator.add_repository(registry.id, "app", id="crpanotherid")
    with pytest.raises(ValueError, match="^registry_id"):
        emulator.add_repository("crpnosuchregistry", "app")


def test_repositories_is_a_snapshot(emulator, registry):
    snapshot = emulator.repositories
    made = emulator.add_repository(registry.id, "app")
    assert snapshot == {} and list(emulator.repositories) == [made.id]
    emulator.repositories.clear()
    assert list(emulator.repositories) == [made.id]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"name": "n" * 64}, "name"),
        ({"name": "n" * 1_000_000}, "name"),
        ({"labels": {f"k{n}": "v" for n in range(65)}}, "labels"),
        ({"labels": {"k": "v" * 64}}, "labels"),
        ({"labels": {"k" * 64: "v"}}, "labels"),
    ],
)
def test_a_registry_is_held_to_the_sizes_create_registry_allows_on_every_surface(fields, named):
    """Found by review: seeds, add_registry and POST /registries took registry names and labels of
    any size (five registries with 1 MiB names made every List RESOURCE_EXHAUSTED)."""
    from emulator import Emulator, SeedError

    with Emulator() as emulator:
        with pytest.raises(SeedError, match=rf"^registries\[0\]\.{named}"):
            emulator.load_seed({"registries": [{"folder_id": "b1gbounded0000000000", **fields}]})
        with pytest.raises(ValueError, match=rf"^{named}"):
            emulator.add_registry("b1gbounded0000000000", **fields)
        assert emulator.registries == {}
