"""Authentication and authorization, in three modes.

- ``none`` (default): credentials are ignored; every caller is DEFAULT_SUBJECT.
- ``any``: a ``Bearer <token>`` is required (missing or malformed: UNAUTHENTICATED);
  any token is accepted and its caller may touch every folder.
- ``strict``: only configured tokens (and IAM tokens issued for them) are accepted,
  each allowed a set of folders (PERMISSION_DENIED elsewhere); others are UNAUTHENTICATED.

IAM tokens are self-contained: the credential's digest and an expiry, signed with a key
that changes whenever the settings do. Nothing is kept per token, an expired token is
refused, and a token follows its credential: once that is no longer configured (strict),
or the settings change, the token is refused.

Plain Python: the service layer hands over the ``authorization`` metadata value.
"""

from __future__ import annotations

import hashlib
import re
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from emulator.api.errors import PermissionDenied, Unauthenticated
from emulator.api.ids import ACCEPTED_ID_PATTERN, ID_ALPHABET
from emulator.rpc.signing import Signer

MODES = ("none", "any", "strict")
DEFAULT_SUBJECT = "ajeemulator000000000"  # an IAM user id's shape
IAM_TOKEN_LIFETIME_NS = 12 * 3600 * 1_000_000_000
_BEARER = re.compile(r"Bearer ([^\s]+)")
IAM_TOKEN_PREFIX = "t1.emulator."
_DIGEST_SIZE = 17  # what subject_of needs of a credential's SHA-256
_EXPIRY = struct.Struct(">q")
_MAC_SIZE = 16


@dataclass(frozen=True)
class Principal:
    """Who calls: ``folders`` None means every folder."""

    subject: str
    folders: frozenset[str] | None = None


ANONYMOUS = Principal(DEFAULT_SUBJECT)


def default_mode(tokens: Mapping | None) -> str:
    """The mode when none is named: tokens given with their folder limits mean strict, so that
    limits are never silently off (the CLI's --require-token follows the same rule)."""
    return "strict" if tokens else "none"


def parse_token_specs(specs: Iterable[str]) -> dict[str, frozenset[str] | None]:
    """Several ``TOKEN[=FOLDER,...]`` specs; a token given twice is refused, as neither
    keeping the last nor merging them is what every user would expect."""
    tokens: dict[str, frozenset[str] | None] = {}
    for spec in specs:
        token, folders = parse_token_spec(spec)
        if token in tokens:
            raise ValueError(
                f"token spec {spec!r}: the token is given twice; give it once, with all its folders (TOKEN=A,B)"
            )
        tokens[token] = folders
    return tokens


def _digest(credential: str) -> bytes:
    return hashlib.sha256(credential.encode()).digest()[:_DIGEST_SIZE]


def _subject_of_digest(digest: bytes) -> str:
    return "aje" + "".join(ID_ALPHABET[byte % 32] for byte in digest)


def subject_of(token: str) -> str:
    """A stable, IAM-user-shaped id for a token (``aje`` + 17 of [0-9a-v])."""
    return _subject_of_digest(_digest(token))


def parse_token_spec(spec: str) -> tuple[str, frozenset[str] | None]:
    """``TOKEN`` -> every folder; ``TOKEN=FOLDER,...`` -> those folders; ``TOKEN=*`` -> every folder.

    The spec splits at its last ``=``, so a token that itself contains ``=`` (base64) is given
    as ``TOKEN=*`` or ``TOKEN=FOLDER,...``. An empty folder list is refused, never read as
    "every folder": a limit must not widen by a typo.
    """
    if "=" not in spec:
        token, folders = spec, None
    else:
        token, _, listed = spec.rpartition("=")
        if listed == "*":
            folders = None
        else:
            names = listed.split(",")
            if not listed or not all(ACCEPTED_ID_PATTERN.fullmatch(name) for name in names):
                raise ValueError(
                    f"token spec {spec!r}: the folder list after the last '=' must be folder ids separated by "
                    "commas, or * for every folder (a token that contains '=' is given as TOKEN=* or TOKEN=FOLDER,...)"
                )
            folders = frozenset(names)
    if not token or _BEARER.fullmatch(f"Bearer {token}") is None:
        raise ValueError(f"token spec {spec!r}: the token must be non-empty, without spaces")
    return token, folders


class Auth:
    def __init__(
        self,
        mode: str | None = None,
        tokens: Mapping[str, Iterable[str] | None] | None = None,
        *,
        clock: Callable[[], int] = time.time_ns,
    ):
        """``clock`` (ns since the epoch) decides when IAM tokens expire."""
        self._lock = threading.Lock()
        self._clock = clock
        self.configure(mode, tokens)

    def configure(self, mode: str | None = None, tokens: Mapping[str, Iterable[str] | None] | None = None) -> None:
        """Set the mode and the accepted tokens (token -> folders, None = every folder).
        Without a mode: strict when tokens are given, else none (see default_mode)."""
        mode = default_mode(tokens) if mode is None else mode
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
            self._by_digest = {_digest(token): principal for token, principal in principals.items()}
            self._signer = Signer(_MAC_SIZE)  # a new key: IAM tokens issued so far stop working

    def issue_iam_token(self, credential: str) -> tuple[str, int]:
        """An IAM token (and its expiry, ns) for an OAuth token or a JWT."""
        expires_ns = self._clock() + IAM_TOKEN_LIFETIME_NS
        payload = _EXPIRY.pack(expires_ns) + _digest(credential)
        with self._lock:
            if self.mode == "strict" and credential not in self._configured:
                raise Unauthenticated("the OAuth token or JWT is not one the emulator was configured with")
            token = IAM_TOKEN_PREFIX + self._signer.seal(payload)
        return token, expires_ns

    def _read_iam_token(self, token: str) -> Principal | None:
        """The principal behind an IAM token this emulator issued under its current settings;
        None if it is not one; Unauthenticated if it has expired."""
        payload = self._signer.open(token[len(IAM_TOKEN_PREFIX) :])
        if payload is None or len(payload) != _EXPIRY.size + _DIGEST_SIZE:
            return None
        (expires_ns,) = _EXPIRY.unpack_from(payload)
        if self._clock() >= expires_ns:
            raise Unauthenticated("authorization: the IAM token has expired; get a new one")
        digest = payload[_EXPIRY.size :]
        return self._by_digest.get(digest) or (None if self.mode == "strict" else Principal(_subject_of_digest(digest)))

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
            principal = self._configured.get(token)
            if principal is None and token.startswith(IAM_TOKEN_PREFIX):
                principal = self._read_iam_token(token)
        if principal is not None:
            return principal
        if self.mode == "strict":
            raise Unauthenticated("authorization: the token is not valid")
        return Principal(subject_of(token))

    def authorize(self, principal: Principal, folder_id: str) -> None:
        """Folder limits apply in strict mode only; in the others every caller may touch every folder."""
        if self.mode == "strict" and principal.folders is not None and folder_id not in principal.folders:
            if not folder_id:  # a cloud's, or an operation on one
                raise PermissionDenied(
                    f"Permission denied: {principal.subject} may touch some folders only, and this is in no single "
                    "folder (it acts on a whole cloud, or is an operation made in none)"
                )
            raise PermissionDenied(f"Permission denied: {principal.subject} has no access to folder {folder_id}")
