"""Authentication and authorization, in three modes.

- ``none`` (default): credentials are ignored; every caller is DEFAULT_SUBJECT.
- ``any``: a ``Bearer <token>`` is required (missing or malformed: UNAUTHENTICATED);
  any token is accepted and its caller may touch every folder.
- ``strict``: only configured tokens (and IAM tokens issued for them) are accepted,
  each allowed a set of folders (PERMISSION_DENIED elsewhere); others are UNAUTHENTICATED.

Plain Python: the service layer hands over the ``authorization`` metadata value.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from emulator.errors import PermissionDenied, Unauthenticated
from emulator.ids import ID_ALPHABET

MODES = ("none", "any", "strict")
DEFAULT_SUBJECT = "ajeemulator000000000"  # an IAM user id's shape
IAM_TOKEN_LIFETIME_NS = 12 * 3600 * 1_000_000_000
_BEARER = re.compile(r"Bearer ([^\s]+)")


@dataclass(frozen=True)
class Principal:
    """Who calls: ``folders`` None means every folder."""

    subject: str
    folders: frozenset[str] | None = None


ANONYMOUS = Principal(DEFAULT_SUBJECT)


def subject_of(token: str) -> str:
    """A stable, IAM-user-shaped id for a token (``aje`` + 17 of [0-9a-v])."""
    digest = hashlib.sha256(token.encode()).digest()
    return "aje" + "".join(ID_ALPHABET[byte % 32] for byte in digest[:17])


def parse_token_spec(spec: str) -> tuple[str, frozenset[str] | None]:
    """``TOKEN`` -> every folder; ``TOKEN=FOLDER,FOLDER`` -> those folders."""
    token, _, folders = spec.partition("=")
    if not token:
        raise ValueError(f"token: must not be empty in {spec!r}")
    return token, frozenset(f for f in folders.split(",") if f) if folders else None


class Auth:
    def __init__(self, mode: str = "none", tokens: Mapping[str, Iterable[str] | None] | None = None):
        self._lock = threading.Lock()
        self.configure(mode, tokens)

    def configure(self, mode: str = "none", tokens: Mapping[str, Iterable[str] | None] | None = None) -> None:
        """Set the mode and the accepted tokens (token -> folders, None = every folder)."""
        if mode not in MODES:
            raise ValueError(f"auth mode: must be one of {', '.join(MODES)}, got {mode!r}")
        principals = {}
        for token, folders in (tokens or {}).items():
            if not isinstance(token, str) or not token or _BEARER.fullmatch(f"Bearer {token}") is None:
                raise ValueError(f"tokens: {token!r} is not a usable token (non-empty, no spaces)")
            if isinstance(folders, str):
                raise ValueError(f"tokens: the folders of {token!r} must be a list, not a string")
            allowed = None if folders is None else frozenset(folders)
            principals[token] = Principal(subject_of(token), allowed)
        with self._lock:
            self.mode = mode
            self._configured = principals
            self._issued: dict[str, Principal] = {}

    def issue_iam_token(self, credential: str) -> tuple[str, int]:
        """An IAM token (and its expiry, ns) for an OAuth token or a JWT."""
        with self._lock:
            principal = self._configured.get(credential)
            if principal is None:
                if self.mode == "strict":
                    raise Unauthenticated("the OAuth token or JWT is not one the emulator was configured with")
                principal = Principal(subject_of(credential))
            token = "t1.emulator." + secrets.token_urlsafe(24)
            self._issued[token] = principal
        return token, time.time_ns() + IAM_TOKEN_LIFETIME_NS

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller behind an ``authorization`` metadata value."""
        if self.mode == "none":
            return ANONYMOUS
        if not authorization:
            raise Unauthenticated("authorization: missing; send 'authorization: Bearer <IAM token>'")
        match = _BEARER.fullmatch(authorization.strip())
        if match is None:
            raise Unauthenticated("authorization: malformed; expected 'Bearer <IAM token>'")
        token = match.group(1)
        with self._lock:
            principal = self._configured.get(token) or self._issued.get(token)
        if principal is not None:
            return principal
        if self.mode == "strict":
            raise Unauthenticated("authorization: the token is not valid")
        return Principal(subject_of(token))

    def authorize(self, principal: Principal, folder_id: str) -> None:
        """Folder limits apply in strict mode only; in the others every caller may touch every folder."""
        if self.mode == "strict" and principal.folders is not None and folder_id not in principal.folders:
            raise PermissionDenied(f"Permission denied: {principal.subject} has no access to folder {folder_id}")
