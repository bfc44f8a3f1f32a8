"""Per-call overhead: the emulator against a no-op grpcio server that returns prebuilt
responses of the same size, called by the same client in the same run.

The no-op server is the floor: a grpcio server can answer no faster. The ratio
emulator/no-op says what the emulator's own work costs on top.
"""

from __future__ import annotations

import base64
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import grpc
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb

from emulator.remote import EmulatorProcess

IMAGE_SERVICE = "/yandex.cloud.containerregistry.v1.ImageService/"
FOLDER = "b1g0000000000000bench"
REGISTRY = "crpbench000000000000"


def _seed_file(path: Path, images: int) -> list[str]:
    """A seed with ``images`` images in one registry; returns their ids."""
    ids = [f"crpbench{n:012d}" for n in range(images)]
    entries = [{"repository": f"team/app{n % 10}", "id": image_id, "tags": [f"v{n}"]} for n, image_id in enumerate(ids)]
    path.write_text(json.dumps({"registries": [{"id": REGISTRY, "folder_id": FOLDER, "images": entries}]}))
    return ids


def _requests(registry_id: str, image_id: str) -> dict[str, bytes]:
    return {
        "Get": pb.GetImageRequest(image_id=image_id).SerializeToString(),
        "List": pb.ListImagesRequest(registry_id=registry_id, page_size=100).SerializeToString(),
    }


class NoopServer:
    """bench.noop_server in its own process, answering with ``responses``."""

    def __init__(self, responses: dict[str, bytes], folder: Path):
        spec = folder / "noop.json"
        spec.write_text(json.dumps({method: base64.b64encode(body).decode() for method, body in responses.items()}))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.noop_server", str(spec)], stdout=subprocess.PIPE, text=True
        )
        self.endpoint = self.process.stdout.readline().split()[-1]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _latencies(call, requests: list[bytes], threads: int) -> list[float]:
    """Per-call latencies (seconds) of ``requests`` spread over ``threads`` callers."""
    results: list[float] = []
    lock = threading.Lock()

    def worker(chunk: list[bytes]) -> None:
        mine = []
        for request in chunk:
            started = time.perf_counter()
            call(request)
            mine.append(time.perf_counter() - started)
        with lock:
            results.extend(mine)

    chunks = [requests[n::threads] for n in range(threads)]
    workers = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return results


def run(calls: int = 2000, rounds: int = 5) -> dict:
    """Median latency per method, sequential and with 8 callers, and the ratios.

    Both servers run in processes of their own, so the client's threads do not share
    their interpreter lock.
    """
    images_needed = 1010 + rounds * calls * 2  # Delete consumes an image per call
    registry_id = REGISTRY
    with tempfile.TemporaryDirectory() as folder, ExitStack() as cleanup:
        seed = Path(folder) / "seed.json"
        ids = _seed_file(seed, images_needed)
        emulator = cleanup.enter_context(EmulatorProcess(["--seed", str(seed)], empty=False))
        channel = emulator.channel()
        cleanup.callback(channel.close)
        get_body = channel.unary_unary(IMAGE_SERVICE + "Get")(_requests(registry_id, ids[0])["Get"])
        list_body = channel.unary_unary(IMAGE_SERVICE + "List")(_requests(registry_id, ids[0])["List"])
        victim = ids.pop()
        delete_body = channel.unary_unary(IMAGE_SERVICE + "Delete")(
            pb.DeleteImageRequest(image_id=victim).SerializeToString()
        )
        noop = NoopServer({"Get": get_body, "List": list_body, "Delete": delete_body}, Path(folder))
        cleanup.callback(noop.stop)
        noop_channel = grpc.insecure_channel(noop.endpoint)
        cleanup.callback(noop_channel.close)
        noop_channel.unary_unary(IMAGE_SERVICE + "Get")(b"", wait_for_ready=True, timeout=10)
        deletable = iter(ids[1000:])
        table: dict[str, dict] = {}
        for method in ("Get", "List", "Delete"):
            for threads in (1, 8):
                ratios, ours, floors = [], [], []
                for _ in range(rounds):
                    if method == "Delete":
                        requests = [
                            pb.DeleteImageRequest(image_id=next(deletable)).SerializeToString() for _ in range(calls)
                        ]
                    else:
                        requests = [_requests(registry_id, ids[n % 1000])[method] for n in range(calls)]
                    floor = statistics.median(
                        _latencies(noop_channel.unary_unary(IMAGE_SERVICE + method), requests, threads)
                    )
                    mine = statistics.median(_latencies(channel.unary_unary(IMAGE_SERVICE + method), requests, threads))
                    floors.append(floor)
                    ours.append(mine)
                    ratios.append(mine / floor)
                table[f"{method} x{threads}"] = {
                    "noop_us": statistics.median(floors) * 1e6,
                    "emulator_us": statistics.median(ours) * 1e6,
                    "ratio": statistics.median(ratios),
                }
    return table


if __name__ == "__main__":
    for name, row in run(calls=500, rounds=3).items():
        print(f"{name:10} noop {row['noop_us']:8.1f}us  emulator {row['emulator_us']:8.1f}us  ratio {row['ratio']:.2f}")
