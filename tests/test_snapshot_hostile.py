"""``ycr-emulator snapshot`` against a hostile endpoint (issue #20, P17, P18): a real gRPC server
that answers the same page token forever, pages without end, enum values the API does not define
and timestamps past year 9999. Whatever it answers, the snapshot ends with a non-zero exit, one
line naming what was wrong, and nothing written; it never runs forever or prints a traceback."""

from __future__ import annotations

import itertools
import subprocess
import sys
from concurrent import futures

import grpc
import pytest

from emulator.api.wire import CONTAINER_REGISTRY, message_class

FOLDER = "b1ghostile0000000000"
REGISTRY = "crphostile0000000000"
PREFIX = "ycr-emulator snapshot: "


def _registry(status: int = 2) -> bytes:
    registry = message_class(f"{CONTAINER_REGISTRY}.Registry")(id=REGISTRY, folder_id=FOLDER, name="r", status=status)
    return message_class(f"{CONTAINER_REGISTRY}.ListRegistriesResponse")(registries=[registry]).SerializeToString()


def _images(token: str = "", seconds: int = 1_700_000_000, count: int = 1, nanos: int = 0) -> bytes:
    response = message_class(f"{CONTAINER_REGISTRY}.ListImagesResponse")(next_page_token=token)
    for n in range(count):
        image = response.images.add(id=f"crpimage{n:012d}", name=f"{REGISTRY}/app", digest=f"sha256:{n:064x}")
        image.created_at.seconds = seconds
        image.created_at.nanos = nanos
    return response.SerializeToString()


def _empty(response: str) -> bytes:
    return message_class(response)().SerializeToString()


REPOSITORIES = _empty(f"{CONTAINER_REGISTRY}.ListRepositoriesResponse")
NO_BINDINGS = _empty("yandex.cloud.access.ListAccessBindingsResponse")
NO_PERMISSIONS = _empty(f"{CONTAINER_REGISTRY}.ListIpPermissionsResponse")


def _endless(response: str, field: str, item: dict):
    """Pages without end: each a new token and one item."""
    counter = itertools.count()

    def answer() -> bytes:
        message = message_class(response)(next_page_token=f"page{next(counter)}")
        getattr(message, field).add(**item)
        return message.SerializeToString()

    return answer


def _permissions(action: int) -> bytes:
    response = message_class(f"{CONTAINER_REGISTRY}.ListIpPermissionsResponse")()
    response.permissions.add(action=action, ip="10.0.0.0/8")
    return response.SerializeToString()


SCENARIOS = {
    "the same page token again": ({"ImageService/List": lambda: _images(token="again")}, "page token"),
    "images without end": (
        {"ImageService/List": _endless(f"{CONTAINER_REGISTRY}.ListImagesResponse", "images", {"id": "crpx"})},
        "pages",
    ),
    "access bindings without end": (
        {
            "RegistryService/ListAccessBindings": _endless(
                "yandex.cloud.access.ListAccessBindingsResponse", "access_bindings", {"role_id": "viewer"}
            )
        },
        "pages",
    ),
    "more images than the page size asked for": ({"ImageService/List": lambda: _images(count=1001)}, "page_size"),
    "a registry status the API does not define": ({"RegistryService/List": lambda: _registry(status=99)}, "99"),
    "an IP permission action the API does not define": (
        {"RegistryService/ListIpPermission": lambda: _permissions(7)},
        "7",
    ),
    "a timestamp past year 9999": ({"ImageService/List": lambda: _images(seconds=2**62)}, "created_at"),
    # found by review: nanos of a second or more were added to the seconds, a value the endpoint never served
    "a timestamp's nanos past a second": ({"ImageService/List": lambda: _images(nanos=2_000_000_000)}, "nanos"),
}


def _serve(overrides: dict) -> tuple[grpc.Server, str]:
    answers = {
        "RegistryService/List": _registry,
        "ImageService/List": _images,
        "RepositoryService/List": lambda: REPOSITORIES,
        "RegistryService/ListAccessBindings": lambda: NO_BINDINGS,
        "RepositoryService/ListAccessBindings": lambda: NO_BINDINGS,
        "RegistryService/ListIpPermission": lambda: NO_PERMISSIONS,
        **overrides,
    }
    services: dict[str, dict] = {}
    for name, answer in answers.items():
        service, method = name.split("/")
        services.setdefault(service, {})[method] = grpc.unary_unary_rpc_method_handler(
            lambda request, context, answer=answer: answer()
        )
    server = grpc.server(futures.ThreadPoolExecutor(4))
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(f"{CONTAINER_REGISTRY}.{s}", m) for s, m in services.items()]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_hostile_endpoint_ends_the_snapshot_in_one_line(scenario, tmp_path):
    overrides, named = SCENARIOS[scenario]
    server, endpoint = _serve(overrides)
    output = tmp_path / "seed.json"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "emulator", "snapshot", "--endpoint", endpoint, "--plaintext",
             "--folder-id", FOLDER, "--output", str(output), "--retries", "0"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        server.stop(None)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert lines[-1].startswith(PREFIX) and named in lines[-1] and "nothing written" in lines[-1], lines[-1]
    assert not output.exists()
