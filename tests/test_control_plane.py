"""The HTTP control plane, health checking, reflection and the state file."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from http.client import HTTPConnection

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import image_service_pb2_grpc

from emulator import Emulator
from emulator.control.process import EmulatorProcess
from emulator.control.remote import RemoteEmulator
from emulator.state.seed import export_state

SEED = {
    "registries": [
        {
            "id": "crp71hkgiolp6677hg9i",
            "folder_id": "b1gfolder",
            "created_at": "2026-01-01T00:00:00.123456789Z",
            "images": [
                {"repository": "ubuntu", "id": "crpa2mf008mpjig73rp6", "tags": ["latest"]},
                {"repository": "team/web", "created_at": "2026-02-03T04:05:06.000000007Z"},
            ],
        }
    ]
}


def http(method: str, url: str, body=None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def admin_emulator():
    with Emulator(admin_port=0) as emulator:
        yield emulator


@pytest.fixture
def admin(admin_emulator):
    admin_emulator.reset()
    return admin_emulator


def test_seed_add_and_read_state_over_http(admin):
    status, loaded = http("POST", admin.admin_url + "/seed", SEED)
    assert status == 200
    assert [image["name"] for image in loaded["images"]] == [
        "crp71hkgiolp6677hg9i/ubuntu",
        "crp71hkgiolp6677hg9i/team/web",
    ]
    status, image = http(
        "POST", admin.admin_url + "/images", {"registry_id": "crp71hkgiolp6677hg9i", "repository": "app"}
    )
    assert status == 200 and image["name"] == "crp71hkgiolp6677hg9i/app"
    status, registry = http("POST", admin.admin_url + "/registries", {"folder_id": "b1gother", "name": "r2"})
    assert status == 200 and registry["folder_id"] == "b1gother"
    status, state = http("GET", admin.admin_url + "/state")
    assert status == 200
    assert {r["id"] for r in state["registries"]} == {"crp71hkgiolp6677hg9i", registry["id"]}
    first = next(r for r in state["registries"] if r["id"] == "crp71hkgiolp6677hg9i")
    assert first["created_at"] == "2026-01-01T00:00:00.123456789Z"
    assert {i["repository"] for i in first["images"]} == {"ubuntu", "team/web", "app"}
    assert set(admin.images) == {i["id"] for i in first["images"]}


def test_reset_over_http(admin):
    admin.load_seed(SEED)
    assert http("POST", admin.admin_url + "/reset")[0] == 200
    assert admin.images == {} and admin.registries == {}


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/images", {"registry_id": "crp71hkgiolp6677hg9i", "repository": "Bad Name"}, "repository"),
        ("/images", {"registry_id": "crp71hkgiolp6677hg9i", "repository": "x", "tags": "latest"}, "tags"),
        ("/images", {"registry_id": "nope", "repository": "x"}, "registry_id"),
        ("/registries", {"folder_id": "b1gf", "colour": "red"}, "colour"),
        ("/seed", {"registries": [{"folder_id": "b1gf"}, {"images": []}]}, "registries[1].folder_id"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_changes_nothing(admin, path, body, named):
    admin.load_seed(SEED)
    before = json.dumps(http("GET", admin.admin_url + "/state")[1], sort_keys=True)
    status, answer = http("POST", admin.admin_url + path, body)
    assert status == 400
    assert named in answer["error"]
    assert json.dumps(http("GET", admin.admin_url + "/state")[1], sort_keys=True) == before


def test_unknown_endpoint_is_404(admin):
    assert http("GET", admin.admin_url + "/nothing")[0] == 404
    assert http("POST", admin.admin_url + "/nothing", {})[0] == 404


def test_health_checking(running_emulator, channel):
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "yandex.cloud.containerregistry.v1.ImageService", "yandex.cloud.operation.OperationService"):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.RpcError) as caught:
        health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_serves_the_emulators_descriptors(running_emulator, channel):
    database = ProtoReflectionDescriptorDatabase(channel)
    services = set(database.get_services())
    assert {"yandex.cloud.containerregistry.v1.ImageService", "yandex.cloud.operation.OperationService"} <= services
    pool = descriptor_pool.DescriptorPool(database)
    service = pool.FindServiceByName("yandex.cloud.containerregistry.v1.ImageService")
    assert [method.name for method in service.methods] == ["List", "Get", "Delete"]
    request = pool.FindMessageTypeByName("yandex.cloud.containerregistry.v1.ListImagesRequest")
    assert request.fields_by_name["folder_id"].number == 7
    assert request.fields_by_name["page_size"].number == 3


def test_state_file_outlives_a_restart(tmp_path):
    state = tmp_path / "state.json"
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(SEED))
    first = EmulatorProcess(["--seed", str(seed), "--state-file", str(state)], empty=False).start()
    try:
        added = first.add_image("crp71hkgiolp6677hg9i", "app", tags=["v1"])
        stub = image_service_pb2_grpc.ImageServiceStub(first.channel())
        operation = stub.Delete(pb.DeleteImageRequest(image_id="crpa2mf008mpjig73rp6"))
        expected = first.state()
    finally:
        assert first.stop() == 0
    written = Emulator()  # the file holds what was given; derived fields come back on load
    written.load_seed(state)
    assert export_state(written.store) == expected
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    # The state file wins over --seed at the next start.
    second = EmulatorProcess(["--seed", str(seed), "--state-file", str(state)], empty=False).start()
    try:
        assert second.state() == expected
        stub = image_service_pb2_grpc.ImageServiceStub(second.channel())
        assert stub.Get(pb.GetImageRequest(image_id=added.id)).tags == ["v1"]
        with pytest.raises(grpc.RpcError) as caught:
            stub.Get(pb.GetImageRequest(image_id="crpa2mf008mpjig73rp6"))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert operation.id in second.operations
    finally:
        assert second.stop() == 0


@pytest.mark.parametrize(
    "content",
    ['{"registries": [', '{"something": "else"}', "[1, 2, 3]", '{"registries": [{"folder_id": "b1g", "id": "X"}]}'],
    ids=["corrupt", "foreign", "not-an-object", "bad-entry"],
)
def test_a_bad_state_file_stops_the_start_and_is_left_untouched(tmp_path, content):
    state = tmp_path / "state.json"
    state.write_text(content)
    with pytest.raises(RuntimeError, match="state file"):
        EmulatorProcess(["--state-file", str(state)], empty=False, start_timeout=20).start()
    assert state.read_text() == content


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"registry_id": "crp71hkgiolp6677hg9i", "repository": "x", "compressed_size": 2**64}, "compressed_size"),
        ({"registry_id": "crp71hkgiolp6677hg9i", "repository": "x", "created_at_ns": 10**30}, "created_at"),
        (
            {"registry_id": "crp71hkgiolp6677hg9i", "repository": "x", "created_at": "0001-01-01T00:00:00+01:00"},
            "created_at",
        ),
        ({"registry_id": "crp71hkgiolp6677hg9i", "repository": "x", "layers": [{"size": 2**63}]}, "layers[0].size"),
    ],
    ids=["size-over-int64", "time-over-range", "time-before-year-1", "blob-size-over-int64"],
)
def test_values_the_wire_cannot_carry_are_refused(admin, channel, body, named):
    admin.load_seed(SEED)
    before = json.dumps(http("GET", admin.admin_url + "/state")[1], sort_keys=True)
    status, answer = http("POST", admin.admin_url + "/images", body)
    assert status == 400 and named in answer["error"]
    assert json.dumps(http("GET", admin.admin_url + "/state")[1], sort_keys=True) == before


@pytest.mark.parametrize(
    ("operation", "named"),
    [
        (
            {
                "id": "op1",
                "metadata_type": "yandex.cloud.containerregistry.v1.DeleteImageMetadata",
                "metadata": {"nope": 1},
            },
            "operations[0].metadata",
        ),
        (
            {
                "id": "op1",
                "metadata_type": "yandex.cloud.containerregistry.v1.DeleteImageMetadata",
                "error": {"code": "BOGUS", "message": "x"},
            },
            "operations[0].error.code",
        ),
        ({"id": "op1", "metadata_type": "no.such.Message"}, "operations[0].metadata_type"),
    ],
    ids=["metadata-field", "error-code", "metadata-type"],
)
def test_bad_operations_in_a_seed_are_refused(admin, operation, named):
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        admin.load_seed({"registries": [], "operations": [operation]})
    assert admin.operations == {}


def test_duplicate_operation_ids_in_a_seed_are_refused(admin):
    operation = {"id": "op1", "metadata_type": "yandex.cloud.containerregistry.v1.DeleteImageMetadata"}
    with pytest.raises(ValueError, match="appears twice"):
        admin.load_seed({"registries": [], "operations": [operation, dict(operation)]})
    assert admin.operations == {}


def test_a_negative_content_length_is_refused(admin):
    connection = HTTPConnection("127.0.0.1", admin.admin_port, timeout=10)
    connection.putrequest("POST", "/images")
    connection.putheader("Content-Length", "-1")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 400 and b"Content-Length" in response.read()


# ---- the admin token ----------------------------------------------------------------------------

ADMIN_TOKEN = "admin-Zx81_-.~+/="


def guarded_request(emulator, method: str, path: str, body: bytes | None = None, authorization: str | None = None):
    """(status, headers, JSON answer) of one request; ``authorization`` is the raw header value."""
    connection = HTTPConnection("127.0.0.1", emulator.admin_port, timeout=30)
    headers = {"Authorization": authorization} if authorization is not None else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    return response.status, response.headers, answer


@pytest.fixture(scope="module")
def guarded_emulator():
    with Emulator(admin_port=0, admin_token=ADMIN_TOKEN, auth="strict", tokens={"ci-token": None}) as emulator:
        yield emulator


@pytest.fixture
def guarded(guarded_emulator):
    guarded_emulator.reset()
    guarded_emulator.load_seed(SEED)
    return guarded_emulator


GUARDED_REQUESTS = [
    ("GET", "/info", None),
    ("GET", "/state", None),
    ("POST", "/reset", b"{}"),
    ("POST", "/reset", None),
    ("POST", "/seed", json.dumps({"registries": [{"folder_id": "b1gintruder"}]}).encode()),
    ("POST", "/registries", b'{"folder_id": "b1gintruder"}'),
    ("POST", "/images", b'{"registry_id": "crp71hkgiolp6677hg9i", "repository": "intruder"}'),
    ("POST", "/auth", b'{"mode": "none"}'),
    ("GET", "/nothing", None),
    ("DELETE", "/state", None),
    ("GET", "/state?x=1", None),
]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong",
        f"Bearer {ADMIN_TOKEN}x",
        f"Bearer {ADMIN_TOKEN[:-1]}",
        ADMIN_TOKEN,
        f"Basic {ADMIN_TOKEN}",
        f"Bearer\t{ADMIN_TOKEN}",
        "Bearer \u00e9",
    ],
    ids=[
        "none",
        "empty",
        "scheme-only",
        "scheme-space",
        "wrong",
        "longer",
        "shorter",
        "no-scheme",
        "basic",
        "tab",
        "latin-1",
    ],
)
def test_without_the_admin_token_every_request_but_health_is_401(guarded, authorization):
    before = json.dumps([http("GET", guarded.admin_url + "/health")[1], export_state(guarded.store)], sort_keys=True)
    for method, path, body in GUARDED_REQUESTS:
        status, headers, answer = guarded_request(guarded, method, path, body, authorization)
        assert (status, headers["WWW-Authenticate"]) == (401, "Bearer"), (method, path)
        assert "admin token" in answer["error"]
        assert "crp71hkgiolp6677hg9i" not in json.dumps(answer)  # nothing read from the state
    assert guarded.auth.mode == "strict"
    assert json.dumps([{"status": "SERVING"}, export_state(guarded.store)], sort_keys=True) == before


def test_health_needs_no_admin_token(guarded):
    assert guarded_request(guarded, "GET", "/health")[::2] == (200, {"status": "SERVING"})
    assert guarded_request(guarded, "GET", "/health", authorization="Bearer wrong")[0] == 200


def test_the_admin_token_opens_the_control_plane(guarded):
    for authorization in (f"Bearer {ADMIN_TOKEN}", f"bearer {ADMIN_TOKEN}", f"BEARER  {ADMIN_TOKEN} "):
        status, _, state = guarded_request(guarded, "GET", "/state", authorization=authorization)
        assert status == 200 and state["registries"][0]["id"] == "crp71hkgiolp6677hg9i"
    status, _, _ = guarded_request(guarded, "POST", "/auth", b'{"mode": "any"}', f"Bearer {ADMIN_TOKEN}")
    assert status == 200 and guarded.auth.mode == "any"
    # Bad input is still 400, and an unknown path 404, once the token is right.
    assert guarded_request(guarded, "POST", "/auth", b"{}", f"Bearer {ADMIN_TOKEN}")[0] == 400
    assert guarded_request(guarded, "GET", "/nothing", None, f"Bearer {ADMIN_TOKEN}")[0] == 404


def test_remote_emulator_sends_the_admin_token(guarded):
    remote = RemoteEmulator(guarded.endpoint, guarded.admin_url, admin_token=ADMIN_TOKEN)
    assert set(remote.images) == set(guarded.images)
    remote.reset()
    assert guarded.images == {}
    guarded.load_seed(SEED)
    for token in (None, "wrong"):
        with pytest.raises(PermissionError, match="admin token"):
            RemoteEmulator(guarded.endpoint, guarded.admin_url, admin_token=token).reset()
    assert "crpa2mf008mpjig73rp6" in guarded.images  # neither reset happened


@pytest.mark.parametrize("token", ["", "has space", "caf\u00e9", "tab\there", 42])
def test_an_admin_token_that_cannot_be_sent_is_refused(token):
    with pytest.raises(ValueError, match="admin token"):
        Emulator(admin_port=0, admin_token=token)


def test_the_standalone_process_takes_an_admin_token():
    with EmulatorProcess(admin_token=ADMIN_TOKEN) as process:  # start() resets through the control plane
        process.add_registry("b1gfolder")
        assert http("GET", process.admin_url + "/health") == (200, {"status": "SERVING"})
        status, answer = http("GET", process.admin_url + "/state")
        assert status == 401 and "b1gfolder" not in json.dumps(answer)
        assert [r.folder_id for r in process.registries.values()] == ["b1gfolder"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--admin-token", ADMIN_TOKEN], "--admin-token needs --admin-port"),
        (["--admin-port", "0", "--admin-token", "two words"], "admin token"),
    ],
)
def test_the_standalone_process_refuses_an_unusable_admin_token(args, message):
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and message in done.stderr


def test_the_control_plane_serves_ipv6_hosts():
    with Emulator(host="::1", admin_port=0) as emulator:
        assert emulator.admin_url.startswith("http://[::1]:")
        assert http("GET", emulator.admin_url + "/health") == (200, {"status": "SERVING"})


# ---- the admin token in the pytest plugin ---------------------------------------------------------

GUARDED_DOWNSTREAM = """
import json
import urllib.error
import urllib.request


def test_the_emulator_works_and_its_control_plane_is_guarded(ycr, ycr_image):
    image = ycr_image("app", tags=["v1"])
    assert set(ycr.images) == {image.id}
    try:
        urllib.request.urlopen(ycr.admin_url + "/state", timeout=30)
    except urllib.error.HTTPError as error:
        assert error.code == 401
    else:
        raise AssertionError("the control plane answered without the admin token")


def test_and_it_was_reset(ycr):
    assert ycr.images == {}
"""


def test_the_subprocess_mode_guards_its_control_plane_with_a_random_token(pytester, monkeypatch):
    monkeypatch.delenv("YCR_EMULATOR_ADMIN_TOKEN", raising=False)
    pytester.makepyfile(test_guarded=GUARDED_DOWNSTREAM)
    pytester.makepyfile(test_token="def test_token(ycr):\n    assert len(ycr.admin_token) >= 32\n")
    pytester.runpytest_subprocess("-p", "no:randomly", "--ycr-mode=subprocess").assert_outcomes(passed=3)


@pytest.mark.parametrize("how", ["env", "option", "ini"])
def test_the_external_mode_takes_the_admin_token(pytester, monkeypatch, how):
    pytester.makepyfile(test_guarded=GUARDED_DOWNSTREAM)
    monkeypatch.delenv("YCR_EMULATOR_ADMIN_TOKEN", raising=False)
    with EmulatorProcess(admin_token=ADMIN_TOKEN) as running:
        running.add_registry("b1gleftover")  # the plugin resets it before each test
        monkeypatch.setenv("YCR_EMULATOR_ADDRESS", running.endpoint)
        monkeypatch.setenv("YCR_EMULATOR_ADMIN_URL", running.admin_url)
        args = ["-p", "no:randomly"]
        if how == "env":
            monkeypatch.setenv("YCR_EMULATOR_ADMIN_TOKEN", ADMIN_TOKEN)
        elif how == "option":
            args.append(f"--ycr-admin-token={ADMIN_TOKEN}")
        else:
            pytester.makeini(f"[pytest]\nycr_admin_token = {ADMIN_TOKEN}\n")
        pytester.runpytest_subprocess(*args).assert_outcomes(passed=2)


@pytest.mark.parametrize("token", [None, "wrong"], ids=["missing", "wrong"])
def test_the_external_mode_says_clearly_when_the_admin_token_is_missing_or_wrong(pytester, monkeypatch, token):
    pytester.makepyfile(test_guarded=GUARDED_DOWNSTREAM)
    monkeypatch.delenv("YCR_EMULATOR_ADMIN_TOKEN", raising=False)
    with EmulatorProcess(admin_token=ADMIN_TOKEN) as running:
        running.add_registry("b1gkept")
        monkeypatch.setenv("YCR_EMULATOR_ADDRESS", running.endpoint)
        monkeypatch.setenv("YCR_EMULATOR_ADMIN_URL", running.admin_url)
        if token is not None:
            monkeypatch.setenv("YCR_EMULATOR_ADMIN_TOKEN", token)
        result = pytester.runpytest_subprocess()
        assert result.ret != 0
        refused = "a wrong admin token" if token else "no admin token"
        result.stdout.fnmatch_lines([f"*refused {refused}*--ycr-admin-token*YCR_EMULATOR_ADMIN_TOKEN*"])
        assert [r.folder_id for r in running.registries.values()] == ["b1gkept"]


def test_every_control_operation_is_one_api_in_python_and_over_http():
    """The control operations are defined once (emulator.control.table): the in-process Emulator and
    RemoteEmulator offer each as the same method, and the control plane serves each path."""
    from emulator.control.facade import Controlled
    from emulator.control.remote import RemoteEmulator
    from emulator.control.table import OPERATIONS

    with Emulator(admin_port=0) as emulator:
        assert isinstance(emulator, Controlled)  # what the control table asks of an emulator, it has
        remote = RemoteEmulator(emulator.endpoint, emulator.admin_url)
        for operation in OPERATIONS:  # a method, or a property for what reads like one (faults, calls)
            for api in (Emulator, RemoteEmulator):
                member = getattr(api, operation.name)
                assert callable(member) or isinstance(member, property), (api, operation.name)
                assert isinstance(member, property) == operation.attribute, (api, operation.name)
        assert remote.health() == emulator.health() == "SERVING"
        assert remote.info() == emulator.info()
        remote.add_registry("b1gcontrol", id="crpcontrol")
        assert remote.state() == emulator.state()


def test_get_root_lists_the_routes_and_a_wrong_path_points_to_it(admin):
    """#24, found by a new user: GET / answered only "no such endpoint"."""
    status, answer = http("GET", admin.admin_url + "/")
    assert status == 200 and "GET /health" in answer["routes"] and "POST /reset" in answer["routes"], answer
    assert "DELETE /faults/{id}" in answer["routes"]
    status, answer = http("GET", admin.admin_url + "/registry")
    assert status == 404 and "GET / lists the routes" in answer["error"], answer
