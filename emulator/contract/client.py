"""A read-only client of any Container Registry endpoint, the emulator's or production's,
for the snapshot and diff tools: discovery, TLS, a token, retries, and the List/Get calls.

It speaks the public API's wire format from the emulator's own descriptors, so it needs no
SDK; it reaches an endpoint the way the official SDKs do: ``ApiEndpointService/List`` on the
address given tells where each service is (production's api.cloud.yandex.net:443 names a
host per service; the emulator names itself), an OAuth token is exchanged for an IAM token
through ``IamTokenService/Create``, and every call carries ``authorization: Bearer <IAM token>``.
An endpoint that does not serve discovery (UNIMPLEMENTED), or one reached in plaintext (an
emulator), is used for every service.

It sends only reads (READ_METHODS; ``call`` refuses anything else), so retrying is always safe:
UNAVAILABLE and RESOURCE_EXHAUSTED, the codes the official Python SDK retries
(yandexcloud 0.413's ``RetryInterceptor._DEFAULT_RETRIABLE_CODES``; its ``RetryPolicy`` makes 4
attempts, backing off from 0.1 s, doubling), are retried ``retries`` times with exponential
backoff and full jitter, all within the call's ``timeout``.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
from google.protobuf.message import Message

from emulator.api.values import lone_surrogate
from emulator.api.wire import POOL, message_class
from emulator.rpc.services import CATALOGUE

# Every method call() sends: the catalogue's reads (IamTokenService/Create among them: trading an OAuth
# token changes no resource); discovery itself is sent by _discover.
READ_METHODS = frozenset(
    method.short for method in CATALOGUE.methods(read=True) if method.service.short != "ApiEndpointService"
)
DISCOVERY = "/yandex.cloud.endpoint.ApiEndpointService/List"
SYSTEM_ROOTS = "the system roots"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a page of 1,000 images with many layers each
# Where the tools look for a token when no flag gives one (e.g. export YCR_IAM_TOKEN=$(yc iam create-token)).
IAM_TOKEN_ENV = "YCR_IAM_TOKEN"
OAUTH_TOKEN_ENV = "YCR_OAUTH_TOKEN"
DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 3600.0  # an hour per call: beyond it, a number is a typo (and inf or nan is no deadline)
RETRIED_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})
DEFAULT_RETRIES = 3  # the SDK's RetryPolicy: 4 attempts
MAX_RETRIES = 10
MAX_PAGES = 10_000  # pages followed per List, each of at most page_size: 10,000,000 resources at 1,000
FIRST_BACKOFF = 0.1  # seconds before the first retry at most; doubled for each next one
MAX_BACKOFF = 5.0
_jitter = random.Random()  # its own: a user's random.seed() stays theirs


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


class ClientError(ValueError):
    """A client that cannot be set up (a bad endpoint, an unreadable CA file, a refused token),
    or a call it will not send (not a read, a value that is not UTF-8)."""


def check_text(name: str, value: str) -> str:
    """``value`` if it can go on the wire, else ClientError naming ``name`` (a flag, for the tools):
    a command-line argument that is not UTF-8 reaches Python as lone surrogates (PEP 383), which
    gRPC and protobuf cannot encode."""
    if lone_surrogate(value) is not None:
        raise ClientError(f"{name}: not valid UTF-8 text")
    return value


def check_token(name: str, token: str) -> str:
    """A token as it can be sent in ``authorization: Bearer``: printable ASCII, no spaces (IAM and
    OAuth tokens are); otherwise ClientError naming ``name``, never the token."""
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ClientError(f"{name}: holds a character no token has (only printable ASCII, no spaces)")
    return token


def check_timeout(name: str, timeout: float) -> float:
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise ClientError(f"{name}: must be more than 0 and at most {MAX_TIMEOUT:g} seconds, got {timeout}")
    return float(timeout)


def check_retries(name: str, retries: int) -> int:
    if not (isinstance(retries, int) and 0 <= retries <= MAX_RETRIES):
        raise ClientError(f"{name}: must be 0 to {MAX_RETRIES}, got {retries}")
    return retries


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
    check_text("endpoint", endpoint)
    host, colon, port = endpoint.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise ClientError(f"{endpoint!r}: an endpoint is HOST:PORT, e.g. api.cloud.yandex.net:443 or localhost:50052")
    return endpoint


def error_text(error: grpc.RpcError) -> str:
    """``CODE: details``, as one line, without the ``: OK`` gRPC leaves at the end of a failed connection's details."""
    details = " ".join((error.details() or "").split()).removesuffix(": OK")
    return f"{error.code().name}: {details}" if details else error.code().name


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
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        ca_source: str | None = None,
    ):
        """``timeout`` bounds each call, its retries and their waits included; ``ca_source`` names
        where ``ca_pem`` came from (e.g. ``--ca-file ca.pem``) in the error an untrusted certificate gives."""
        if iam_token and oauth_token:
            raise ClientError("give an IAM token or an OAuth token, not both")
        if plaintext and ca_pem:
            raise ClientError("a CA file is for TLS: it cannot go with plaintext")
        self.endpoint = check_endpoint(endpoint)
        self.timeout = check_timeout("timeout", timeout)
        self.retries = check_retries("retries", retries)
        for name, token in (("iam_token", iam_token), ("oauth_token", oauth_token)):
            if token:
                check_token(name, token)
        self._trust = ca_source or ("the CA given" if ca_pem else SYSTEM_ROOTS)
        self._credentials = None if plaintext else grpc.ssl_channel_credentials(root_certificates=ca_pem)
        self._channels: dict[str, grpc.Channel] = {}
        self._metadata: tuple[tuple[str, str], ...] = ()
        # Plaintext is for an emulator, which serves everything on each port; its discovery names the
        # TLS port when it has one, which a plaintext channel cannot reach.
        self.addresses = {} if plaintext else self._discover()
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
            response = self._send(listed, message_class("yandex.cloud.endpoint.ListApiEndpointsRequest")())
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                return {}
            raise ClientError(self._unreachable(error)) from None
        return {endpoint.id: endpoint.address for endpoint in response.endpoints}

    def _unreachable(self, error: grpc.RpcError) -> str:
        """Why discovery failed, in words when the TLS handshake did (gRPC's details are OpenSSL's)."""
        details = error.details() or ""
        if "CERTIFICATE_VERIFY_FAILED" in details:
            reason = f"the certificate is not trusted by {self._trust}"
            if self._trust == SYSTEM_ROOTS:
                reason += " (a private CA, such as an emulator's, needs --ca-file)"
        elif "Hostname Verification" in details or "Peer name" in details:
            reason = f"the certificate is not for {self.endpoint.rpartition(':')[0]}"
        elif "WRONG_VERSION_NUMBER" in details:
            reason = "it does not answer TLS (an emulator started without --tls takes --plaintext)"
        elif "handshake" in details.lower():
            reason = f"the TLS handshake failed: {error_text(error)}"
        else:
            return f"{self.endpoint}: endpoint discovery failed: {error_text(error)}"
        return f"cannot reach {self.endpoint} over TLS: {reason}"

    def _unary(self, address: str, path: str, response_type: str) -> Callable:
        return self._channel(address).unary_unary(
            path,
            request_serializer=_serialize,
            response_deserializer=message_class(response_type).FromString,
        )

    def _send(self, stub: Callable, request: Message) -> Message:
        """One call: UNAVAILABLE and RESOURCE_EXHAUSTED retried up to ``retries`` times after a
        random wait of up to 0.1 s, 0.2 s, 0.4 s... (5 s at most), never past ``timeout`` in all."""
        deadline = time.monotonic() + self.timeout
        for retry in range(self.retries + 1):
            try:
                return stub(request, timeout=max(deadline - time.monotonic(), 0.001), metadata=self._metadata)
            except grpc.RpcError as error:
                if error.code() not in RETRIED_CODES or retry == self.retries:
                    raise
                wait = _jitter.uniform(0, min(FIRST_BACKOFF * 2**retry, MAX_BACKOFF))
                if time.monotonic() + wait >= deadline:
                    raise
                time.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def request(self, method: str, **fields) -> Message:
        """The request message of ``Service/Method`` with these fields (any method: building one sends nothing)."""
        for name, value in fields.items():
            if isinstance(value, str):
                check_text(name, value)
        return message_class(self._method(method).input_type.full_name)(**fields)

    def _method(self, method: str):
        """The descriptor of any method of a served service (unserved ones too: requests can be built)."""
        service_name, _, name = method.lstrip("/").partition("/")
        service = CATALOGUE.service(service_name)
        if service is None:
            services = ", ".join(known.short for known in CATALOGUE.services.values())
            raise ClientError(f"{method!r}: not one of {services}")
        found = POOL.FindServiceByName(service.name).methods_by_name.get(name)
        if found is None:
            raise ClientError(f"{method!r}: {service_name} has no method {name!r}")
        return found

    def call(self, method: str, request: Message | None = None, **fields) -> Message:
        """Send a read (one of READ_METHODS; anything else is a ClientError, sent nowhere)."""
        self._method(method)
        found = CATALOGUE.method(method)
        if found is None or found.short not in READ_METHODS:
            raise ClientError(f"{method}: not a read; this client sends only {', '.join(sorted(READ_METHODS))}")
        address = self.addresses.get(found.service.endpoint, self.endpoint)
        stub = self._unary(address, f"/{found.full}", found.response_type)
        return self._send(stub, request if request is not None else self.request(method, **fields))

    def pages(self, method: str, page_size: int = 1000, **fields) -> Iterator[Message]:
        """Every page of a List, in order, each response as it comes. An endpoint that answers a
        page token it was sent before, or more than MAX_PAGES pages, is a ClientError: a walk never
        runs forever nor holds what it read without bound."""
        token, seen = "", set()
        for _ in range(MAX_PAGES):
            response = self.call(method, page_size=page_size, page_token=token, **fields)
            items = _listed(response)
            if items > page_size:  # what it read is bounded: MAX_PAGES pages of at most page_size
                raise ClientError(
                    f"{method}: the endpoint answered {items:,} items for page_size {page_size:,}: stopping"
                )
            yield response
            token = response.next_page_token
            if not token:
                return
            if token in seen:
                raise ClientError(f"{method}: the endpoint answered a page token it had answered before: stopping")
            seen.add(token)
        raise ClientError(f"{method}: more than {MAX_PAGES:,} pages (of up to {page_size:,}): stopping")

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _listed(response: Message) -> int:
    """How many resources a List page holds (its one repeated message field)."""
    return sum(
        len(getattr(response, field.name))
        for field in response.DESCRIPTOR.fields
        if field.is_repeated and field.type == field.TYPE_MESSAGE
    )


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
    group.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"per call, its retries included (default: {DEFAULT_TIMEOUT:g}; at most {MAX_TIMEOUT:g})",
    )
    group.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        metavar="N",
        help=f"retry a call answered UNAVAILABLE or RESOURCE_EXHAUSTED up to N times, backing off "
        f"(default: {DEFAULT_RETRIES}; 0 never; at most {MAX_RETRIES})",
    )


def client_options(args: argparse.Namespace) -> dict:
    """RegistryClient keyword arguments from add_client_arguments' flags and the environment.
    A flag wins over the environment; with neither token the calls go unauthenticated.
    ClientError names the flag (or variable) that is wrong."""
    iam_token = args.token or (None if args.oauth_token else os.environ.get(IAM_TOKEN_ENV))
    oauth_token = args.oauth_token or (None if iam_token else os.environ.get(OAUTH_TOKEN_ENV))
    if iam_token:
        check_token("--token" if args.token else f"${IAM_TOKEN_ENV}", iam_token)
    if oauth_token:
        check_token("--oauth-token" if args.oauth_token else f"${OAUTH_TOKEN_ENV}", oauth_token)
    return {
        "ca_pem": read_ca_file(args.ca_file),
        "plaintext": args.plaintext,
        "iam_token": iam_token,
        "oauth_token": oauth_token,
        "timeout": check_timeout("--timeout", args.timeout),
        "retries": check_retries("--retries", args.retries),
        "ca_source": None if args.ca_file is None else f"--ca-file {args.ca_file}",
    }
