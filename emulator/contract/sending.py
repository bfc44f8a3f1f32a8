"""How ``ycr-emulator diff`` reaches its targets: the only calls it makes (Lists and Gets, refused
otherwise), each List followed to a bound, a Ctrl-C that stops between requests, and how a request
is written in a line."""

from __future__ import annotations

import json
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
from google.protobuf.message import Message

from emulator.api.wire import message_class
from emulator.contract.client import RegistryClient
from emulator.contract.comparison import (
    LISTED,
    Answer,
)
from emulator.rpc.services import CATALOGUE

# Every method this tool can call, besides what RegistryClient itself sends to reach an endpoint
# (ApiEndpointService/List, and IamTokenService/Create for an OAuth token): the catalogue's Lists and
# Gets, and the reads discovery finds each registry's scan policy by (for its Get's ids), all reads.
# send() refuses anything else, so the tool cannot change either target.
DISCOVERY_READS = ("ScanPolicyService/GetByRegistry", "cloudregistry.ScanPolicyService/GetByRegistry")
READ_METHODS = frozenset(
    [method.short for method in (*CATALOGUE.lists, *CATALOGUE.gets) if method.read]
    + [CATALOGUE.method(name).short for name in DISCOVERY_READS]
)
MAX_PAGES = 50  # pages followed per List and side, with the page size drawn
MAX_RESOURCES = 10_000  # resources read per List and side (a bound on memory with big pages)


class UsageError(ValueError):
    """Bad flags, or a setup that cannot run (a target that cannot be reached or listed)."""


class _TimeUp(Exception):
    """Raised inside the hypothesis run when --max-seconds is spent: ends the run, not a failure."""


class Interrupted(Exception):
    """Ctrl-C was pressed: raised before the next call, so the run stops between requests."""


_INTERRUPTED = threading.Event()


def _on_sigint(signum, frame) -> None:
    """Only set a flag: Python's default handler raises KeyboardInterrupt wherever the main thread
    is, and raised inside a gc callback (Hypothesis has one) it is printed and dropped. A second
    Ctrl-C stops at once."""
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt
    _INTERRUPTED.set()


def _check_interrupted() -> None:
    if _INTERRUPTED.is_set():
        raise Interrupted


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT sets _INTERRUPTED for the duration (main thread only: signals go nowhere else)."""
    _INTERRUPTED.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# Sending ---------------------------------------------------------------------------------


def send(client: RegistryClient, method: str, request: Message) -> Message:
    """The only way this module calls a target: a List or Get, nothing else (and nothing once
    Ctrl-C was pressed)."""
    if method not in READ_METHODS:
        raise ValueError(f"{method}: not a read-only method this tool may call")
    _check_interrupted()
    return client.call(method, request)


def answer(client: RegistryClient, method: str, request: Message) -> Answer:
    request, original = type(request)(), request
    request.CopyFrom(original)  # this side's copy: paging changes its page_token
    listed = LISTED.get(method)
    try:
        response = send(client, method, request)
    except grpc.RpcError as error:
        return Answer(error.code().name, failed_page=1)
    if listed is None:
        return Answer("OK", (response,))
    resources, first_page, page = list(getattr(response, listed)), len(getattr(response, listed)), 1
    while response.next_page_token:
        if page == MAX_PAGES or len(resources) >= MAX_RESOURCES:
            return Answer("OK", tuple(resources), first_page=first_page, truncated=True)
        request.page_token, page = response.next_page_token, page + 1  # this side's own token, to this side
        try:
            response = send(client, method, request)
        except grpc.RpcError as error:
            return Answer(error.code().name, failed_page=page)
        resources += getattr(response, listed)
    return Answer("OK", tuple(resources), first_page=first_page)


_PLAIN = re.compile(r"[A-Za-z0-9_./:@-]+")


def render_request(method: str, fields: dict) -> str:
    """``Service/Method field=value ...``: set fields only, in .proto order, strings quoted unless
    plain (so the text is one line, whole, and two different requests never print alike)."""
    order = [field.name for field in message_class(CATALOGUE.method(method).request_type).DESCRIPTOR.fields]
    parts = [method]
    for field_name in sorted(fields, key=lambda given: order.index(given) if given in order else len(order)):
        value = fields[field_name]
        if value in ("", 0, None):
            continue
        text = value if isinstance(value, str) and _PLAIN.fullmatch(value) else json.dumps(value)
        parts.append(f"{field_name}={text}")
    return " ".join(parts)
