"""Container Registry's shutdown stages (emulator.state.stages): over the wire, on every surface.

Documented (docs en/container-registry/sunset.md): read-only from 2026-11-10 (view and export
only), fully discontinued on 2026-12-14; Cloud Registry is its successor. The emulator's choice
(nothing public says which code production answers): FAILED_PRECONDITION for a change refused in
read-only, UNIMPLEMENTED for any call after the shutdown; ``STAGE:CODE`` changes it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from datetime import datetime, timezone

import grpc
import pytest

from emulator import Emulator
from emulator.api.wire import CLOUD_REGISTRY, CONTAINER_REGISTRY, message_class
from emulator.control.remote import RemoteEmulator
from emulator.rpc.services import CATALOGUE
from emulator.state.clock import Clock
from emulator.state.codecs import SeedError
from tests.support.docs import assert_on_page

FOLDER = "b1g0000000000000stage"
CR_METHODS = [method for method in CATALOGUE if method.service.name.startswith(CONTAINER_REGISTRY + ".")]
CR_CHANGES = [method for method in CR_METHODS if not method.read]
CR_READS = [method for method in CR_METHODS if method.read]


def call(emulator: Emulator, method, **fields):
    """Send ``method`` a request with ``fields`` over a real channel; (code, details)."""
    request = message_class(method.request_type)(**fields)
    with grpc.insecure_channel(emulator.endpoint) as channel:
        send = channel.unary_unary(
            f"/{method.full}", request_serializer=lambda m: m.SerializeToString(), response_deserializer=bytes
        )
        try:
            send(request, timeout=10)
        except grpc.RpcError as error:
            return error.code(), error.details()
    return grpc.StatusCode.OK, ""


@pytest.fixture
def emulator():
    with Emulator() as running:
        running.add_registry(FOLDER, name="kept")
        yield running


def test_active_is_the_default_and_changes_are_served(emulator):
    assert emulator.container_registry_stage == "active" and emulator.info()["container_registry_stage"] == "active"
    code, _ = call(emulator, CATALOGUE.method("RegistryService/Create"), folder_id=FOLDER, name="new")
    assert code == grpc.StatusCode.OK and len(emulator.registries) == 2


@pytest.mark.parametrize("method", CR_CHANGES, ids=lambda method: method.short)
@pytest.mark.behaviour(
    "yandex.cloud.containerregistry.v1",
    "documented",
    "In the read-only stage every call that changes something is refused and changes nothing.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/sunset.md (read-only from 2026-11-10: view and export only)",
)
def test_read_only_refuses_every_change_and_changes_nothing(emulator, method):
    emulator.set_container_registry_stage("read-only")
    before = emulator.state()
    code, details = call(emulator, method)  # refused before validation: even an empty request
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "Container Registry is read-only since 2026-11-10" in details and "Cloud Registry" in details
    assert emulator.state() == before


@pytest.mark.parametrize("method", CR_READS, ids=lambda method: method.short)
@pytest.mark.behaviour(
    "yandex.cloud.containerregistry.v1",
    "documented",
    "In the read-only stage every read is served.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/sunset.md",
)
def test_read_only_serves_every_read(emulator, method):
    emulator.set_container_registry_stage("read-only")
    code, details = call(emulator, method)  # an empty request: served, or refused for what it lacks
    assert code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), details
    assert "read-only" not in details


def test_read_only_lists_what_is_there(emulator):
    emulator.set_container_registry_stage("read-only")
    code, _ = call(emulator, CATALOGUE.method("RegistryService/List"), folder_id=FOLDER)
    assert code == grpc.StatusCode.OK


@pytest.mark.parametrize("method", CR_METHODS, ids=lambda method: method.short)
@pytest.mark.behaviour(
    "yandex.cloud.containerregistry.v1",
    "documented",
    "In the shut-down stage every Container Registry call is refused.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/sunset.md (fully discontinued on 2026-12-14)",
)
def test_shut_down_refuses_every_container_registry_call(emulator, method):
    emulator.set_container_registry_stage("shut-down")
    code, details = call(emulator, method)
    assert code == grpc.StatusCode.UNIMPLEMENTED
    assert details.startswith("Container Registry was shut down on 2026-12-14: use Cloud Registry")


@pytest.mark.parametrize("stage", ["read-only", "shut-down"])
@pytest.mark.behaviour(
    "yandex.cloud.operation",
    "choice",
    "Container Registry's stage never affects OperationService: a pending operation finishes and can be polled.",
    "the sunset concerns Container Registry; operations are another service",
)
@pytest.mark.behaviour(
    "yandex.cloud.cloudregistry.v1",
    "choice",
    "Container Registry's stage does not stop Cloud Registry serving its own registries.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/sunset.md says nothing of Cloud Registry's API in either stage; Cloud Registry is the successor, so it keeps serving",
)
def test_cloud_registry_and_operations_are_never_affected(emulator, stage):
    emulator.configure_operations({"RegistryService/Create": "polls:2"})
    call(emulator, CATALOGUE.method("RegistryService/Create"), folder_id=FOLDER, name="pending")
    [pending] = [operation for operation in emulator.operations.values() if not operation.done]
    emulator.set_container_registry_stage(stage)
    create = CATALOGUE.method(f"{CLOUD_REGISTRY}.RegistryService/Create")
    code, details = call(emulator, create, folder_id=FOLDER, name="docker", kind="DOCKER", type="LOCAL")
    assert code == grpc.StatusCode.OK, details
    assert any(registry.kind == "DOCKER" for registry in emulator.registries.values())
    code, details = call(emulator, CATALOGUE.method("OperationService/Get"), operation_id="nope")
    assert code == grpc.StatusCode.NOT_FOUND
    poll = CATALOGUE.method("OperationService/Get")
    assert [call(emulator, poll, operation_id=pending.id)[0] for _ in range(2)] == [grpc.StatusCode.OK] * 2
    assert emulator.operations[pending.id].done


@pytest.mark.behaviour(
    "yandex.cloud.containerregistry.v1",
    "choice",
    "Refusals are FAILED_PRECONDITION when read-only and UNIMPLEMENTED when shut down, unless the stage names another code.",
    "what production answers is not public: FAILED_PRECONDITION is the API's code for a state that allows no change, UNIMPLEMENTED a server's for a method it lacks",
)
def test_a_code_given_with_the_stage_is_what_refusals_carry(emulator):
    assert emulator.set_container_registry_stage("read-only:PERMISSION_DENIED") == "read-only:PERMISSION_DENIED"
    code, _ = call(emulator, CATALOGUE.method("RegistryService/Create"), folder_id=FOLDER, name="new")
    assert code == grpc.StatusCode.PERMISSION_DENIED
    emulator.set_container_registry_stage("shut-down:UNAVAILABLE")
    code, _ = call(emulator, CATALOGUE.method("RegistryService/List"), folder_id=FOLDER)
    assert code == grpc.StatusCode.UNAVAILABLE


def test_the_refusal_is_recorded_with_its_code(emulator):
    emulator.set_container_registry_stage("read-only")
    call(emulator, CATALOGUE.method("RegistryService/Delete"), registry_id="crp00000000000000000")
    [recorded] = emulator.calls_of("RegistryService/Delete")
    assert recorded["code"] == "FAILED_PRECONDITION"


def _at(text: str) -> Clock:
    return Clock(int(datetime.fromisoformat(text).timestamp()) * 1_000_000_000)


@pytest.mark.parametrize(
    ("moment", "create", "listing"),
    [
        ("2026-11-09T20:59:59+00:00", grpc.StatusCode.OK, grpc.StatusCode.OK),  # 23:59:59 in Moscow
        ("2026-11-09T21:00:00+00:00", grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.OK),
        ("2026-12-13T20:59:59+00:00", grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.OK),
        ("2026-12-13T21:00:00+00:00", grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNIMPLEMENTED),
    ],
)
@pytest.mark.behaviour(
    "yandex.cloud.containerregistry.v1",
    "documented",
    "The by-date stage follows the published dates on the emulator's clock: read-only from 2026-11-10, shut down on 2026-12-14.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/sunset.md",
)
@pytest.mark.behaviour(
    "yandex.cloud.containerregistry.v1",
    "choice",
    "Each stage begins at midnight Moscow time (UTC+3).",
    "the announcement gives dates only; Yandex Cloud's home region keeps Moscow time",
)
def test_by_date_follows_the_published_dates_on_the_emulator_clock(moment, create, listing):
    with Emulator(clock=_at(moment), container_registry_stage="by-date") as emulator:
        assert call(emulator, CATALOGUE.method("RegistryService/Create"), folder_id=FOLDER, name="new")[0] == create
        assert call(emulator, CATALOGUE.method("RegistryService/List"), folder_id=FOLDER)[0] == listing


def test_by_date_moves_on_as_time_is_advanced():
    with Emulator(clock=_at("2026-12-13T20:00:00+00:00"), container_registry_stage="by-date") as emulator:
        listing = CATALOGUE.method("RegistryService/List")
        assert call(emulator, listing, folder_id=FOLDER)[0] == grpc.StatusCode.OK
        assert emulator.info()["container_registry_stage_in_force"] == "read-only"  # found by review: said by-date
        emulator.advance_time(3600)
        assert call(emulator, listing, folder_id=FOLDER)[0] == grpc.StatusCode.UNIMPLEMENTED
        assert emulator.info()["container_registry_stage_in_force"] == "shut-down"
        assert emulator.info()["container_registry_stage"] == "by-date"


def test_reset_restores_the_stage_the_emulator_started_with():
    with Emulator(container_registry_stage="read-only") as emulator:
        emulator.set_container_registry_stage("shut-down")
        emulator.reset()
        assert emulator.container_registry_stage == "read-only"


@pytest.mark.parametrize(
    ("stage", "message"),
    [
        ("readonly", "must be one of active, read-only, shut-down, by-date"),
        ("active:UNAVAILABLE", "active refuses nothing"),
        ("read-only:OK", "not a gRPC status name other than OK"),
        ("read-only:", "not a gRPC status name"),
        (3, "must be a string"),
    ],
)
def test_a_bad_stage_is_refused_and_nothing_changes(emulator, stage, message):
    with pytest.raises(ValueError, match=f"^stage: .*{message}"):  # the argument's name
        emulator.set_container_registry_stage(stage)
    assert emulator.container_registry_stage == "active"
    with pytest.raises(ValueError, match=f"^container_registry_stage: .*{message}"):
        Emulator(container_registry_stage=stage)


def test_seed_and_state_carry_the_stage(emulator):
    emulator.set_container_registry_stage("shut-down:UNAVAILABLE")
    state = emulator.state()
    assert state["container_registry_stage"] == "shut-down:UNAVAILABLE"
    with Emulator() as other:
        other.load_seed(state)
        assert other.container_registry_stage == "shut-down:UNAVAILABLE"
    emulator.set_container_registry_stage("active")
    assert "container_registry_stage" not in emulator.state()  # the default is not written


def test_a_seed_with_a_bad_stage_loads_nothing(emulator):
    with pytest.raises(SeedError, match="container_registry_stage: must be one of"):
        emulator.load_seed({"registries": [{"folder_id": FOLDER, "name": "more"}], "container_registry_stage": "off"})
    assert len(emulator.registries) == 1 and emulator.container_registry_stage == "active"


def test_the_control_plane_and_remote_client_set_and_read_it():
    with Emulator(admin_port=0) as emulator:
        remote = RemoteEmulator(emulator.endpoint, emulator.admin_url)
        assert remote.container_registry_stage == "active"
        assert remote.set_container_registry_stage("read-only") == "read-only"
        assert (
            emulator.container_registry_stage == "read-only"
            and remote.info()["container_registry_stage"] == "read-only"
        )
        request = urllib.request.Request(
            emulator.admin_url + "/container-registry-stage", data=json.dumps({"stage": "gone"}).encode(), method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 400 and b"stage: must be one of" in refused.value.read()  # the body's field
        assert emulator.container_registry_stage == "read-only"


def _ycr_emulator(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, text=True, timeout=timeout
    )  # fmt: skip


@pytest.mark.parametrize("stage", ["closed", ""])  # found by review: "" silently meant active
def test_the_command_line_refuses_a_bad_stage_with_one_line(stage):
    result = _ycr_emulator("--port", "0", "--container-registry-stage", stage)
    assert result.returncode == 2
    assert "--container-registry-stage: must be one of active, read-only, shut-down, by-date" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_line_stage_wins_over_the_state_file(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"registries": [], "container_registry_stage": "shut-down"}))
    script = textwrap.dedent(
        f"""
        import sys
        from emulator.control.process import EmulatorProcess
        with EmulatorProcess(["--state-file", {str(state)!r}, "--container-registry-stage", "read-only"]) as em:
            print(em.container_registry_stage)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "read-only", result.stderr


def test_the_constructors_stage_and_modes_win_over_its_seeds_as_the_command_lines_do():
    """Found by review: Emulator(container_registry_stage=, seed=) started in the seed's stage."""
    seed = {
        "registries": [], "container_registry_stage": "shut-down",
        "operation_modes": {"*": "polls:3", "ImageService/Delete": "polls:2"},
    }  # fmt: skip
    given = Emulator(container_registry_stage="read-only", operations={"ImageService/Delete": "delay:50"}, seed=seed)
    assert given.container_registry_stage == "read-only"
    assert given.operation_modes == {"*": "polls:3", "ImageService/Delete": "delay:50"}
    assert Emulator(seed=seed).container_registry_stage == "shut-down"  # nothing given: the seed's


DOC_READ_ONLY_TEST = """\
# test_read_only.py -- my tool must fail loudly on the read-only service
import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb


@pytest.mark.ycr_container_registry_stage("read-only")
def test_cleanup_reports_the_read_only_service(ycr_image, ycr_stubs):
    image = ycr_image("app")
    assert ycr_stubs.images.Get(pb.GetImageRequest(image_id=image.id)).id == image.id  # reads still work
    with pytest.raises(grpc.RpcError) as refused:
        ycr_stubs.images.Delete(pb.DeleteImageRequest(image_id=image.id))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "read-only" in refused.value.details()
"""


def test_the_read_only_snippet_is_the_guides():
    assert_on_page("moving-to-cloud-registry.md", DOC_READ_ONLY_TEST=DOC_READ_ONLY_TEST)


PLUGIN_SUITE = """
import grpc
import pytest
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as pb


def _create(ycr_stubs):
    try:
        ycr_stubs.registries.Create(pb.CreateRegistryRequest(folder_id="b1g0000000000000ycrt", name="new"))
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def test_the_ini_stage(ycr, ycr_stubs):
    assert ycr.container_registry_stage == "read-only"
    assert _create(ycr_stubs) == grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.ycr_container_registry_stage("active")
def test_the_marker_wins(ycr, ycr_stubs):
    assert _create(ycr_stubs) == grpc.StatusCode.OK


@pytest.mark.ycr_container_registry_stage("shut-down:NOT_FOUND")
def test_the_marker_with_a_code(ycr, ycr_stubs):
    with pytest.raises(grpc.RpcError) as refused:
        ycr_stubs.registries.List(pb.ListRegistriesRequest(folder_id="b1g0000000000000ycrt"))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.ycr_container_registry_stage("closed")
def test_bad(ycr):
    pass
"""


@pytest.mark.parametrize("mode", ["inprocess", "subprocess", "external"])
def test_the_plugin_ini_option_and_marker_in_every_mode(pytester, mode, monkeypatch):
    pytester.makeini("[pytest]\nycr_container_registry_stage = read-only\n")
    pytester.makepyfile(test_stage=PLUGIN_SUITE, test_read_only=DOC_READ_ONLY_TEST)
    if mode != "external":
        result = pytester.runpytest_subprocess(f"--ycr-mode={mode}", "-p", "no:randomly")
    else:
        with Emulator(admin_port=0, tls_port=0) as shared:
            monkeypatch.setenv("YCR_EMULATOR_ADMIN_URL", shared.admin_url)
            result = pytester.runpytest_subprocess("-p", "no:randomly")
            assert shared.container_registry_stage == "active"  # the session's setting undone at its end
    result.assert_outcomes(passed=4, errors=1)  # the guide's test_read_only.py among them
    result.stdout.fnmatch_lines(["*@pytest.mark.ycr_container_registry_stage: stage: must be one of*"])


def test_a_bad_ini_stage_stops_the_session(pytester):
    pytester.makeini("[pytest]\nycr_container_registry_stage = sunset\n")
    pytester.makepyfile(test_stage="def test_nothing(ycr):\n    pass\n")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ycr_container_registry_stage: must be one of*"])


def test_the_stage_dates_are_the_documented_ones():
    from emulator.state.stages import READ_ONLY_FROM, SHUT_DOWN_FROM

    assert READ_ONLY_FROM.astimezone(timezone.utc) == datetime(2026, 11, 9, 21, tzinfo=timezone.utc)
    assert SHUT_DOWN_FROM.date().isoformat() == "2026-12-14"
