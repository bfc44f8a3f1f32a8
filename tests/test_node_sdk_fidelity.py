"""What the official Node.js SDK does that the emulator must match, checked through the wire with
Python clients, so that it holds on machines without Node.js too (tests/test_clients_node.py runs
the SDK itself).

The SDK's ``deadline`` call option (nice-grpc's deadline middleware) cancels the call when it
passes: the server sees the stream cancelled (RST_STREAM), not a ``grpc-timeout``. A call its
client gave up on during a fault rule's ``delay_ms`` (the latency before the service sees the call)
must never reach the service: before this was fixed, the emulator slept the whole delay and then ran
it (a Delete deleted, after the client had been told DEADLINE_EXCEEDED), against whatever the state
was by then (the next test's, after a reset) and recorded it among the next test's calls."""

from __future__ import annotations

import time

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb

from conftest import rpc_error

DELAY_MS = 5000  # far longer than any client here waits: a run that waits it out shows the defect


def _recorded(emulator, method: str, within: float = 30.0) -> list[dict]:
    """The recorded calls of ``method``, once there is one (the handler has finished with it)."""
    deadline = time.monotonic() + within
    while not (calls := emulator.calls_of(method)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return calls


def test_a_delete_whose_deadline_passes_during_an_injected_delay_never_runs(emulator, registry, images):
    image = emulator.add_image(registry.id, "app")
    emulator.add_fault(method="ImageService/Delete", delay_ms=DELAY_MS, count=1)

    err = rpc_error(images.Delete, pb.DeleteImageRequest(image_id=image.id), timeout=0.2)

    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert [call["code"] for call in _recorded(emulator, "ImageService/Delete")] == ["DEADLINE_EXCEEDED"]
    assert image.id in emulator.images
    assert emulator.operations == {}


@pytest.mark.behaviour(
    "*",
    "choice",
    "A call its client cancels during a fault rule's delay never reaches the service; it is recorded CANCELLED.",
    "nodejs-sdk's deadline cancels from the client; running the call anyway would change state the client was told failed",
)
def test_a_delete_the_client_cancels_during_an_injected_delay_never_runs(emulator, registry, images):
    """What the Node.js SDK's deadline option sends: a cancel, without a grpc-timeout."""
    image = emulator.add_image(registry.id, "app")
    emulator.add_fault(method="ImageService/Delete", delay_ms=DELAY_MS, count=1)

    future = images.Delete.future(pb.DeleteImageRequest(image_id=image.id))
    deadline = time.monotonic() + 30
    while emulator.faults and time.monotonic() < deadline:  # the rule expires when the call reaches it
        time.sleep(0.01)
    assert future.cancel()

    assert [call["code"] for call in _recorded(emulator, "ImageService/Delete")] == ["CANCELLED"]
    assert image.id in emulator.images
    assert emulator.operations == {}
