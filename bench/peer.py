"""Peer benchmark: this emulator against moto's ECR backend, on one downstream-style scenario.

The scenario is what a downstream test of an image-cleanup tool does with a registry fake:

1. start the fake and a client to it (real sockets on 127.0.0.1, no mocks);
2. seed 100 images (a few repositories/tags);
3. list them all, get one, delete one (through the client, over the wire);
4. stop the client and the fake.

Both fakes run in this process, alternating, ``repeats`` times each (after one untimed warm-up
run of each, which pays for imports and lazy loading); the medians of the wall times are compared.

The two sides differ where the two APIs differ, and the per-phase medians show where:

* seeding: Container Registry's ImageService has no push/create RPC, so the emulator is seeded
  in-process (``Emulator.add_image``), the way its tests seed it; ECR has ``PutImage``, so moto is
  seeded through boto3 over HTTP, the way a moto-based test seeds it. This phase dominates moto's
  time; the ``ops`` ratio (list + get + delete only, both over the wire) is the like-for-like one.
* listing: the emulator is listed by registry with ``ListImages`` (page_size 100, following
  ``next_page_token``); moto with ``DescribeImages`` through boto3's paginator (moto ignores
  ``maxResults`` and answers in one page). Both return full image metadata (digest, tags, sizes).
* get: ``GetImage`` by id / ``DescribeImages`` by digest. delete: ``Delete`` (an Operation,
  done) / ``BatchDeleteImage`` by digest.
* stop: both sides close their client and stop their server. werkzeug's ``serve_forever``
  polls shutdown every 0.5 s, so ``ThreadedMotoServer.stop()`` takes ~500 ms: a library's
  polling period, not the fake's work. ``excluding_stop`` reports the ratio without it.

Run ``python -m bench.peer [repeats]``; needs the ``bench`` extra (moto[server], boto3) and the
``test`` extra's ``yandexcloud`` for the official stubs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
import sys
import time
import urllib.request
from typing import Any

N_IMAGES = 100
PAGE_SIZE = 100
FOLDER_ID = "b1g0000000000000bnch"
REPOSITORIES = ("team/web", "team/api", "team/worker", "base/python")
MOTO_REPOSITORY = "team/web"
REGION = "us-east-1"
PHASES = ("start", "seed", "ops", "stop")


def _tag(i: int) -> str:
    return f"v1.{i}"


# ---- this emulator ----------------------------------------------------------------------


def _emulator_scenario(n: int = N_IMAGES) -> dict[str, float]:
    from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
    from yandex.cloud.containerregistry.v1 import image_service_pb2_grpc

    from emulator import Emulator

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    emulator = Emulator().start()
    channel = emulator.channel()
    stub = image_service_pb2_grpc.ImageServiceStub(channel)
    t1 = time.perf_counter()

    registry = emulator.add_registry(FOLDER_ID)
    for i in range(n):
        emulator.add_image(registry.id, REPOSITORIES[i % len(REPOSITORIES)], tags=[_tag(i)])
    t2 = time.perf_counter()

    listed, token, pages = [], "", 0
    while True:
        page = stub.List(pb.ListImagesRequest(registry_id=registry.id, page_size=PAGE_SIZE, page_token=token))
        listed.extend(page.images)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    target = listed[n // 2]
    got = stub.Get(pb.GetImageRequest(image_id=target.id))
    operation = stub.Delete(pb.DeleteImageRequest(image_id=target.id))
    t3 = time.perf_counter()

    channel.close()
    emulator.stop()
    t4 = time.perf_counter()

    # Checks, untimed: the same work was done.
    assert len(listed) == n and len({image.id for image in listed}) == n, len(listed)
    assert got.id == target.id and got.digest == target.digest and list(got.tags) == list(target.tags)
    assert operation.done and not operation.HasField("error"), operation
    times.update(start=t1 - t0, seed=t2 - t1, ops=t3 - t2, stop=t4 - t3, total=t4 - t0, pages=pages)
    return times


# ---- moto's ECR, server mode ------------------------------------------------------------


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _manifests(n: int, salt: str) -> list[str]:
    """n minimal Docker v2 schema 2 manifests, each with a distinct config digest."""
    manifests = []
    for i in range(n):
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1_000 + i,
                "digest": _digest(f"config/{salt}/{i}"),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 100_000 + i,
                    "digest": _digest(f"layer/{salt}/{i}"),
                }
            ],
        }
        manifests.append(json.dumps(manifest))
    return manifests


def _moto_reset(endpoint: str) -> None:
    """moto's backends are process-global and outlive the server: empty them (moto's own reset API)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _moto_scenario(session, run_id: int, n: int = N_IMAGES) -> dict[str, float]:
    from moto.server import ThreadedMotoServer

    manifests = _manifests(n, salt=str(run_id))  # input data, prepared untimed as on the other side
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    ecr = session.client(
        "ecr",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    t1 = time.perf_counter()

    ecr.create_repository(repositoryName=MOTO_REPOSITORY)
    for i, manifest in enumerate(manifests):
        ecr.put_image(repositoryName=MOTO_REPOSITORY, imageManifest=manifest, imageTag=_tag(i))
    t2 = time.perf_counter()

    listed, pages = [], 0
    for page in ecr.get_paginator("describe_images").paginate(
        repositoryName=MOTO_REPOSITORY, PaginationConfig={"PageSize": PAGE_SIZE}
    ):
        listed.extend(page["imageDetails"])
        pages += 1
    target = listed[n // 2]
    got = ecr.describe_images(repositoryName=MOTO_REPOSITORY, imageIds=[{"imageDigest": target["imageDigest"]}])
    deleted = ecr.batch_delete_image(repositoryName=MOTO_REPOSITORY, imageIds=[{"imageDigest": target["imageDigest"]}])
    t3 = time.perf_counter()

    _moto_reset(endpoint)  # untimed: housekeeping the emulator does not need (its state dies with it)
    t3b = time.perf_counter()
    ecr.close()
    server.stop()
    t4 = time.perf_counter()

    assert len(listed) == n and len({image["imageDigest"] for image in listed}) == n, len(listed)
    (detail,) = got["imageDetails"]
    assert detail["imageDigest"] == target["imageDigest"] and detail["imageTags"] == target["imageTags"]
    assert not deleted["failures"] and len(deleted["imageIds"]) == 1, deleted
    assert deleted["imageIds"][0]["imageDigest"] == target["imageDigest"]
    times.update(start=t1 - t0, seed=t2 - t1, ops=t3 - t2, stop=t4 - t3b, pages=pages)
    times["total"] = times["start"] + times["seed"] + times["ops"] + times["stop"]
    return times


# ---- the comparison -----------------------------------------------------------------------


def _quiet_werkzeug() -> None:
    # Werkzeug logs every request to stderr unless logging is configured; that would bill
    # moto for terminal output the emulator (which logs only when INFO is enabled) does not do.
    logger = logging.getLogger("werkzeug")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


def run(repeats: int = 7) -> dict[str, Any]:
    """Run both scenarios ``repeats`` times each, alternating; return the medians and the ratio.

    Returns {"skipped": reason} when moto[server] or boto3 (or the yandexcloud stubs) is missing.
    """
    if repeats < 1:
        raise ValueError(f"repeats: must be >= 1, got {repeats}")
    try:
        import boto3
        import moto.server  # noqa: F401  (moto[server]: flask, werkzeug)
    except ImportError as error:
        return {"skipped": f"moto[server] or boto3 is not importable ({error}); pip install -e '.[bench]'"}
    try:
        from yandex.cloud.containerregistry.v1 import image_service_pb2_grpc  # noqa: F401
    except ImportError as error:
        return {"skipped": f"the yandexcloud SDK stubs are not importable ({error}); pip install -e '.[test]'"}

    _quiet_werkzeug()
    session = boto3.session.Session()
    # Warm-up, untimed: imports, grpc's first channel, moto's lazy backend, botocore's model loading.
    _emulator_scenario()
    _moto_scenario(session, run_id=-1)

    emulator_runs, moto_runs = [], []
    for i in range(repeats):
        if i % 2 == 0:  # alternate which side goes first
            emulator_runs.append(_emulator_scenario())
            moto_runs.append(_moto_scenario(session, run_id=i))
        else:
            moto_runs.append(_moto_scenario(session, run_id=i))
            emulator_runs.append(_emulator_scenario())

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    for runs in (emulator_runs, moto_runs):
        for one in runs:
            one["up"] = one["start"] + one["seed"] + one["ops"]
    emulator_s, moto_s = median(emulator_runs, "total"), median(moto_runs, "total")
    emulator_up, moto_up = median(emulator_runs, "up"), median(moto_runs, "up")
    phases = {
        phase: {"emulator_s": median(emulator_runs, phase), "moto_s": median(moto_runs, phase)} for phase in PHASES
    }
    for values in phases.values():
        values["ratio_moto_over_emulator"] = values["moto_s"] / values["emulator_s"]
    return {
        "emulator_s": emulator_s,
        "moto_s": moto_s,
        "ratio_moto_over_emulator": moto_s / emulator_s,
        # Without the stop phase, which is mostly the two libraries' shutdown polling (see the docstring).
        "excluding_stop": {
            "emulator_s": emulator_up,
            "moto_s": moto_up,
            "ratio_moto_over_emulator": moto_up / emulator_up,
        },
        "repeats": repeats,
        "images": N_IMAGES,
        "phases": phases,
        "list_pages": {"emulator": emulator_runs[0]["pages"], "moto": moto_runs[0]["pages"]},
        "runs_total_s": {
            "emulator": [run["total"] for run in emulator_runs],
            "moto": [run["total"] for run in moto_runs],
        },
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    repeats = int(argv[0]) if argv else 7
    result = run(repeats)
    if "skipped" in result:
        print(f"skipped: {result['skipped']}")
        print(json.dumps(result))
        return 0
    print(f"{N_IMAGES} images, {repeats} runs each, medians (ms)")
    print(f"{'phase':<8} {'emulator':>10} {'moto':>10} {'moto/emu':>9}")
    rows = [(phase, result["phases"][phase]) for phase in PHASES]
    rows.append(
        (
            "total",
            {
                "emulator_s": result["emulator_s"],
                "moto_s": result["moto_s"],
                "ratio_moto_over_emulator": result["ratio_moto_over_emulator"],
            },
        )
    )
    rows.append(("no stop", result["excluding_stop"]))
    for name, values in rows:
        print(
            f"{name:<8} {values['emulator_s'] * 1000:>10.2f} {values['moto_s'] * 1000:>10.2f}"
            f" {values['ratio_moto_over_emulator']:>8.1f}x"
        )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
