"""Call recording: what every call the emulator answered carried, so tests can assert what
their code sent.

Each call is kept as it came (the request's bytes, decoded only when read) with its method,
time, status code, caller subject, request id and the fault rule that answered it, if any. The
buffer is bounded: at most ``max_calls`` calls and ``max_bytes`` bytes of requests, the oldest
dropped first. Plain Python; the service layer records, readers get JSON-able dicts.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_CALLS = 1000
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RecordedCall:
    time_ns: int
    method: str  # "<full service name>/<method>"
    request: bytes
    request_type: str
    code: str  # a gRPC status name, "OK" for success
    subject: str
    request_id: str
    fault: str | None  # the id of the fault rule that answered it


class CallRecorder:
    """A bounded, thread-safe buffer of recorded calls."""

    def __init__(
        self,
        decode: Callable[[str, bytes], dict],
        names: Callable[[str], frozenset[str]],
        max_calls: int = DEFAULT_MAX_CALLS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], int] = time.time_ns,
    ):
        self._decode = decode  # (request type, bytes) -> the request's fields
        self.clock = clock  # what stamps each call's time (the emulator's clock)
        self._names = names  # a method's full name -> every name that means it (the catalogue's answers_to)
        self.max_calls, self.max_bytes = max_calls, max_bytes
        self._calls: deque[RecordedCall] = deque()
        self._bytes = 0
        self._lock = threading.Lock()

    def record(self, call: RecordedCall) -> None:
        if len(call.request) > self.max_bytes:  # kept, without a request too big to keep
            call = RecordedCall(**{**_fields(call), "request": b""})
        with self._lock:
            self._calls.append(call)
            self._bytes += len(call.request)
            while len(self._calls) > self.max_calls or self._bytes > self.max_bytes:
                self._bytes -= len(self._calls.popleft().request)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._bytes = 0

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """The recorded calls, oldest first; ``method`` keeps those of one method (``List``,
        ``ImageService/List`` or the full name) or service (``ImageService``)."""
        with self._lock:
            kept = list(self._calls)
        return [self._json(call) for call in kept if method is None or method in self._names(call.method)]

    def _json(self, call: RecordedCall) -> dict[str, Any]:
        seconds, nanos = divmod(call.time_ns, 1_000_000_000)
        moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos // 1000:06d}Z"
        return {
            "time": moment,
            "method": call.method,
            "request": self._decode(call.request_type, call.request),
            "code": call.code,
            "subject": call.subject,
            "request_id": call.request_id,
            "fault": call.fault,
        }


def _fields(call: RecordedCall) -> dict[str, Any]:
    return {name: getattr(call, name) for name in RecordedCall.__slots__}
