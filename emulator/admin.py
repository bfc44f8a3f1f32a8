"""The control plane: an HTTP JSON endpoint on its own port (``--admin-port``).

Usable from any language and from curl; the pytest plugin's subprocess and
external modes use it through ``emulator.remote.RemoteEmulator``.

    GET  /health       {"status": "SERVING"}
    GET  /info         {"endpoint", "tls_endpoint", "ca_pem", "auth"}: how to reach the gRPC port
    GET  /state        the whole state in the seed format
    POST /reset        empty the state
    POST /seed         load a seed (body: the seed JSON), all or nothing
    POST /registries   add a registry (body: the seed format's registry fields)
    POST /images       add an image (body: "registry_id" plus the seed format's image fields)
    POST /auth         {"mode": "none|any|strict", "tokens": {"TOKEN": ["FOLDER", ...] or null}}

Bad input is HTTP 400 with {"error": "<field>: <rule>"}; nothing changes.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from emulator.seed import export_state, image_json, registry_json

if TYPE_CHECKING:
    from emulator.server import Emulator

log = logging.getLogger("emulator.admin")
MAX_BODY = 512 * 1024 * 1024


def image_record_json(image) -> dict:
    return {"registry_id": image.registry_id, "name": image.name, **image_json(image)}


class AdminServer:
    """Serves the control plane for one Emulator in a background thread."""

    def __init__(self, emulator: Emulator, host: str, port: int):
        handler = type("Handler", (_Handler,), {"emulator": emulator})
        self._http = ThreadingHTTPServer((host, port), handler)
        self._http.daemon_threads = True
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


class _Handler(BaseHTTPRequestHandler):
    emulator: Emulator
    server_version = "ycr-emulator-admin"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("admin %s", format % args)

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            raise ValueError(f"Content-Length: must be 0 to {MAX_BODY}")
        raw = self.rfile.read(length) if length else b"{}"
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"body: not valid JSON: {error}") from None

    def do_GET(self) -> None:
        if self.path == "/health":
            self._reply(HTTPStatus.OK, {"status": "SERVING"})
        elif self.path == "/info":
            emulator = self.emulator
            ca_pem = emulator.ca_pem.decode() if emulator.ca_pem else None
            self._reply(
                HTTPStatus.OK,
                {
                    "endpoint": emulator.endpoint,
                    "tls_endpoint": emulator.tls_endpoint,
                    "ca_pem": ca_pem,
                    "auth": emulator.auth.mode,
                },
            )
        elif self.path == "/state":
            self._reply(HTTPStatus.OK, export_state(self.emulator.store))
        else:
            self._reply(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: GET {self.path}"})

    def do_POST(self) -> None:
        routes = {
            "/reset": self._reset,
            "/seed": self._seed,
            "/registries": self._add_registry,
            "/images": self._add_image,
            "/auth": self._auth,
        }
        route = routes.get(self.path)
        if route is None:
            self._reply(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: POST {self.path}"})
            return
        try:
            self._reply(HTTPStatus.OK, route())
        except (ValueError, TypeError) as error:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": str(error)})
        except Exception as error:  # a bug: say so, and keep serving
            log.exception("admin POST %s failed", self.path)
            self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"emulator bug: {error!r}"})

    def _reset(self) -> dict:
        self.emulator.reset()
        return {}

    def _seed(self) -> dict:
        registries, images = self.emulator.load_seed(self._body())
        return {
            "registries": [registry_json(registry) for registry in registries],
            "images": [image_record_json(image) for image in images],
        }

    def _add_registry(self) -> dict:
        fields = self._body()
        if not isinstance(fields, dict):
            raise ValueError("body: must be a JSON object")
        return registry_json(self.emulator.add_registry(**fields))

    def _auth(self) -> dict:
        body = self._body()
        if not isinstance(body, dict) or set(body) - {"mode", "tokens"}:
            raise ValueError('body: must be {"mode": ..., "tokens": {...}}')
        tokens = body.get("tokens") or {}
        if not isinstance(tokens, dict):
            raise ValueError("tokens: must be an object of token -> list of folders (or null)")
        self.emulator.configure_auth(body.get("mode", "none"), tokens)
        return {}

    def _add_image(self) -> dict:
        fields = self._body()
        if not isinstance(fields, dict) or "registry_id" not in fields or "repository" not in fields:
            raise ValueError("body: must be a JSON object with registry_id and repository")
        return image_record_json(self.emulator.add_image(**fields))
