"""List latency as the store grows: page_size 100, p50, with N images in the scope.

Two registries in two folders: one with N images in 100 repositories (registry and
folder scope), one with N images in a single repository (repository scope), so every
scope holds N images, and every page holds 100 images at both sizes. Each scenario is
timed through a real gRPC channel.

Besides the first page, a deep page (half way: the token carries the key the listing
stopped at) in each single-field order that is not the default, and each filter operator,
a multi-field order (``MULTI_FIELD``), whose index a scope builds on its first use: that
first call is timed once, then the deep page in steady state like the others.
"""

from __future__ import annotations

import gc
import statistics
import time

from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb

from emulator import Emulator

LIST = "/yandex.cloud.containerregistry.v1.ImageService/List"
REPOSITORIES = 100
MAX_PAGE_SIZE = 1000
# Single-field orders of the deep-page rows; and a multi-field one, built per scope on first use
# (its id tiebreak goes descending with last_modified, so it walks keys with reversed parts).
DEEP_ORDERS = {"deep page": "name desc", "digest deep page": "digest desc", "last_modified deep page": "last_modified"}
MULTI_FIELD = "name, last_modified desc"


def _fill(emulator: Emulator, images: int) -> dict[str, str]:
    """Two registries of ``images`` images each; returns the names the scenarios use."""
    wide = emulator.add_registry("b1gwidefolder", id="crpwide0000000000000")
    narrow = emulator.add_registry("b1gnarrowfolder", id="crpnarrow00000000000")
    with emulator.bulk():
        for n in range(images):
            # team/app1..3, which the filters name, hold 150 images each whatever N is,
            # so a filtered page has the same size in both runs.
            repository = f"team/app{1 + n % 3}" if n < 450 else f"team/app{4 + n % (REPOSITORIES - 4)}"
            emulator.add_image(wide.id, repository, tags=[f"v{n}"])
            emulator.add_image(narrow.id, "team/monolith", tags=[f"v{n}"])
    return {"wide": wide.id, "narrow": narrow.id, "folder": "b1gwidefolder", "images": images}


def _scopes(names: dict[str, str]) -> dict[str, dict[str, str]]:
    return {
        "repository": {"repository_name": f"{names['narrow']}/team/monolith"},
        "registry": {"registry_id": names["wide"]},
        "folder": {"folder_id": names["folder"]},
    }


def _scenarios(names: dict[str, str]) -> dict[str, pb.ListImagesRequest]:
    wide = names["wide"]
    one = f'"{wide}/team/app1"'
    three = f'"{wide}/team/app1", "{wide}/team/app2", "{wide}/team/app3"'
    scenarios = {}
    for scope, fields in _scopes(names).items():
        scenarios[f"{scope} first page"] = pb.ListImagesRequest(page_size=100, **fields)
        for label, order_by in DEEP_ORDERS.items():
            scenarios[f"{scope} {label}"] = pb.ListImagesRequest(page_size=100, order_by=order_by, **fields)
        for label, expression in (
            ("=", f"name = {one}"),
            ("!=", f"name != {one}"),
            ("IN", f"name IN ({three})"),
            ("NOT IN", f"name NOT IN ({three})"),
        ):
            scenarios[f"{scope} filter {label}"] = pb.ListImagesRequest(page_size=100, filter=expression, **fields)
    return scenarios


def _list_stub(emulator: Emulator):
    channel = emulator.channel()
    return channel.unary_unary(
        LIST, request_serializer=pb.ListImagesRequest.SerializeToString,
        response_deserializer=pb.ListImagesResponse.FromString,
    )  # fmt: skip


def _deep_token(emulator: Emulator, request: pb.ListImagesRequest, images: int) -> str:
    """A token for the page after the first ``images // 2 + 1`` of the listing: paged there through
    the wire (a token is bound to the query, not to the page size, so big pages get there fast)."""
    stub, walk = _list_stub(emulator), pb.ListImagesRequest()
    walk.CopyFrom(request)
    remaining = images // 2 + 1
    while remaining:
        walk.page_size = min(remaining, MAX_PAGE_SIZE)
        page = stub(walk)
        assert page.images and page.next_page_token, f"the listing ended {remaining} images before halfway"
        remaining -= len(page.images)
        walk.page_token = page.next_page_token
    return walk.page_token


def _prepared(emulator: Emulator, names: dict[str, str]) -> dict[str, bytes]:
    bodies = {}
    for label, request in _scenarios(names).items():
        if "deep" in label:
            request.page_token = _deep_token(emulator, request, names["images"])
        bodies[label] = request.SerializeToString()
    return bodies


def _p50(call, body: bytes, calls: int) -> float:
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        call(body)
        latencies.append(time.perf_counter() - started)
    return statistics.median(latencies)


def run(small: int = 1_000, large: int = 1_000_000, calls: int = 100, rounds: int = 5) -> dict:
    """p50 List latency per scenario with ``small`` and ``large`` images in each scope.

    Both emulators run side by side and are measured in alternation, round after round,
    so that the machine's noise falls on both alike; the ratio is the median over rounds.
    """
    with Emulator() as little, Emulator() as big:
        calls_by_size, names_by_size = [], []
        for emulator, size in ((little, small), (big, large)):
            names_by_size.append(_fill(emulator, size))
            bodies = _prepared(emulator, names_by_size[-1])
            call = emulator.channel().unary_unary(LIST)
            for body in bodies.values():
                call(body)  # warm the cached wire forms, as a second test would find them
            calls_by_size.append((call, bodies))
        gc.collect()  # the set-up's garbage, so no collection of it lands inside a measurement
        table = {}
        for label in calls_by_size[0][1]:
            table[label] = _alternating(calls_by_size, label, calls, rounds)
        for scope in _scopes(names_by_size[0]):
            table.update(_multi_field(little, big, names_by_size, calls_by_size, scope, calls, rounds))
    return table


def _alternating(calls_by_size: list, label: str, calls: int, rounds: int) -> dict:
    samples = [
        (_p50(calls_by_size[0][0], calls_by_size[0][1][label], calls),
         _p50(calls_by_size[1][0], calls_by_size[1][1][label], calls))
        for _ in range(rounds)
    ]  # fmt: skip
    return {
        "small_us": statistics.median(a for a, _ in samples) * 1e6,
        "large_us": statistics.median(b for _, b in samples) * 1e6,
        "ratio": statistics.median(b / a for a, b in samples),
    }


def _multi_field(little, big, names_by_size, calls_by_size, scope: str, calls: int, rounds: int) -> dict:
    """The multi-field order in one scope: its first call (which builds the scope's index, timed
    once at each size), then a deep page in steady state, measured like the other rows. Scope by
    scope, so that the index in use is never one the emulator dropped to stay within its bound."""
    label = f"{scope} multi-field order"
    first = []
    for emulator, names, (call, bodies) in zip((little, big), names_by_size, calls_by_size):
        request = pb.ListImagesRequest(page_size=100, order_by=MULTI_FIELD, **_scopes(names)[scope])
        started = time.perf_counter()
        call(request.SerializeToString())
        first.append(time.perf_counter() - started)
        request.page_token = _deep_token(emulator, request, names["images"])
        bodies[f"{label} deep page"] = request.SerializeToString()
    return {
        f"{label}, first call (builds its index)": {
            "small_us": first[0] * 1e6,
            "large_us": first[1] * 1e6,
            "ratio": first[1] / first[0],
        },
        f"{label} deep page": _alternating(calls_by_size, f"{label} deep page", calls, rounds),
    }


def paging_cost(sizes: tuple[int, ...] = (10_000, 100_000)) -> dict:
    """Time to page through all N images (page_size 1000): O(N) means a flat time per image."""
    out = {}
    for size in sizes:
        with Emulator() as emulator:
            names = _fill(emulator, size)
            stub = _list_stub(emulator)
            request = pb.ListImagesRequest(registry_id=names["wide"], page_size=MAX_PAGE_SIZE)
            started, seen = time.perf_counter(), 0
            while True:
                page = stub(request)
                seen += len(page.images)
                if not page.next_page_token:
                    break
                request.page_token = page.next_page_token
            elapsed = time.perf_counter() - started
            assert seen == size, (seen, size)
            out[size] = elapsed / size * 1e6
    return {"us_per_image": out}


if __name__ == "__main__":
    for label, row in run(small=1_000, large=20_000, calls=50, rounds=3).items():
        print(f"{label:26} {row['small_us']:8.0f}us {row['large_us']:8.0f}us  x{row['ratio']:.2f}")
    print(paging_cost((2_000, 20_000)))
