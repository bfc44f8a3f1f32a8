"""Per-call overhead: the emulator against a no-op grpcio server that returns prebuilt
responses of the same size, called by the same client in the same run.

The no-op server is the floor: a grpcio server can answer no faster. It sends the same
response headers as the emulator (``x-request-id``, ``x-server-trace-id``), made and sent the
same way, so the ratio emulator/no-op says what the emulator's own work costs on top. A no-op
server without headers is measured too, to show what sending them costs.

``python -m bench.overhead --options`` measures the ways of sending the headers against each
other (see bench.noop_server), and the emulator with its headers in a batch of their own.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
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

from emulator.control.process import EmulatorProcess

IMAGE_SERVICE = "/yandex.cloud.containerregistry.v1.ImageService/"
FOLDER = "b1g0000000000000bench"
REGISTRY = "crpbench000000000000"
METHODS = ("Get", "List", "Delete")


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
    """bench.noop_server in its own process, answering with ``responses``, sending its
    headers as ``headers`` says (see bench.noop_server)."""

    def __init__(self, responses: dict[str, bytes], folder: Path, headers: str = "attached"):
        spec = folder / "noop.json"
        spec.write_text(json.dumps({method: base64.b64encode(body).decode() for method, body in responses.items()}))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.noop_server", str(spec), headers], stdout=subprocess.PIPE, text=True
        )
        self.endpoint = self.process.stdout.readline().split()[-1]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class _OwnBatchEmulator(EmulatorProcess):
    """The emulator with its headers sent in a batch of their own (``context.send_initial_metadata``),
    as before they rode with the response: a ``sitecustomize`` switches the hook off at start."""

    def start(self) -> EmulatorProcess:
        folder = tempfile.mkdtemp()
        Path(folder, "sitecustomize.py").write_text(
            "import emulator.rpc.server\nemulator.rpc.server.install_header_hook = lambda: False\n"
        )
        before = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [folder, before]))
        try:
            return super().start()
        finally:
            if before is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = before


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


class _Setup:
    """A seeded emulator (or several), the responses it gives, and request makers."""

    def __init__(self, cleanup: ExitStack, folder: Path, images: int, emulators: dict[str, type]):
        seed = folder / "seed.json"
        self.ids = _seed_file(seed, images)
        self.channels: dict[str, grpc.Channel] = {}
        for name, kind in emulators.items():
            emulator = cleanup.enter_context(kind(["--seed", str(seed)], empty=False))
            self.channels[name] = channel = emulator.channel()
            cleanup.callback(channel.close)
        channel = next(iter(self.channels.values()))
        requests = _requests(REGISTRY, self.ids[0])
        victim = self.ids.pop()
        self.responses = {
            "Get": channel.unary_unary(IMAGE_SERVICE + "Get")(requests["Get"]),
            "List": channel.unary_unary(IMAGE_SERVICE + "List")(requests["List"]),
            "Delete": channel.unary_unary(IMAGE_SERVICE + "Delete")(
                pb.DeleteImageRequest(image_id=victim).SerializeToString()
            ),
        }
        for other in list(self.channels.values())[1:]:
            other.unary_unary(IMAGE_SERVICE + "Delete")(pb.DeleteImageRequest(image_id=victim).SerializeToString())
        self.deletable = {name: iter(self.ids[1000:]) for name in self.channels}

    def requests(self, method: str, calls: int, server: str) -> list[bytes]:
        """``calls`` requests for ``method``; an emulator's Deletes take images it still has
        (a no-op server answers any id)."""
        if method != "Delete":
            return [_requests(REGISTRY, self.ids[n % 1000])[method] for n in range(calls)]
        remaining = self.deletable.get(server)
        ids = (next(remaining) for _ in range(calls)) if remaining else (self.ids[n % 1000] for n in range(calls))
        return [pb.DeleteImageRequest(image_id=image_id).SerializeToString() for image_id in ids]


def _noop_channel(cleanup: ExitStack, responses: dict[str, bytes], folder: Path, headers: str) -> grpc.Channel:
    noop = NoopServer(responses, folder, headers)
    cleanup.callback(noop.stop)
    channel = grpc.insecure_channel(noop.endpoint)
    cleanup.callback(channel.close)
    channel.unary_unary(IMAGE_SERVICE + "Get")(b"", wait_for_ready=True, timeout=10)
    return channel


def _measure(setup: _Setup, servers: dict[str, grpc.Channel], methods, calls: int, rounds: int) -> dict:
    """Median p50 per (method, threads) per server; each round calls every server in turn
    (rotating who goes first), so all see the same machine."""
    table: dict[str, dict[str, list[float]]] = {}
    names = list(servers)
    for method in methods:
        for threads in (1, 8):
            row = table[f"{method} x{threads}"] = {name: [] for name in names}
            for turn in range(rounds):
                for name in names[turn % len(names) :] + names[: turn % len(names)]:
                    requests = setup.requests(method, calls, name)
                    stub = servers[name].unary_unary(IMAGE_SERVICE + method)
                    row[name].append(statistics.median(_latencies(stub, requests, threads)))
    return table


def run(calls: int = 2000, rounds: int = 5) -> dict:
    """Median latency per method, sequential and with 8 callers, and the ratios: ``ratio`` is the
    emulator against the no-op server with the same headers (the target), ``headers_ratio`` that
    no-op server against one sending no headers (what the headers cost).

    Every server runs in a process of its own, so the client's threads do not share their
    interpreter lock.
    """
    images_needed = 1010 + rounds * calls * 2  # Delete consumes an image per call
    with tempfile.TemporaryDirectory() as folder, ExitStack() as cleanup:
        setup = _Setup(cleanup, Path(folder), images_needed, {"emulator": EmulatorProcess})
        servers = {
            "bare": _noop_channel(cleanup, setup.responses, Path(folder), "none"),
            "noop": _noop_channel(cleanup, setup.responses, Path(folder), "attached"),
            "emulator": setup.channels["emulator"],
        }
        measured = _measure(setup, servers, METHODS, calls, rounds)
    table = {}
    for name, row in measured.items():
        table[name] = {
            "bare_us": statistics.median(row["bare"]) * 1e6,
            "noop_us": statistics.median(row["noop"]) * 1e6,
            "emulator_us": statistics.median(row["emulator"]) * 1e6,
            "ratio": statistics.median(e / n for e, n in zip(row["emulator"], row["noop"])),
            "headers_ratio": statistics.median(n / b for n, b in zip(row["noop"], row["bare"])),
        }
    return table


OPTIONS = {
    "none": "no-op, sync server, no headers (the floor)",
    "attached": "no-op, sync server, headers with the response (the emulator's way)",
    "batch": "no-op, sync server, headers in a batch of their own (send_initial_metadata)",
    "aio-none": "no-op, grpc.aio server, no headers",
    "aio": "no-op, grpc.aio server, headers by await send_initial_metadata",
}


def options(calls: int = 1000, rounds: int = 5, methods=("Get", "List", "Delete")) -> dict:
    """Every way of sending the headers, each against the no-op server without headers, and the
    emulator sending them with the response and in a batch of their own."""
    images_needed = 1010 + rounds * calls * 2 * len(methods)
    with tempfile.TemporaryDirectory() as folder, ExitStack() as cleanup:
        setup = _Setup(
            cleanup, Path(folder), images_needed, {"emulator": EmulatorProcess, "emulator-own-batch": _OwnBatchEmulator}
        )
        servers = {mode: _noop_channel(cleanup, setup.responses, Path(folder), mode) for mode in OPTIONS}
        servers.update(setup.channels)
        measured = _measure(setup, servers, methods, calls, rounds)
    table = {}
    for name, row in measured.items():
        table[name] = {
            server: {
                "us": statistics.median(times) * 1e6,
                "vs_none": statistics.median(t / b for t, b in zip(times, row["none"])),
            }
            for server, times in row.items()
        }
        for server, noop in (("emulator", "attached"), ("emulator-own-batch", "batch")):
            table[name][server]["vs_same_headers_noop"] = statistics.median(
                t / n for t, n in zip(row[server], row[noop])
            )
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.overhead", description=__doc__.splitlines()[0])
    parser.add_argument("--options", action="store_true", help="measure the ways of sending the headers")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.options:
        for name, row in options(calls=args.calls, rounds=args.rounds).items():
            print(name)
            for server, figures in row.items():
                extra = (
                    f"  {figures['vs_same_headers_noop']:.2f}x the no-op sending headers the same way"
                    if "vs_same_headers_noop" in figures
                    else ""
                )
                print(f"  {server:20} {figures['us']:8.1f}us  {figures['vs_none']:.2f}x no headers{extra}")
        return
    for name, row in run(calls=args.calls, rounds=args.rounds).items():
        print(
            f"{name:10} no headers {row['bare_us']:7.1f}us  noop {row['noop_us']:7.1f}us "
            f"(headers {row['headers_ratio']:.2f}x)  emulator {row['emulator_us']:7.1f}us  ratio {row['ratio']:.2f}"
        )


if __name__ == "__main__":
    main()
