"""Production's response envelope, through the wire with the official SDK's stubs: the
``x-request-id`` and ``x-server-trace-id`` response headers on every answer (as headers, so
the Node.js SDK's ApiError finds them on an error too), ``google.rpc.RequestInfo`` in error
details, and generated values shaped like production's (compressed_size counting the config
blob, timestamps in whole milliseconds)."""

from __future__ import annotations

import logging
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.operation import operation_service_pb2 as operation_pb

from conftest import FOLDER, assert_invalid, rpc_error
from emulator import Emulator
from emulator.api.values import INT64_MAX
from emulator.rpc.pipeline import install_header_hook
from emulator.state.codecs import SeedError

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TRACE_ID = re.compile(r"[0-9a-f]{32}")
OTHER_FOLDER = "b1g000000000000other"
UNKNOWN_IMAGE = "crp00000000000000000"


def headers_of(call) -> dict[str, str]:
    """The response headers (initial metadata) of a finished call or of its error: what arrived
    before any message, never the trailers."""
    return dict(call.initial_metadata() or ())


def assert_envelope(call) -> str:
    """Both ids in the headers, well formed; returns the request id."""
    headers = headers_of(call)
    assert UUID.fullmatch(headers.get("x-request-id", "")), headers
    assert TRACE_ID.fullmatch(headers.get("x-server-trace-id", "")), headers
    trailers = dict(call.trailing_metadata() or ())
    assert "x-request-id" not in trailers and "x-server-trace-id" not in trailers, trailers
    return headers["x-request-id"]


def request_info(error: grpc.RpcError) -> list[str]:
    """The request ids of the google.rpc.RequestInfo details of an error."""
    status = rpc_status.from_call(error)
    assert status is not None, "the error carries no google.rpc.Status details"
    found = []
    for detail in status.details:
        if detail.Is(error_details_pb2.RequestInfo.DESCRIPTOR):
            info = error_details_pb2.RequestInfo()
            assert detail.Unpack(info)
            found.append(info.request_id)
    return found


def assert_error_envelope(error: grpc.RpcError, code: grpc.StatusCode) -> str:
    assert error.code() == code, (error.code(), error.details())
    request_id = assert_envelope(error)
    assert request_info(error) == [request_id]
    return request_id


@pytest.fixture(scope="module")
def strict():
    """An emulator of its own under strict auth: token ``a`` may touch FOLDER only."""
    with Emulator(auth="strict", tokens={"a": [FOLDER], "admin": None}) as emulator:
        yield emulator


@pytest.fixture
def strict_images(strict):
    strict.reset()
    channel = strict.channel()
    yield ImageServiceStub(channel)
    channel.close()


@pytest.fixture
def registries(channel):
    return RegistryServiceStub(channel)


# ---- headers on success ----------------------------------------------------------------------


@pytest.mark.behaviour(
    "*",
    "choice",
    "Every answer carries the headers x-request-id (a UUID of the server's) and x-server-trace-id.",
    "production's answers carry both (a public `yc --debug` trace; nodejs-sdk's ApiError reads them); their formats are not public",
)
def test_every_successful_answer_carries_both_ids_as_headers(emulator, registry, images, operations, registries):
    image = emulator.add_image(registry.id, "team/web", tags=["v1"])
    seen = []
    _, call = images.Get.with_call(pb.GetImageRequest(image_id=image.id))
    seen.append(assert_envelope(call))
    _, call = images.List.with_call(pb.ListImagesRequest(registry_id=registry.id))
    seen.append(assert_envelope(call))
    _, call = registries.Get.with_call(registry_pb.GetRegistryRequest(registry_id=registry.id))
    seen.append(assert_envelope(call))
    operation, call = images.Delete.with_call(pb.DeleteImageRequest(image_id=image.id))
    seen.append(assert_envelope(call))
    _, call = operations.Get.with_call(operation_pb.GetOperationRequest(operation_id=operation.id))
    seen.append(assert_envelope(call))
    assert len(set(seen)) == len(seen), seen  # one id per call


def test_the_request_id_is_the_servers_own_not_the_clients(emulator, registry, images):
    client_id = str(uuid.uuid4())
    ids = set()
    for _ in range(3):
        _, call = images.List.with_call(
            pb.ListImagesRequest(registry_id=registry.id), metadata=(("x-client-request-id", client_id),)
        )
        ids.add(assert_envelope(call))
    assert client_id not in ids and len(ids) == 3, ids
    traces = set()
    for _ in range(3):
        _, call = images.List.with_call(pb.ListImagesRequest(registry_id=registry.id))
        traces.add(headers_of(call)["x-server-trace-id"])
    assert len(traces) == 3


def test_the_log_line_names_both_the_servers_and_the_clients_request_id(emulator, registry, images, caplog):
    client_id = str(uuid.uuid4())
    with caplog.at_level(logging.INFO, logger="emulator"):
        _, call = images.List.with_call(
            pb.ListImagesRequest(registry_id=registry.id), metadata=(("x-client-request-id", client_id),)
        )
        error = rpc_error(images.Get, pb.GetImageRequest(image_id=UNKNOWN_IMAGE))
    lines = [record.getMessage() for record in caplog.records if record.name == "emulator"]
    ours = assert_envelope(call)
    assert any(ours in line and client_id in line and " OK " in line for line in lines), lines
    failed = headers_of(error)["x-request-id"]
    assert any(failed in line and "NOT_FOUND" in line for line in lines), lines


# ---- headers and RequestInfo on every error ------------------------------------------------


@pytest.mark.behaviour(
    "*",
    "choice",
    "INVALID_ARGUMENT carries google.rpc.BadRequest naming each broken field, then RequestInfo with the call's x-request-id.",
    "production's errors carry RequestInfo; the message form `field: rule, got value` is the emulator's",
)
def test_invalid_argument_carries_the_envelope_beside_bad_request(emulator, images, channel):
    error = rpc_error(images.List, pb.ListImagesRequest(folder_id=FOLDER, page_size=-1))
    assert_error_envelope(error, grpc.StatusCode.INVALID_ARGUMENT)
    assert_invalid(error, "page_size")  # the BadRequest detail is still there
    error = rpc_error(images.Get, pb.GetImageRequest(image_id=""))
    assert_error_envelope(error, grpc.StatusCode.INVALID_ARGUMENT)
    raw_get = channel.unary_unary("/yandex.cloud.containerregistry.v1.ImageService/Get")
    error = rpc_error(raw_get.with_call, b"\xff\xff")  # bytes that do not decode
    assert_error_envelope(error, grpc.StatusCode.INVALID_ARGUMENT)


def test_not_found_carries_the_envelope(emulator, images, operations):
    error = rpc_error(images.Get, pb.GetImageRequest(image_id=UNKNOWN_IMAGE))
    assert_error_envelope(error, grpc.StatusCode.NOT_FOUND)
    error = rpc_error(images.Delete, pb.DeleteImageRequest(image_id=UNKNOWN_IMAGE))
    assert_error_envelope(error, grpc.StatusCode.NOT_FOUND)
    error = rpc_error(operations.Get, operation_pb.GetOperationRequest(operation_id="crpnosuchoperation00"))
    assert_error_envelope(error, grpc.StatusCode.NOT_FOUND)


def test_unauthenticated_and_permission_denied_carry_the_envelope(strict, strict_images):
    other = strict.add_registry(OTHER_FOLDER)
    image = strict.add_image(other.id, "app")
    error = rpc_error(strict_images.Get, pb.GetImageRequest(image_id=image.id))
    assert_error_envelope(error, grpc.StatusCode.UNAUTHENTICATED)
    error = rpc_error(
        strict_images.Get, pb.GetImageRequest(image_id=image.id), metadata=(("authorization", "Bearer a"),)
    )
    assert_error_envelope(error, grpc.StatusCode.PERMISSION_DENIED)


def test_failed_precondition_and_already_exists_carry_the_envelope(emulator, registry, registries):
    emulator.add_image(registry.id, "app")
    error = rpc_error(registries.Delete, registry_pb.DeleteRegistryRequest(registry_id=registry.id))
    assert_error_envelope(error, grpc.StatusCode.FAILED_PRECONDITION)
    error = rpc_error(registries.Create, registry_pb.CreateRegistryRequest(folder_id=FOLDER, name=registry.name))
    assert_error_envelope(error, grpc.StatusCode.ALREADY_EXISTS)


@pytest.mark.behaviour(
    "*",
    "choice",
    "An error's ids are real headers, never a trailers-only answer.",
    "nodejs-sdk builds ApiError.requestId and serverTraceId from the headers",
)
def test_an_error_is_not_trailers_only_so_a_headers_reader_finds_both_ids(emulator, images):
    """The Node.js SDK builds its ApiError's requestId and serverTraceId from the response
    headers only; a trailers-only error would leave both undefined. A future's
    initial_metadata() is those headers."""
    future = images.Get.future(pb.GetImageRequest(image_id=UNKNOWN_IMAGE))
    assert isinstance(future.exception(), grpc.RpcError)
    headers = headers_of(future)
    assert UUID.fullmatch(headers["x-request-id"]) and TRACE_ID.fullmatch(headers["x-server-trace-id"])
    assert request_info(future.exception()) == [headers["x-request-id"]]


def test_the_headers_check_tells_a_trailers_only_error_apart():
    """The check above can fail: a plain grpcio server that sets the same ids only as trailing
    metadata answers trailers-only, and its headers hold neither."""
    server = grpc.server(ThreadPoolExecutor(max_workers=1))

    def refuse(request, context):
        context.set_trailing_metadata((("x-request-id", str(uuid.uuid4())),))
        context.abort(grpc.StatusCode.NOT_FOUND, "not found")

    handlers = {"Get": grpc.unary_unary_rpc_method_handler(refuse)}
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("yandex.cloud.containerregistry.v1.ImageService", handlers)]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            future = ImageServiceStub(channel).Get.future(pb.GetImageRequest(image_id=UNKNOWN_IMAGE))
            assert future.exception().code() == grpc.StatusCode.NOT_FOUND
            assert "x-request-id" not in headers_of(future)
            assert "x-request-id" in dict(future.trailing_metadata())
    finally:
        server.stop(None)


def test_the_headers_ride_with_the_response_on_this_grpcio():
    """Not a wire fact (a batch of their own puts the same bytes on the wire) but the speed
    one: if a grpcio upgrade drops the private function the hook wraps, this says so."""
    assert install_header_hook()


# ---- generated values look like production's ----------------------------------------------


@pytest.mark.behaviour(
    "ImageService/Get",
    "choice",
    "A generated compressed_size is the layers' sizes plus the config blob's.",
    "a real image's compressed_size is its layers and config together (90,595,047 + 7,926 B)",
)
def test_generated_compressed_size_adds_the_config_to_the_layers(emulator, registry, images):
    derived = emulator.add_image(registry.id, "app")
    got = images.Get(pb.GetImageRequest(image_id=derived.id))
    assert got.compressed_size == sum(layer.size for layer in got.layers) + got.config.size
    assert got.config.size > 0 and got.compressed_size > sum(layer.size for layer in got.layers)
    given_layers = emulator.add_image(
        registry.id, "app", layers=[{"digest": "sha256:" + "1" * 64, "size": 90_595_047}], config={"size": 7_926}
    )
    assert images.Get(pb.GetImageRequest(image_id=given_layers.id)).compressed_size == 90_602_973
    given = emulator.add_image(registry.id, "app", layers=[{"size": 10}], config={"size": 5}, compressed_size=7)
    assert images.Get(pb.GetImageRequest(image_id=given.id)).compressed_size == 7


def test_a_sum_past_int64_with_the_config_needs_a_given_compressed_size(emulator, registry):
    """The layers fit int64 but not with the (generated) config: refused at add, naming layers,
    in the Python API and in seeds; nothing is added by the seed."""
    layers = [{"digest": "sha256:" + "2" * 64, "size": INT64_MAX - 10}]
    with pytest.raises(ValueError, match=re.escape("layers: sizes sum beyond 2^63-1")):
        emulator.add_image(registry.id, "app", layers=layers)
    seed = {"registries": [{"folder_id": FOLDER, "images": [{"repository": "app", "layers": layers}]}]}
    with pytest.raises(SeedError, match=re.escape("layers: sizes sum beyond 2^63-1")):
        emulator.load_seed(seed)
    kept = emulator.add_image(registry.id, "app", layers=layers, compressed_size=INT64_MAX)
    assert kept.compressed_size == INT64_MAX


def _nanos(timestamp) -> int:
    return timestamp.seconds * 1_000_000_000 + timestamp.nanos


@pytest.mark.behaviour(
    "*",
    "choice",
    "Timestamps the emulator stamps (created_at, an operation's times) are whole milliseconds.",
    "production's timestamps have millisecond precision in public answers",
)
def test_generated_timestamps_are_whole_milliseconds(emulator, registry, images, registries, operations):
    stamps = []
    for _ in range(5):
        image = emulator.add_image(registry.id, "app")
        stamps.append(("image created_at", _nanos(images.Get(pb.GetImageRequest(image_id=image.id)).created_at)))
    created = registries.Create(registry_pb.CreateRegistryRequest(folder_id=FOLDER, name="made"))
    stamps += [("operation created_at", _nanos(created.created_at)), ("modified_at", _nanos(created.modified_at))]
    made = registry_pb.CreateRegistryMetadata()
    assert created.metadata.Unpack(made)
    got = registries.Get(registry_pb.GetRegistryRequest(registry_id=made.registry_id))
    stamps.append(("registry created_at", _nanos(got.created_at)))
    deleted = images.Delete(pb.DeleteImageRequest(image_id=image.id))
    polled = operations.Get(operation_pb.GetOperationRequest(operation_id=deleted.id))
    stamps += [("delete created_at", _nanos(polled.created_at)), ("delete modified_at", _nanos(polled.modified_at))]
    assert all(ns > 0 for _, ns in stamps), stamps
    assert [(name, ns % 1_000_000) for name, ns in stamps] == [(name, 0) for name, _ in stamps]


def test_given_timestamps_are_kept_to_the_nanosecond(emulator, registry, images):
    exact = 1_722_694_112_804_123_457
    image = emulator.add_image(registry.id, "app", created_at_ns=exact)
    assert _nanos(images.Get(pb.GetImageRequest(image_id=image.id)).created_at) == exact
    text = emulator.add_image(registry.id, "app", created_at="2024-08-03T14:08:32.804123457Z")
    assert _nanos(images.Get(pb.GetImageRequest(image_id=text.id)).created_at) == exact
    seeded = emulator.add_registry(FOLDER, created_at_ns=exact + 1)
    assert seeded.created_at_ns == exact + 1
