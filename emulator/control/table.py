"""The control operations, defined once: each one's HTTP method, path, body and JSON answer.

``Emulator`` implements them in Python; the HTTP control plane (emulator.control.http) serves this
table; ``RemoteEmulator`` (emulator.control.remote) is generated from it: each operation says how
its Python method's arguments become the request (``arguments``, ``extra_fields``) and how the JSON
answer becomes what the method returns (``answer``). So the plugin's modes share one API by
construction. A new control operation is an ``Emulator`` method (and one of ``Controlled``) and one
entry here.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.control.facade import Controlled
from emulator.state.codecs import (
    datetime_from_json,
    format_timestamp,
    image_record_from_json,
    image_record_json,
    lifecycle_policy_from_json,
    lifecycle_policy_record_json,
    lifecycle_run_json,
    registry_from_json,
    registry_json,
    repository_record_from_json,
    repository_record_json,
)

NO_BODY = object()  # what an operation gets when the request has no body (JSON null is a body)


@dataclass(frozen=True)
class ControlOperation:
    name: str  # the Emulator (and RemoteEmulator) method it stands for
    method: str  # HTTP
    path: str  # may end in "/{id}": a path parameter
    body: str  # "none", "optional", "required", or "params": no body, the path and query parameters
    serve: Callable[[Controlled, Any], Any]  # (emulator, parsed body, params dict or NO_BODY) -> the JSON answer
    query: tuple[str, ...] = ()  # the query parameters it takes (body "params")
    # The client side (RemoteEmulator): the Python method's positional parameters, each sent as the
    # request field of the same name (or "name:field"); whether other keyword arguments are sent as
    # fields too; what the JSON answer becomes (None: the answer as is); whether it is a property.
    arguments: tuple[str, ...] = ()
    extra_fields: bool = False
    answer: Callable[[Any], Any] | None = None
    attribute: bool = False

    @property
    def prefix(self) -> str:
        """The path without its parameter: what a request's path is matched against."""
        return self.path.removesuffix("{id}")

    def target(self, params: dict[str, Any]) -> str:
        """The request path for these parameters: the path parameter and the query (the HTTP server reads them back)."""
        path = self.prefix + urllib.parse.quote(str(params["id"]), safe="") if self.path.endswith("{id}") else self.path
        query = {key: params[key] for key in self.query if params.get(key) is not None}
        return path + ("?" + urllib.parse.urlencode(query) if query else "")


def fields(body: Any, required: tuple[str, ...] = (), allowed: tuple[str, ...] | None = None) -> dict:
    """``body`` as a JSON object with the ``required`` fields and (if ``allowed`` is given) no others."""
    if not isinstance(body, dict):
        raise ValueError("body: must be a JSON object")
    if allowed is not None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown field (allowed: {', '.join(allowed) or 'none'})")
    for key in required:
        if key not in body:
            raise ValueError(f"{key}: is required")
    return body


def _reset(emulator: Controlled, body: Any) -> dict:
    if body is not NO_BODY:
        fields(body, allowed=())
    emulator.reset()
    return {}


def _load_seed(emulator: Controlled, body: Any) -> dict:
    # An object, never a string: Emulator.load_seed would read a string as a path on this host.
    registries, images = emulator.load_seed(fields(body))
    return {
        "registries": [registry_json(registry) for registry in registries],
        "images": [image_record_json(image) for image in images],
    }


def _configure_auth(emulator: Controlled, body: Any) -> dict:
    given = fields(body, required=("mode",), allowed=("mode", "tokens"))
    tokens = given.get("tokens", {})
    if not isinstance(tokens, dict):
        raise ValueError("tokens: must be an object of token -> list of folders (or null)")
    for folders in tokens.values():
        if folders is not None and not (isinstance(folders, list) and all(isinstance(f, str) for f in folders)):
            raise ValueError("tokens: a token's folders must be a list of folder ids, or null for every folder")
    emulator.configure_auth(given["mode"], tokens)  # the mode is required: none is ever assumed
    return {}


def _configure_operations(emulator: Controlled, body: dict) -> dict:
    if not isinstance(body["modes"], (dict, list)):
        raise ValueError("modes: must be an object of method -> mode, or a list of MODE / METHOD=MODE specs")
    emulator.configure_operations(body["modes"])
    return {"modes": emulator.operation_modes}


def _time(emulator: Controlled) -> dict:
    return {"now": format_timestamp(emulator.clock.now_ns())}


def _advance_time(emulator: Controlled, body: Any) -> dict:
    seconds = fields(body, required=("seconds",), allowed=("seconds",))["seconds"]
    emulator.advance_time(seconds)
    return _time(emulator)


def _add_fault(emulator: Controlled, body: Any) -> dict:
    return emulator.add_fault(**fields(body)).rule


def _remove_fault(emulator: Controlled, params: dict) -> dict:
    if not emulator.remove_fault(params["id"]):
        raise LookupError(f"no fault rule {params['id']!r} (it may have expired)")
    return {}


def _clear_faults(emulator: Controlled, params: dict) -> dict:
    emulator.clear_faults()
    return {}


def _run_lifecycle_policies(emulator: Controlled, body: Any) -> dict:
    given = {} if body is NO_BODY else fields(body, allowed=("lifecycle_policy_id",))
    runs = emulator.run_lifecycle_policies(given.get("lifecycle_policy_id"))
    return {"runs": [lifecycle_run_json(run) for run in runs]}


def _schedule_lifecycle_policies(emulator: Controlled, body: Any) -> dict:
    every = fields(body, required=("every",), allowed=("every",))["every"]
    emulator.schedule_lifecycle_policies(every)
    return {"every": every}


OPERATIONS = (
    ControlOperation(
        "health", "GET", "/health", "none", lambda emulator, body: {"status": "SERVING"},
        answer=lambda answer: answer["status"],
    ),
    ControlOperation("info", "GET", "/info", "none", lambda emulator, body: emulator.info()),
    ControlOperation("state", "GET", "/state", "none", lambda emulator, body: emulator.state()),
    ControlOperation("reset", "POST", "/reset", "optional", _reset, answer=lambda answer: None),
    ControlOperation("load_seed", "POST", "/seed", "required", _load_seed),
    ControlOperation(
        "add_registry", "POST", "/registries", "required",
        lambda emulator, body: registry_json(emulator.add_registry(**fields(body, required=("folder_id",)))),
        arguments=("folder_id",), extra_fields=True, answer=registry_from_json,
    ),
    ControlOperation(
        "add_repository", "POST", "/repositories", "required",
        lambda emulator, body: repository_record_json(
            emulator.add_repository(**fields(body, required=("registry_id", "path")))
        ),
        arguments=("registry_id", "path"), extra_fields=True, answer=repository_record_from_json,
    ),
    ControlOperation(
        "add_image", "POST", "/images", "required",
        lambda emulator, body: image_record_json(
            emulator.add_image(**fields(body, required=("registry_id", "repository")))
        ),
        arguments=("registry_id", "repository"), extra_fields=True, answer=image_record_from_json,
    ),
    ControlOperation("configure_auth", "POST", "/auth", "required", _configure_auth),
    ControlOperation(
        "delete_image", "DELETE", "/images/{id}", "params",
        lambda emulator, params: image_record_json(emulator.delete_image(params["id"])),
        arguments=("image_id:id",), answer=image_record_from_json,
    ),
    ControlOperation(
        "tag_image", "POST", "/tag", "required",
        lambda emulator, body: image_record_json(
            emulator.tag_image(**fields(body, required=("image_id", "tag"), allowed=("image_id", "tag")))
        ),
        arguments=("image_id", "tag"), answer=image_record_from_json,
    ),
    ControlOperation(
        "untag_image", "POST", "/untag", "required",
        lambda emulator, body: image_record_json(
            emulator.untag_image(**fields(body, required=("image_id", "tag"), allowed=("image_id", "tag")))
        ),
        arguments=("image_id", "tag"), answer=image_record_from_json,
    ),
    ControlOperation("add_fault", "POST", "/faults", "required", _add_fault),
    ControlOperation("faults", "GET", "/faults", "params", lambda emulator, params: emulator.faults, attribute=True),
    ControlOperation("clear_faults", "DELETE", "/faults", "params", _clear_faults, answer=lambda answer: None),
    ControlOperation("remove_fault", "DELETE", "/faults/{id}", "params", _remove_fault),
    ControlOperation(
        "calls", "GET", "/calls", "params",
        lambda emulator, params: emulator.calls_of(params["method"]) if "method" in params else emulator.calls,
        query=("method",), attribute=True,
    ),
    ControlOperation(
        "now", "GET", "/time", "none", lambda emulator, body: _time(emulator),
        answer=lambda answer: datetime_from_json(answer["now"]), attribute=True,
    ),
    ControlOperation(
        "advance_time", "POST", "/time", "required", _advance_time,
        arguments=("seconds",), answer=lambda answer: datetime_from_json(answer["now"]),
    ),
    ControlOperation(
        "add_lifecycle_policy", "POST", "/lifecycle-policies", "required",
        lambda emulator, body: lifecycle_policy_record_json(
            emulator.add_lifecycle_policy(**fields(body, required=("repository_id",)))
        ),
        arguments=("repository_id",), extra_fields=True, answer=lifecycle_policy_from_json,
    ),
    ControlOperation(
        "run_lifecycle_policies", "POST", "/lifecycle-policies/run", "optional", _run_lifecycle_policies,
    ),
    ControlOperation(
        "schedule_lifecycle_policies", "POST", "/lifecycle-policies/schedule", "required",
        _schedule_lifecycle_policies, arguments=("every",), answer=lambda answer: None,
    ),
    ControlOperation(
        "add_vulnerability_report", "POST", "/vulnerability-reports", "required",
        lambda emulator, body: emulator.add_vulnerability_report(
            **fields(body, required=("digest", "vulnerabilities"), allowed=("digest", "vulnerabilities"))
        ) or {},
        arguments=("digest", "vulnerabilities"), answer=lambda answer: None,
    ),
    ControlOperation(
        "set_folder_cloud", "POST", "/clouds", "required",
        lambda emulator, body: emulator.set_folder_cloud(
            **fields(body, required=("folder_id", "cloud_id"), allowed=("folder_id", "cloud_id"))
        ) or {},
        arguments=("folder_id", "cloud_id"), answer=lambda answer: None,
    ),
    ControlOperation(
        "set_container_registry_stage", "POST", "/container-registry-stage", "required",
        lambda emulator, body: {
            "stage": emulator.set_container_registry_stage(fields(body, required=("stage",), allowed=("stage",))["stage"])
        },
        arguments=("stage",), answer=lambda answer: answer["stage"],
    ),
    ControlOperation(
        "container_registry_stage", "GET", "/container-registry-stage", "none",
        lambda emulator, body: {"stage": emulator.container_registry_stage},
        answer=lambda answer: answer["stage"], attribute=True,
    ),
    ControlOperation(
        "configure_operations", "POST", "/operation-modes", "required",
        lambda emulator, body: _configure_operations(emulator, fields(body, required=("modes",), allowed=("modes",))),
    ),
)  # fmt: skip
BY_PATH: dict[str, dict[str, ControlOperation]] = {}  # path prefix -> HTTP method -> operation
for _operation in OPERATIONS:
    BY_PATH.setdefault(_operation.prefix, {})[_operation.method] = _operation
BY_NAME = {operation.name: operation for operation in OPERATIONS}
