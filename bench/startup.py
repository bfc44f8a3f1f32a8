"""Start-up, stop and reset: in-process Emulator, and the standalone process."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import grpc
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb

from emulator import Emulator
from emulator.control.process import parse_ready_line

GET = "/yandex.cloud.containerregistry.v1.ImageService/Get"


def _first_call(endpoint: str) -> None:
    """One real call; NOT_FOUND proves the emulator answered."""
    channel = grpc.insecure_channel(endpoint)
    try:
        channel.unary_unary(GET)(pb.GetImageRequest(image_id="crp00000000000000000").SerializeToString(),
                                 wait_for_ready=True, timeout=30)
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND, error
    finally:
        channel.close()


def in_process(repeats: int = 21) -> dict:
    starts, stops = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        emulator = Emulator().start()
        _first_call(emulator.endpoint)
        starts.append(time.perf_counter() - started)
        started = time.perf_counter()
        emulator.stop()
        stops.append(time.perf_counter() - started)
    return {"start_ms": statistics.median(starts) * 1e3, "stop_ms": statistics.median(stops) * 1e3}


def reset(images: int = 100_000, repeats: int = 7) -> dict:
    times = []
    for _ in range(repeats):
        emulator = Emulator()
        registry = emulator.add_registry("b1gbench")
        with emulator.bulk():
            for n in range(images):
                emulator.add_image(registry.id, f"app{n % 100}", tags=[f"v{n}", f"w{n}"])
        started = time.perf_counter()
        emulator.reset()
        times.append(time.perf_counter() - started)
        assert emulator.counts()["images"] == 0
    return {"images": images, "reset_ms": statistics.median(times) * 1e3}


def standalone(repeats: int = 7) -> dict:
    """exec of ``python -m emulator`` (demo data) to its first successful call."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", "0", "--log-level", "warning"],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            endpoint = parse_ready_line(process.stdout.readline()).endpoint
            _first_call(endpoint)
            times.append(time.perf_counter() - started)
        finally:
            process.terminate()
            process.wait(10)
    return {"exec_to_first_call_ms": statistics.median(times) * 1e3}


if __name__ == "__main__":
    print(in_process(), reset(10_000, 3), standalone(3))
