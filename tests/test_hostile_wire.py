"""Hostile input on the gRPC port: whatever a caller sends to whichever method of whichever service
the server registers, the answer is a documented status code, never INTERNAL, UNKNOWN or
RESOURCE_EXHAUSTED, and the server keeps serving.

(a) random, truncated, bit-flipped and crafted bytes to every method, through a raw channel that
    sends the bytes as they are;
(b) a 10,000- and a 100,000-character value in every string field of every request type (D6: ids
    echoed whole into the status message overflowed the metadata limit: RESOURCE_EXHAUSTED);
(c) a page token is checked before the scope's existence and the caller's access (D10, README
    "Auth order": validation, then existence, then the folder check).

Each runs as three callers: an emulator in auth mode none, and one in strict mode called with a
token limited to one folder, and without a token. The methods are those of the services the
server registers (emulator.rpc.server.SERVICES) as the official SDK's descriptors declare them.
"""

from __future__ import annotations

import importlib
import random

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hypothesis import given, settings
from hypothesis import strategies as st

# The official SDK's modules; importing them puts the public API's descriptors in the default pool.
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import image_service_pb2_grpc, registry_service_pb2, repository_service_pb2  # noqa: F401
from yandex.cloud.endpoint import api_endpoint_service_pb2  # noqa: F401
from yandex.cloud.iam.v1 import iam_token_service_pb2  # noqa: F401
from yandex.cloud.operation import operation_service_pb2  # noqa: F401

from emulator import Emulator
from emulator.api.wire import POOL as EMULATOR_POOL
from emulator.rpc.server import SERVICES
from emulator.rpc.services import CATALOGUE
from tests.support.requests import FOLDER, OAUTH_TOKEN, OTHER_FOLDER, TIMEOUT, load_world, valid_fields

TOKEN = OAUTH_TOKEN  # strict mode: limited to FOLDER
Code = grpc.StatusCode
# Methods the public API declares and the emulator does not serve (the catalogue's services, their
# methods it does not declare): grpc answers UNIMPLEMENTED.
UNSERVED = {
    f"/{name}/{method.name}"
    for name, service in CATALOGUE.services.items()
    for method in EMULATOR_POOL.FindServiceByName(name).methods
    if method.name not in service.methods
}
PUBLIC = tuple(f"/{name}/" for name, service in CATALOGUE.services.items() if service.public)  # need no token
DOCUMENTED = {
    Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.UNAUTHENTICATED, Code.PERMISSION_DENIED,
    Code.FAILED_PRECONDITION, Code.ALREADY_EXISTS,  # a registry or repository not empty; a registry name taken
}  # fmt: skip
MAX_MESSAGE = 2000  # characters of a status message: far below grpc's 8 KiB metadata limit
CALLERS = ("none", "strict, limited token", "strict, no token")

# The official SDK's generated module of every served service, so the default pool holds them all.
for _name in CATALOGUE.services:
    importlib.import_module(
        EMULATOR_POOL.FindServiceByName(_name).file.name.removesuffix(".proto").replace("/", ".") + "_pb2"
    )
POOL = descriptor_pool.Default()
REQUEST_TYPES = {
    f"/{service}/{method.name}": method.input_type
    for service in SERVICES
    for method in POOL.FindServiceByName(service).methods
}
METHODS = sorted(REQUEST_TYPES)
STRING_FIELDS = [
    (path, field.name)
    for path in METHODS
    for field in REQUEST_TYPES[path].fields
    if field.type == FieldDescriptor.TYPE_STRING
]


class Caller:
    """An emulator, a channel to it and the metadata this caller sends."""

    def __init__(self, name: str, emulator: Emulator, world: dict, metadata: tuple = ()):
        self.name, self.emulator, self.world, self.metadata = name, emulator, world, metadata
        self.channel = emulator.channel()
        self.images = image_service_pb2_grpc.ImageServiceStub(self.channel)

    def call(self, path: str, payload: bytes) -> Code:
        """Send raw bytes to a method; its status code."""
        raw = self.channel.unary_unary(path, request_serializer=None, response_deserializer=None)
        try:
            raw(payload, metadata=self.metadata, timeout=TIMEOUT)
        except grpc.RpcError as error:
            self.last_error = error
            return error.code()
        return Code.OK

    def allowed(self, path: str) -> set[Code]:
        if path in UNSERVED:
            return {Code.UNIMPLEMENTED}
        if self.name == "strict, no token" and not path.startswith(PUBLIC):
            return {Code.UNAUTHENTICATED}  # authentication comes before the request is even decoded
        return DOCUMENTED

    def check(self, path: str, payload: bytes) -> None:
        code = self.call(path, payload)
        shown = payload[:60].hex() + ("..." if len(payload) > 60 else "")
        assert code in self.allowed(path), f"{path} as {self.name!r}: {code.name} for bytes {shown} ({len(payload)})"

    def still_serving(self) -> None:
        assert self.call("/yandex.cloud.endpoint.ApiEndpointService/List", b"") == Code.OK


@pytest.fixture(scope="module")
def callers():
    with Emulator() as open_emulator, Emulator(auth="strict", tokens={TOKEN: [FOLDER]}) as strict:
        bearer = (("authorization", f"Bearer {TOKEN}"),)
        strict_world = load_world(strict, bearer)
        made = {
            "none": Caller("none", open_emulator, load_world(open_emulator, ())),
            "strict, limited token": Caller("strict, limited token", strict, strict_world, bearer),
            "strict, no token": Caller("strict, no token", strict, strict_world),
        }
        yield made
        for caller in made.values():
            caller.channel.close()


def valid_request(path: str, world: dict) -> Message:
    """A request to ``path`` with every field set to something meaningful in ``world``."""
    request_type = REQUEST_TYPES[path]
    method = CATALOGUE.method(path)
    service = method.service.short if method is not None else path.split("/")[1].rpartition(".")[2]
    return GetMessageClass(request_type)(**valid_fields(request_type.full_name, service, world))


def violations(error: grpc.RpcError) -> list[error_details_pb2.BadRequest.FieldViolation]:
    status = rpc_status.from_call(error)
    found = []
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            found.extend(bad_request.field_violations)
    return found


# ---- (a) random, truncated and crafted bytes ------------------------------------------------


def _key(field_number: int, wire_type: int) -> bytes:
    return _varint(field_number << 3 | wire_type)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


CRAFTED = {
    "empty": b"",
    "invalid UTF-8 in every field 1-7": b"".join(_key(n, 2) + b"\x02\xff\xfe" for n in range(1, 8)),
    "lone surrogate (CESU) in field 1": _key(1, 2) + b"\x03\xed\xa0\x80",
    "length past the end": _key(1, 2) + b"\x7f" + b"a",
    "length of 2^32": _key(1, 2) + _varint(2**32) + b"a",
    "varint of 11 bytes": _key(3, 0) + b"\xff" * 10 + b"\x01",
    "varint cut short": _key(3, 0) + b"\xff\xff",
    "wrong wire type for every field": b"".join(_key(n, 5) + b"\0\0\0\0" + _key(n, 1) + b"\0" * 8 for n in range(1, 8)),
    "a string field as a varint": _key(1, 0) + b"\x05",
    "nested groups 10,000 deep": _key(1, 3) * 10_000,
    "an unmatched end group": _key(1, 4),
    "field number 0": b"\x00\x01",
    "the largest field number": _key(2**29 - 1, 0) + b"\x01",
    "reserved wire types 6 and 7": b"\x0e\x0f",
    "a negative page_size": _key(3, 0) + _varint(2**64 - 1),
    "a field repeated 10,000 times": (_key(1, 2) + b"\x03abc") * 10_000,
    "3 MB of zero bytes": b"\0" * 3_000_000,
    "3 MB of random bytes": random.Random(3).randbytes(3_000_000),
}


@pytest.mark.parametrize("path", METHODS)
@pytest.mark.parametrize("caller_name", CALLERS)
@pytest.mark.behaviour(
    "*",
    "choice",
    "Truncated, bit-flipped or crafted request bytes get a documented code, never INTERNAL or UNKNOWN.",
    "a malformed request is the caller's error, not the server's",
)
def test_truncated_and_bit_flipped_requests_get_documented_codes(callers, caller_name, path):
    """Every prefix of a meaningful request, and the request with one bit flipped at each byte."""
    caller = callers[caller_name]
    payload = valid_request(path, caller.world).SerializeToString()
    flips = random.Random(path)
    for cut in range(len(payload)):  # never the whole: a Delete would delete
        caller.check(path, payload[:cut])
    for position in range(len(payload)):
        flipped = bytearray(payload)
        flipped[position] ^= 1 << flips.randrange(8)
        caller.check(path, bytes(flipped))
    caller.still_serving()


@pytest.mark.parametrize("path", METHODS)
@pytest.mark.parametrize("caller_name", CALLERS)
def test_crafted_bytes_get_documented_codes(callers, caller_name, path):
    caller = callers[caller_name]
    for name, payload in CRAFTED.items():
        code = caller.call(path, payload)
        assert code in caller.allowed(path), f"{path} as {caller_name!r}: {code.name} for {name}"
    caller.still_serving()


@pytest.mark.parametrize("path", METHODS)
@pytest.mark.parametrize("caller_name", CALLERS)
@settings(max_examples=40)
@given(payload=st.binary(max_size=300) | st.binary(min_size=1, max_size=40).map(lambda b: b * 50))
def test_random_bytes_get_documented_codes(callers, caller_name, path, payload):
    callers[caller_name].check(path, payload)


# ---- (b) unbounded strings ------------------------------------------------------------------


@pytest.mark.parametrize("length", [10_000, 100_000])
@pytest.mark.parametrize(("path", "field"), STRING_FIELDS, ids=[f"{p.rsplit('.', 1)[1]}.{f}" for p, f in STRING_FIELDS])
@pytest.mark.parametrize("caller_name", CALLERS)
@pytest.mark.behaviour(
    "*",
    "choice",
    "A value is echoed cut to 64 characters and a status message to 1,000, so an unbounded id gets its NOT_FOUND.",
    "a whole echo could pass grpc's 8 KiB metadata limit and turn the answer into RESOURCE_EXHAUSTED",
)
def test_long_strings_in_every_field_get_short_documented_answers(callers, caller_name, path, field, length):
    """D6: a long id echoed whole made the status exceed the metadata limit (RESOURCE_EXHAUSTED).
    The value goes into an empty request and into a meaningful one (so that the other fields let
    it reach deeper); as lowercase letters (ids and repository names are made of them) and as
    two-byte characters, and as a repository path in a registry that exists."""
    caller = callers[caller_name]
    for value in ("a" * length, "é" * length, f"{caller.world['mine']}/{'a' * length}"[:length]):
        for base in (GetMessageClass(REQUEST_TYPES[path])(), valid_request(path, caller.world)):
            request = type(base)()
            request.CopyFrom(base)
            if request.DESCRIPTOR.fields_by_name[field].containing_oneof is not None:
                request.ClearField(request.DESCRIPTOR.fields_by_name[field].containing_oneof.name)
            if request.DESCRIPTOR.fields_by_name[field].is_repeated:  # a list of strings: one long one
                getattr(request, field)[:] = [value]
            else:
                setattr(request, field, value)
            code = caller.call(path, request.SerializeToString())
            where = f"{path} {field}={value[:10]!r}... ({length}) as {caller_name!r}"
            assert code in caller.allowed(path), f"{where}: {code.name}"
            if code != Code.OK and code != Code.UNIMPLEMENTED:
                error = caller.last_error
                assert len(error.details() or "") <= MAX_MESSAGE, f"{where}: a message of {len(error.details())}"
                for violation in violations(error):
                    assert len(violation.description) <= MAX_MESSAGE, f"{where}: {violation.field} described at length"
    caller.still_serving()


# ---- (c) the page token before existence and access (D10) -----------------------------------


SCOPES = {
    "unknown registry": lambda world: {"registry_id": "crpnope"},
    "repository of an unknown registry": lambda world: {"repository_name": "crpnope/app"},
    "registry of another folder": lambda world: {"registry_id": world["other"]},
    "repository of another folder": lambda world: {"repository_name": f"{world['other']}/app"},
    "another folder": lambda world: {"folder_id": OTHER_FOLDER},
}


@pytest.mark.parametrize("token", ["garbage", "another query's"])
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("caller_name", ["none", "strict, limited token"])
def test_a_bad_page_token_is_invalid_argument_before_existence_and_access(callers, caller_name, scope, token):
    """D10: List(registry_id="crpnope", page_token="garbage") answered NOT_FOUND, and on another
    folder's registry PERMISSION_DENIED; the request's validation (the token's signature and
    binding) comes first."""
    caller = callers[caller_name]
    page_token = "garbage" if token == "garbage" else caller.world["list"]["page_token"]
    request = pb.ListImagesRequest(**SCOPES[scope](caller.world), page_token=page_token)
    with pytest.raises(grpc.RpcError) as caught:
        caller.images.List(request, metadata=caller.metadata, timeout=TIMEOUT)
    error = caught.value
    assert error.code() == Code.INVALID_ARGUMENT, (error.code(), error.details())
    assert "page_token" in error.details()
    assert [violation.field for violation in violations(error)] == ["page_token"]
