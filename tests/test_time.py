"""The emulator's clock, and the moments when time moves.

Time is moved by users (``Emulator(clock=Clock(start))``, ``advance_time`` from Python, the control
plane and the remote client) and every time-based behaviour follows it: delay-mode operations, IAM
token expiry, the timestamps stamped on what the emulator makes and on recorded calls. Operations
that come due finish only at explicit points (before a request is served, when the facade is
asked), never in the middle of another call's step: a ForceDelete of a large registry, or a state
export, never sees a due Delete finish halfway through it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import image_service_pb2_grpc as image_grpc
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1 import registry_service_pb2_grpc as registry_grpc
from yandex.cloud.iam.v1 import iam_token_service_pb2 as iam_pb
from yandex.cloud.iam.v1 import iam_token_service_pb2_grpc as iam_grpc
from yandex.cloud.operation import operation_service_pb2 as operation_pb
from yandex.cloud.operation import operation_service_pb2_grpc as operation_grpc

from emulator import Emulator
from emulator.control.process import EmulatorProcess
from emulator.state.clock import Clock
from tests.support.docs import assert_on_page

START = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
FOLDER = "b1gtimefolder0000001"


class TickingClock(Clock):
    """Moves one millisecond every time it is read: whatever reads the clock inside a step would
    see a due time pass in the middle of it."""

    def now_ns(self) -> int:
        now = super().now_ns()
        super().advance(0.001)
        return now


def _wait_done(operations, operation_id: str) -> operation_pb.Operation:
    return operations.Get(operation_pb.GetOperationRequest(operation_id=operation_id), timeout=10)


def test_a_frozen_clock_stamps_what_the_emulator_makes_and_advance_moves_it():
    with Emulator(clock=Clock(START)) as emulator:
        assert emulator.now == START
        registry = emulator.add_registry(FOLDER)
        assert registry.created_at == START
        assert emulator.advance_time(90) == START + timedelta(seconds=90)
        image = emulator.add_image(registry.id, "app")
        assert image.created_at == START + timedelta(seconds=90)
        with emulator.channel() as channel:
            images = image_grpc.ImageServiceStub(channel)
            operation = images.Delete(image_pb.DeleteImageRequest(image_id=image.id), timeout=10)
        assert operation.created_at.ToDatetime(timezone.utc) == START + timedelta(seconds=90)
        assert emulator.calls[-1]["time"] == "2026-12-01T12:01:30.000000Z"


def test_reset_undoes_every_advance():
    with Emulator(clock=Clock(START), operations={"ImageService/Delete": "delay:60000"}) as emulator:
        emulator.advance_time(7200)
        emulator.reset()
        assert emulator.now == START
        registry = emulator.add_registry(FOLDER)
        assert registry.created_at == START


@pytest.mark.parametrize("seconds", [-1, float("inf"), float("nan"), "5", True])
def test_time_never_moves_back_or_by_nonsense(seconds):
    emulator = Emulator(clock=Clock(START))
    with pytest.raises(ValueError, match="seconds: must be a number from 0"):
        emulator.advance_time(seconds)
    assert emulator.now == START


def test_time_never_moves_past_what_a_timestamp_carries():
    late = datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc)
    emulator = Emulator(clock=Clock(late))
    with pytest.raises(ValueError, match="years 1 to 9999"):
        emulator.advance_time(7200)
    assert emulator.now == late  # refused: unmoved
    with pytest.raises(ValueError, match="years 1 to 9999"):
        Clock(10**30)


def test_a_delay_mode_operation_finishes_when_time_is_moved_past_it_without_sleeping():
    with Emulator(clock=Clock(START), operations={"ImageService/Delete": "delay:3600000"}) as emulator:
        registry = emulator.add_registry(FOLDER)
        image = emulator.add_image(registry.id, "app")
        with emulator.channel() as channel:
            images, operations = image_grpc.ImageServiceStub(channel), operation_grpc.OperationServiceStub(channel)
            started = images.Delete(image_pb.DeleteImageRequest(image_id=image.id), timeout=10)
            emulator.advance_time(3599.999)
            assert not _wait_done(operations, started.id).done
            assert image.id in emulator.images
            emulator.advance_time(0.001)
            assert image.id not in emulator.images  # the facade finishes what is due when asked
            done = _wait_done(operations, started.id)
        assert done.done and not done.HasField("error")
        assert done.modified_at.ToDatetime(timezone.utc) == START + timedelta(hours=1)


def test_iam_tokens_expire_by_the_emulators_clock():
    with Emulator(clock=Clock(START), auth="any") as emulator, emulator.channel() as channel:
        issued = iam_grpc.IamTokenServiceStub(channel).Create(
            iam_pb.CreateIamTokenRequest(yandex_passport_oauth_token="y0_oauth"), timeout=10
        )
        assert issued.expires_at.ToDatetime(timezone.utc) == START + timedelta(hours=12)
        registries = registry_grpc.RegistryServiceStub(channel)
        bearer = [("authorization", f"Bearer {issued.iam_token}")]
        request = registry_pb.ListRegistriesRequest(folder_id=FOLDER)
        registries.List(request, metadata=bearer, timeout=10)
        emulator.advance_time(12 * 3600)
        with pytest.raises(grpc.RpcError) as raised:
            registries.List(request, metadata=bearer, timeout=10)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED and "expired" in raised.value.details()


def test_a_due_delete_never_finishes_in_the_middle_of_a_force_delete():
    """Each of the ForceDelete's 400 image deletions used to take the lock, and taking it finished
    due operations: the pending Delete of one image ran halfway through, and the ForceDelete
    answered NOT_FOUND after deleting everything."""
    clock = TickingClock(START)
    with Emulator(clock=clock, operations={"ImageService/Delete": "delay:50"}) as emulator:
        registry = emulator.add_registry(FOLDER)
        with emulator.bulk():
            added = [emulator.add_image(registry.id, "app") for _ in range(400)]
        victim = added[len(added) // 2]
        with emulator.channel() as channel:
            images = image_grpc.ImageServiceStub(channel)
            registries = registry_grpc.RegistryServiceStub(channel)
            operations = operation_grpc.OperationServiceStub(channel)
            pending = images.Delete(image_pb.DeleteImageRequest(image_id=victim.id), timeout=10)
            assert not pending.done
            forced = registries.ForceDelete(registry_pb.DeleteRegistryRequest(registry_id=registry.id), timeout=30)
            assert forced.done and not forced.HasField("error"), forced.error
            assert emulator.registries == {} and emulator.images == {}
            clock.advance(1)
            assert _wait_done(operations, pending.id).done


def test_a_state_export_never_holds_an_image_whose_delete_is_done():
    """An export read each image list's references through the lock, which finished due Deletes
    mid-export: the state held an image and, beside it, its Delete marked done."""
    clock = TickingClock(START)
    with Emulator(clock=clock, operations={"ImageService/Delete": "delay:30"}) as emulator:
        registry = emulator.add_registry(FOLDER)
        with emulator.bulk():
            added = [emulator.add_image(registry.id, "app") for _ in range(300)]
        with emulator.channel() as channel:
            images = image_grpc.ImageServiceStub(channel)
            pending = [images.Delete(image_pb.DeleteImageRequest(image_id=image.id), timeout=10) for image in added[:5]]
        for _ in range(3):
            state = emulator.state()
            held = {image["id"] for entry in state["registries"] for image in entry["images"]}
            deletes = {operation["id"]: operation for operation in state["operations"]}
            for started, image in zip(pending, added):
                done = deletes[started.id]["done"]
                assert done != (image.id in held), (done, image.id)
            clock.advance(0.02)


def test_time_moves_from_the_control_plane_and_the_remote_client():
    with EmulatorProcess() as process:
        before = process.now
        moved = process.advance_time(3600)
        assert moved - before >= timedelta(hours=1)
        request = urllib.request.Request(
            process.admin_url + "/time",
            data=json.dumps({"seconds": 60}).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {process.admin_token}"}
            if process.admin_token
            else {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            now = datetime.fromisoformat(json.loads(answer.read())["now"].replace("Z", "+00:00"))
        assert now - before >= timedelta(hours=1, minutes=1)
        for bad in (-5, float("nan"), float("inf"), "10"):
            with pytest.raises(ValueError, match="^seconds: "):
                process.advance_time(bad)
        registry = process.add_registry(FOLDER)
        assert registry.created_at >= now
        process.reset()  # undoes the advances: the system's time again
        assert abs(process.now - datetime.now(timezone.utc)) < timedelta(minutes=5)


DOC_TIME = """\
from datetime import datetime, timezone
from emulator import Emulator
from emulator.state.clock import Clock

emulator = Emulator(clock=Clock(datetime(2026, 12, 1, tzinfo=timezone.utc)))  # stands still until moved
emulator.advance_time(3600)    # an hour on: delay-mode operations due by then are finished
print(emulator.now)            # 2026-12-01 01:00:00+00:00
"""


def test_the_time_recipe_runs_as_written(capsys):

    assert_on_page("unhappy-paths.md", DOC_TIME=DOC_TIME)
    exec(compile(DOC_TIME, "docs/unhappy-paths.md", "exec"), {})
    assert capsys.readouterr().out == "2026-12-01 01:00:00+00:00\n"


def test_the_standalone_process_starts_its_clock_at_start_time(tmp_path):
    with EmulatorProcess(["--start-time", "2026-12-01T12:00:00Z"]) as process:
        assert process.now == START
        assert process.advance_time(60) == START + timedelta(minutes=1)
    for bad, named in (("yesterday", "must be an RFC 3339 timestamp"), ("10000-01-01T00:00:00Z", "RFC 3339")):
        run = subprocess.run(
            [sys.executable, "-m", "emulator", "--port", "0", "--start-time", bad],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert run.returncode == 2 and run.stderr.startswith("ycr-emulator: --start-time: "), run.stderr
        assert named in run.stderr and "Traceback" not in run.stderr
