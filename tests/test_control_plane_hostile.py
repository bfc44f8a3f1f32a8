"""Hostile requests to the HTTP control plane, through raw sockets: whatever arrives, the answer is
JSON with the documented status, and nothing changes unless the request was fully understood."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import struct
import threading
import urllib.request
from typing import Any

import pytest

from emulator import Emulator
from emulator.control.http import MAX_BODY
from emulator.state.seed import export_state

SEED = {
    "registries": [
        {
            "id": "crp71hkgiolp6677hg9i",
            "folder_id": "b1gfolder",
            "images": [{"repository": "ubuntu", "id": "crpa2mf008mpjig73rp6", "tags": ["latest"]}],
        }
    ]
}
ROUTES = {
    "/health": "GET",
    "/info": "GET",
    "/state": "GET",
    "/reset": "POST",
    "/seed": "POST",
    "/registries": "POST",
    "/images": "POST",
    "/auth": "POST",
}
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
AUTH_NONE = b'{"mode": "none"}'  # 16 bytes: what a fail-open read would switch strict auth off with
NESTED = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(scope="module")
def admin_emulator():
    with Emulator(admin_port=0, auth="strict", tokens={"ci-token": None}) as emulator:
        yield emulator


@pytest.fixture
def admin(admin_emulator):
    """The strict emulator with SEED loaded."""
    admin_emulator.reset()
    admin_emulator.load_seed(SEED)
    return admin_emulator


def snapshot(emulator: Emulator) -> str:
    return json.dumps([export_state(emulator.store), emulator.auth.mode], sort_keys=True)


def exchange(port: int, data: bytes, method: str = "GET") -> tuple[int, http.client.HTTPMessage, Any]:
    """Send raw bytes and read one answer, which must be JSON: (status, headers, body or None after HEAD)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = response.read()
    assert response.getheader("Content-Type") == "application/json", (response.status, body[:200])
    if method == "HEAD":
        assert body == b""
        return response.status, response.headers, None
    return response.status, response.headers, json.loads(body)


def request(port: int, method: str, path: str, body: bytes | None = None, headers: str = "") -> tuple[int, Any, Any]:
    """A well-formed request (Content-Length given when there is a body); extra ``headers`` as raw lines."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
    if body is not None:
        head += f"Content-Length: {len(body)}\r\n"
    return exchange(port, head.encode() + b"\r\n" + (body or b""), method)


# ---- D1: a body the control plane cannot read is 400 and changes nothing ----------------------


@pytest.mark.parametrize(
    ("framing", "named"),
    [
        (b"Transfer-Encoding: chunked\r\n\r\n10\r\n" + AUTH_NONE + b"\r\n0\r\n\r\n", "Transfer-Encoding"),
        (
            b"Content-Length: 16\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + AUTH_NONE + b"\r\n0\r\n\r\n",
            "Transfer-Encoding",
        ),
        (b"\r\n" + AUTH_NONE, "Content-Length"),
        (b"Content-Length: 0\r\n\r\n" + AUTH_NONE, "body"),
        (b"Content-Length: abc\r\n\r\n" + AUTH_NONE, "Content-Length"),
        (b"Content-Length: -1\r\n\r\n" + AUTH_NONE, "Content-Length"),
        (b"Content-Length: +16\r\n\r\n" + AUTH_NONE, "Content-Length"),
        (b"Content-Length: 1_6\r\n\r\n" + AUTH_NONE, "Content-Length"),
        (b"Content-Length: 16.0\r\n\r\n" + AUTH_NONE, "Content-Length"),
        (b"Content-Length: 16\r\nContent-Length: 16\r\n\r\n" + AUTH_NONE, "Content-Length"),
    ],
    ids=[
        "chunked",
        "chunked-and-length",
        "no-length",
        "zero-length",
        "not-a-number",
        "negative",
        "plus-sign",
        "underscore",
        "decimal",
        "twice",
    ],
)
def test_a_body_that_cannot_be_read_is_400_and_leaves_auth_strict(admin, framing, named):
    before = snapshot(admin)
    status, _, answer = exchange(admin.admin_port, b"POST /auth HTTP/1.1\r\nHost: 127.0.0.1\r\n" + framing, "POST")
    assert status == 400 and named in answer["error"]
    assert admin.auth.mode == "strict"
    assert snapshot(admin) == before


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{}", "mode"),
        (b'{"tokens": {}}', "mode"),
        (b'{"mode": "none", "tokenz": {}}', "tokenz"),
        (b'{"mode": "none", "mode": "strict"}', "mode"),
        (b'{"mode": "none", "tokens": {"t": "b1gfolder"}}', "tokens"),
        (b'{"mode": "none", "tokens": {"t": [1]}}', "tokens"),
        (b'{"mode": "none", "tokens": []}', "tokens"),
        (b'{"mode": ["none"]}', "mode"),
        (b"[]", "body"),
        (b"null", "body"),
        (b'"none"', "body"),
        (b'{"mode": "none"', "body"),
        (b'{"mode": NaN}', "body"),
        (b'{"mode": "n\xffne"}', "body"),
    ],
    ids=[
        "empty",
        "no-mode",
        "unknown-field",
        "mode-twice",
        "folders-string",
        "folder-number",
        "tokens-list",
        "mode-list",
        "list",
        "null",
        "string",
        "truncated",
        "nan",
        "not-utf8",
    ],
)
def test_auth_takes_a_mode_and_nothing_unknown(admin, body, named):
    before = snapshot(admin)
    status, _, answer = request(admin.admin_port, "POST", "/auth", body)
    assert status == 400 and named in answer["error"]
    assert snapshot(admin) == before


@pytest.mark.parametrize("path", ["/seed", "/registries", "/images", "/auth"])
def test_a_post_without_a_body_is_400_where_the_body_is_required(admin, path):
    before = snapshot(admin)
    status, _, answer = request(admin.admin_port, "POST", path)  # neither Content-Length nor Transfer-Encoding
    assert status == 400 and "Content-Length" in answer["error"]
    assert snapshot(admin) == before


def test_reset_needs_no_body(admin):
    assert request(admin.admin_port, "POST", "/reset")[:3:2] == (200, {})
    assert admin.images == {} and admin.registries == {}


def test_a_get_with_a_body_is_400(admin):
    status, _, answer = request(admin.admin_port, "GET", "/state", b"{}")
    assert status == 400 and "body" in answer["error"]


# ---- D9: deep nesting is bad input ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/seed", "/registries", "/images", "/auth", "/reset"])
@pytest.mark.parametrize("body", [NESTED, b'{"registries": ' + NESTED + b"}"], ids=["list", "in-an-object"])
def test_deeply_nested_json_is_400(admin, path, body):
    before = snapshot(admin)
    status, _, answer = request(admin.admin_port, "POST", path, body)
    assert status == 400 and "body" in answer["error"]
    assert snapshot(admin) == before


# ---- POST /reset with a bad body does not reset --------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"not json", "body"),
        (b"[]", "body"),
        (b"null", "body"),
        (b'"x"', "body"),
        (b"1", "body"),
        (b"\xff\xfe{}", "body"),
        (b'{"registries": []}', "registries"),
        (b'{"everything": true}', "everything"),
    ],
    ids=["not-json", "list", "null", "string", "number", "not-utf8", "seed-field", "unknown-field"],
)
def test_reset_with_an_invalid_body_is_400_and_does_not_reset(admin, body, named):
    before = snapshot(admin)
    status, _, answer = request(admin.admin_port, "POST", "/reset", body)
    assert status == 400 and named in answer["error"]
    assert snapshot(admin) == before


def test_reset_with_an_empty_object_resets(admin):
    assert request(admin.admin_port, "POST", "/reset", b"{}")[0] == 200
    assert admin.images == {} and admin.registries == {}


def test_a_seed_must_be_an_object_never_a_path_on_the_server(admin, tmp_path):
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps({"registries": [{"folder_id": "b1gfromdisk"}]}))
    before = snapshot(admin)
    status, _, answer = request(admin.admin_port, "POST", "/seed", json.dumps(str(seed_file)).encode())
    assert status == 400 and "body" in answer["error"]
    assert snapshot(admin) == before


# ---- every answer is JSON with the right status ----------------------------------------------------


@pytest.mark.parametrize("path", list(ROUTES))
def test_a_wrong_method_is_405_with_allow(admin, path):
    before = snapshot(admin)
    for method in METHODS:
        if method == ROUTES[path]:
            continue
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        status, headers, answer = request(admin.admin_port, method, path, body)
        assert (status, headers["Allow"]) == (405, ROUTES[path]), method
        assert answer is None if method == "HEAD" else method in answer["error"]
    assert snapshot(admin) == before


def test_the_root_takes_get_only(admin):
    for method in METHODS:
        if method == "GET":
            continue
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        status, headers, answer = request(admin.admin_port, method, "/", body)
        assert (status, headers["Allow"]) == (405, "GET"), method


@pytest.mark.parametrize("path", ["/nothing", "/state/", "/State", "/health/x", "*"])
def test_an_unknown_path_is_404_for_every_method(admin, path):
    for method in METHODS:
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        status, _, answer = request(admin.admin_port, method, path, body)
        assert status == 404, method
        assert answer is None if method == "HEAD" else "no such endpoint" in answer["error"]


def test_an_unknown_method_is_a_json_405_naming_the_allowed_one(admin):
    before = snapshot(admin)
    status, headers, answer = exchange(admin.admin_port, b"BREW /reset HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert (status, headers["Allow"]) == (405, "POST") and "BREW" in answer["error"]
    assert snapshot(admin) == before


@pytest.mark.parametrize(
    ("method", "target"),
    [("GET", "/state?registry=x"), ("GET", "/health?"), ("GET", "/info?verbose"), ("POST", "/reset?all=1")],
)
def test_a_query_string_is_400_naming_it(admin, method, target):
    before = snapshot(admin)
    status, _, answer = request(admin.admin_port, method, target, b"{}" if method == "POST" else None)
    assert status == 400 and "query string" in answer["error"]
    assert snapshot(admin) == before


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00\x01garbage\r\n\r\n", 400),
        (b"GET /health FTP/1.0\r\n\r\n", 400),
        (b"GET /health HTTP/1.0 extra\r\n\r\n", 400),
        (b"GET /health HTTP/3.0\r\n\r\n", 505),
        (b"GET /health HTTP/1.0\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n", 414),
    ],
    ids=["garbage", "not-http", "four-words", "http-3", "header-too-long", "uri-too-long"],
)
def test_what_http_server_refuses_is_answered_in_json(admin, data, expected):
    status, _, answer = exchange(admin.admin_port, data)
    assert status == expected and answer["error"]


@pytest.mark.parametrize(("method", "path"), [("POST", "/seed"), ("POST", "/reset"), ("GET", "/state")])
def test_a_body_over_the_cap_is_413_without_reading_it(admin, method, path):
    """Nothing of the body is sent: a server that tried to read it would never answer."""
    assert MAX_BODY == 512 * 1024 * 1024
    before = snapshot(admin)
    for length in (MAX_BODY + 1, 10**30):
        status, _, answer = exchange(
            admin.admin_port, f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
        )
        assert status == 413 and "512 MiB" in answer["error"]
    assert snapshot(admin) == before


# ---- clients that go away ----------------------------------------------------------------------------


class _Records(logging.Handler):
    """Collects the control plane's log records; wait_for() blocks until one matches."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self._changed:
            self.records.append(record)
            self._changed.notify_all()

    def wait_for(self, text: str) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: any(text in r.getMessage() for r in self.records), timeout=60)


@pytest.fixture
def admin_log():
    logger = logging.getLogger("emulator.control.http")
    records, level = _Records(), logger.level
    logger.addHandler(records)
    logger.setLevel(logging.DEBUG)
    yield records
    logger.removeHandler(records)
    logger.setLevel(level)


def _reset_connection(sock: socket.socket) -> None:
    """Close with RST, as a crashed or killed client does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _assert_quiet_disconnect(admin_log: _Records, capfd, client: tuple) -> None:
    assert admin_log.wait_for(f"closed the connection from {client[0]}:{client[1]}")
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err, err
    assert not [r for r in admin_log.records if r.levelno >= logging.WARNING]


def test_a_client_that_goes_away_mid_body_is_logged_at_debug(admin, admin_log, capfd):
    before = snapshot(admin)
    sock = socket.create_connection(("127.0.0.1", admin.admin_port), timeout=60)
    client = sock.getsockname()
    sock.sendall(b'POST /seed HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"registries": [')
    _reset_connection(sock)
    _assert_quiet_disconnect(admin_log, capfd, client)
    assert snapshot(admin) == before


def test_a_client_that_goes_away_before_reading_the_answer_is_logged_at_debug(admin, admin_log, capfd):
    # An answer (about 8 MB) well over what the sockets buffer (about 3 MB on loopback): the server
    # is still writing it when the client resets the connection.
    admin.load_seed({"registries": [{"folder_id": "b1gbig", "images": [{"repository": "r"}] * 10_000}]})
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(60)
    sock.connect(("127.0.0.1", admin.admin_port))
    client = sock.getsockname()
    sock.sendall(b"GET /state HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(1)  # the server is writing the answer
    _reset_connection(sock)
    _assert_quiet_disconnect(admin_log, capfd, client)
    assert any("went away" in r.getMessage() and r.levelno == logging.DEBUG for r in admin_log.records)


# ---- slow clients (issue #20, P20) -----------------------------------------------------------------


@pytest.mark.parametrize("how", ["silent", "trickling"])
def test_a_client_that_never_finishes_its_headers_is_let_go(how):
    """P20: with --admin-token, connections that never finished their headers held a server
    thread each, forever (300 connections, 300 threads). Each now has a deadline for its request
    line and headers, and a read timeout for its body."""
    import socket
    import threading
    import time

    from emulator import Emulator
    from emulator.control.http import AdminServer

    with Emulator() as emulator:
        admin = AdminServer(emulator, "127.0.0.1", 0, "secret-admin-token", read_timeout=0.5)
        admin.start()
        try:
            before = threading.active_count()
            clients = [socket.create_connection(("127.0.0.1", admin.port)) for _ in range(20)]
            for client in clients:
                client.sendall(b"GET /info HTTP/1.1\r\nHost: x\r\n")
            if how == "trickling":
                for _ in range(8):  # a byte every 0.2 s: never silent for a whole read timeout
                    time.sleep(0.2)
                    for client in clients:
                        try:
                            client.sendall(b"X")
                        except OSError:
                            pass
            deadline = time.monotonic() + 10
            while threading.active_count() > before and time.monotonic() < deadline:
                time.sleep(0.05)
            assert threading.active_count() <= before, "connections still hold server threads"
            for client in clients:
                client.settimeout(5)
                try:
                    leftover = client.recv(4096)
                except OSError:
                    leftover = b""
                assert leftover == b"" or leftover.startswith(b"HTTP/1."), leftover[:80]
                client.close()
            request = urllib.request.Request(
                f"{admin.url}/info", headers={"Authorization": "Bearer secret-admin-token"}
            )
            with urllib.request.urlopen(request, timeout=5) as answer:  # still serving
                assert answer.status == 200
        finally:
            admin.stop()


def test_a_client_that_trickles_its_body_is_let_go():
    """Found by review: the body had a timeout per read only, so a byte every 0.3 s held a thread
    for ever. The whole body now has its deadline (the read timeout plus a second a MiB)."""
    import time

    from emulator.control.http import AdminServer

    with Emulator() as emulator:
        admin = AdminServer(emulator, "127.0.0.1", 0, read_timeout=0.5)
        admin.start()
        try:
            before = threading.active_count()
            client = socket.create_connection(("127.0.0.1", admin.port))
            client.sendall(b"POST /registries HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
            started, cut_off_after = time.monotonic(), None
            while time.monotonic() - started < 6:  # a byte every 0.2 s: never silent for a read timeout
                try:
                    client.sendall(b" ")
                except OSError:  # disconnected: what should happen
                    cut_off_after = time.monotonic() - started
                    break
                time.sleep(0.2)
            assert cut_off_after is not None and cut_off_after < 3, "the trickling client was never let go"
            deadline = time.monotonic() + 5
            while threading.active_count() > before and time.monotonic() < deadline:
                time.sleep(0.05)
            assert threading.active_count() <= before, "the trickling client still holds a server thread"
            client.close()
        finally:
            admin.stop()
