"""Retained memory: what a standalone emulator keeps per Delete+add cycle and per IAM token.

Each measurement starts a fresh ``python -m emulator`` process and reads its resident set
(VmRSS in /proc/<pid>/status) before and after N more of the same action, once a warm-up
has run; the figure is the growth divided by N. Nothing stays alive between the readings
except what the emulator chooses to keep (operations, idempotency keys, tokens, indexes).

A Delete+add cycle is one image added through the control plane (POST /images) and then
deleted with ImageService.Delete, always in the same registry and repository; a few client
threads run cycles side by side, so at most that many images are alive at any time. (Adding
in batches through POST /seed would be faster but is not the same cycle: each batch needs a
new registry, whose emptied repository keeps tables sized for the batch, and the batch's
peak of live images leaves free memory behind that later growth can hide in.)

An IAM token is one IamTokenService.Create (auth mode ``any``), each with a different
OAuth token, as from many callers.
"""

from __future__ import annotations

import threading

import grpc
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import image_service_pb2_grpc
from yandex.cloud.iam.v1 import iam_token_service_pb2, iam_token_service_pb2_grpc

from emulator.control.process import EmulatorProcess

FOLDER = "b1g0000000000memory1"
TIMEOUT = 30.0


def rss_bytes(pid: int) -> int:
    """The resident set of process ``pid``."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _in_threads(endpoint: str, threads: int, items: list, caller) -> int:
    """``caller(channel)(item)`` for every item, split over ``threads`` channels; the number of
    calls that failed (each failure is an error of the benchmark: there should be none)."""
    failures = [0] * threads

    def worker(n: int) -> None:
        with grpc.insecure_channel(endpoint) as channel:
            call = caller(channel)
            for item in items[n::threads]:
                try:
                    call(item)
                except (grpc.RpcError, ValueError, RuntimeError, OSError):
                    failures[n] += 1

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return sum(failures)


def _cycler(emulator: EmulatorProcess, registry_id: str):
    """A caller for _in_threads: cycle ``n`` adds image ``app:v<n>`` and deletes it."""

    def caller(channel: grpc.Channel):
        stub = image_service_pb2_grpc.ImageServiceStub(channel)

        def cycle(n: int) -> None:
            image = emulator.add_image(registry_id, "app", tags=[f"v{n}"])
            stub.Delete(pb.DeleteImageRequest(image_id=image.id), timeout=TIMEOUT)

        return cycle

    return caller


def _retained(emulator: EmulatorProcess, caller, warmup: int, count: int, threads: int) -> tuple[int, int, int]:
    """(RSS before, RSS after, failed calls): ``count`` actions measured after ``warmup`` ones."""
    failures = _in_threads(emulator.endpoint, threads, list(range(warmup)), caller)
    before = rss_bytes(emulator.process.pid)
    failures += _in_threads(emulator.endpoint, threads, list(range(warmup, warmup + count)), caller)
    return before, rss_bytes(emulator.process.pid), failures


def per_cycle(warmup: int = 15_000, cycles: int = 10_000, threads: int = 4) -> dict:
    with EmulatorProcess() as emulator:
        cycle = _cycler(emulator, emulator.add_registry(FOLDER).id)
        before, after, failures = _retained(emulator, cycle, warmup, cycles, threads)
        state = emulator.state()
    return {
        "warmup_cycles": warmup,
        "cycles": cycles,
        "rss_before": before,
        "rss_after": after,
        "bytes_per_cycle": (after - before) / cycles,
        "images_left": sum(len(registry["images"]) for registry in state["registries"]),
        "operations_kept": len(state["operations"]),
        "failed_calls": failures,
    }


def _token_creator(channel: grpc.Channel):
    stub = iam_token_service_pb2_grpc.IamTokenServiceStub(channel)
    request = iam_token_service_pb2.CreateIamTokenRequest
    return lambda n: stub.Create(request(yandex_passport_oauth_token=f"y0_bench-oauth-token-{n:08d}"), timeout=TIMEOUT)


def per_iam_token(warmup: int = 2_000, tokens: int = 50_000, threads: int = 4) -> dict:
    with EmulatorProcess(["--auth", "any"]) as emulator:
        before, after, failures = _retained(emulator, _token_creator, warmup, tokens, threads)
    return {
        "warmup_tokens": warmup,
        "tokens": tokens,
        "rss_before": before,
        "rss_after": after,
        "bytes_per_token": (after - before) / tokens,
        "failed_calls": failures,
    }


def run(
    warmup_cycles: int = 15_000, cycles: int = 10_000, warmup_tokens: int = 2_000, tokens: int = 50_000,
    threads: int = 4,
) -> dict:  # fmt: skip
    """Retained bytes per Delete+add cycle (after ``warmup_cycles``) and per IAM token."""
    return {
        "cycle": "one image added through the control plane (POST /images) and deleted with ImageService.Delete, "
        f"in one registry and repository, {threads} at a time",
        "delete_add": per_cycle(warmup_cycles, cycles, threads),
        "iam_token": per_iam_token(warmup_tokens, tokens, threads),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
