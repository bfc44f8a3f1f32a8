"""A read-only client of any Container Registry endpoint, the emulator's or production's,
for the snapshot and diff tools: discovery, TLS, a token, and the List/Get calls.

It speaks the public API's wire format from the emulator's own descriptors, so it needs no
SDK; it reaches an endpoint the way the official SDKs do: ``ApiEndpointService/List`` on the
address given tells where each service is (production's api.cloud.yandex.net:443 names a
host per service; the emulator names itself), an OAuth token is exchanged for an IAM token
through ``IamTokenService/Create``, and every call carries ``authorization: Bearer <IAM token>``.
An endpoint that does not serve discovery (UNIMPLEMENTED), or one reached in plaintext (an
emulator), is used for every service.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
from google.protobuf.message import Message

from emulator.wire import CONTAINER_REGISTRY, OPERATION, POOL, message_class

SERVICES = {
    "ImageService": (f"{CONTAINER_REGISTRY}.ImageService", "container-registry"),
    "RegistryService": (f"{CONTAINER_REGISTRY}.RegistryService", "container-registry"),
    "RepositoryService": (f"{CONTAINER_REGISTRY}.RepositoryService", "container-registry"),
    "OperationService": (f"{OPERATION}.OperationService", "operation"),
    "IamTokenService": ("yandex.cloud.iam.v1.IamTokenService", "iam"),
}
DISCOVERY = "/yandex.cloud.endpoint.ApiEndpointService/List"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a page of 1,000 images with many layers each
# Where the tools look for a token when no flag gives one (e.g. export YCR_IAM_TOKEN=$(yc iam create-token)).
IAM_TOKEN_ENV = "YCR_IAM_TOKEN"
OAUTH_TOKEN_ENV = "YCR_OAUTH_TOKEN"


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


class ClientError(ValueError):
    """A client that cannot be set up (a bad endpoint, an unreadable CA file, a refused token)."""


def read_ca_file(path: str | Path | None) -> bytes | None:
    """The PEM a client trusts instead of the system roots; None keeps the system roots."""
    if path is None:
        return None
    try:
        pem = Path(path).read_bytes()
    except OSError as error:
        raise ClientError(f"--ca-file {path}: cannot read: {error.strerror or error}") from None
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ClientError(f"--ca-file {path}: holds no PEM certificate")
    return pem


def check_endpoint(endpoint: str) -> str:
    host, colon, port = endpoint.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise ClientError(f"{endpoint!r}: an endpoint is HOST:PORT, e.g. api.cloud.yandex.net:443 or localhost:50052")
    return endpoint


class RegistryClient:
    """One endpoint and one identity. ``call("ImageService/List", page_size=10)`` returns the
    response message or raises grpc.RpcError; ``pages(...)`` walks a List to its end."""

    def __init__(
        self,
        endpoint: str,
        *,
        ca_pem: bytes | None = None,
        plaintext: bool = False,
        iam_token: str | None = None,
        oauth_token: str | None = None,
        timeout: float = 30.0,
    ):
        if iam_token and oauth_token:
            raise ClientError("give an IAM token or an OAuth token, not both")
        if plaintext and ca_pem:
            raise ClientError("a CA file is for TLS: it cannot go with plaintext")
        self.endpoint = check_endpoint(endpoint)
        self.timeout = timeout
        self._credentials = None if plaintext else grpc.ssl_channel_credentials(root_certificates=ca_pem)
        self._channels: dict[str, grpc.Channel] = {}
        # Plaintext is for an emulator, which serves everything on each port; its discovery names the
        # TLS port when it has one, which a plaintext channel cannot reach.
        self.addresses = {} if plaintext else self._discover()
        self._metadata: tuple[tuple[str, str], ...] = ()
        if oauth_token:
            iam_token = self.call("IamTokenService/Create", yandex_passport_oauth_token=oauth_token).iam_token
        if iam_token:
            self._metadata = (("authorization", f"Bearer {iam_token}"),)

    def _channel(self, address: str) -> grpc.Channel:
        if address not in self._channels:
            options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]
            if self._credentials is None:
                self._channels[address] = grpc.insecure_channel(address, options=options)
            else:
                self._channels[address] = grpc.secure_channel(address, self._credentials, options=options)
        return self._channels[address]

    def _discover(self) -> dict[str, str]:
        """Service id -> address, from the endpoint's ApiEndpointService; {} when it has none."""
        listed = self._unary(self.endpoint, DISCOVERY, "yandex.cloud.endpoint.ListApiEndpointsResponse")
        try:
            response = listed(message_class("yandex.cloud.endpoint.ListApiEndpointsRequest")(), timeout=self.timeout)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                return {}
            raise ClientError(f"{self.endpoint}: endpoint discovery failed: {error.code().name}: {error.details()}")
        return {endpoint.id: endpoint.address for endpoint in response.endpoints}

    def _unary(self, address: str, path: str, response_type: str) -> Callable:
        return self._channel(address).unary_unary(
            path,
            request_serializer=_serialize,
            response_deserializer=message_class(response_type).FromString,
        )

    def request(self, method: str, **fields) -> Message:
        """The request message of ``Service/Method`` with these fields."""
        return message_class(self._method(method).input_type.full_name)(**fields)

    def _method(self, method: str):
        service, _, name = method.partition("/")
        if service not in SERVICES:
            raise ClientError(f"{method!r}: not one of {', '.join(SERVICES)}")
        return POOL.FindServiceByName(SERVICES[service][0]).FindMethodByName(name)

    def call(self, method: str, request: Message | None = None, **fields) -> Message:
        descriptor = self._method(method)
        service, service_id = SERVICES[method.partition("/")[0]]
        address = self.addresses.get(service_id, self.endpoint)
        stub = self._unary(address, f"/{service}/{descriptor.name}", descriptor.output_type.full_name)
        return stub(
            request if request is not None else self.request(method, **fields),
            timeout=self.timeout,
            metadata=self._metadata,
        )

    def pages(self, method: str, page_size: int = 1000, **fields) -> Iterator[Message]:
        """Every page of a List, in order, each response as it comes."""
        token = ""
        while True:
            response = self.call(method, page_size=page_size, page_token=token, **fields)
            yield response
            token = response.next_page_token
            if not token:
                return

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags every contract tool takes to reach its endpoints: one trust store, one identity."""
    group = parser.add_argument_group("reaching the endpoint")
    group.add_argument(
        "--ca-file", metavar="PEM", help="trust this CA (e.g. the emulator's --ca-file) instead of the system roots"
    )
    group.add_argument(
        "--plaintext", action="store_true", help="no TLS (an emulator started without --tls); never for production"
    )
    group.add_argument("--token", metavar="IAM_TOKEN", help=f"an IAM token (default: ${IAM_TOKEN_ENV})")
    group.add_argument(
        "--oauth-token",
        metavar="TOKEN",
        help=f"an OAuth token, exchanged for an IAM token through IamTokenService (default: ${OAUTH_TOKEN_ENV})",
    )
    group.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per call (default: 30)")


def client_options(args: argparse.Namespace) -> dict:
    """RegistryClient keyword arguments from add_client_arguments' flags and the environment.
    A flag wins over the environment; with neither token the calls go unauthenticated."""
    iam_token = args.token or (None if args.oauth_token else os.environ.get(IAM_TOKEN_ENV))
    oauth_token = args.oauth_token or (None if iam_token else os.environ.get(OAUTH_TOKEN_ENV))
    if args.timeout <= 0:
        raise ClientError(f"--timeout: must be more than 0, got {args.timeout}")
    return {
        "ca_pem": read_ca_file(args.ca_file),
        "plaintext": args.plaintext,
        "iam_token": iam_token,
        "oauth_token": oauth_token,
        "timeout": args.timeout,
    }
