"""Container Registry's shutdown stages: which of its calls production still serves.

Production's timeline (docs ``en/container-registry/sunset.md``): read-only from 2026-11-10 (no new
registries; view and export only), fully discontinued on 2026-12-14. Cloud Registry is unaffected.

A stage is written ``STAGE`` or ``STAGE:CODE``: ``active`` (everything served: the default),
``read-only`` (reads served, every call that changes something refused), ``shut-down`` (every
Container Registry call refused), or ``by-date`` (the stage production is in at the emulator's
clock). ``CODE`` is the gRPC status name a refusal carries: which code production answers is
documented nowhere, so it is the emulator's choice (DEFAULT_CODES) and the user's to change.
Plain Python: the request pipeline asks ``refusal`` for each Container Registry call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from google.rpc import code_pb2

ACTIVE, READ_ONLY, SHUT_DOWN, BY_DATE = "active", "read-only", "shut-down", "by-date"
STAGES = (ACTIVE, READ_ONLY, SHUT_DOWN, BY_DATE)
# Midnight in Moscow (UTC+3), Yandex Cloud's home time zone, of the published dates.
_MOSCOW = timezone(timedelta(hours=3))
READ_ONLY_FROM = datetime(2026, 11, 10, tzinfo=_MOSCOW)
SHUT_DOWN_FROM = datetime(2026, 12, 14, tzinfo=_MOSCOW)
BACKUPS_KEPT_UNTIL = "2027-06-30"  # the sunset page: Container Registry's data after the shutdown
_READ_ONLY_NS = int(READ_ONLY_FROM.timestamp()) * 1_000_000_000
_SHUT_DOWN_NS = int(SHUT_DOWN_FROM.timestamp()) * 1_000_000_000
# A read-only service refusing a change: the system is not in a state for it (FAILED_PRECONDITION).
# A service that is gone: nothing serves the method any more (UNIMPLEMENTED, what a server answers for
# a method it does not have). Neither is documented: the emulator's choice, changeable per stage.
DEFAULT_CODES = {READ_ONLY: "FAILED_PRECONDITION", SHUT_DOWN: "UNIMPLEMENTED"}
_CODES = frozenset(code_pb2.Code.keys()) - {"OK"}


@dataclass(frozen=True)
class Stage:
    name: str  # one of STAGES
    code: str | None = None  # the refusals' status (None: DEFAULT_CODES)

    @property
    def spec(self) -> str:
        """As it is written: ``read-only`` or ``read-only:PERMISSION_DENIED``."""
        return f"{self.name}:{self.code}" if self.code else self.name

    def at(self, now_ns: int) -> str:
        """The stage in force at ``now_ns``: ``by-date`` reads the published dates."""
        if self.name != BY_DATE:
            return self.name
        return SHUT_DOWN if now_ns >= _SHUT_DOWN_NS else READ_ONLY if now_ns >= _READ_ONLY_NS else ACTIVE

    def refusal(self, changes: bool, now_ns: int) -> tuple[str, str] | None:
        """(code, message) if a Container Registry call is refused now (``changes``: it changes
        something); None if it is served."""
        stage = self.at(now_ns)
        if stage == ACTIVE or (stage == READ_ONLY and not changes):
            return None
        code = self.code or DEFAULT_CODES[stage]
        if stage == READ_ONLY:
            return code, (
                f"Container Registry is read-only since {READ_ONLY_FROM:%Y-%m-%d}: it serves reads only. "
                "Move your registries to Cloud Registry (yandex.cloud.cloudregistry.v1.MigrationService) "
                "and make changes there"
            )
        return code, (
            f"Container Registry was shut down on {SHUT_DOWN_FROM:%Y-%m-%d}: use Cloud Registry "
            "(yandex.cloud.cloudregistry.v1), where migrated registries keep their ids"
        )


def parse_stage(value: object) -> Stage:
    """A stage from its spec (``read-only``, ``shut-down:UNAVAILABLE``); ValueError naming what is wrong."""
    if isinstance(value, Stage):
        return value
    if not isinstance(value, str):
        raise ValueError(f"container_registry_stage: must be a string (one of {', '.join(STAGES)}), got {value!r}")
    name, colon, code = value.partition(":")
    if name not in STAGES:
        raise ValueError(
            f"container_registry_stage: must be one of {', '.join(STAGES)} (optionally :CODE), got {value!r}"
        )
    if not colon:
        return Stage(name)
    if name == ACTIVE:
        raise ValueError("container_registry_stage: active refuses nothing, so it takes no :CODE")
    if code not in _CODES:
        raise ValueError(
            f"container_registry_stage: {code!r} is not a gRPC status name other than OK (e.g. FAILED_PRECONDITION)"
        )
    return Stage(name, code)
