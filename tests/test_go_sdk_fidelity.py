"""What the official Go SDK does on the wire that the emulator must take as production does, checked
through a raw socket (no SDK needed).

HTTP/2 keepalive pings without calls in flight. go-sdk v2 dials every connection with keepalive
pings every 30 s, also while no call is in flight (pkg/options: ``keepalive.ClientParameters{Time:
30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}``, "tuned conservatively to
stay well above typical server MinTime policies"), so production takes them. grpc's server defaults
take one ping without calls per two hours and answer the third extra with GOAWAY ENHANCE_YOUR_CALM
"too_many_pings": seen with go-sdk v2.189.0 against the emulator, idle for 90 s between two calls,
as ``ERROR: [transport] Client received GoAway with error code ENHANCE_YOUR_CALM and debug data
equal to ASCII "too_many_pings"`` in the program's output, and a dropped connection. The emulator
takes pings at any rate instead (grpc.http2.max_ping_strikes = 0), so a test can send them quickly.
"""

from __future__ import annotations

import socket
import struct

import pytest

from emulator import Emulator

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS, PING, GOAWAY = 0x4, 0x6, 0x7
ACK = 0x1
ENHANCE_YOUR_CALM = 0xB
PINGS = 10  # grpc's default policy answers the fifth with GOAWAY


def _frame(kind: int, flags: int, payload: bytes = b"", stream: int = 0) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"the server closed the connection after {data!r}")
        data += chunk
    return data


def _read_frame(sock: socket.socket) -> tuple[int, int, bytes]:
    header = _read_exactly(sock, 9)
    length = int.from_bytes(header[:3], "big")
    return header[3], header[4], _read_exactly(sock, length)


def _ping_without_calls(endpoint: str, count: int) -> tuple[int, tuple[int, bytes] | None]:
    """Open an HTTP/2 connection, make no call, send ``count`` pings, each once the one before was
    acknowledged; how many were, and the GOAWAY (error code, debug data) if the server sent one."""
    host, port = endpoint.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(PREFACE + _frame(SETTINGS, 0))
        for n in range(count):
            sock.sendall(_frame(PING, 0, n.to_bytes(8, "big")))
            while True:
                kind, flags, payload = _read_frame(sock)
                if kind == SETTINGS and not flags & ACK:
                    sock.sendall(_frame(SETTINGS, ACK))
                elif kind == PING and flags & ACK:
                    break
                elif kind == GOAWAY:
                    return n, (int.from_bytes(payload[4:8], "big"), payload[8:])
        return count, None


@pytest.mark.behaviour(
    "*",
    "choice",
    "HTTP/2 keepalive pings are taken at any rate, idle connections too.",
    "go-sdk v2 pings every connection every 30 s, so production takes that; grpc's defaults dropped it after 90 s",
)
def test_keepalive_pings_without_calls_are_taken_at_any_rate():
    with Emulator() as emulator:
        acknowledged, goaway = _ping_without_calls(emulator.endpoint, PINGS)
        assert (acknowledged, goaway) == (PINGS, None)  # grpc's defaults: (4, (ENHANCE_YOUR_CALM, b"too_many_pings"))
        with emulator.channel():  # and it still serves
            pass
