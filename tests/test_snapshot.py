"""``ycr-emulator snapshot``: a snapshot of a standalone emulator (TLS, strict auth) loaded into a
second emulator answers every List (every scope, order, page size, some filters) and every Get
the same, through the official SDK's stubs; the other scopes, tokens and outputs; every error is
one line and an exit code, with nothing written; and a snapshot only reads.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import stat
import subprocess
import sys
from itertools import permutations
from pathlib import Path

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yandex.cloud.access import access_pb2
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1 import repository_service_pb2 as repository_pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.containerregistry.v1.repository_service_pb2_grpc import RepositoryServiceStub

from conftest import iter_pages
from emulator import Emulator
from emulator.contract.client import ClientError
from emulator.contract.snapshot import last_modified_values, loading_problem, main, output_path
from emulator.control.process import EmulatorProcess

FOLDER = "b1gsnapshot000000000"
OTHER = "b1gsnapshotother0000"
BIG = "b1gsnapshotbig000000"
TOKEN = "t1.snapshot-reader"
NARROW = "t1.snapshot-narrow"  # FOLDER only
OAUTH = "y0_snapshot-oauth-token"
TOKENS = ["--require-token", f"{TOKEN}=*", "--require-token", f"{NARROW}={FOLDER}", "--require-token", f"{OAUTH}=*"]
PREFIX = "ycr-emulator snapshot: "
NOT_UTF8 = os.fsdecode(b"b1g\xff")  # how a command line's non-UTF-8 argument reaches Python
FIELDS = ("id", "name", "digest", "created_at", "last_modified")
# Every order of one or two fields (each ascending, descending, or without a direction) and some longer ones.
ORDERS = (
    [""]
    + [f"{field}{direction}" for field in FIELDS for direction in ("", " asc", " desc")]
    + [f"{a}{da}, {b}{db}" for a, b in permutations(FIELDS, 2) for da in ("", " desc") for db in ("", " desc")]
    + [
        "last_modified desc, name, digest desc",
        "name, last_modified, created_at desc, digest",
        "created_at, last_modified desc, name desc, digest, id desc",
    ]
)
REPOSITORY_ORDERS = ("", "id", "id desc", "name", "name asc", "name desc", "name, id desc", "name desc, id")


# ---- the data -------------------------------------------------------------------------------------


def _digest(rng: random.Random) -> str:
    return "sha256:" + "".join(rng.choice("0123456789abcdef") for _ in range(64))


def _blob(rng: random.Random, size: int, urls=()) -> dict:
    return {"id": f"crpblob{rng.randrange(10**12):012d}", "digest": _digest(rng), "size": size, "urls": list(urls)}


def varied_seed() -> dict:
    """Registries in FOLDER (labels, statuses, access bindings, IP permissions, an empty kept
    repository, nested paths), one in OTHER, and images with odd timestamps (nanoseconds, year 1,
    year 9999, before 1970, equal ones), moved tags (so last_modified differs from created_at, with
    ties), a given last_modified, given blobs (urls, no layers), compressed sizes that are not the
    blobs' sum, and an image list."""
    rng = random.Random(13)
    binding = {"role_id": "container-registry.images.puller", "subject": {"id": "ajeuser1", "type": "userAccount"}}
    pusher = {"role_id": "container-registry.images.pusher", "subject": {"id": "ajesa001", "type": "serviceAccount"}}

    def image(repository: str, created_at: str, **fields) -> dict:
        return {"repository": repository, "digest": _digest(rng), "created_at": created_at, **fields}

    main_images = [
        image("app", "2024-02-29T23:59:59.999999999Z", tags=["latest", "v1"]),
        image("app", "2024-03-01T00:00:00.000000001Z", tags=["v2"]),
        image("app", "2024-03-01T00:00:00.000000001Z", tags=["latest"]),  # takes latest: the first is modified
        image("app", "2024-03-02T10:00:00Z", tags=["v1", "v2"]),  # takes v1 and v2 off two images: ties
        image("team/web", "0001-01-01T00:00:00Z", tags=["ancient"]),
        image("team/web", "9999-12-31T23:59:59.999999999Z", tags=["future"]),
        image("team/web", "1969-12-31T23:59:59.999999999Z", compressed_size=1),
        image("team/web", "2020-05-05T05:05:05.5Z", last_modified="2022-01-01T00:00:00.123Z", tags=["_x"]),
        image(
            "team/web/cache",
            "2021-07-07T07:07:07.070707070Z",
            tags=["t" * 128],
            compressed_size=9_223_372_036_854_775_807,
            config=_blob(rng, 1_500),
            layers=[_blob(rng, 27_500_000, ["https://example.com/layer"]), _blob(rng, 0)],
        ),
        image("team/web/cache", "2021-07-07T07:07:07.070707070Z", layers=[], compressed_size=0, tags=["empty"]),
        image("tools.x_y-z/deep/nested/path", "2023-01-01T00:00:00Z", tags=["a", "b", "c"]),
    ]
    main_images += [
        image("team/web", f"2023-06-{day:02d}T12:00:00.{day:09d}Z", tags=[f"d{day}"]) for day in range(1, 20)
    ]
    for day in (3, 7, 11):  # retagged later: more moves, to the same later image
        main_images.append(image("team/web", f"2023-07-{day:02d}T00:00:00Z", tags=[f"d{day}", f"d{day + 1}"]))
    index = image("team/web", "2023-08-01T00:00:00Z", tags=["multi"])
    index["manifests"] = [main_images[4]["digest"], main_images[5]["digest"]]  # an image list
    main_images.append(index)
    second_images = [
        image(f"svc{n % 3}", f"2022-0{1 + n % 9}-01T00:00:00.{n:03d}Z", tags=[f"r{n % 4}"]) for n in range(12)
    ]
    registries = [
        {
            "id": "crpsnapmain000000001",
            "folder_id": FOLDER,
            "name": "main",
            "created_at": "2023-03-04T05:06:07.123456789Z",
            "labels": {"env": "prod", "team": "platform", "city": "zürich", "blank": ""},
            "access_bindings": [binding, pusher],
            "ip_permissions": [{"action": "PULL", "ip": "10.0.0.0/8"}, {"action": "PUSH", "ip": "192.168.1.1/32"}],
            "repositories": [
                {"path": "team/empty", "id": "crpsnapemptyrepo0001", "kept": True, "access_bindings": [binding]},
                {"path": "app", "id": "crpsnapapprepo000001", "access_bindings": [pusher]},
            ],
            "images": main_images,
        },
        {
            "id": "crpsnapcreating00001",
            "folder_id": FOLDER,
            "name": "second",
            "created_at": "1999-12-31T23:59:59.999999999Z",
            "status": "CREATING",
            "images": second_images,
        },
        {
            "id": "crpsnapdeleting00001",
            "folder_id": FOLDER,
            "name": "going",
            "status": "DELETING",
            "repositories": [{"path": "left/behind", "id": "crpsnapleftrepo00001"}],
        },
        {
            "id": "crpsnapother00000001",
            "folder_id": OTHER,
            "name": "elsewhere",
            "labels": {"scope": "other"},
            "images": [
                image("solo", "2025-01-01T00:00:00.000000123Z", tags=["x"]),
                image("solo/sub", "2025-01-02T00:00:00Z"),
            ],
        },
    ]
    return {"registries": registries}


def big_seed(count: int = 2_100) -> dict:
    """One registry of more images than a page holds; every new image of a repository takes its
    "latest" tag, so nearly every image has a last_modified of its own."""
    rng = random.Random(5)
    images = [
        {
            "repository": f"service{n % 5}",
            "digest": _digest(rng),
            "created_at": f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.{n // 4:09d}Z",  # some alike
            "tags": ["latest", f"build-{n}"],
        }
        for n in range(count)
    ]
    return {"registries": [{"id": "crpsnapbig0000000001", "folder_id": BIG, "name": "big", "images": images}]}


@pytest.fixture(scope="module")
def source():
    """The endpoint snapshotted: a standalone emulator, TLS and strict auth, holding the seeds."""
    with EmulatorProcess(["--tls-port", "0", "--auth", "strict", *TOKENS]) as process:
        process.load_seed(varied_seed())
        process.load_seed(big_seed())
        yield process


@pytest.fixture(scope="module")
def running_local():
    with Emulator(tls=True, auth="strict", tokens={TOKEN: None, NARROW: [FOLDER], OAUTH: None}) as emulator:
        yield emulator


@pytest.fixture
def local(running_local):
    """An in-process emulator (TLS, strict auth) holding the varied seed; its recorded calls and
    fault rules are this test's (reset() empties them and restores the auth settings)."""
    running_local.reset()
    running_local.load_seed(varied_seed())
    return running_local


@pytest.fixture
def ca_file(tmp_path, source):
    path = tmp_path / "source-ca.pem"
    path.write_bytes(source.ca_pem)
    return path


@pytest.fixture
def local_ca(tmp_path, local):
    path = tmp_path / "local-ca.pem"
    path.write_bytes(local.ca_pem)
    return path


# ---- comparing two endpoints ----------------------------------------------------------------------


class Api:
    """The official SDK's stubs on one endpoint over TLS, with the test token on every call."""

    def __init__(self, endpoint: str, ca_pem: bytes, token: str = TOKEN):
        self.channel = grpc.secure_channel(endpoint, grpc.ssl_channel_credentials(ca_pem))
        self.metadata = (("authorization", f"Bearer {token}"),)
        self.stubs = {
            "images": ImageServiceStub(self.channel),
            "registries": RegistryServiceStub(self.channel),
            "repositories": RepositoryServiceStub(self.channel),
        }

    def method(self, service: str, name: str):
        method = getattr(self.stubs[service], name)
        return lambda request, timeout=None: method(request, metadata=self.metadata, timeout=timeout or 30)

    def answer(self, service: str, name: str, request):
        """A List's pages (items and whether a next page was announced; tokens differ per process)
        or a Get's message; an error as its code and message."""
        try:
            if name in ("List", "ListAccessBindings"):  # paged
                pages = iter_pages(self.method(service, name), request)
                return [(list(page), bool(page.next_page_token)) for page in pages]
            return self.method(service, name)(request)
        except grpc.RpcError as error:
            return (error.code(), error.details())

    def all(self, service: str, request) -> list:
        return [item for items, _ in self.answer(service, "List", request) for item in items]

    def close(self) -> None:
        self.channel.close()


def requests_of(api: Api, folder_id: str | None = None, registry_id: str | None = None) -> list[tuple]:
    """(service, method, request) for every List scope and order and every Get, in the snapshot's scope."""
    if registry_id is None:
        registries = api.all("registries", registry_pb.ListRegistriesRequest(folder_id=folder_id))
    else:
        registries = [api.method("registries", "Get")(registry_pb.GetRegistryRequest(registry_id=registry_id))]
    repositories = [
        repository
        for registry in registries
        for repository in api.all("repositories", repository_pb.ListRepositoriesRequest(registry_id=registry.id))
    ]
    scope = {"folder_id": folder_id} if registry_id is None else {"registry_id": registry_id}
    images = api.all("images", image_pb.ListImagesRequest(page_size=1000, **scope))
    image_scopes = [scope] + [{"registry_id": registry.id} for registry in registries]
    image_scopes += [{"repository_name": repository.name} for repository in repositories]
    found = [
        ("images", "List", image_pb.ListImagesRequest(page_size=1000, order_by=order, **where))
        for where in image_scopes
        for order in ORDERS
    ]
    found += [("images", "List", image_pb.ListImagesRequest(page_size=7, order_by=order, **scope)) for order in ORDERS]
    names = sorted({image.name for image in images})
    filters = [f'name = "{name}"' for name in names] + [f"name NOT IN ({', '.join(map(json.dumps, names[:2]))})"]
    found += [
        ("images", "List", image_pb.ListImagesRequest(filter=text, order_by=order, **scope))
        for text in filters
        for order in ("", "last_modified desc, name")
    ]
    found += [("images", "Get", image_pb.GetImageRequest(image_id=image.id)) for image in images]
    repository_scopes = [{"registry_id": registry.id} for registry in registries]
    repository_scopes += [{"folder_id": folder_id}] if registry_id is None else []
    found += [
        ("repositories", "List", repository_pb.ListRepositoriesRequest(page_size=size, order_by=order, **where))
        for where in repository_scopes
        for order in REPOSITORY_ORDERS
        for size in (0, 2)
    ]
    for repository in repositories:
        found.append(("repositories", "Get", repository_pb.GetRepositoryRequest(repository_id=repository.id)))
        found.append(
            ("repositories", "GetByName", repository_pb.GetRepositoryByNameRequest(repository_name=repository.name))
        )
        access = access_pb2.ListAccessBindingsRequest(resource_id=repository.id)
        found.append(("repositories", "ListAccessBindings", access))
    if registry_id is None:
        found += [
            ("registries", "List", registry_pb.ListRegistriesRequest(folder_id=folder_id, page_size=s)) for s in (0, 1)
        ]
        found += [
            ("registries", "List", registry_pb.ListRegistriesRequest(folder_id=folder_id, filter=f'name = "{r.name}"'))
            for r in registries
        ]
    for registry in registries:
        found.append(("registries", "Get", registry_pb.GetRegistryRequest(registry_id=registry.id)))
        found.append(
            ("registries", "ListAccessBindings", access_pb2.ListAccessBindingsRequest(resource_id=registry.id))
        )
        found.append(("registries", "ListIpPermission", registry_pb.ListIpPermissionRequest(registry_id=registry.id)))
    return found


def assert_same_answers(expected: Api, actual: Api, requests: list[tuple]) -> None:
    differences = []
    for service, method, request in requests:
        wanted, got = expected.answer(service, method, request), actual.answer(service, method, request)
        if wanted != got:
            differences.append(f"{service}.{method}({type(request).__name__}: {request}".replace("\n", " ") + ")")
    assert not differences, f"{len(differences)} of {len(requests)} requests differ, e.g. {differences[:5]}"


def snapshot(argv: list[str], capsys) -> tuple[int, str, list[str]]:
    """main(argv) in-process: the exit code, standard output, and the lines on standard error."""
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err.splitlines()


# ---- the snapshot answers as the endpoint did ------------------------------------------------------


def test_a_snapshot_loaded_into_another_emulator_answers_every_list_and_get_the_same(source, ca_file, tmp_path):
    output = tmp_path / "seed.json"
    env = {name: value for name, value in os.environ.items() if not name.startswith("YCR_")}
    command = [sys.executable, "-m", "emulator", "snapshot", "--endpoint", source.tls_endpoint, "--ca-file", ca_file]
    result = subprocess.run(
        [*map(str, command), "--folder-id", FOLDER, "--output", str(output)],
        env={**env, "YCR_IAM_TOKEN": TOKEN},
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"folder {FOLDER}: 3 Container Registry registries"
    assert "registry crpsnapmain000000001 (main): 5 repositories (1 empty), 34 images" in lines
    assert "registry crpsnapdeleting00001 (going): 1 repository (1 empty), 0 images" in lines
    assert lines[-1] == f"wrote {output}: 3 registries, 9 repositories, 46 images"

    seed = json.loads(output.read_text(encoding="utf-8"))
    assert [registry["id"] for registry in seed["registries"]] == [
        "crpsnapcreating00001", "crpsnapdeleting00001", "crpsnapmain000000001",
    ]  # fmt: skip
    main_registry = seed["registries"][2]
    assert main_registry["labels"]["city"] == "zürich" and main_registry["created_at"].endswith(".123456789Z")
    kept = [(item["path"], item["id"]) for item in main_registry["repositories"] if item["kept"]]
    assert kept == [("team/empty", "crpsnapemptyrepo0001")]  # the only one holding no image
    sizes = {image["compressed_size"] for image in main_registry["images"]}
    assert {0, 1, 9_223_372_036_854_775_807} <= sizes  # as served, not the blobs' sum
    assert any("last_modified" in image for image in main_registry["images"])  # tags moved

    with EmulatorProcess(["--seed", str(output), "--tls-port", "0", "--auth", "strict", *TOKENS], empty=False) as copy:
        source_api, copy_api = Api(source.tls_endpoint, source.ca_pem), Api(copy.tls_endpoint, copy.ca_pem)
        try:
            requests = requests_of(source_api, folder_id=FOLDER)
            assert len(requests) > 1_000
            assert_same_answers(source_api, copy_api, requests)
            # Not vacuous: the other folder's registry is not in the copy, the same requests there differ.
            elsewhere = image_pb.ListImagesRequest(folder_id=OTHER)
            assert source_api.all("images", elsewhere) and not copy_api.all("images", elsewhere)
        finally:
            source_api.close()
            copy_api.close()


def test_a_large_registry_is_read_page_by_page_with_a_running_count(source, ca_file, tmp_path, capsys):
    output = tmp_path / "big.json"
    code, out, err = snapshot(
        [
            "--endpoint",
            source.tls_endpoint,
            "--ca-file",
            ca_file,
            "--token",
            TOKEN,
            "--folder-id",
            BIG,
            "--output",
            output,
        ],
        capsys,
    )
    assert (code, out) == (0, "")
    assert ["images: 1000 read", "images: 2000 read", "images: 2100 read"] == [
        line for line in err if line.startswith("images: ")
    ]
    assert "registry crpsnapbig0000000001 (big): 5 repositories, 2100 images" in err
    with Emulator(tls=True) as copy:
        copy.load_seed(output)
        source_api, copy_api = Api(source.tls_endpoint, source.ca_pem), Api(copy.endpoint, copy.ca_pem)
        try:
            orders = ("", "last_modified", "last_modified desc, name", "name, last_modified desc", "created_at desc")
            requests = [
                ("images", "List", image_pb.ListImagesRequest(folder_id=BIG, page_size=1000, order_by=order))
                for order in orders
            ]
            assert_same_answers(source_api, copy_api, requests)
        finally:
            source_api.close()
            copy_api.close()


def test_a_registry_scope_snapshot_on_standard_output(local, local_ca, capsys):
    registry_id = "crpsnapother00000001"
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--registry-id", registry_id]
    code, out, err = snapshot(argv, capsys)
    assert code == 0, err
    seed = json.loads(out)
    assert [registry["id"] for registry in seed["registries"]] == [registry_id]
    assert [line for line in err if line.startswith("folder ")] == []
    assert err[-1] == "wrote standard output: 1 registry, 2 repositories, 2 images"
    with Emulator(tls=True) as copy:
        copy.load_seed(seed)
        local_api, copy_api = Api(local.endpoint, local.ca_pem), Api(copy.endpoint, copy.ca_pem)
        try:
            requests = requests_of(local_api, registry_id=registry_id)
            assert len(requests) > 300
            assert_same_answers(local_api, copy_api, requests)
        finally:
            local_api.close()
            copy_api.close()


def test_an_oauth_token_is_exchanged_and_gives_the_same_snapshot(local, local_ca, capsys, monkeypatch):
    common = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--folder-id", OTHER]
    by_iam = snapshot([*common, "--token", TOKEN], capsys)
    by_flag = snapshot([*common, "--oauth-token", OAUTH], capsys)
    monkeypatch.setenv("YCR_OAUTH_TOKEN", OAUTH)
    by_environment = snapshot(common, capsys)
    assert by_iam[:2] == by_flag[:2] == by_environment[:2] and by_iam[0] == 0
    assert len(json.loads(by_iam[1])["registries"]) == 1


def test_plaintext_reaches_an_emulator_without_tls(capsys):
    with Emulator() as plain:
        plain.load_seed(varied_seed())
        code, out, _ = snapshot(["--endpoint", plain.endpoint, "--plaintext", "--folder-id", OTHER], capsys)
    assert code == 0
    assert [image["repository"] for image in json.loads(out)["registries"][0]["images"]] == ["solo", "solo/sub"]


# ---- it only reads ---------------------------------------------------------------------------------


def test_a_snapshot_only_reads(local, local_ca, capsys):
    state = (local.registries, local.repositories, local.images)
    for scope in (["--folder-id", FOLDER], ["--registry-id", "crpsnapother00000001"]):
        for token in (["--token", TOKEN], ["--oauth-token", OAUTH]):
            argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, *token, *scope]
            assert snapshot(argv, capsys)[0] == 0
    methods = {call["method"].rpartition(".")[2] for call in local.calls}
    reads = {
        "ImageService/List", "RegistryService/List", "RegistryService/Get", "RepositoryService/List",
        "RegistryService/ListAccessBindings", "RegistryService/ListIpPermission",
        "RepositoryService/ListAccessBindings", "LifecyclePolicyService/List", "ScannerService/List",
        "ScanPolicyService/GetByRegistry",
    }  # fmt: skip
    assert methods == reads | {"ApiEndpointService/List", "IamTokenService/Create"}
    assert (local.registries, local.repositories, local.images) == state
    assert local.operations == {}


# ---- what the endpoint may refuse -----------------------------------------------------------------


def test_access_bindings_and_ip_permissions_refused_are_left_out_with_a_note(local, local_ca, capsys):
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", FOLDER]
    with (
        local.add_fault(method="RegistryService/ListAccessBindings", code="PERMISSION_DENIED", message="no"),
        local.add_fault(method="RepositoryService/ListAccessBindings", code="UNIMPLEMENTED"),
        local.add_fault(method="RegistryService/ListIpPermission", code="PERMISSION_DENIED"),
    ):
        code, out, err = snapshot(argv, capsys)
    refused = (
        "RegistryService/ListAccessBindings",
        "RepositoryService/ListAccessBindings",
        "RegistryService/ListIpPermission",
    )
    assert [len(local.calls_of(method)) for method in refused] == [1, 1, 1]  # once each, then skipped
    assert code == 0
    notes = [line for line in err if line.startswith("note: ")]
    assert notes == [
        f"note: {method}: {refusal}; {what} are not in the snapshot"
        for method, refusal, what in (
            ("RegistryService/ListAccessBindings", "PERMISSION_DENIED: no", "registry access bindings"),
            ("RegistryService/ListIpPermission", "PERMISSION_DENIED: injected PERMISSION_DENIED", "IP permissions"),
            (
                "RepositoryService/ListAccessBindings",
                "UNIMPLEMENTED: injected UNIMPLEMENTED",
                "repository access bindings",
            ),
        )
    ]
    seed = json.loads(out)
    text = json.dumps(seed)
    assert "access_bindings" not in text and "ip_permissions" not in text
    assert sum(len(registry["images"]) for registry in seed["registries"]) == 46


def test_without_reversed_ties_last_modified_still_orders_the_same(local, local_ca, capsys):
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", FOLDER]
    with local.add_fault(
        method="ImageService/List", match={"order_by": "last_modified, id desc"}, code="INVALID_ARGUMENT"
    ):
        code, out, err = snapshot(argv, capsys)
    assert code == 0
    assert any(line.startswith("note: order_by='last_modified, id desc' refused") for line in err), err
    with Emulator(tls=True) as copy:
        copy.load_seed(json.loads(out))
        local_api, copy_api = Api(local.endpoint, local.ca_pem), Api(copy.endpoint, copy.ca_pem)
        try:
            requests = [
                ("images", "List", image_pb.ListImagesRequest(folder_id=FOLDER, page_size=1000, order_by=order))
                for order in ("last_modified", "last_modified desc")  # ties are guessed: orders after them may differ
            ]
            assert_same_answers(local_api, copy_api, requests)
        finally:
            local_api.close()
            copy_api.close()


def test_an_endpoint_refusing_last_modified_order_leaves_it_as_created_at(local, local_ca, capsys):
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", FOLDER]
    with local.add_fault(method="ImageService/List", match={"order_by": "last_modified"}, code="INVALID_ARGUMENT"):
        code, out, err = snapshot(argv, capsys)
    assert code == 0
    assert any(line.startswith("note: order_by='last_modified' refused") for line in err), err
    images = [image for registry in json.loads(out)["registries"] for image in registry["images"]]
    assert len(images) == 46 and not any("last_modified" in image for image in images)


# ---- errors: one line, an exit code, nothing written ----------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--token", TOKEN, "--registry-id", "crpnosuchregistry000"], 1, "RegistryService/Get: NOT_FOUND: "),
        (["--token", "t1.unknown", "--folder-id", FOLDER], 1, "RegistryService/List: UNAUTHENTICATED: "),
        (["--token", NARROW, "--folder-id", OTHER], 1, "RegistryService/List: PERMISSION_DENIED: "),
        (["--token", NARROW, "--registry-id", "crpsnapother00000001"], 1, "RegistryService/Get: PERMISSION_DENIED: "),
        (["--oauth-token", "y0_not-configured", "--folder-id", FOLDER], 1, "IamTokenService/Create: UNAUTHENTICATED: "),
        (["--token", TOKEN], 2, "one of the arguments --folder-id --registry-id is required"),
        (["--token", TOKEN, "--folder-id", FOLDER, "--registry-id", "r"], 2, "not allowed with argument"),
        (
            ["--token", TOKEN, "--oauth-token", OAUTH, "--folder-id", FOLDER],
            2,
            "give --token or --oauth-token, not both",
        ),
        (["--token", TOKEN, "--plaintext", "--folder-id", FOLDER], 2, "--ca-file is for TLS"),
        (["--token", TOKEN, "--folder-id", FOLDER, "--bogus"], 2, "unrecognized arguments: --bogus"),
        (["--token", TOKEN, "--folder-id", FOLDER, "--timeout", "0"], 2, "--timeout: must be more than 0"),
        *[
            (["--token", TOKEN, "--folder-id", FOLDER, f"--timeout={value}"], 2, "--timeout: must be more than 0 and")
            for value in ("inf", "1e300", "nan", "-inf", "3601")
        ],
        (["--token", TOKEN, "--folder-id", FOLDER, "--retries", "11"], 2, "--retries: must be 0 to 10, got 11"),
        (["--token", TOKEN, "--folder-id", NOT_UTF8], 2, "--folder-id: not valid UTF-8 text"),
        (["--token", TOKEN, "--registry-id", NOT_UTF8], 2, "--registry-id: not valid UTF-8 text"),
        (["--token", NOT_UTF8, "--folder-id", FOLDER], 2, "--token: not valid UTF-8 text"),
        (["--token", "t1.é", "--folder-id", FOLDER], 2, "--token: holds a character no token has"),
        (["--oauth-token", NOT_UTF8, "--folder-id", FOLDER], 2, "--oauth-token: not valid UTF-8 text"),
        (["--token", TOKEN, "--folder-id", FOLDER, "--endpoint", f"{NOT_UTF8}:1"], 2, "--endpoint: not valid UTF-8"),
    ],
)
def test_errors_are_one_line_with_an_exit_code_and_nothing_written(
    local, local_ca, tmp_path, capsys, argv, code, message
):
    output = tmp_path / "seed.json"
    result = snapshot(["--endpoint", local.endpoint, "--ca-file", local_ca, *argv, "--output", output], capsys)
    assert result[:2] == (code, "")
    assert len(result[2]) == 1 and result[2][0].startswith(PREFIX) and message in result[2][0], result[2]
    assert not output.exists() and os.listdir(tmp_path) == [local_ca.name]
    if code == 2:
        assert local.calls == []  # refused before any call


def test_reaching_no_endpoint_is_an_error(local, local_ca, tmp_path, capsys):
    output = tmp_path / "seed.json"
    other_ca = tmp_path / "other.pem"
    with Emulator(tls=True) as other:
        other_ca.write_bytes(other.ca_pem)
    cases = [
        (
            ["--endpoint", f"127.0.0.1:{_free_port()}", "--ca-file", local_ca],
            1,
            "endpoint discovery failed: UNAVAILABLE",
        ),
        (
            ["--endpoint", local.endpoint, "--ca-file", other_ca],
            1,
            f"cannot reach {local.endpoint} over TLS: the certificate is not trusted by --ca-file {other_ca}",
        ),  # not its CA
        (["--endpoint", local.endpoint, "--ca-file", tmp_path / "missing.pem"], 2, "missing.pem: cannot read"),
        (["--endpoint", "localhost", "--ca-file", local_ca], 2, "an endpoint is HOST:PORT"),
        (["--endpoint", local.endpoint, "--ca-file", tmp_path], 2, "cannot read"),
    ]
    (tmp_path / "not-pem.pem").write_text("hello")
    cases.append((["--endpoint", local.endpoint, "--ca-file", tmp_path / "not-pem.pem"], 2, "holds no PEM certificate"))
    for argv, code, message in cases:
        result = snapshot(
            [*argv, "--token", TOKEN, "--folder-id", FOLDER, "--timeout", "20", "--output", output], capsys
        )
        assert result[:2] == (code, ""), (argv, result)
        assert len(result[2]) == 1 and result[2][0].startswith(PREFIX) and message in result[2][0], (argv, result[2])
        assert not result[2][0].endswith(": OK; nothing written")  # gRPC's own ending of a failed connection
        assert not output.exists()


def test_a_failure_midway_writes_nothing_and_keeps_an_older_output(local, local_ca, tmp_path, capsys):
    output = tmp_path / "seed.json"
    output.write_text("older")
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", FOLDER]
    with local.add_fault(method="RepositoryService/List", code="INTERNAL", message="broken", after=1):
        code, out, err = snapshot([*argv, "--output", output], capsys)
    assert (code, out) == (1, "")
    assert err[-1] == f"{PREFIX}RepositoryService/List: INTERNAL: broken; nothing written"
    assert [call["code"] for call in local.calls_of("RepositoryService/List")] == ["OK", "INTERNAL"]  # not retried
    assert "Traceback" not in "\n".join(err)
    assert output.read_text() == "older" and sorted(os.listdir(tmp_path)) == sorted([local_ca.name, output.name])
    assert snapshot([*argv, "--output", output], capsys)[0] == 0  # overwritten when it succeeds
    assert json.loads(output.read_text(encoding="utf-8"))["registries"]


def test_an_output_that_cannot_be_written_is_refused_before_reading(local, local_ca, tmp_path, capsys):
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", FOLDER]
    code, out, err = snapshot([*argv, "--output", tmp_path / "no" / "such" / "dir.json"], capsys)
    assert (code, out, len(err)) == (2, "", 1) and "cannot be written there" in err[0]
    assert local.calls == []


def test_help_says_what_the_output_may_be_and_every_exit_code(capsys):
    code, out, _ = snapshot(["--help"], capsys)
    text = " ".join(out.split())
    assert code == 0 and "overwritten" in text and "--registry-id" in text and "--retries N" in text
    assert "a symlink written through to its target; not a device, directory or fifo" in text
    assert "- or /dev/stdout, or no --output: standard output" in text
    assert "0 written; 1 the endpoint could not be reached" in text
    assert "or the seed was written but this emulator cannot load it" in text
    assert "2 bad usage (nothing read); 130 interrupted" in text
    assert "empty seed and a warning (exit 0)" in text


# ---- retries ---------------------------------------------------------------------------------------


def test_a_temporary_failure_is_retried_and_the_snapshot_is_the_same(local, local_ca, capsys):
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", FOLDER]
    code, expected, _ = snapshot(argv, capsys)
    assert code == 0
    before = len(local.calls_of("ImageService/List"))
    with local.add_fault(method="ImageService/List", code="UNAVAILABLE", count=1, after=1):
        code, out, err = snapshot(argv, capsys)
    assert (code, out) == (0, expected), err
    codes = [call["code"] for call in local.calls_of("ImageService/List")][before:]
    assert codes[:3] == ["OK", "UNAVAILABLE", "OK"] and codes.count("UNAVAILABLE") == 1
    with local.add_fault(method="RegistryService/List", code="RESOURCE_EXHAUSTED", count=3):
        assert snapshot(argv, capsys)[:2] == (0, expected)


@pytest.mark.parametrize(("retries", "sent"), [("0", 1), ("2", 3)])
def test_retries_are_bounded_by_the_flag(local, local_ca, tmp_path, capsys, retries, sent):
    output = tmp_path / "seed.json"
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", FOLDER]
    with local.add_fault(method="ImageService/List", code="UNAVAILABLE", after=1):
        code, out, err = snapshot([*argv, "--retries", retries, "--output", output], capsys)
    assert (code, out) == (1, "") and not output.exists()
    hint = " (retried up to 2 times; see --retries)" if sent > 1 else ""
    assert err[-1] == f"{PREFIX}ImageService/List: UNAVAILABLE: injected UNAVAILABLE{hint}; nothing written"
    assert [call["code"] for call in local.calls_of("ImageService/List")] == ["OK"] + ["UNAVAILABLE"] * sent


# ---- the output -----------------------------------------------------------------------------------


def test_a_symlinked_output_is_written_through_and_stays_a_link(local, local_ca, tmp_path, capsys):
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", OTHER]
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "seed.json"
    target.write_text("older")
    link = tmp_path / "link.json"
    link.symlink_to(Path("real") / "seed.json")
    code, out, err = snapshot([*argv, "--output", link], capsys)
    assert (code, out) == (0, ""), err
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "seed.json")
    assert json.loads(target.read_text())["registries"][0]["id"] == "crpsnapother00000001"
    assert sorted(os.listdir(tmp_path / "real")) == ["seed.json"]  # no temporary file left
    dangling = tmp_path / "dangling.json"  # a link to a file not there yet: the file is made
    dangling.symlink_to(tmp_path / "real" / "new.json")
    assert snapshot([*argv, "--output", dangling], capsys)[0] == 0
    assert dangling.is_symlink() and json.loads((tmp_path / "real" / "new.json").read_text())["registries"]


@pytest.mark.parametrize("name", ["-", "/dev/stdout"])
def test_dash_and_dev_stdout_are_standard_output(local, local_ca, capsys, name):
    # Checked first without writing: run as root, a regression would rename a file over /dev/stdout.
    assert output_path(name) is None
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", OTHER]
    code, out, err = snapshot([*argv, "--output", name], capsys)
    assert code == 0 and json.loads(out)["registries"][0]["id"] == "crpsnapother00000001"
    assert err[-1] == "wrote standard output: 1 registry, 2 repositories, 2 images"
    assert os.path.exists("/dev/stdout")


def _character_device(tmp_path: Path) -> Path:
    """A character device to refuse: as root, a /dev/null of the test's own (a regression would
    rename a file over it, not over the system's); otherwise /dev/null, which only root could replace."""
    if os.geteuid() != 0:
        return Path(os.devnull)
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError:
        pytest.skip("root without mknod: no device this test may risk")
    return device


def test_an_output_that_is_not_a_regular_file_is_refused_before_reading(local, local_ca, tmp_path, capsys):
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", FOLDER]
    device = _character_device(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "to-device"
    link.symlink_to(device)
    cases = [(device, "a character device"), (tmp_path, "a directory"), (fifo, "a fifo"), (link, "a character device")]
    for path, kind in cases:
        with pytest.raises(ClientError):  # checked first without writing, as for /dev/stdout
            output_path(str(path))
        code, out, err = snapshot([*argv, "--output", path], capsys)
        assert (code, out) == (2, "")
        assert err == [f"{PREFIX}--output {path}: {kind}, not a regular file (use - for standard output)"]
    assert local.calls == []
    assert fifo.is_fifo() and link.is_symlink() and device.is_char_device()


def _run_cli(argv: list, **options) -> subprocess.CompletedProcess:
    """``python -m emulator snapshot ...`` in a subprocess, without the caller's YCR_/GRPC_ variables."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("YCR_", "GRPC_"))}
    command = [sys.executable, "-m", "emulator", "snapshot", *map(str, argv)]
    return subprocess.run(command, env=env, check=False, text=True, timeout=120, **options)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_full_standard_output_is_one_line_and_exit_1(local, local_ca):
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", OTHER]
    with open("/dev/full", "w") as full:
        result = _run_cli(argv, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == f"{PREFIX}cannot write standard output: No space left on device", lines
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


def test_tls_failures_print_one_clean_line_and_no_grpc_log(local, tmp_path):
    other_ca = tmp_path / "other.pem"
    with Emulator(tls=True) as other:
        other_ca.write_bytes(other.ca_pem)
    argv = ["--endpoint", local.endpoint, "--ca-file", other_ca, "--token", TOKEN, "--folder-id", FOLDER]
    result = _run_cli(argv, capture_output=True)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"{PREFIX}cannot reach {local.endpoint} over TLS: the certificate is not trusted by --ca-file {other_ca}; "
        "nothing written\n"
    )


def test_ctrl_c_is_exit_130_and_leaves_no_file(local, local_ca, tmp_path):
    output = tmp_path / "seed.json"
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", FOLDER]
    with (
        local.add_fault(method="ImageService/List", delay_ms=60_000),
        subprocess.Popen(
            [sys.executable, "-m", "emulator", "snapshot", *map(str, argv), "--output", str(output)],
            stderr=subprocess.PIPE,
            text=True,
        ) as process,
    ):
        assert process.stderr.readline() == f"folder {FOLDER}: 3 Container Registry registries\n"  # then ImageService/List waits
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=60) == 130, rest
    assert rest == f"{PREFIX}interrupted; nothing written\n"
    assert os.listdir(tmp_path) == [local_ca.name]


def test_an_empty_folder_is_a_snapshot_with_a_warning(local, local_ca, capsys):
    empty = "b1gsnapshotempty0000"
    argv = ["--endpoint", local.endpoint, "--ca-file", local_ca, "--token", TOKEN, "--folder-id", empty]
    code, out, err = snapshot(argv, capsys)
    assert (code, json.loads(out)) == (0, {"registries": []})
    assert out == '{"registries": []}\n'
    assert err == [
        f"folder {empty}: 0 Container Registry registries",
        f"folder {empty}: 0 Cloud Registry registries",
        f"warning: folder {empty} holds no registries the token can see: is the folder id right?",
        "wrote standard output: 0 registries, 0 repositories, 0 images",
    ]


# ---- last_modified rebuilt from the order -------------------------------------------------------


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)), max_size=25), st.randoms(use_true_random=False))
def test_rebuilt_last_modified_orders_and_ties_as_the_real_one(rows, rng):
    ids = [f"crp{n:017d}" for n in range(len(rows))]
    rng.shuffle(ids)
    created = {image_id: created_at for image_id, (created_at, _) in zip(ids, rows)}
    real = {image_id: created_at + moved for image_id, (created_at, moved) in zip(ids, rows)}
    ascending = sorted(ids, key=lambda image_id: (real[image_id], image_id))
    ties_reversed = sorted(sorted(ids, reverse=True), key=real.__getitem__)
    rebuilt = last_modified_values(ascending, created, ties_reversed)
    assert all(rebuilt[image_id] >= created[image_id] for image_id in ids)
    for a in ids:  # every comparison, equality included, as the real values: so every order is the same
        for b in ids:
            assert (rebuilt[a] > rebuilt[b]) == (real[a] > real[b]) and (rebuilt[a] == rebuilt[b]) == (
                real[a] == real[b]
            )
    if real == created:
        assert rebuilt == created
    guessed = last_modified_values(ascending, created, None)
    assert sorted(ids, key=lambda image_id: (guessed[image_id], image_id)) == ascending
    assert all(guessed[image_id] >= created[image_id] for image_id in ids)


def test_a_seed_this_emulator_cannot_load_is_named():
    """What a production endpoint may serve and the emulator not accept is found before writing."""
    seed = {"registries": [{"folder_id": FOLDER, "images": [{"repository": "app", "tags": ["no spaces"]}]}]}
    assert loading_problem(seed) == "registries[0].images[0].tags: 'no spaces' is not a valid Docker tag"
    assert loading_problem(varied_seed()) is None
