"""The control plane: an HTTP JSON endpoint on its own port (``--admin-port``).

Usable from any language and from curl; the pytest plugin's subprocess and
external modes use it through ``emulator.control.remote.RemoteEmulator``.

Its routes are the control operations' (emulator.control.table.OPERATIONS: each one's HTTP method,
path and body), listed in docs/standalone.md's control-plane reference; ``GET /health`` is the one request
that never needs the admin token.

Every answer is JSON with one of these statuses; an error is {"error": "<field>: <rule>"} and
changes nothing:

    200  done
    400  bad input: a body that is not one UTF-8 JSON value framed by a Content-Length (chunked
         bodies are not read), too deeply nested, not an object, or with a field missing, unknown
         or wrong; a body on a GET; a POST without a body (except /reset); a query string (no
         route takes parameters); a request http.server cannot parse
    401  an admin token is set and the request lacks ``Authorization: Bearer <token>``
         (header ``WWW-Authenticate: Bearer``); nothing is read or changed
    404  no such path
    405  the path is served with another method, named by the ``Allow`` header
    413  a Content-Length over MAX_BODY (512 MiB); the body is not read
    414, 431, 505  http.server's own refusals (request line or headers too long, HTTP version)
    500  an emulator bug (logged)

The checks run in that order: admin token, query string, path, method, body framing and size,
body content. Each path takes one method: any other (HEAD, OPTIONS, DELETE, or one HTTP does not
define) is 405. A client that goes
away mid-request is logged at debug level, not as a traceback. A client gets READ_TIMEOUT for its
request line and headers in all, and READ_TIMEOUT plus a second a MiB for its body in all; then its
connection is closed.

Auth: with ``admin_token`` (``--admin-token``) every request but ``GET /health`` must carry it;
it is compared in constant time. Without one the control plane is open: anyone who reaches the
port can read every folder's state and switch gRPC auth off, so serve it only on trusted hosts.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import socket
import sys
import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from emulator.api.errors import shown
from emulator.control.facade import Controlled
from emulator.control.table import BY_PATH, NO_BODY, ControlOperation

log = logging.getLogger("emulator.control.http")
MAX_BODY = 512 * 1024 * 1024
_ADMIN_TOKEN = re.compile(r"[\x21-\x7e]+")  # visible ASCII: sendable as "Authorization: Bearer <token>"
_DIGITS = re.compile(r"[0-9]+")
_ECHO = 200  # at most this much of one piece of a client's input is echoed in an error
_MESSAGE = 1_000  # and at most this much of any error message
READ_TIMEOUT = 10.0  # seconds: for a request line and headers in all, and for each read of a body
MIN_BODY_RATE = 1024 * 1024  # bytes a second: a body gets READ_TIMEOUT plus a second a MiB in all


def check_admin_token(token: str | None) -> str | None:
    """``token`` if it can be sent as ``Authorization: Bearer <token>``; ValueError if not."""
    if token is not None and not (isinstance(token, str) and _ADMIN_TOKEN.fullmatch(token)):
        raise ValueError("admin token: must be non-empty, visible ASCII characters without spaces")
    return token


class _Refusal(Exception):
    """An answer other than 200: the status, the error message, extra headers."""

    def __init__(self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.headers = status, headers or {}


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {shown(key, _ECHO)!r} appears twice")
        result[key] = value
    return result


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN or Infinity, no key given twice; bad input is a 400 naming the body."""
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_not_json)
    except UnicodeDecodeError:
        raise _Refusal(HTTPStatus.BAD_REQUEST, "body: not UTF-8") from None
    except RecursionError:
        raise _Refusal(HTTPStatus.BAD_REQUEST, "body: nested too deeply") from None
    except ValueError as error:
        raise _Refusal(HTTPStatus.BAD_REQUEST, f"body: not valid JSON: {error}") from None


def _content_length(value: str) -> int:
    value = value.strip()
    if not _DIGITS.fullmatch(value):
        raise _Refusal(
            HTTPStatus.BAD_REQUEST, f"Content-Length: must be a non-negative integer, got {shown(value, _ECHO)!r}"
        )
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(MAX_BODY)) or int(digits) > MAX_BODY:
        raise _Refusal(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"Content-Length: {shown(value, _ECHO)} is over the control plane's limit of 512 MiB ({MAX_BODY} bytes)",
        )
    return int(digits)


class AdminServer:
    """Serves the control plane for one emulator (anything Controlled) in a background thread."""

    def __init__(
        self, emulator: Controlled, host: str, port: int, token: str | None = None, read_timeout: float = READ_TIMEOUT
    ):
        """``read_timeout``: how long a client may take over its request line and headers, and
        over each read of its body, before the connection is closed (a slow client holds a thread)."""
        check_admin_token(token)
        secret = token.encode() if token is not None else None
        attributes = {"emulator": emulator, "admin_token": secret, "timeout": read_timeout}
        handler = type("Handler", (_Handler,), attributes)
        self._http = (_Server6 if ":" in host else _Server)((host, port), handler)
        self.host, self.port = host, self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, name="ycr-admin", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections from a few parallel clients
    # (each urllib request is a connection): the kernel then retries after a whole second.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is routine (debug); anything else is a bug, logged (not printed)."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            log.debug("admin: the client %s went away: %r", _peer(client_address), error)
        else:
            log.exception("admin: serving %s failed", _peer(client_address))

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        super().process_request_thread(request, client_address)
        log.debug("admin: closed the connection from %s", _peer(client_address))


class _Server6(_Server):
    address_family = socket.AF_INET6


def _peer(client_address: Any) -> str:
    host, port = client_address[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    emulator: Controlled
    admin_token: bytes | None
    server_version = "ycr-emulator-admin"
    # An unparsable request line is answered as HTTP/1.0 (status line and headers), not HTTP/0.9 (bare body).
    default_request_version = "HTTP/1.0"

    timeout = READ_TIMEOUT  # each read (StreamRequestHandler sets it on the socket)

    def handle_one_request(self) -> None:
        """One request, its request line and headers within ``timeout`` in all: a client that
        trickles them byte by byte is cut off too, not only one that falls silent."""
        self._headers_timer = threading.Timer(self.timeout, self._cut_off)
        self._headers_timer.daemon = True
        self._headers_timer.start()
        try:
            super().handle_one_request()
        finally:
            self._headers_timer.cancel()

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        self._headers_timer.cancel()  # the headers are in; the body has its per-read timeout
        return parsed

    def _cut_off(self) -> None:
        log.debug("admin: %s was too slow with its request: closed", _peer(self.client_address))
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # gone already

    def log_message(self, format: str, *args: Any) -> None:
        log.info("admin %s", (format % args).translate(self._control_char_table))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, headers too long, unknown method) in JSON too."""
        self.close_connection = True
        self._reply(code, {"error": shown(message or HTTPStatus(code).phrase, _MESSAGE)})

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _serve(self) -> None:
        try:
            answer = self._answer()
        except _Refusal as refusal:
            self.close_connection = True
            self._reply(refusal.status, {"error": shown(str(refusal), _MESSAGE)}, refusal.headers)
        else:
            self._reply(HTTPStatus.OK, answer)

    def __getattr__(self, name: str) -> Any:
        """``do_<METHOD>`` for every method, known or not: the route decides (404, or 405 with
        ``Allow``), so no method gets http.server's 501."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _answer(self) -> Any:
        """Check the request in this order: admin token, query, path, method, body; then run the route."""
        path, question_mark, query = self.path.partition("?")
        if (self.command, path) != ("GET", "/health"):
            self._authorize()
        if path == "/":  # what is served here, for a reader trying the root
            if self.command != "GET":
                raise _Refusal(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    f"method: / takes GET, not {shown(self.command, _ECHO)}",
                    {"Allow": "GET"},
                )
            return {"routes": ROUTES}
        routes, params = _routes(path)
        if routes is None:
            raise _Refusal(HTTPStatus.NOT_FOUND, f"no such endpoint: {shown(path, _ECHO)} (GET / lists the routes)")
        route = routes.get(self.command)
        if route is None:
            allowed = ", ".join(sorted(routes))
            raise _Refusal(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"method: {path} takes {allowed}, not {shown(self.command, _ECHO)}",
                {"Allow": allowed},
            )
        if question_mark:
            params.update(_query(query, route))
        body = self._body(route)
        if route.body == "params":
            body = params
        try:
            return route.serve(self.emulator, body)
        except RecursionError:
            raise _Refusal(HTTPStatus.BAD_REQUEST, "body: nested too deeply") from None
        except (ValueError, TypeError) as error:
            raise _Refusal(HTTPStatus.BAD_REQUEST, str(error)) from None
        except LookupError as error:
            raise _Refusal(HTTPStatus.NOT_FOUND, str(error.args[0] if error.args else error)) from None
        except Exception as error:  # a bug: say so, and keep serving
            log.exception("admin %s %s failed", self.command, path)
            raise _Refusal(HTTPStatus.INTERNAL_SERVER_ERROR, f"emulator bug: {error!r}") from None

    def _authorize(self) -> None:
        if self.admin_token is None:
            return
        given = self.headers.get_all("Authorization") or []
        if not given:
            message = "authorization: missing; this control plane needs 'Authorization: Bearer <admin token>'"
        else:
            scheme, _, token = given[0].partition(" ")
            # Header values arrive decoded as latin-1: encoding them back gives the bytes sent.
            if (
                len(given) == 1
                and scheme.lower() == "bearer"
                and hmac.compare_digest(token.strip().encode("latin-1", "replace"), self.admin_token)
            ):
                return
            message = "authorization: not the admin token; expected 'Authorization: Bearer <admin token>'"
        raise _Refusal(HTTPStatus.UNAUTHORIZED, message, {"WWW-Authenticate": "Bearer"})

    def _body(self, route: ControlOperation) -> Any:
        """The parsed body, or NO_BODY. Only a body framed by one Content-Length is read."""
        if "Transfer-Encoding" in self.headers:
            raise _Refusal(HTTPStatus.BAD_REQUEST, "Transfer-Encoding: not supported; send a Content-Length")
        lengths = self.headers.get_all("Content-Length") or []
        if len(lengths) > 1:
            raise _Refusal(HTTPStatus.BAD_REQUEST, "Content-Length: given more than once")
        length = _content_length(lengths[0]) if lengths else None
        if route.body in ("none", "params"):
            if length:
                raise _Refusal(HTTPStatus.BAD_REQUEST, f"body: {route.method} {self.path} takes none")
            return NO_BODY
        if not length:
            if route.body == "optional":
                return NO_BODY
            if length is None:
                raise _Refusal(HTTPStatus.BAD_REQUEST, "Content-Length: missing; this endpoint needs a JSON body")
            raise _Refusal(HTTPStatus.BAD_REQUEST, "body: empty; this endpoint needs a JSON body")
        # The whole body within its deadline (the read timeout, plus a second a MiB): a client that
        # trickles it byte by byte is cut off too.
        deadline = threading.Timer(self.timeout + length / MIN_BODY_RATE, self._cut_off)
        deadline.daemon = True
        deadline.start()
        try:
            raw = self.rfile.read(length)
        finally:
            deadline.cancel()
        if len(raw) < length:
            raise ConnectionAbortedError(f"the client sent {len(raw)} of {length} bytes and closed")
        return parse_json(raw)


# Every route, "METHOD /path" (GET / answers them).
ROUTES = sorted(f"{operation.method} {operation.path}" for routes in BY_PATH.values() for operation in routes.values())


def _routes(path: str) -> tuple[dict[str, ControlOperation] | None, dict[str, str]]:
    """The operations served at ``path`` by HTTP method, and its path parameter, if any."""
    routes = BY_PATH.get(path)
    if routes is not None:
        return routes, {}
    prefix, _, last = path.rpartition("/")
    templated = BY_PATH.get(prefix + "/")
    if templated is not None and last:
        return templated, {"id": urllib.parse.unquote(last)}
    return None, {}


def _query(query: str, route: ControlOperation) -> dict[str, str]:
    """A request's query parameters: only those ``route`` takes, each once."""
    if not route.query:
        raise _Refusal(HTTPStatus.BAD_REQUEST, "query string: this endpoint takes no parameters; send a JSON body")
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=True, max_num_fields=10)
    except ValueError:
        raise _Refusal(HTTPStatus.BAD_REQUEST, "query string: not name=value pairs joined by &") from None
    names = [name for name, _ in pairs]
    for name in names:
        if name not in route.query:
            raise _Refusal(
                HTTPStatus.BAD_REQUEST, f"{shown(name, _ECHO)}: unknown parameter (allowed: {', '.join(route.query)})"
            )
        if names.count(name) > 1:
            raise _Refusal(HTTPStatus.BAD_REQUEST, f"{name}: given more than once")
    return dict(pairs)
