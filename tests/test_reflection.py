"""Everything the gRPC port exposes resolves through server reflection, as grpcurl resolves it:
each listed service and its methods' types, health checking and reflection themselves, and the
google.rpc types of the error details in statuses. A method that is not served says what is."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from grpc_status import rpc_status
from yandex.cloud.containerregistry.v1 import image_service_pb2

from conftest import FOLDER, rpc_error
from emulator.rpc.server import SERVICES

HEALTH = "grpc.health.v1.Health"
REFLECTION = "grpc.reflection.v1alpha.ServerReflection"


@pytest.fixture
def reflected(channel) -> tuple[ProtoReflectionDescriptorDatabase, DescriptorPool]:
    """A reflection client, and a pool that asks it for whatever it is asked (as grpcurl does)."""
    database = ProtoReflectionDescriptorDatabase(channel)
    return database, DescriptorPool(database)


def _reflected_call(channel: grpc.Channel, pool: DescriptorPool, service: str, method: str):
    """A callable for ``service/method`` built only from reflected descriptors, and its request class."""
    descriptor = pool.FindServiceByName(service).methods_by_name[method]
    request = message_factory.GetMessageClass(descriptor.input_type)
    response = message_factory.GetMessageClass(descriptor.output_type)
    call = channel.unary_unary(
        f"/{service}/{method}", request_serializer=request.SerializeToString, response_deserializer=response.FromString
    )
    return call, request


def test_every_listed_service_and_its_types_resolve(reflected):
    database, pool = reflected
    listed = set(database.get_services())
    assert listed == {*SERVICES, HEALTH, REFLECTION}
    for name in listed:
        methods = pool.FindServiceByName(name).methods
        assert methods, name
        for method in methods:  # every request and response type, with every message type they use
            for message in (method.input_type, method.output_type):
                assert message_factory.GetMessageClass(message)().SerializeToString() == b""


def test_the_health_check_and_a_list_through_reflected_types_only(reflected, channel, emulator, registry):
    _, pool = reflected
    check, request = _reflected_call(channel, pool, HEALTH, "Check")
    assert check(request(service="yandex.cloud.containerregistry.v1.ImageService")).status == 1  # SERVING
    image = emulator.add_image(registry.id, "app", tags=["v1"])
    list_images, request = _reflected_call(channel, pool, "yandex.cloud.containerregistry.v1.ImageService", "List")
    assert [(i.id, list(i.tags)) for i in list_images(request(folder_id=FOLDER)).images] == [(image.id, ["v1"])]


def test_error_details_resolve(reflected, images, emulator):
    _, pool = reflected
    error = rpc_error(images.List, image_service_pb2.ListImagesRequest(folder_id=FOLDER, page_size=-1))
    status = rpc_status.from_call(error)
    assert pool.FindMessageTypeByName("google.rpc.Status")  # the status itself, as grpcurl decodes it
    names = []
    for detail in status.details:
        name = detail.type_url.rpartition("/")[2]
        decoded = message_factory.GetMessageClass(pool.FindMessageTypeByName(name)).FromString(detail.value)
        assert decoded.ListFields(), name
        names.append(name)
    assert "google.rpc.BadRequest" in names and "google.rpc.RequestInfo" in names


@pytest.mark.behaviour(
    "IamTokenService/Revoke",
    "choice",
    "A method the emulator does not serve is UNIMPLEMENTED, naming what its service serves.",
    "what a gRPC server answers for a method it does not have, with a message that says what to use",
)
def test_an_unserved_method_says_what_is_served(channel):
    revoke = channel.unary_unary("/yandex.cloud.iam.v1.IamTokenService/Revoke")
    error = rpc_error(revoke, b"")
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "IamTokenService/Revoke is not served" in error.details()
    assert "IamTokenService serves: Create" in error.details()
    error = rpc_error(channel.unary_unary("/yandex.cloud.containerregistry.v1.ImageService/Push"), b"")
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED and "ImageService serves: Delete, Get, List" in error.details()
    error = rpc_error(channel.unary_unary("/no.such.Service/Call"), b"")
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED and "service no.such.Service is not served" in error.details()
    assert all(service in error.details() for service in (*SERVICES, HEALTH, REFLECTION))
    # whatever the call's shape: a stream that never sends gets its answer too
    stream = channel.stream_stream("/no.such.Service/Watch")
    with pytest.raises(grpc.RpcError) as caught:
        list(stream(iter(()), timeout=30))
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.behaviour(
    "*",
    "choice",
    "A call of something the emulator does not serve is logged as a warning and recorded as UNIMPLEMENTED.",
    "so that a client calling the wrong thing leaves a trace",
)
def test_an_unserved_call_is_logged_and_recorded(caplog):
    """#24, found by a new user: an UNIMPLEMENTED call for something not served was neither in the
    log nor in the recorded calls, so a client calling the wrong thing left no trace."""
    import logging

    from emulator import Emulator

    with Emulator() as emulator, grpc.insecure_channel(emulator.endpoint) as raw:
        with caplog.at_level(logging.INFO, logger="emulator"):
            rpc_error(raw.unary_unary("/yandex.cloud.containerregistry.v1.ImageService/Push"), b"")
        recorded = emulator.calls
    assert [(call["method"], call["code"]) for call in recorded] == [
        ("yandex.cloud.containerregistry.v1.ImageService/Push", "UNIMPLEMENTED")
    ]
    assert any(
        "/yandex.cloud.containerregistry.v1.ImageService/Push UNIMPLEMENTED" in record.getMessage()
        and record.levelno == logging.WARNING
        for record in caplog.records
    ), [record.getMessage() for record in caplog.records]
