"""Fixtures for the project's own tests: a real emulator on a real socket, called
through the official SDK's generated stubs (yandexcloud, a test extra)."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import text_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hypothesis import HealthCheck, settings
from yandex.cloud.containerregistry.v1 import (
    image_service_pb2_grpc,
    registry_service_pb2_grpc,
    repository_service_pb2_grpc,
)
from yandex.cloud.operation import operation_service_pb2_grpc

from emulator import Emulator

# The project's Hypothesis profile: calls go over real sockets (no deadline: a loaded CI machine is
# slow, never wrong), and property tests take the session's emulator fixtures. Tests say only how
# many examples they draw.
settings.register_profile(
    "emulator",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
settings.load_profile("emulator")

pytest_plugins = ["pytester"]  # the plugin's own tests run small downstream suites

FOLDER = "b1g0000000000000test"
MAX_PAGE_TOKEN = 100  # every List request's page_token is (length) = "<=100"


@pytest.fixture(scope="session")
def running_emulator():
    """One emulator per test session (per xdist worker); tests reset it via ``emulator``."""
    with Emulator(random_seed=1234) as emulator:
        yield emulator


@pytest.fixture
def emulator(running_emulator):
    """The session's emulator, emptied before the test."""
    running_emulator.reset()
    return running_emulator


@pytest.fixture(scope="session")
def channel(running_emulator):
    channel = running_emulator.channel()
    yield channel
    channel.close()


@pytest.fixture(scope="session")
def images(channel):
    """The official SDK's ImageServiceStub, pointed at the emulator."""
    return image_service_pb2_grpc.ImageServiceStub(channel)


@pytest.fixture(scope="session")
def operations(channel):
    """The official SDK's OperationServiceStub, pointed at the emulator."""
    return operation_service_pb2_grpc.OperationServiceStub(channel)


@pytest.fixture(scope="session")
def stubs(channel):
    """The official SDK's stubs of every Container Registry service and of OperationService, as
    ``.images``, ``.registries``, ``.repositories`` and ``.operations`` (a test module may define
    its own ``stubs``)."""

    class Stubs:
        images = image_service_pb2_grpc.ImageServiceStub(channel)
        registries = registry_service_pb2_grpc.RegistryServiceStub(channel)
        repositories = repository_service_pb2_grpc.RepositoryServiceStub(channel)
        operations = operation_service_pb2_grpc.OperationServiceStub(channel)

    return Stubs


@pytest.fixture
def registry(emulator):
    """A fresh registry in FOLDER."""
    return emulator.add_registry(FOLDER, name="main")


def rpc_error(call, *args, **kwargs) -> grpc.RpcError:
    """Make a call that must fail and return its error."""
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value


def violation_fields(error: grpc.RpcError) -> set[str]:
    """The fields a failed call's google.rpc.BadRequest details name."""
    status = rpc_status.from_call(error)
    fields = set()
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            fields.update(violation.field for violation in bad_request.field_violations)
    return fields


def violations_of(err: grpc.RpcError) -> list[error_details_pb2.BadRequest.FieldViolation]:
    """The BadRequest field violations of an error, read with grpcio-status."""
    status = rpc_status.from_call(err)
    assert status is not None, "the error carries no google.rpc.Status details"
    assert status.code == err.code().value[0]
    assert status.message == err.details()
    found = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            assert detail.Unpack(bad_request)
            found.extend(bad_request.field_violations)
    assert found, "INVALID_ARGUMENT without BadRequest field violations"
    return found


def assert_invalid(err: grpc.RpcError, *fields: str) -> list[error_details_pb2.BadRequest.FieldViolation]:
    """INVALID_ARGUMENT whose message names each field and whose violations are exactly ``fields``."""
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (err.code(), err.details())
    for name in fields:
        assert name in err.details(), (name, err.details())
    found = violations_of(err)
    assert {violation.field for violation in found} == set(fields), [(v.field, v.description) for v in found]
    for violation in found:
        assert violation.description, violation
    return found


class Page(list):
    """One page of a List: the response's resource items, and the ``next_page_token`` it carried."""

    next_page_token = ""


def resource_field(response) -> str:
    """The name of a List response's resource field: its only repeated message field (not a map)."""
    found = [
        field.name
        for field in response.DESCRIPTOR.fields
        if field.is_repeated and field.message_type is not None and not field.message_type.GetOptions().map_entry
    ]
    assert len(found) == 1, f"{response.DESCRIPTOR.full_name}: name the resource field, candidates {found}"
    return found[0]


def iter_pages(
    call,
    request,
    page_size: int | None = None,
    *,
    items: str | None = None,
    max_pages: int = 1000,
    timeout: float | None = None,
    **fields,
) -> Iterator[Page]:
    """Every page of a List-style RPC (``images.List``, ``registries.List``...), following
    next_page_token, each yielded as it is read, so a test may change things between pages.

    ``request`` is a request message (copied; paging starts at its page_token) or a request class
    built from ``fields``; ``page_size`` overrides the request's. ``items`` names the response's
    repeated resource field (default: the only one). Fails on a token longer than a request may
    carry, and when the walk has not ended after ``max_pages`` pages."""
    if isinstance(request, type):
        request = request(**fields)
    else:
        assert not fields, "fields build a request class; pass a message as it is"
        request = type(request).FromString(request.SerializeToString())
    if page_size is not None:
        request.page_size = page_size
    for _ in range(max_pages):
        response = call(request, timeout=timeout)
        page = Page(getattr(response, items or resource_field(response)))
        page.next_page_token = response.next_page_token
        assert len(page.next_page_token) <= MAX_PAGE_TOKEN, f"a token a request may not carry: {page.next_page_token!r}"
        yield page
        if not page.next_page_token:
            return
        request.page_token = page.next_page_token
    query = text_format.MessageToString(request, as_one_line=True)
    raise AssertionError(f"paging did not end after {max_pages} pages of {type(request).__name__}({query})")


def list_pages(call, request, page_size: int | None = None, **options) -> list[Page]:
    """Every page of a List-style RPC as a list of pages (see ``iter_pages`` for the arguments)."""
    return list(iter_pages(call, request, page_size, **options))
