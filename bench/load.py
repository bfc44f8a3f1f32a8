"""Bounded loopback load: many clients x a fixed time of mixed calls against a standalone
emulator; counts calls and errors per method, and latency percentiles.

The emulator is ``python -m emulator`` in a process of its own, seeded through its control
plane with three registries in two folders. Each client is a thread of this process with
its own channel (grpcio releases the GIL while a call waits, so all clients have calls in
flight at once; their own Python work shares one interpreter, and its wait is part of the
latency measured). Each client loops until the deadline over a weighted mix:

- ImageService.List: a paging walk (up to 10 pages) in a random scope (folder, registry,
  repository), filter (none, =, !=, IN, NOT IN) and order; each page is one call;
- ImageService.Get of an image that must exist (one of the client's own, or a shared one);
- ImageService.Delete of one of the client's own images, which is then re-added through the
  control plane (POST /images, timed as its own row) so the set never runs dry;
- OperationService.Get of one of the client's 20 latest Delete operations.

Only the client deletes its own images, so every call has one right answer and any error
status is a failure: the count of errors must be 0. A page walk that returns an image twice
counts as a duplicate (also must be 0).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

import grpc
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import image_service_pb2_grpc
from yandex.cloud.operation import operation_service_pb2, operation_service_pb2_grpc

from emulator.control.process import EmulatorProcess

FOLDERS = ("b1g00000000000load01", "b1g00000000000load02")
REGISTRIES = (FOLDERS[0], FOLDERS[0], FOLDERS[1])  # the folder of each registry
REPOSITORIES = ("team/app0", "team/app1", "team/app2", "team/app3")
ORDERS = ("", "id desc", "name", "name desc", "created_at", "created_at desc")
MAX_PAGES = 10
TIMEOUT = 30.0  # seconds per call: a stuck call ends the run instead of hanging it
LIST, GET, DELETE, OPERATION, ADD = (
    "ImageService.List",
    "ImageService.Get",
    "ImageService.Delete",
    "OperationService.Get",
    "control plane POST /images",
)
GRPC_METHODS = (LIST, GET, DELETE, OPERATION)
OVERALL = "all gRPC calls"


@dataclass
class _Client:
    """One client's own images (id, registry_id, repository), its tallies and latencies."""

    number: int
    images: list[tuple[str, str, str]]
    latencies: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in (*GRPC_METHODS, ADD)})
    errors: Counter = field(default_factory=Counter)
    walks: int = 0
    duplicates: int = 0
    added: int = 0


def _seed(clients: int, per_client: int, shared: int) -> tuple[dict, list[int]]:
    """The seed, and the owner of each seeded image by its tag ``s<n>`` (-1: shared, never deleted)."""
    owners = [-1] * shared + [n % clients for n in range(clients * per_client)]
    random.Random(0).shuffle(owners)
    registries = [{"folder_id": folder, "images": []} for folder in REGISTRIES]
    for n in range(len(owners)):
        entry = {"repository": REPOSITORIES[(n // len(registries)) % len(REPOSITORIES)], "tags": [f"s{n}"]}
        registries[n % len(registries)]["images"].append(entry)
    return {"registries": registries}, owners


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] if ordered else float("nan")


def _list_request(rng: random.Random, registries: list[tuple[str, str]]) -> pb.ListImagesRequest:
    """A first-page request in a random scope, with a random filter, order and page size."""
    registry_id, folder_id = rng.choice(registries)
    scope = rng.choice(("folder", "registry", "repository"))
    if scope == "folder":
        fields = {"folder_id": folder_id}
        names = [f"{r}/{repository}" for r, f in registries if f == folder_id for repository in REPOSITORIES]
    elif scope == "registry":
        fields = {"registry_id": registry_id}
        names = [f"{registry_id}/{repository}" for repository in REPOSITORIES]
    else:
        fields = {"repository_name": f"{registry_id}/{rng.choice(REPOSITORIES)}"}
        names = [fields["repository_name"]]
    some = ", ".join(f'"{name}"' for name in rng.sample(names, min(2, len(names))))
    one = f'"{rng.choice(names)}"'
    filter_ = rng.choice(("", f"name = {one}", f"name != {one}", f"name IN ({some})", f"name NOT IN ({some})"))
    page_size = rng.choice((10, 50, 100))
    return pb.ListImagesRequest(page_size=page_size, filter=filter_, order_by=rng.choice(ORDERS), **fields)


def _run_client(
    client: _Client, emulator: EmulatorProcess, registries: list[tuple[str, str]], shared: list[str], deadline: float
) -> None:
    rng = random.Random(client.number)
    channel = grpc.insecure_channel(emulator.endpoint)
    images = image_service_pb2_grpc.ImageServiceStub(channel)
    operations = operation_service_pb2_grpc.OperationServiceStub(channel)
    recent_operations: deque[str] = deque(maxlen=20)

    def call(method: str, stub_method, request):
        started = time.perf_counter()
        try:
            response = stub_method(request, timeout=TIMEOUT)
        except grpc.RpcError as error:
            client.errors[f"{method} {error.code().name}"] += 1
            return None
        client.latencies[method].append(time.perf_counter() - started)
        return response

    try:
        while time.monotonic() < deadline:
            choice = rng.random()
            if choice < 0.35:
                request, seen = _list_request(rng, registries), set()
                client.walks += 1
                for _ in range(MAX_PAGES):
                    page = call(LIST, images.List, request)
                    if page is None:
                        break
                    ids = [image.id for image in page.images]
                    client.duplicates += len(seen.intersection(ids))
                    seen.update(ids)
                    if not page.next_page_token or time.monotonic() >= deadline:
                        break
                    request.page_token = page.next_page_token
            elif choice < 0.65 or (choice >= 0.85 and not recent_operations):
                own = client.images and rng.random() < 0.5
                image_id = rng.choice(client.images)[0] if own else rng.choice(shared)
                call(GET, images.Get, pb.GetImageRequest(image_id=image_id))
            elif choice < 0.85:
                if not client.images:
                    continue
                image_id, registry_id, repository = client.images.pop(rng.randrange(len(client.images)))
                operation = call(DELETE, images.Delete, pb.DeleteImageRequest(image_id=image_id))
                if operation is not None:
                    recent_operations.append(operation.id)
                started = time.perf_counter()
                try:
                    added = emulator.add_image(registry_id, repository, tags=[f"c{client.number}-{client.added}"])
                except (ValueError, RuntimeError, OSError) as error:
                    client.errors[f"{ADD} {type(error).__name__}: {str(error)[:80]}"] += 1
                    continue
                client.latencies[ADD].append(time.perf_counter() - started)
                client.added += 1
                client.images.append((added.id, registry_id, repository))
            else:
                request = operation_service_pb2.GetOperationRequest(operation_id=rng.choice(recent_operations))
                call(OPERATION, operations.Get, request)
    finally:
        channel.close()


def run(clients: int = 16, seconds: float = 20.0, per_client: int = 50, shared: int = 1_500) -> dict:
    """``clients`` threads for ``seconds`` against a standalone emulator seeded with
    ``clients * per_client`` deletable images and ``shared`` ones that stay."""
    with EmulatorProcess() as emulator:
        seed, owners = _seed(clients, per_client, shared)
        seeded_registries, seeded = emulator.load_seed(seed)
        registries = [(registry.id, registry.folder_id) for registry in seeded_registries]
        workers = [_Client(n, []) for n in range(clients)]
        shared_ids = []
        for image in seeded:
            owner = owners[int(image.tags[0][1:])]
            if owner < 0:
                shared_ids.append(image.id)
            else:
                workers[owner].images.append((image.id, image.registry_id, image.repository))
        emulator.channel().close()  # serving
        started = time.monotonic()
        deadline = started + seconds
        threads = [
            threading.Thread(target=_run_client, args=(worker, emulator, registries, shared_ids, deadline))
            for worker in workers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        exit_code = emulator.stop()
        emulator._stderr.seek(0)
        server_log = emulator._stderr.read().decode(errors="replace").splitlines()
    errors = sum((worker.errors for worker in workers), Counter())
    latencies = {method: [t for worker in workers for t in worker.latencies[method]] for method in (*GRPC_METHODS, ADD)}
    latencies[OVERALL] = [t for method in GRPC_METHODS for t in latencies[method]]
    failed = {method: sum(n for key, n in errors.items() if key.startswith(method + " ")) for method in latencies}
    failed[OVERALL] = sum(failed[method] for method in GRPC_METHODS)
    return {
        "clients": clients,
        "client_kind": "threads of one process, a channel each",
        "seconds": elapsed,
        "images": len(seeded),
        "methods": {
            method: {
                "calls": len(values) + failed[method],
                "p50_ms": _percentile(values, 0.50) * 1e3,
                "p99_ms": _percentile(values, 0.99) * 1e3,
            }
            for method, values in latencies.items()
        },
        "grpc_calls_per_second": len(latencies[OVERALL]) / elapsed,
        "errors": dict(errors),
        "error_count": sum(errors.values()),
        "walks": sum(worker.walks for worker in workers),
        "duplicates": sum(worker.duplicates for worker in workers),
        "server_exit_code": exit_code,
        "server_log": server_log[:20],
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(*(int(arg) for arg in sys.argv[1:3])), indent=1))
