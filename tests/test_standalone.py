"""The standalone emulator (``python -m emulator`` / ``ycr-emulator``), run as a real
process on a real socket and called through the official SDK's generated stubs."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from yandex.cloud.containerregistry.v1 import image_service_pb2, image_service_pb2_grpc
from yandex.cloud.operation import operation_service_pb2, operation_service_pb2_grpc

from conftest import rpc_error
from emulator import Emulator, SeedError
from emulator.control.process import parse_ready_line
from tests.support.docs import page
from tests.support.world import digest

START_TIMEOUT = 30  # seconds to wait for the "listening" line
EXIT_TIMEOUT = 20  # seconds a process that must exit may take
CALL_TIMEOUT = 5  # seconds per RPC
ID = re.compile(r"crp[0-9a-v]{17}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
CONSOLE_SCRIPT = Path(sys.executable).parent / "ycr-emulator"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---- running the process -------------------------------------------------------------------


class Process:
    """One emulator process: its Popen, the stdout lines read so far and its stderr file."""

    def __init__(self, argv: list[str], stderr_path: Path, cwd: Path):
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "wb")
        self.popen = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL, cwd=cwd, text=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.address: str | None = None
        self.ready_line: str | None = None
        self.counts: tuple[int, int] | None = None  # (registries, images) it reported

    def _read(self) -> None:
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = START_TIMEOUT) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no ready line within {timeout}s; stderr:\n{self.stderr()}") from None
        assert line is not None, f"exited ({self.popen.wait(5)}) before it was ready; stderr:\n{self.stderr()}"
        ready = parse_ready_line(line)
        assert ready, f"unexpected first line {line!r}"
        self.ready_line, self.address = line, ready.endpoint
        self.counts = ready.registries, ready.images
        return self.address

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    def channel(self) -> grpc.Channel:
        channel = grpc.insecure_channel(self.address)
        try:
            grpc.channel_ready_future(channel).result(timeout=CALL_TIMEOUT)
        except grpc.FutureTimeoutError:
            channel.close()
            raise AssertionError(f"cannot connect to {self.address}") from None
        return channel

    def stop(self, signum: int = signal.SIGTERM, timeout: float = EXIT_TIMEOUT) -> int:
        self.popen.send_signal(signum)
        return self.popen.wait(timeout=timeout)

    def close(self) -> None:
        try:
            if self.popen.poll() is None:
                self.popen.kill()
            self.popen.wait(timeout=10)
        finally:
            self._reader.join(timeout=5)
            self.popen.stdout.close()
            self._stderr.close()


@pytest.fixture
def launch(tmp_path):
    """Start emulator processes; every one is killed at the end of the test."""
    started: list[Process] = []

    def start(*args: str, command: list[str] | None = None, ready: bool = True) -> Process:
        argv = (command or [sys.executable, "-m", "emulator"]) + list(args)
        process = Process(argv, tmp_path / f"stderr-{len(started)}.txt", tmp_path)
        started.append(process)
        if ready:
            process.wait_ready()
        return process

    try:
        yield start
    finally:
        for process in started:
            process.close()


def run_to_exit(*args: str, cwd: Path, command: list[str] | None = None) -> subprocess.CompletedProcess:
    """Run a process that must exit by itself (killed, and the test failed, if it does not)."""
    argv = (command or [sys.executable, "-m", "emulator"]) + list(args)
    try:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=EXIT_TIMEOUT, cwd=cwd, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{argv} did not exit within {EXIT_TIMEOUT}s; stdout: {error.stdout!r}")


class Client:
    def __init__(self, channel: grpc.Channel):
        self.images = image_service_pb2_grpc.ImageServiceStub(channel)
        self.operations = operation_service_pb2_grpc.OperationServiceStub(channel)

    def list(self, **fields) -> list:
        return list(self.images.List(image_service_pb2.ListImagesRequest(**fields), timeout=CALL_TIMEOUT).images)

    def get(self, image_id: str):
        return self.images.Get(image_service_pb2.GetImageRequest(image_id=image_id), timeout=CALL_TIMEOUT)

    def delete(self, image_id: str):
        return self.images.Delete(image_service_pb2.DeleteImageRequest(image_id=image_id), timeout=CALL_TIMEOUT)

    def operation(self, operation_id: str):
        return self.operations.Get(
            operation_service_pb2.GetOperationRequest(operation_id=operation_id), timeout=CALL_TIMEOUT
        )


@pytest.fixture
def connect():
    channels: list[grpc.Channel] = []

    def make(process: Process) -> Client:
        channel = process.channel()
        channels.append(channel)
        return Client(channel)

    try:
        yield make
    finally:
        for channel in channels:
            channel.close()


# ---- a seed file --------------------------------------------------------------------------

FOLDER = "b1gseedfolder0000001"
OTHER_FOLDER = "b1gseedfolder0000002"
REGISTRY = "crpseedregistry00001"

FULL_IMAGE = {
    "repository": "team/web",
    "id": "crpimage000000000001",
    "digest": digest(0xA1),
    "tags": ["latest", "v2"],
    "created_at": "2026-02-03T04:05:06.123456Z",
    "compressed_size": 12345,  # deliberately not the sum of the layers: a given value wins
    "config": {"digest": digest(0xC1), "size": 1506},
    "layers": [
        {"digest": digest(0x11), "size": 1000, "urls": ["https://mirror.example/l1", "https://mirror2.example/l1"]},
        {"digest": digest(0x12), "size": 2500},
    ],
}
OLDER_IMAGE = {
    "repository": "team/web",
    "id": "crpimage000000000002",
    "digest": digest(0xA2),
    "tags": ["v1"],
    "created_at": "2025-12-31T23:59:59Z",
    "config": {"digest": digest(0xC2), "size": 900},
    "layers": [{"digest": digest(0x21), "size": 700}, {"digest": digest(0x22), "size": 300}],
}
MINIMAL_IMAGE = {"repository": "minimal"}
SEED = {
    "registries": [
        {
            "id": REGISTRY,
            "folder_id": FOLDER,
            "name": "main",
            "created_at": "2026-01-01T00:00:00Z",
            "images": [FULL_IMAGE, OLDER_IMAGE, MINIMAL_IMAGE],
        },
        {"folder_id": FOLDER, "images": [{"repository": "other", "id": "crpimage000000000003"}]},
        {
            "id": "crpseedregistry00003",
            "folder_id": OTHER_FOLDER,
            "images": [{"repository": "elsewhere", "id": "crpimage000000000004"}],
        },
    ]
}


def write_seed(tmp_path: Path, data, name: str = "seed.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def seeded(launch, connect, tmp_path):
    process = launch("--port", "0", "--seed", str(write_seed(tmp_path, SEED)), "--log-level", "warning")
    return process, connect(process)


def assert_image_equals_seed(image, entry: dict, registry_id: str) -> None:
    assert image.id == entry["id"]
    assert image.name == f"{registry_id}/{entry['repository']}"
    assert image.digest == entry["digest"]
    assert list(image.tags) == entry["tags"]
    assert image.created_at.ToDatetime(tzinfo=timezone.utc) == ts(entry["created_at"])
    assert image.config.digest == entry["config"]["digest"]
    assert image.config.size == entry["config"]["size"]
    assert list(image.config.urls) == []
    if "id" not in entry["config"]:  # blob ids absent from the seed are generated
        assert ID.fullmatch(image.config.id), image.config.id
    for layer, layer_entry in zip(image.layers, entry["layers"]):
        assert layer.id == layer_entry["id"] if "id" in layer_entry else ID.fullmatch(layer.id)
    assert [layer.digest for layer in image.layers] == [layer["digest"] for layer in entry["layers"]]
    assert [layer.size for layer in image.layers] == [layer["size"] for layer in entry["layers"]]
    assert [list(layer.urls) for layer in image.layers] == [layer.get("urls", []) for layer in entry["layers"]]
    # Unless given, the layers and the config, as production counts it.
    expected_size = entry.get(
        "compressed_size", sum(layer["size"] for layer in entry["layers"]) + entry["config"]["size"]
    )
    assert image.compressed_size == expected_size


# ---- seeded process: List, Get, Delete, OperationService.Get -------------------------------


def test_ready_line_counts_the_seed(seeded):
    process, _ = seeded
    assert process.counts == (3, 5)
    assert process.address.startswith("127.0.0.1:") and process.port > 0


def test_get_returns_every_seeded_field(seeded):
    _, client = seeded
    assert_image_equals_seed(client.get(FULL_IMAGE["id"]), FULL_IMAGE, REGISTRY)
    assert_image_equals_seed(client.get(OLDER_IMAGE["id"]), OLDER_IMAGE, REGISTRY)
    full = client.get(FULL_IMAGE["id"])
    assert full.created_at.seconds == int(ts("2026-02-03T04:05:06Z").timestamp())
    assert full.created_at.nanos == 123456000


def test_absent_seed_fields_are_generated(seeded):
    _, client = seeded
    (minimal,) = client.list(repository_name=f"{REGISTRY}/minimal")
    assert ID.fullmatch(minimal.id)
    assert minimal.name == f"{REGISTRY}/minimal"
    assert DIGEST.fullmatch(minimal.digest)
    assert list(minimal.tags) == []
    assert minimal.created_at.seconds > 0
    assert DIGEST.fullmatch(minimal.config.digest) and minimal.config.size > 0
    assert minimal.layers, "generated images have layers"
    for layer in minimal.layers:
        assert DIGEST.fullmatch(layer.digest) and layer.size > 0 and len(layer.id) == 20
    assert minimal.compressed_size == sum(layer.size for layer in minimal.layers) + minimal.config.size
    assert client.get(minimal.id) == minimal
    # The registry without an id got one too.
    other = [i for i in client.list(folder_id=FOLDER) if i.id == "crpimage000000000003"]
    assert len(other) == 1
    registry_id, _, repository = other[0].name.partition("/")
    assert ID.fullmatch(registry_id) and repository == "other"


def test_blob_sizes_generated_when_absent_and_summed(launch, connect, tmp_path):
    seed = {
        "registries": [
            {
                "id": REGISTRY,
                "folder_id": FOLDER,
                "images": [{"repository": "app", "id": "crpimage000000000009", "layers": [{}, {"digest": digest(5)}]}],
            }
        ]
    }
    client = connect(launch("--port", "0", "--seed", str(write_seed(tmp_path, seed))))
    image = client.get("crpimage000000000009")
    assert len(image.layers) == 2
    assert DIGEST.fullmatch(image.layers[0].digest) and image.layers[1].digest == digest(5)
    assert all(layer.size > 0 for layer in image.layers)
    assert image.compressed_size == sum(layer.size for layer in image.layers) + image.config.size


def test_list_by_folder_registry_and_repository(seeded):
    _, client = seeded
    in_folder = {image.id for image in client.list(folder_id=FOLDER)}
    minimal_id = client.list(repository_name=f"{REGISTRY}/minimal")[0].id
    assert in_folder == {FULL_IMAGE["id"], OLDER_IMAGE["id"], minimal_id, "crpimage000000000003"}
    assert {image.id for image in client.list(folder_id=OTHER_FOLDER)} == {"crpimage000000000004"}
    assert {image.id for image in client.list(registry_id=REGISTRY)} == {
        FULL_IMAGE["id"],
        OLDER_IMAGE["id"],
        minimal_id,
    }
    assert {image.id for image in client.list(registry_id="crpseedregistry00003")} == {"crpimage000000000004"}
    web = client.list(repository_name=f"{REGISTRY}/team/web")
    assert {image.id for image in web} == {FULL_IMAGE["id"], OLDER_IMAGE["id"]}
    for image in web:  # List carries the same images Get does
        assert image == client.get(image.id)
    assert client.list(folder_id="b1gnobodyhere0000000") == []


def test_delete_returns_a_done_operation_and_get_operation_returns_it(seeded):
    _, client = seeded
    operation = client.delete(FULL_IMAGE["id"])
    assert operation.done
    assert len(operation.id) == 20 and re.fullmatch(r"[a-z0-9]{20}", operation.id)
    assert operation.metadata.type_url == "type.googleapis.com/yandex.cloud.containerregistry.v1.DeleteImageMetadata"
    metadata = image_service_pb2.DeleteImageMetadata()
    assert operation.metadata.Unpack(metadata)
    assert metadata.image_id == FULL_IMAGE["id"]
    assert operation.WhichOneof("result") == "response"
    assert operation.response.type_url == "type.googleapis.com/google.protobuf.Empty"
    assert operation.response.Unpack(empty_pb2.Empty())
    assert operation.created_at.seconds > 0 and operation.modified_at.seconds >= operation.created_at.seconds

    assert client.operation(operation.id) == operation

    error = rpc_error(client.get, FULL_IMAGE["id"])
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = rpc_error(client.delete, FULL_IMAGE["id"])
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert {image.id for image in client.list(repository_name=f"{REGISTRY}/team/web")} == {OLDER_IMAGE["id"]}
    # The other images are untouched.
    assert_image_equals_seed(client.get(OLDER_IMAGE["id"]), OLDER_IMAGE, REGISTRY)


def test_unknown_operation_is_not_found(seeded):
    _, client = seeded
    error = rpc_error(client.operation, "crpnosuchoperation00")
    assert error.code() == grpc.StatusCode.NOT_FOUND


# ---- demo data and the console script ------------------------------------------------------


def test_console_script_serves_the_demo_data_without_seed(launch, connect):
    assert CONSOLE_SCRIPT.exists(), f"{CONSOLE_SCRIPT} is not installed"
    demo = json.loads(resources.files("emulator").joinpath("demo_seed.json").read_text(encoding="utf-8"))
    folders: dict[str, set[str]] = {}
    for registry in demo["registries"]:
        if "kind" not in registry:  # Container Registry's: what its folder List shows (Cloud Registry's are apart)
            folders.setdefault(registry["folder_id"], set()).update(i["id"] for i in registry.get("images", []))
    total = sum(len(registry.get("images", [])) for registry in demo["registries"])

    process = launch("--port", "0", command=[str(CONSOLE_SCRIPT)])
    assert process.counts == (len(demo["registries"]), total)
    client = connect(process)
    assert "b1g0000000000000demo" in folders
    for folder, ids in folders.items():
        listed = client.list(folder_id=folder, page_size=1000)
        assert listed, f"demo folder {folder} lists no images"
        assert {image.id for image in listed} == ids
    first = demo["registries"][0]["images"][0]
    image = client.get(first["id"])
    assert image.name == f"{demo['registries'][0]['id']}/{first['repository']}"
    assert image.digest == first["digest"]


def test_module_without_seed_serves_the_demo_folder(launch, connect):
    client = connect(launch("--port", "0"))
    assert client.list(folder_id="b1g0000000000000demo")


# ---- bad seeds ------------------------------------------------------------------------------


def _good_registry(n: int, **extra) -> dict:
    return {
        "id": f"crpgoodregistry0000{n}",
        "folder_id": FOLDER,
        "images": [
            {"repository": "app", "id": f"crpgoodimage00000{n}00", "digest": digest(n * 100)},
            {"repository": "app", "id": f"crpgoodimage00000{n}01", "digest": digest(n * 100 + 1)},
        ],
        **extra,
    }


def _with(path: list, value=None, *, delete: bool = False, extra_registry: dict | None = None) -> dict:
    seed = {"registries": [_good_registry(1), _good_registry(2)]}
    if extra_registry is not None:
        seed["registries"].append(extra_registry)
    target = seed
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return seed


BAD_SEEDS = {
    "invalid-json": ('{"registries": [', None),
    "not-an-object": ("[1, 2]", "seed"),
    "missing-folder-id": (_with(["registries", 1, "folder_id"], delete=True), "registries[1].folder_id"),
    "missing-repository": (
        _with(["registries", 0, "images", 1, "repository"], delete=True),
        "registries[0].images[1].repository",
    ),
    "bad-digest": (_with(["registries", 0, "images", 1, "digest"], "sha256:XYZ"), "registries[0].images[1].digest"),
    "bad-layer-digest": (
        _with(["registries", 1, "images", 0, "layers"], [{"digest": digest(1)}, {"digest": "md5:abc"}]),
        "registries[1].images[0].layers[1].digest",
    ),
    "bad-repository": (
        _with(["registries", 0, "images", 0, "repository"], "Team/Web"),
        "registries[0].images[0].repository",
    ),
    "duplicate-image-id": (
        _with(["registries", 1, "images", 1, "id"], "crpgoodimage00000100"),
        "registries[1].images[1].id",
    ),
    "duplicate-registry-id": (_with(["registries", 1, "id"], "crpgoodregistry00001"), "registries[1].id"),
    "duplicate-digest-in-repository": (
        _with(["registries", 0, "images", 1, "digest"], digest(100)),
        "registries[0].images[1].digest",
    ),
    "unknown-image-field": (_with(["registries", 0, "images", 1, "sizee"], 5), "registries[0].images[1]"),
    "unknown-blob-field": (
        _with(["registries", 0, "images", 0, "config"], {"digest": digest(9), "bytes": 5}),
        "registries[0].images[0].config",
    ),
    "tags-not-a-list": (_with(["registries", 0, "images", 0, "tags"], "latest"), "registries[0].images[0].tags"),
    "tag-not-a-string": (_with(["registries", 0, "images", 0, "tags"], ["ok", 7]), "registries[0].images[0].tags[1]"),
    "size-not-an-integer": (
        _with(["registries", 0, "images", 1, "compressed_size"], "big"),
        "registries[0].images[1].compressed_size",
    ),
    "negative-layer-size": (
        _with(["registries", 0, "images", 1, "layers"], [{"size": -1}]),
        "registries[0].images[1].layers[0].size",
    ),
    "folder-id-not-a-string": (_with(["registries", 0, "folder_id"], 123), "registries[0].folder_id"),
    "bad-created-at": (
        _with(["registries", 0, "images", 1, "created_at"], "yesterday"),
        "registries[0].images[1].created_at",
    ),
    "registry-not-an-object": (_with(["registries", 1], "crpgoodregistry00002"), "registries[1]"),
}

# The unknown field itself must be named as well as the entry holding it.
UNKNOWN_KEYS = {
    "unknown-image-field": "sizee",
    "unknown-blob-field": "bytes",
}


@pytest.mark.parametrize("case", sorted(BAD_SEEDS))
def test_bad_seed_exits_with_a_message_naming_the_entry(case, tmp_path):
    data, where = BAD_SEEDS[case]
    path = write_seed(tmp_path, data)
    result = run_to_exit("--port", "0", "--seed", str(path), cwd=tmp_path)
    assert result.returncode != 0
    assert "listening" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip(), "no message on stderr"
    if where is None:  # a file that is not JSON at all: the message names the file
        assert str(path) in result.stderr and "JSON" in result.stderr, result.stderr
    else:
        assert where in result.stderr, result.stderr
    if case in UNKNOWN_KEYS:
        # The entry holding it and the unknown field itself are both named.
        assert re.search(re.escape(where) + r"\W{1,3}" + re.escape(UNKNOWN_KEYS[case]), result.stderr), result.stderr
    elif where is not None:
        # The entry named is the bad one, not a longer path that merely starts with it.
        assert re.search(re.escape(where) + r"(?![\[.\w])", result.stderr), result.stderr


def test_missing_seed_file_exits_with_a_message(tmp_path):
    missing = tmp_path / "no-such-seed.json"
    result = run_to_exit("--port", "0", "--seed", str(missing), cwd=tmp_path)
    assert result.returncode != 0
    assert str(missing) in result.stderr and "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_error_at_the_last_entry_loads_nothing(tmp_path):
    good = [_good_registry(n) for n in range(1, 6)]
    bad = dict(_good_registry(6))
    bad["images"] = bad["images"] + [{"repository": "app", "digest": "sha256:nothex"}]
    path = write_seed(tmp_path, {"registries": good + [bad]})
    port = _free_port()
    result = run_to_exit("--port", str(port), "--seed", str(path), cwd=tmp_path)
    assert result.returncode != 0
    assert "registries[5].images[2].digest" in result.stderr
    assert "listening" not in result.stdout
    # Nothing listens on the port it was given.
    with socket.socket() as probe:
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_failed_seed_leaves_an_emulator_empty(tmp_path):
    """The same all-or-nothing rule, seen through a running in-process emulator's socket."""
    good = [_good_registry(n) for n in range(1, 4)]
    bad = dict(_good_registry(4))
    bad["images"] = bad["images"] + [{"repository": "app", "unknown": 1}]
    with Emulator() as emulator:
        with pytest.raises(SeedError, match=re.escape("registries[3].images[2]")):
            emulator.load_seed(write_seed(tmp_path, {"registries": good + [bad]}))
        assert emulator.store.registries == {} and emulator.store.images == {}
        channel = emulator.channel()
        try:
            client = Client(channel)
            assert client.list(folder_id=FOLDER) == []
            assert rpc_error(client.get, "crpgoodimage00000100").code() == grpc.StatusCode.NOT_FOUND
            # The ids of the rolled-back seed are free again: the corrected seed loads.
            bad["images"] = bad["images"][:2]
            emulator.load_seed({"registries": good + [bad]})
            assert len(client.list(folder_id=FOLDER)) == 8
        finally:
            channel.close()


# ---- port in use ----------------------------------------------------------------------------


def test_port_taken_by_another_emulator(launch, connect, tmp_path):
    first = launch("--port", "0")
    result = run_to_exit("--port", str(first.port), cwd=tmp_path)
    assert result.returncode != 0
    assert "listening" not in result.stdout
    assert str(first.port) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    # #24, found by a new user: gRPC's own "E1205 ... add_port.cc" line came first; now only ours.
    assert result.stderr.strip().splitlines() == [
        f"ycr-emulator: cannot listen on 127.0.0.1:{first.port} (is the port in use?)"
    ], result.stderr
    # The first one is unharmed.
    assert connect(first).list(folder_id="b1g0000000000000demo")
    assert first.popen.poll() is None


def test_strict_auth_without_tokens_warns_that_it_refuses_every_call(tmp_path):
    """#24, found by a new user: --auth strict with no --require-token started silently, refusing every call."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--auth", "strict"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert "listening on" in process.stdout.readline()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert "warning: --auth strict without --require-token refuses every call" in err, err


# ---- signals --------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_it_cleanly(signum, launch, connect):
    process = launch("--port", "0")
    client = connect(process)
    assert client.list(folder_id="b1g0000000000000demo")
    started = time.monotonic()
    code = process.stop(signum, timeout=10)
    elapsed = time.monotonic() - started
    assert code == 0, process.stderr()
    assert elapsed < 5, f"took {elapsed:.1f}s to stop"
    assert "Traceback" not in process.stderr()
    # It no longer listens.
    with socket.socket() as probe:
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", process.port)) != 0


# ---- call logging ---------------------------------------------------------------------------

LOGGED_GET = re.compile(r"/yandex\.cloud\.containerregistry\.v1\.ImageService/Get NOT_FOUND \d+(?:\.\d+)?ms")
LOGGED_LIST = re.compile(r"/yandex\.cloud\.containerregistry\.v1\.ImageService/List OK \d+(?:\.\d+)?ms")
LOGGED_BAD_LIST = re.compile(
    r"/yandex\.cloud\.containerregistry\.v1\.ImageService/List INVALID_ARGUMENT \d+(?:\.\d+)?ms"
)
LOGGED_OPERATION = re.compile(r"/yandex\.cloud\.operation\.OperationService/Get NOT_FOUND \d+(?:\.\d+)?ms")


def _make_calls(client: Client) -> None:
    assert client.list(folder_id="b1g0000000000000demo")
    assert rpc_error(client.get, "crpnosuchimage000000").code() == grpc.StatusCode.NOT_FOUND
    assert rpc_error(client.list, page_size=5000).code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rpc_error(client.operation, "crpnosuchoperation00").code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("level_args", [["--log-level", "info"], []], ids=["info", "default"])
def test_info_logs_every_call(level_args, launch, connect):
    process = launch("--port", "0", *level_args)
    _make_calls(connect(process))
    assert process.stop(signal.SIGTERM) == 0
    stderr = process.stderr()
    for pattern in (LOGGED_GET, LOGGED_LIST, LOGGED_BAD_LIST, LOGGED_OPERATION):
        assert len(pattern.findall(stderr)) == 1, f"{pattern.pattern} in:\n{stderr}"


def test_warning_does_not_log_calls(launch, connect):
    process = launch("--port", "0", "--log-level", "warning")
    _make_calls(connect(process))
    assert process.stop(signal.SIGTERM) == 0
    stderr = process.stderr()
    assert "ImageService/" not in stderr and "OperationService/" not in stderr, stderr
    assert "NOT_FOUND" not in stderr, stderr


# ---- --help ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["module", "script"])
def test_help_mentions_every_flag(command, tmp_path):
    argv = [sys.executable, "-m", "emulator"] if command == "module" else [str(CONSOLE_SCRIPT)]
    result = run_to_exit("--help", cwd=tmp_path, command=argv)
    assert result.returncode == 0, result.stderr
    for flag in ("--host", "--port", "--seed", "--log-level"):
        assert flag in result.stdout
    assert "ycr-emulator" in result.stdout


def test_an_admin_token_that_starts_with_a_dash_is_passed_whole():
    # The plugin draws random URL-safe tokens: one in 64 starts with "-", which argparse took for a flag.
    from emulator.control.process import EmulatorProcess

    with EmulatorProcess(admin_token="-dash-first-token") as process:
        assert process.registries == {}


def test_the_docs_give_the_demo_datas_counts():
    """The first screen's ready line counts what the demo data holds (both APIs' registries)."""
    demo = json.loads(resources.files("emulator").joinpath("demo_seed.json").read_text(encoding="utf-8"))
    images = sum(len(registry.get("images", [])) for registry in demo["registries"])
    for name in ("README.md", "quick-start.md"):
        words = " ".join(page(name).split())  # as the paragraph reads, wherever its lines break
        assert f"({len(demo['registries'])} registries, {images} images)` when it is ready" in words, name


def test_the_same_port_twice_and_a_host_that_is_not_ours_say_so(tmp_path):
    """Found by review (#24): --port equal to --tls-port said "is the port in use?", and a host this
    machine has no address for printed gRPC's own add_port log line first."""
    same = run_to_exit("--port", "50399", "--tls-port", "50399", cwd=tmp_path)
    assert same.returncode == 2, same.stderr
    assert same.stderr.strip().splitlines() == ["ycr-emulator: --tls-port: must differ from --port (50399)"]
    foreign = run_to_exit("--host", "192.0.2.1", "--port", "50398", cwd=tmp_path)  # TEST-NET-1: never ours
    assert foreign.returncode == 1, foreign.stderr
    assert foreign.stderr.strip().splitlines() == [
        "ycr-emulator: cannot listen on 192.0.2.1:50398 (this machine has no such address)"
    ], foreign.stderr
