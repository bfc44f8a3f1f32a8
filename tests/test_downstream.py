"""A downstream project as a new user writes it: its own directory outside this repository, no
conftest, the package installed (the editable install of this checkout), a clean-up tool under
test and tests on the plugin's fixtures. It runs the documented plugin recipes as written (the
snippets below are the docs', word for word), in every plugin mode and every auth mode, under
``-W error``, in a pytest process of its own: every test passes, none is skipped, and nothing
is printed after the summary (no gRPC "Got goaway", no unraisable exceptions).

The CI recipe runs as a shell script, as written, but on free ports instead of 50051, 50052 and
8081 (several of these runs, and other projects, share the machine)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from _pytest.pytester import RunResult

from tests.support.docs import assert_on_page

BIN = Path(sys.executable).parent  # the venv's bin: ycr-emulator and pytest, as a user's PATH has them
# yandexcloud's own wait_operation_and_get_result warns about its own deprecated RetryInterceptor: the
# README tells -W error users to ignore that one warning, exactly this way.
W_ERROR = ["-W", "error", "-W", "ignore:Call to deprecated class RetryInterceptor:DeprecationWarning"]
NOISE = re.compile(r"goaway|Exception ignored|Traceback|ResourceWarning|PytestUnraisable", re.IGNORECASE)

# ---- README text (the lead pastes the same into README.md) ---------------------------------------

DOC_CLEANUP_TEST = """\
# test_cleanup.py -- a downstream test: no conftest, no ports, no clean-up code
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb

from mytool.cleanup import delete_untagged          # the code under test


def test_untagged_images_are_deleted(ycr, ycr_registry, ycr_image, ycr_channel):
    kept = ycr_image("team/web", tags=["latest"])
    ycr_image("team/web")                            # untagged
    delete_untagged(ycr_channel, registry_id=ycr_registry.id)
    assert set(ycr.images) == {kept.id}
"""

DOC_MARKERS_TEST = """\
# test_markers.py -- settings for one test, in every mode
import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub

SEED = {"registries": [{"folder_id": "b1g0000000000000ycrt", "name": "seeded",
                        "images": [{"repository": "app", "tags": ["v1"]}, {"repository": "app"}]}]}


@pytest.mark.ycr_seed(SEED)                  # or a seed file: ycr_seed("seed.json"), beside this test file
def test_seeded(ycr):
    assert sorted(len(image.tags) for image in ycr.images.values()) == [0, 1]


@pytest.mark.ycr_auth("strict", tokens={"ci-token": ["b1g0000000000000ycrt"]})
def test_strict(ycr, ycr_registry, ycr_stubs):
    request = pb.ListImagesRequest(registry_id=ycr_registry.id)
    assert ycr_stubs.images.List(request).images == []          # ycr_stubs send the plugin's test token
    with ycr.channel() as channel:                              # a channel of your own sends none
        images = ImageServiceStub(channel)
        assert images.List(request, metadata=[("authorization", "Bearer ci-token")]).images == []
        with pytest.raises(grpc.RpcError) as refused:
            images.List(request)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.ycr_operations("ImageService/Delete=polls:2")
def test_delete_pends(ycr_image, ycr_stubs):
    operation = ycr_stubs.images.Delete(pb.DeleteImageRequest(image_id=ycr_image().id))
    assert not operation.done
"""

DOC_INI = """\
[pytest]
ycr_mode = subprocess
ycr_auth = strict
ycr_tokens =
    ci-token=b1g0000000000000ycrt,b1g0000000000000ci02
ycr_operations =
    RegistryService/Create=polls:2
"""

DOC_CI = """\
ycr-emulator --port 50051 --tls-port 50052 --admin-port 8081 --log-level warning &
emulator=$!
trap 'kill $emulator; wait $emulator' EXIT      # stop it however the job ends
YCR_EMULATOR_ADMIN_URL=http://127.0.0.1:8081 pytest
"""

# ---- the rest of the downstream project ------------------------------------------------------------

CLEANUP_TOOL = '''\
"""The code under test: deletes a registry's untagged images through the official SDK's stubs."""
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub


def delete_untagged(channel, registry_id):
    images = ImageServiceStub(channel)
    listed = images.List(pb.ListImagesRequest(registry_id=registry_id, page_size=1000)).images
    for image in listed:
        if not image.tags:
            images.Delete(pb.DeleteImageRequest(image_id=image.id))
'''

FIXTURES_TEST = """\
import os

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import registry_service_pb2, repository_service_pb2
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.operation import operation_service_pb2 as op

AUTH = os.environ["EXPECTED_AUTH"]  # the session's auth mode, as the run's ini file sets it


def test_stubs_list_what_was_added(ycr, ycr_registry, ycr_image, ycr_repository, ycr_stubs):
    image = ycr_image("team/web", tags=["latest"])
    kept = ycr_repository("team/empty")
    page = ycr_stubs.images.List(pb.ListImagesRequest(registry_id=ycr_registry.id))
    assert [(i.id, list(i.tags)) for i in page.images] == [(image.id, ["latest"])]
    names = ycr_stubs.repositories.List(repository_service_pb2.ListRepositoriesRequest(registry_id=ycr_registry.id))
    assert sorted(r.name for r in names.repositories) == [f"{ycr_registry.id}/team/{p}" for p in ("empty", "web")]
    assert ycr_stubs.registries.Get(registry_service_pb2.GetRegistryRequest(registry_id=ycr_registry.id)).name == "test"
    assert kept.id in ycr.repositories and set(ycr.images) == {image.id}


def test_sees_nothing_of_the_other_tests(ycr):
    assert ycr.images == {} and ycr.registries == {} and ycr.repositories == {}


def test_bad_arguments_raise_value_error(ycr, ycr_registry):
    with pytest.raises(ValueError, match="digest"):
        ycr.add_image(ycr_registry.id, "app", digest="md5:nope")
    assert ycr.images == {}


def test_the_session_settings(ycr, ycr_registry, ycr_stubs):
    assert ycr.info()["auth"] == AUTH
    assert ycr.operation_modes == {"RegistryService/Create": "polls:2"}  # the ini's ycr_operations
    request = pb.ListImagesRequest(registry_id=ycr_registry.id)
    with ycr.channel() as channel:  # a channel of its own: no token
        if AUTH == "none":
            assert ImageServiceStub(channel).List(request).images == []
        else:
            with pytest.raises(grpc.RpcError) as refused:
                ImageServiceStub(channel).List(request)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    other = ycr.add_registry("b1g0000000000000else")
    if AUTH == "strict":  # the test token may touch the fixtures' folder only
        with pytest.raises(grpc.RpcError) as denied:
            ycr_stubs.images.List(pb.ListImagesRequest(registry_id=other.id))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    else:
        assert ycr_stubs.images.List(pb.ListImagesRequest(registry_id=other.id)).images == []


def test_reset_inside_a_test_restores_the_session_settings(ycr):
    ycr.configure_auth("strict", {"someone-else": None})
    ycr.configure_operations({})
    ycr.reset()
    assert ycr.info()["auth"] == AUTH
    assert ycr.operation_modes == {"RegistryService/Create": "polls:2"}


@pytest.mark.ycr_operations("ImageService/Delete=polls:3")
def test_the_operations_marker_adds_to_the_ini(ycr, ycr_image, ycr_stubs):
    assert ycr.operation_modes == {"RegistryService/Create": "polls:2", "ImageService/Delete": "polls:3"}
    operation = ycr_stubs.images.Delete(pb.DeleteImageRequest(image_id=ycr_image().id))
    polls = [ycr_stubs.operations.Get(op.GetOperationRequest(operation_id=operation.id)).done for _ in range(3)]
    assert (operation.done, polls) == (False, [False, False, True])


@pytest.mark.ycr_seed("seeds/one.json", {"registries": [{"folder_id": "b1g0000000000000seed", "images": []}]})
def test_seed_files_and_dicts(ycr):
    assert sorted(r.folder_id for r in ycr.registries.values()) == ["b1g0000000000000seed", "b1g0000000000000ycrt"]
    assert [image.tags for image in ycr.images.values()] == [["from-a-file"]]


@pytest.mark.ycr_auth("any")
def test_any(ycr, ycr_registry, ycr_stubs):
    assert ycr.info()["auth"] == "any"
    with ycr.channel() as channel, pytest.raises(grpc.RpcError) as refused:
        ImageServiceStub(channel).List(pb.ListImagesRequest(registry_id=ycr_registry.id))
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert ycr_stubs.images.List(pb.ListImagesRequest(registry_id=ycr_registry.id)).images == []


@pytest.mark.ycr_auth("none")
def test_none(ycr, ycr_registry):
    assert ycr.info()["auth"] == "none"
    with ycr.channel() as channel:
        assert ImageServiceStub(channel).List(pb.ListImagesRequest(registry_id=ycr_registry.id)).images == []
"""

# Collected right after test_cleanup.py: under -n 2, xdist's first chunks (two tests each) reach both workers.
ENDPOINTS_TEST = """\
import os

import pytest


@pytest.mark.parametrize("n", range(4))
def test_record_the_endpoint(ycr, ycr_image, n):
    ycr_image("app", tags=[f"t{n}"])
    assert len(ycr.images) == 1
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.path.join("endpoints", f"{worker}-{n}"), "w") as record:
        record.write(ycr.endpoint)
"""

SDK_TEST = """\
import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub


def test_two_deletes_through_the_sdk(ycr, ycr_sdk, ycr_registry, ycr_image):
    images = ycr_sdk.client(ImageServiceStub)
    added = [ycr_image("a"), ycr_image("b")]
    assert sorted(i.id for i in images.List(pb.ListImagesRequest(registry_id=ycr_registry.id)).images) == sorted(
        i.id for i in added
    )
    for image in added:
        operation = images.Delete(pb.DeleteImageRequest(image_id=image.id))
        result = ycr_sdk.wait_operation_and_get_result(operation, meta_type=pb.DeleteImageMetadata)
        assert result.meta.image_id == image.id
    assert ycr.images == {}


@pytest.mark.ycr_auth("strict")
def test_the_sdk_under_the_strict_marker(ycr_sdk, ycr_registry):
    assert ycr_sdk.client(ImageServiceStub).List(pb.ListImagesRequest(registry_id=ycr_registry.id)).images == []


def test_auth_can_be_tightened_inside_a_test(ycr, ycr_sdk, ycr_registry):
    ycr.configure_auth("strict", {"someone-else": None})
    with pytest.raises(grpc.RpcError) as caught:
        ycr_sdk.client(ImageServiceStub).List(pb.ListImagesRequest(registry_id=ycr_registry.id))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
"""

SEED_FILE = {
    "registries": [{"folder_id": "b1g0000000000000ycrt", "images": [{"repository": "app", "tags": ["from-a-file"]}]}]
}
TESTS = 20  # in the files above: 1 + 3 (docs) + 4 + 9 + 3


def _project(root: Path, ini: str) -> Path:
    (root / "mytool").mkdir(parents=True)
    (root / "mytool" / "__init__.py").write_text("")
    (root / "mytool" / "cleanup.py").write_text(CLEANUP_TOOL)
    (root / "seeds").mkdir()
    (root / "seeds" / "one.json").write_text(json.dumps(SEED_FILE))
    (root / "endpoints").mkdir()
    (root / "test_cleanup.py").write_text(DOC_CLEANUP_TEST)
    (root / "test_markers.py").write_text(DOC_MARKERS_TEST)
    (root / "test_endpoints.py").write_text(ENDPOINTS_TEST)
    (root / "test_fixtures.py").write_text(FIXTURES_TEST)
    (root / "test_sdk.py").write_text(SDK_TEST)
    (root / "pytest.ini").write_text(ini)
    assert not list(root.rglob("conftest.py"))
    return root


@pytest.fixture(scope="session")
def pycache() -> Path:
    """Bytecode (and pytest's rewritten test modules) for the downstream runs, kept outside the tree
    and across sessions: where PYTHONDONTWRITEBYTECODE is set, each run would compile everything
    again, seconds each. (Python checks each cached file against its source.)"""
    return Path(tempfile.gettempdir(), f"ycr-downstream-pycache-{os.getuid()}")


def _environment(pycache: Path, **extra: str) -> dict[str, str]:
    """A user's shell: the venv on PATH, nothing of this test session's pytest or emulator settings."""
    drop = ("PYTEST_", "YCR_", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "PYTHONPYCACHEPREFIX": str(pycache), **extra}


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _check(run: subprocess.CompletedProcess, root: Path, workers: int) -> None:
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert RunResult.parse_summary_nouns(run.stdout.splitlines()) == {"passed": TESTS}, output
    assert not NOISE.search(output), output
    by_worker: dict[str, set[str]] = {}
    for record in (root / "endpoints").iterdir():
        by_worker.setdefault(record.name.split("-")[0], set()).add(record.read_text())
    assert len(by_worker) == workers and all(len(endpoints) == 1 for endpoints in by_worker.values())
    assert len(set().union(*by_worker.values())) == workers  # each worker its own emulator


AUTH_INI = {"none": "", "any": "ycr_auth = any\n", "strict": "ycr_tokens =\n    ci-token=b1g0000000000000ci02\n"}
# strict comes from ycr_tokens alone (listed tokens mean strict), as the README says


@pytest.mark.parametrize(
    ("mode", "auth", "workers"),
    [
        ("inprocess", "none", 2),
        ("inprocess", "any", 1),
        ("inprocess", "strict", 1),
        ("subprocess", "none", 1),
        ("subprocess", "any", 1),
        ("subprocess", "strict", 2),
    ],
)
def test_the_plugin_recipes(tmp_path, pycache, mode, auth, workers):
    ini = f"[pytest]\nycr_mode = {mode}\nycr_operations =\n    RegistryService/Create=polls:2\n{AUTH_INI[auth]}"
    if (mode, auth) == ("subprocess", "strict"):
        ini = DOC_INI
    root = _project(tmp_path / "project", ini)
    command = [str(BIN / "pytest"), "-p", "no:cacheprovider", *W_ERROR, *(["-n", str(workers)] if workers > 1 else [])]
    env = _environment(pycache, EXPECTED_AUTH=auth)
    run = subprocess.run(command, check=False, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    _check(run, root, workers)


@pytest.mark.parametrize("auth", ["none", "any", "strict"])
def test_the_ci_recipe(tmp_path, pycache, auth):
    ini = f"[pytest]\nycr_operations =\n    RegistryService/Create=polls:2\n{AUTH_INI[auth]}"
    root = _project(tmp_path / "project", ini)
    script = DOC_CI
    for port, free in zip(("50051", "50052", "8081"), _free_ports(3)):
        script = script.replace(port, str(free))
    (root / "ci.sh").write_text(script)
    env = _environment(pycache, EXPECTED_AUTH=auth, PYTEST_ADDOPTS=shlex.join(["-p", "no:cacheprovider", *W_ERROR]))
    run = subprocess.run(
        ["bash", "-e", "ci.sh"], check=False, cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    _check(run, root, 1)


# ---- the README's other recipes: the standalone process and the in-process emulator -----------------

DOC_IN_PROCESS = """\
from emulator import Emulator

with Emulator() as emulator:
    registry = emulator.add_registry("b1g0000000000000test")
    image = emulator.add_image(registry.id, "team/web", tags=["latest"])
    empty = emulator.add_repository(registry.id, "team/empty")   # stays while empty, as if upserted
    channel = emulator.channel()          # a ready grpc.Channel to emulator.endpoint
"""

DOC_STUBS = """\
import grpc
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb, image_service_pb2_grpc

channel = grpc.insecure_channel("127.0.0.1:50051")
images = image_service_pb2_grpc.ImageServiceStub(channel)
page = images.List(pb.ListImagesRequest(folder_id="b1g0000000000000demo", page_size=3, order_by="name"))
for image in page.images:
    print(image.id, image.name, list(image.tags))
operation = images.Delete(pb.DeleteImageRequest(image_id=page.images[0].id))
print(operation.done, operation.response.type_url)   # True type.googleapis.com/google.protobuf.Empty
"""

DOC_SDK = """\
import yandexcloud
from yandex.cloud.containerregistry.v1.image_service_pb2 import DeleteImageMetadata, DeleteImageRequest
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub

sdk = yandexcloud.SDK(iam_token="t1.any", endpoint="127.0.0.1:50051", root_certificates=open("ca.pem", "rb").read())
images = sdk.client(ImageServiceStub)
operation = images.Delete(DeleteImageRequest(image_id="crpa2mf008mpjig73rp6"))
sdk.wait_operation_and_get_result(operation, meta_type=DeleteImageMetadata)
"""

DOC_CURL = """\
curl -s localhost:8081/health                       # {"status": "SERVING"}
curl -s -XPOST localhost:8081/reset
curl -s -XPOST localhost:8081/seed --data-binary @emulator/demo_seed.json   # any seed file; this one is in a clone
curl -s -XPOST localhost:8081/registries -d '{"folder_id": "b1g0000000000000demo", "name": "ci"}'
curl -s -XPOST localhost:8081/images -d '{"registry_id": "crp71hkgiolp6677hg9i", "repository": "app", "tags": ["v1"]}'
curl -s localhost:8081/state                        # everything, in the seed format
"""

REPOSITORY = Path(__file__).resolve().parent.parent


@contextmanager
def _standalone(args: list[str], cwd: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """``ycr-emulator`` as a user starts it in a terminal, until its ready line; stopped with SIGTERM."""
    command = [str(BIN / "ycr-emulator"), *args]
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "listening on" in process.stdout.readline()
        yield process
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 0 and not NOISE.search(errors), errors


def _python(snippet: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-c", snippet], check=False, cwd=cwd, env=env, capture_output=True, text=True)
    assert run.returncode == 0 and not NOISE.search(run.stderr), run.stderr
    return run


def test_the_standalone_and_in_process_recipes(tmp_path, pycache):
    env = _environment(pycache)
    _python(DOC_IN_PROCESS, tmp_path, env)  # prints nothing, "Got goaway" included
    grpc_port, tls_port, admin_port = (str(port) for port in _free_ports(3))
    with _standalone(["--port", grpc_port, "--admin-port", admin_port], tmp_path, env):
        printed = _python(DOC_STUBS.replace("50051", grpc_port), tmp_path, env).stdout
        assert printed.splitlines()[-1] == "True type.googleapis.com/google.protobuf.Empty"
        curl = subprocess.run(
            ["bash", "-e", "-c", DOC_CURL.replace("8081", admin_port)],
            check=False, cwd=REPOSITORY, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert curl.returncode == 0, curl.stderr
        answers, at = [], 0
        while at < len(curl.stdout):  # one JSON value per line, without newlines between them
            answer, at = json.JSONDecoder().raw_decode(curl.stdout, at)
            answers.append(answer)
        assert len(answers) == 6 and not any("error" in answer for answer in answers), curl.stdout
        assert answers[0] == {"status": "SERVING"}
        assert sorted(r["name"] for r in answers[-1]["registries"]) == ["ci", "ci-cache", "docker", "main", "npm"]
        assert [i["tags"] for r in answers[-1]["registries"] for i in r["images"] if i["repository"] == "app"] == [
            ["v1"]
        ]
    with _standalone(["--tls", "--ca-file", "ca.pem", "--port", tls_port], tmp_path, env):
        _python(DOC_SDK.replace("50051", tls_port), tmp_path, env)


def test_the_docs_say_the_same():
    """The recipes above are the docs', as written (ports aside)."""
    assert_on_page(
        "pytest-plugin.md",
        DOC_CLEANUP_TEST=DOC_CLEANUP_TEST,
        DOC_MARKERS_TEST=DOC_MARKERS_TEST,
        DOC_INI=DOC_INI,
        DOC_CI=DOC_CI,
    )
    assert_on_page("quick-start.md", DOC_IN_PROCESS=DOC_IN_PROCESS, DOC_STUBS=DOC_STUBS, DOC_SDK=DOC_SDK)
    assert_on_page("standalone.md", DOC_CURL=DOC_CURL)


# ---- a killed pytest leaves no emulator behind ----------------------------------------------------

HANGS = """\
import os
import time


def test_hangs(ycr):
    with open("emulator.pid.tmp", "w") as record:
        record.write(str(ycr.process.pid))
    os.rename("emulator.pid.tmp", "emulator.pid")
    time.sleep(600)
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie awaiting its reaper has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_pytest_leaves_no_emulator(tmp_path, pycache):
    """What a CI timeout sends (SIGTERM), and SIGKILL: the subprocess mode's emulator goes too."""
    runs = {}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        folder = tmp_path / sig.name
        folder.mkdir()
        (folder / "test_hangs.py").write_text(HANGS)
        with open(folder / "output", "w") as output:
            command = [str(BIN / "pytest"), "-p", "no:cacheprovider", "--ycr-mode=subprocess", "-q"]
            runs[sig] = subprocess.Popen(command, cwd=folder, env=_environment(pycache), stdout=output, stderr=output)
    emulators = {}
    try:
        for sig, run in runs.items():
            pid_file = tmp_path / sig.name / "emulator.pid"
            started = _wait_for(lambda pid_file=pid_file, run=run: pid_file.exists() or run.poll() is not None, 120)
            assert started and pid_file.exists(), (tmp_path / sig.name / "output").read_text()
            emulators[sig] = int(pid_file.read_text())
            assert _running(emulators[sig])
        for sig, run in runs.items():
            run.send_signal(sig)
            run.wait(60)
        left = {sig.name: pid for sig, pid in emulators.items() if not _wait_for(lambda pid=pid: not _running(pid), 60)}
        assert left == {}, "emulators left running"
    finally:
        for process in runs.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        for pid in emulators.values():
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
