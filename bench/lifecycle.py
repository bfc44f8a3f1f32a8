"""Lifecycle policies and scans at scale: the first page (page_size 100) of each of their Lists
with a small and a large number of resources in its scope (flat in cost, as the image List is), and
a DryRun over a repository of 50,000 images (the documented most a dry run checks) against the image
List's first page in the same run (what a DryRun costs, in image-List pages).

Each call goes through a real gRPC channel; p50 of ``calls`` calls."""

from __future__ import annotations

import statistics
import time

from emulator import Emulator
from emulator.state.lifecycle import LifecycleRule
from emulator.state.scans import MAX_SCAN_RESULTS

CR = "yandex.cloud.containerregistry.v1"
DAY_NS = 86_400 * 10**9
START_NS = 1_700_000_000 * 10**9


def _world(emulator: Emulator, resources: int) -> dict[str, bytes]:
    """``resources`` images in one repository, as many policies on it, a dry run finding the images
    (at most 50,000) and as many scan results (at most the 10,000 kept): the request bytes of each
    List's first page."""
    from yandex.cloud.containerregistry.v1 import image_service_pb2, lifecycle_policy_service_pb2, scanner_service_pb2

    registry = emulator.add_registry("b1gbenchlifecycle000", id="crpbenchlifecycle000")
    with emulator.bulk():
        images = [
            emulator.add_image(registry.id, "app", created_at_ns=START_NS + n, digest=f"sha256:{n:064x}")
            for n in range(resources)
        ]
    repository = emulator.add_repository(registry.id, "app")
    rules = [LifecycleRule(untagged=True, expire_period_ns=DAY_NS)]
    add = emulator.store.add_lifecycle_policy  # the store's own call: the Python API's parsing is not measured
    policies = [add(repository.id, name=f"p{n:07d}", rules=rules) for n in range(resources)]
    emulator.advance_time(0)
    dry_run = emulator.store.dry_run_lifecycle_policy(policies[0].id)
    emulator.load_seed({
        "registries": [],
        "scan_results": [
            {"id": f"che{n:017d}", "image_id": image.id, "repository_id": repository.id, "folder_id": registry.folder_id,
             "status": "READY", "scanned_at": "2026-01-01T00:00:00Z"}
            for n, image in enumerate(images[:MAX_SCAN_RESULTS])  # no more are kept
        ],
    })  # fmt: skip
    return {
        "ImageService/List": image_service_pb2.ListImagesRequest(
            repository_name=f"{registry.id}/app", page_size=100
        ).SerializeToString(),
        "LifecyclePolicyService/List": lifecycle_policy_service_pb2.ListLifecyclePoliciesRequest(
            repository_id=repository.id, page_size=100, order_by="name"
        ).SerializeToString(),
        "LifecyclePolicyService/ListDryRunResultAffectedImages": (
            lifecycle_policy_service_pb2.ListDryRunLifecyclePolicyResultAffectedImagesRequest(
                dry_run_lifecycle_policy_result_id=dry_run.id, page_size=100, order_by="created_at desc"
            ).SerializeToString()
        ),
        "ScannerService/List": scanner_service_pb2.ListScanResultsRequest(
            repository_id=repository.id, page_size=100, order_by="status"
        ).SerializeToString(),
        "DryRun": lifecycle_policy_service_pb2.DryRunLifecyclePolicyRequest(
            lifecycle_policy_id=policies[0].id
        ).SerializeToString(),
    }


def _p50(channel, method: str, body: bytes, calls: int) -> float:
    call = channel.unary_unary(f"/{CR}.{method}")
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        call(body, timeout=120)
        latencies.append(time.perf_counter() - started)
    return statistics.median(latencies) * 1e6


def run(small: int = 1_000, large: int = 100_000, calls: int = 50) -> dict:
    """Per List: p50 at ``small`` and ``large`` resources and their ratio; the DryRun over
    min(``large``, 50,000) images against the image List's first page."""
    timings: dict[int, dict[str, float]] = {}
    for size in (small, large):
        with Emulator() as emulator:
            requests = _world(emulator, size)
            channel = emulator.channel()
            timings[size] = {
                method: _p50(channel, method, body, calls) for method, body in requests.items() if method != "DryRun"
            }
            if size == large:
                timings[size]["DryRun"] = _p50(channel, "LifecyclePolicyService/DryRun", requests["DryRun"], 3)
            channel.close()
    rows = {
        method: {"small_us": timings[small][method], "large_us": timings[large][method],
                 "ratio": timings[large][method] / timings[small][method]}
        for method in timings[small]
    }  # fmt: skip
    dry_run, page = timings[large]["DryRun"], timings[large]["ImageService/List"]
    rows["DryRun"] = {"images": min(large, 50_000), "us": dry_run, "page_us": page, "ratio": dry_run / page}
    return {"small": small, "large": large, "rows": rows}
