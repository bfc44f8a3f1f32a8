"""The leaves every strategy draws from: ids, paths, names, tags, digests, labels, timestamps."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from hypothesis import strategies as st

from emulator.api.ids import ID_ALPHABET

# ---- leaves ------------------------------------------------------------------------------------

_LOWER_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789"
_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TEXT = st.characters(exclude_categories=("Cs",))  # any character the wire can carry (no lone surrogate)


def _yc_ids(prefix: str):
    """Ids as Yandex Cloud makes them: a 3-character prefix and 17 characters of [0-9a-v]."""
    return st.text(ID_ALPHABET, min_size=17, max_size=17).map(lambda tail: prefix + tail)


def _derived_id(prefix: str, text: str) -> str:
    digest = hashlib.blake2b(text.encode(), digest_size=17).digest()
    return prefix + "".join(ID_ALPHABET[byte % 32] for byte in digest)


def _derived_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@st.composite
def _path_components(draw) -> str:
    """``[a-z0-9]+(?:[._-][a-z0-9]+)*``: a well-known word, or runs joined by separators."""
    if draw(st.booleans()):
        return draw(st.sampled_from(("app", "web", "api", "team", "base", "nginx", "ubuntu", "x1", "a.b-c_d")))
    runs = draw(st.lists(st.text(_LOWER_DIGITS, min_size=1, max_size=6), min_size=1, max_size=3))
    separators = [draw(st.sampled_from("._-")) for _ in runs[1:]]
    return runs[0] + "".join(separator + run for separator, run in zip(separators, runs[1:]))


_PATHS = st.sampled_from(("app", "team", "team/web", "team/web/api", "base", "a.b-c_d")) | st.lists(
    _path_components(), min_size=1, max_size=3
).map("/".join)


def repository_paths():
    """Repository paths inside a registry (``team/web``): nested, and often one a prefix of another."""
    return _PATHS


_REPOSITORY_NAMES = st.builds(lambda registry_id, path: f"{registry_id}/{path}", _yc_ids("crp"), _PATHS)


@st.composite
def _registry_names(draw) -> str:
    """``[a-z][-a-z0-9]{1,61}[a-z0-9]``, the pattern of ListRegistriesRequest.filter's values."""
    if draw(st.booleans()):
        return draw(st.sampled_from(("main", "prod", "staging", "ci-1", "team-web")))
    middle = draw(st.text(_LOWER_DIGITS + "-", min_size=1, max_size=12))
    return draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz")) + middle + draw(st.sampled_from(_LOWER_DIGITS))


_TAGS = st.sampled_from(("latest", "v1", "v2", "1.0.0", "stable", "main")) | st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(_LOWER_DIGITS + "_ABC"),
    st.text(_LOWER_DIGITS + "._-ABC", max_size=12),
)
_DIGESTS = st.binary(min_size=32, max_size=32).map(lambda raw: "sha256:" + raw.hex())
_LABEL_KEYS = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
    st.text(_LOWER_DIGITS + "-_", max_size=10),
)
_LABELS = st.dictionaries(_LABEL_KEYS, st.text(_LOWER_DIGITS + "-_", max_size=10), max_size=3)
_URLS = st.lists(
    st.builds(lambda name: f"https://storage.example.com/blobs/{name}", st.text(_LOWER_DIGITS, min_size=1, max_size=8)),
    max_size=1,
)

_EARLIEST_S = 1_420_070_400  # 2015-01-01T00:00:00Z
_LATEST_S = 2_082_758_399  # 2035-12-31T23:59:59Z
_NAIVE_EPOCH = datetime(1970, 1, 1)


@st.composite
def _instants(draw) -> int:
    """Nanoseconds since the epoch, 2015-2035, in whole seconds, milliseconds (as production
    stamps) or nanoseconds."""
    seconds = draw(st.integers(_EARLIEST_S, _LATEST_S))
    precision = draw(st.sampled_from(("s", "ms", "ns")))
    nanos = {"s": 0, "ms": draw(st.integers(0, 999)) * 1_000_000, "ns": draw(st.integers(0, 999_999_999))}[precision]
    return seconds * 1_000_000_000 + nanos


def _rfc3339(ns: int, offset_minutes: int = 0) -> str:
    """``ns`` as RFC 3339 text in the given UTC offset: exact, the fraction in 3, 6 or 9 digits."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    local = _NAIVE_EPOCH + timedelta(seconds=seconds, minutes=offset_minutes)
    digits = 0 if not nanos else 3 if nanos % 1_000_000 == 0 else 6 if nanos % 1_000 == 0 else 9
    fraction = f".{nanos:09d}"[: 1 + digits] if digits else ""
    sign, minutes = ("-" if offset_minutes < 0 else "+"), abs(offset_minutes)
    zone = "Z" if offset_minutes == 0 else f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{local.year:04d}-{local:%m-%dT%H:%M:%S}{fraction}{zone}"


_OFFSETS = st.sampled_from((0, 0, 0, 180, -300, 330))


def timestamps():
    """RFC 3339 timestamps as seeds hold them (``2026-01-02T10:00:00.123Z``, sometimes with an
    offset such as ``+03:00``), between 2015 and 2035, to the nanosecond."""
    return st.builds(_rfc3339, _instants(), _OFFSETS)


def _pool(values, argument: str, fits: Callable[[str], object], rule: str) -> tuple[str, ...]:
    """The given values, each checked: a value no valid request can carry is a ValueError."""
    if isinstance(values, str):
        raise TypeError(f"{argument}: give a list of strings, not one string ({values!r})")
    values = tuple(dict.fromkeys(values))
    for value in values:
        if not isinstance(value, str) or not value or not fits(value):
            raise ValueError(f"{argument}: {value!r} {rule}")
    return values
