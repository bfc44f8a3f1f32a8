"""Hypothesis strategies for the Container Registry API and the emulator's seed format.

For property tests of code that talks to Container Registry (against the emulator), and for
contract tests of any endpoint (``ycr-emulator diff`` draws its requests here). A request is a
dict of request field names to values, so any client can send it: the official SDK's
``pb.ListImagesRequest(**request)``, or ``RegistryClient.call("ImageService/List", **request)``.
A field missing from the dict is unset.

``valid=True`` strategies never draw a request the emulator answers INVALID_ARGUMENT;
``valid=False`` ones draw only such requests (a valid request with one to three parts broken).
The rules are the emulator's own: lengths and patterns come from the proto annotations, the
scopes, filter fields and order_by fields of each List from its ListSpec, and the filter and
order_by expressions are drawn to the grammars emulator.api.filters and emulator.api.ordering parse
(tests/test_strategies.py sends every kind to the emulator). Valid requests hold no
page token (tokens come from the target); invalid ones may hold a garbage one.

Seeds are in the format ``Emulator.load_seed`` and ``--seed`` read, and always load: ids are
unique, tags unique within a repository, at most one image per repository and digest. Draws are
small by default, so they are cheap and shrink fast; parameters make them bigger.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

try:
    from hypothesis import strategies as st
except ImportError as error:  # hypothesis is an optional dependency
    raise ImportError(
        "emulator.contract.strategies needs hypothesis: pip install 'ycr-emulator[contract]'", name="hypothesis"
    ) from error

from emulator.api.filters import MAX_VALUE_LENGTH, REGISTRY_NAME_FILTER, FilterSpec
from emulator.api.ids import ACCEPTED_ID_PATTERN, ID_ALPHABET
from emulator.api.validation import parse_range
from emulator.api.values import INT64_MAX
from emulator.api.wire import field_option, message_class
from emulator.rpc.services import CATALOGUE
from emulator.rpc.services.paged import MAX_PAGE_SIZE, ListSpec
from emulator.state.repositories import REPOSITORY_PATH

__all__ = [
    "GET_METHODS",
    "LIST_METHODS",
    "filters",
    "get_requests",
    "images",
    "list_images_requests",
    "list_registries_requests",
    "list_repositories_requests",
    "order_bys",
    "page_sizes",
    "read_filter",
    "registries",
    "repository_paths",
    "requests_for",
    "scope_values",
    "seeds",
    "timestamps",
]

# ---- the rules, read from the emulator ---------------------------------------------------------

# The Lists and Gets, as the catalogue declares them: their request type and ListSpec, or the field naming the resource.
_LISTS: dict[str, tuple[str, ListSpec]] = {
    method.short: (method.request_type, method.spec) for method in CATALOGUE.lists
}
_GETS: dict[str, tuple[str, str]] = {method.short: (method.request_type, method.gets) for method in CATALOGUE.gets}
LIST_METHODS = tuple(_LISTS)
GET_METHODS = tuple(_GETS)


def _annotation(request_type: str, field: str) -> tuple[int | None, re.Pattern | None]:
    """A request field's (maximum length, pattern) from its ``yandex.cloud`` annotations."""
    descriptor = message_class(request_type).DESCRIPTOR.fields_by_name[field]
    length, pattern = field_option(descriptor, "length"), field_option(descriptor, "pattern")
    return (parse_range(length)[1] if length else None), (re.compile(pattern) if pattern else None)


def _key(method: str) -> str:
    """``ImageService/List``, also when given as a full name (``yandex.cloud....ImageService/List``)."""
    found = CATALOGUE.method(method)
    return found.short if found is not None else method


def _method(method: str, table: Mapping) -> str:
    key = _key(method)
    if key not in table:
        raise ValueError(f"{method!r}: not one of {', '.join(table)}")
    return key


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


# ---- seeds -------------------------------------------------------------------------------------


class _Seen:
    """What one seed holds so far: ids are unique, tags and digests unique per repository."""

    def __init__(self):
        self.ids: set[str] = set()
        self.in_repository: dict[tuple[str, str], tuple[set[str], set[str]]] = {}  # -> (digests, tags)
        self.names: set[tuple[str, str]] = set()  # (folder, registry name)

    def fresh_id(self, candidate: str, prefix: str = "crp") -> str:
        while candidate in self.ids:  # derived, so a replayed example gets the same id again
            candidate = _derived_id(prefix, candidate)
        self.ids.add(candidate)
        return candidate

    def repository(self, registry_id: str, path: str) -> tuple[set[str], set[str]]:
        return self.in_repository.setdefault((registry_id, path), (set(), set()))


class _Sources:
    """Where a seed's values come from: small per-seed pools (so that names, times and digests
    tie) mixed with fresh values."""

    def __init__(self, paths=None, instants=None, digests=None):
        self.paths = paths if paths is not None else _PATHS
        self.instants = instants if instants is not None else _instants()
        self.digests = digests if digests is not None else _DIGESTS


@st.composite
def _pooled_sources(draw) -> _Sources:
    paths = draw(st.lists(_PATHS, min_size=1, max_size=4, unique=True))
    instants = draw(st.lists(_instants(), min_size=1, max_size=3))
    digests = draw(st.lists(_DIGESTS, min_size=1, max_size=3))
    return _Sources(
        st.sampled_from(paths) | _PATHS, st.sampled_from(instants) | _instants(), st.sampled_from(digests) | _DIGESTS
    )


def _blob(draw, sizes) -> dict:
    entry = {"digest": draw(_DIGESTS), "size": draw(sizes)}
    if draw(st.booleans()):
        entry["id"] = draw(_yc_ids("crp"))
    if draw(st.booleans()):
        entry["urls"] = draw(_URLS)
    return entry


def _image(draw, seen: _Seen, sources: _Sources, registry_key: str) -> dict:
    path = draw(sources.paths)
    image_id = seen.fresh_id(draw(_yc_ids("crp")))
    digests, tags_held = seen.repository(registry_key, path)
    digest = draw(sources.digests)
    if digest in digests:  # one image per repository and digest
        digest = _derived_digest(image_id)
    digests.add(digest)
    entry: dict = {"repository": path, "id": image_id, "digest": digest}
    tags = [tag for tag in dict.fromkeys(draw(st.lists(_TAGS, max_size=3))) if tag not in tags_held]
    if tags:  # each tag once per repository: no tag moves while the seed loads
        tags_held.update(tags)
        entry["tags"] = tags
    if draw(st.integers(0, 4)):  # usually given
        created = draw(sources.instants)
        entry["created_at"] = _rfc3339(created, draw(_OFFSETS))
        if not draw(st.integers(0, 5)):
            entry["last_modified"] = _rfc3339(created + draw(st.integers(0, 10**12)))
    sizes = st.integers(0, 2**31)
    if draw(st.booleans()):
        entry["compressed_size"] = draw(st.integers(0, 2**40) | st.just(INT64_MAX))
    if draw(st.booleans()):
        entry["config"] = _blob(draw, sizes)
    if draw(st.booleans()):
        entry["layers"] = [_blob(draw, sizes) for _ in range(draw(st.integers(1, 3)))]
    return entry


def _registry(draw, seen: _Seen, sources: _Sources, folders, image_count: int) -> dict:
    registry_id = seen.fresh_id(draw(_yc_ids("crp")))
    folder_id = draw(folders)
    name = draw(_registry_names())
    number = 1
    while (folder_id, name) in seen.names:  # unique in its folder, as Create requires
        name, number = f"{name[:50]}-{number}", number + 1
    seen.names.add((folder_id, name))
    entry: dict = {"id": registry_id, "folder_id": folder_id, "name": name, "labels": draw(_LABELS)}
    if draw(st.integers(0, 3)):
        entry["created_at"] = _rfc3339(draw(sources.instants), draw(_OFFSETS))
    entry["images"] = [_image(draw, seen, sources, registry_id) for _ in range(image_count)]
    declared = []
    for path in dict.fromkeys(image["repository"] for image in entry["images"]):
        if draw(st.booleans()):  # its id pinned, as a snapshot pins it
            declared.append({"path": path, "id": seen.fresh_id(draw(_yc_ids("crp"))), "kept": draw(st.booleans())})
    if draw(st.integers(0, 3)) == 0:  # an empty repository that stays (upserted)
        path = draw(sources.paths)
        if all(repository["path"] != path for repository in declared):
            declared.append({"path": path, "id": seen.fresh_id(draw(_yc_ids("crp")))})
    if declared:
        entry["repositories"] = declared
    return entry


def _folder_pool(folder_ids, argument: str = "folder_ids"):
    if folder_ids is None:
        return None
    pool = _pool(folder_ids, argument, ACCEPTED_ID_PATTERN.fullmatch, "is not 1-50 lowercase letters and digits")
    if not pool:
        raise ValueError(f"{argument}: give at least one folder id, or None for drawn ones")
    return st.sampled_from(pool)


def _path_pool(repository_paths):
    if repository_paths is None:
        return None
    rule = f"must match {REPOSITORY_PATH.pattern}"
    pool = _pool(repository_paths, "repository_paths", REPOSITORY_PATH.fullmatch, rule)
    if not pool:
        raise ValueError("repository_paths: give at least one path, or None for drawn ones")
    return st.sampled_from(pool)


def images(*, repository_paths=None):
    """One seed image entry: ``repository``, ``id`` and ``digest`` always, and often ``tags``,
    ``created_at`` (sometimes with nanoseconds or an offset, sometimes ``last_modified``),
    ``compressed_size``, ``config`` and ``layers``. ``repository_paths``: the paths to pick from.
    Ids are unique within one draw: for several images in one seed, use ``registries()`` or
    ``seeds()``, which keep them unique across the seed."""
    paths = _path_pool(repository_paths)

    @st.composite
    def build(draw) -> dict:
        return _image(draw, _Seen(), _Sources(paths=paths), "")

    return build()


def registries(*, folder_ids=None, max_images: int = 5, repository_paths=None):
    """One seed registry entry: ``id``, ``folder_id`` (from ``folder_ids`` if given), a ``name``
    unique in its folder, ``labels``, often ``created_at``, up to ``max_images`` ``images`` and
    sometimes ``repositories`` (ids pinned, ``kept`` or not, or empty and kept)."""
    folders = _folder_pool(folder_ids)
    folders = _yc_ids("b1g") if folders is None else folders
    paths = _path_pool(repository_paths)

    @st.composite
    def build(draw) -> dict:
        sources = draw(_pooled_sources())
        if paths is not None:
            sources.paths = paths
        return _registry(draw, _Seen(), sources, folders, draw(st.integers(0, max_images)))

    return build()


def seeds(
    *, max_registries: int = 3, max_images: int = 20, folder_ids=None, min_registries: int = 1, min_images: int = 0
):
    """A whole seed, ``{"registries": [...]}``, that ``Emulator.load_seed`` (and ``--seed``)
    always accepts: ``min_registries``-``max_registries`` registries (see ``registries()``) in one
    or two folders (or in ``folder_ids``), holding ``min_images``-``max_images`` images in all
    (see ``images()``). Paths, creation times and digests come partly from small pools, so
    that repositories hold several images and List orders meet ties."""
    folders = _folder_pool(folder_ids)
    if not 0 <= min_registries <= max_registries or not 0 <= min_images <= max_images:
        raise ValueError("need 0 <= min_registries <= max_registries and 0 <= min_images <= max_images")
    if min_images and not max_registries:
        raise ValueError("images need a registry: max_registries must be at least 1")

    @st.composite
    def build(draw) -> dict:
        seen, sources = _Seen(), draw(_pooled_sources())
        folder_source = folders
        if folder_source is None:  # one or two folders: several registries share one
            folder_source = st.sampled_from(draw(st.lists(_yc_ids("b1g"), min_size=1, max_size=2)))
        count = draw(st.integers(max(min_registries, 1 if min_images else 0), max_registries))
        image_count = draw(st.integers(min_images, max_images)) if count else 0
        owners = draw(st.lists(st.integers(0, count - 1), min_size=image_count, max_size=image_count)) if count else []
        return {"registries": [_registry(draw, seen, sources, folder_source, owners.count(n)) for n in range(count)]}

    return build()


def scope_values(seed: Mapping) -> dict[str, tuple[str, ...]]:
    """What a seed (dict) names: ``folder_ids``, ``registry_ids``, ``registry_names``,
    ``repository_names`` (``<registry_id>/<path>`` of its images and declared repositories),
    ``image_ids``, ``repository_ids`` and ``operation_ids``. Registries without an ``id`` have
    generated ids, unknown here: their images and repositories are left out."""
    found: dict[str, dict[str, None]] = {
        key: {}
        for key in (
            "folder_ids", "registry_ids", "registry_names", "repository_names", "image_ids", "repository_ids",
            "operation_ids",
        )
    }  # fmt: skip
    for registry in seed.get("registries", ()):
        found["folder_ids"][registry["folder_id"]] = None
        if registry.get("name"):
            found["registry_names"][registry["name"]] = None
        registry_id = registry.get("id")
        if not registry_id:
            continue
        found["registry_ids"][registry_id] = None
        for repository in registry.get("repositories", ()):
            found["repository_names"][f"{registry_id}/{repository['path']}"] = None
            if repository.get("id"):
                found["repository_ids"][repository["id"]] = None
        for image in registry.get("images", ()):
            found["repository_names"][f"{registry_id}/{image['repository']}"] = None
            if image.get("id"):
                found["image_ids"][image["id"]] = None
    for operation in seed.get("operations", ()):
        found["operation_ids"][operation["id"]] = None
    return {key: tuple(values) for key, values in found.items()}


# ---- request parts -------------------------------------------------------------------------------


def _pool(values, argument: str, fits: Callable[[str], object], rule: str) -> tuple[str, ...]:
    """The given values, each checked: a value no valid request can carry is a ValueError."""
    if isinstance(values, str):
        raise TypeError(f"{argument}: give a list of strings, not one string ({values!r})")
    values = tuple(dict.fromkeys(values))
    for value in values:
        if not isinstance(value, str) or not value or not fits(value):
            raise ValueError(f"{argument}: {value!r} {rule}")
    return values


def _fits_filter(spec: FilterSpec) -> Callable[[str], bool]:
    return lambda value: len(value) <= MAX_VALUE_LENGTH and bool(spec.value_pattern.fullmatch(value))


def _filter_values(spec: FilterSpec, *groups) -> tuple[str, ...]:
    """The names that may be values of a filter of ``spec`` (others, such as a registry without
    a name, are left out: filter values are optional, so nothing is refused for them)."""
    fits = _fits_filter(spec)
    names = []
    for group in groups:
        names += (name for name in _pool(group, "names", lambda _: True, "") if fits(name))
    return tuple(dict.fromkeys(names))


def _spec(method: str) -> tuple[str, ListSpec]:
    return _LISTS[_method(method, _LISTS)]


_BLANK = st.sampled_from(("", "", " ", "\t", "  "))  # where blanks are optional
_SPACE = st.sampled_from((" ", " ", "\t", "  "))  # where a blank must separate words


def _any_case(draw, word: str) -> str:
    return "".join(
        c.upper() if flip else c
        for c, flip in zip(word, draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word))))
    )


def _quoted(draw, value: str) -> str:
    quote = draw(st.sampled_from("\"'"))
    return f"{quote}{value}{quote}"


@st.composite
def _valid_filters(draw, spec: FilterSpec, values, limit: int) -> str:
    field = spec.field
    operator = draw(st.sampled_from(("=", "!=", "IN", "NOT IN")))
    lead, trail = draw(_BLANK), draw(_BLANK)
    if operator in ("=", "!="):
        return f"{lead}{field}{draw(_BLANK)}{operator}{draw(_BLANK)}{_quoted(draw, draw(values))}{trail}"
    keyword = _any_case(draw, "in")
    if operator == "NOT IN":
        keyword = _any_case(draw, "not") + draw(_SPACE) + keyword
    chosen = draw(st.lists(values, min_size=1, max_size=4))
    items = [_quoted(draw, value) for value in chosen]
    separators = [draw(_BLANK) + "," + draw(_BLANK) for _ in items[1:]]
    head, tail = f"{lead}{field}{draw(_SPACE)}{keyword}{draw(_BLANK)}({draw(_BLANK)}", f"{draw(_BLANK)}){trail}"
    while True:  # the filter's own length limit: fewer values until it fits (one value always does)
        text = head + items[0] + "".join(sep + item for sep, item in zip(separators, items[1:])) + tail
        if len(text) <= limit or len(items) == 1:
            return text
        items.pop()


@st.composite
def _invalid_filters(draw, spec: FilterSpec, values, limit: int) -> str:
    field = spec.field
    value, other = draw(values), draw(values)
    v, w = _quoted(draw, value), _quoted(draw, other)
    if spec is REGISTRY_NAME_FILTER:
        bad = [value + "-", "-" + value, "A" + value, "1" + value, value[:1], value + "/x", value + "_x", "a" * 64]
    else:  # names of repositories: <registry_id>/<path>
        bad = [value.partition("/")[0], value + "/", "/" + value, value + "//x", value + " x", value + "/-x",
               "A" + value, value + "/\u0430", "a/" + "b" * MAX_VALUE_LENGTH]  # fmt: skip
    bad_value = _quoted(draw, draw(st.sampled_from(bad).filter(lambda text: not _fits_filter(spec)(text))))
    wrong_field = draw(st.sampled_from([name for name in (field.upper(), field.title(), field + "s", "id", "tags")
                                        if name != field]))  # fmt: skip
    repeated = max(2, limit // (len(value) + 4) + 2)  # an IN list longer than the filter may be
    forms = [
        f"{wrong_field} = {v}", f"{field} == {v}", f"{field} <> {v}", f"{field} LIKE {v}", f"{field} is {v}",
        f"{field} : {v}", f"{field} =", field, f"{field} IN", f"{field} NOT IN", f"{field} NOT {v}",
        f"{field} = {value}", f'{field} = "{value}', f"{field} = '{value}\"", f"{field} IN ()", f"{field} IN ({v},)",
        f"{field} IN {v}", f"{field} IN ({v} {w})", f"{field} IN (({v}))", f"{field} NOT IN ({v}",
        f"{field} = {v} AND {field} = {w}", f"{field} = {v} OR {field} = {w}", f"NOT {field} = {v}",
        f"{field} = {v} {w}", f"{field}\u00a0= {v}", f"{field} =\u2003{v}", f"{field} = {v}\n", f"\u3000{field} = {v}",
        f"{field} = {bad_value}", f"{field} IN ({v}, {bad_value})", f"{field} != {bad_value}",
        f"{field} IN ({', '.join([v] * repeated)})",
    ]  # fmt: skip
    return draw(st.sampled_from(forms))


def filters(method: str = "ImageService/List", *, valid: bool = True, names=()):
    """Filter expressions of ``method``'s List: one condition on ``name`` with ``=``, ``!=``,
    ``IN`` or ``NOT IN`` (keywords in any case, either quote, blanks where the grammar allows).
    Values come from ``names`` (those that may be filter values; others are left out) and
    drawn well-formed names.
    ``valid=False``: expressions the List refuses (grammar, field, operator, value pattern or
    length, invisible blanks)."""
    request_type, spec = _spec(method)
    limit = _annotation(request_type, "filter")[0] or 1000
    pool = _filter_values(spec.filter, names)
    drawn = _registry_names() if spec.filter is REGISTRY_NAME_FILTER else _REPOSITORY_NAMES
    values = (st.sampled_from(pool) | drawn) if pool else drawn
    return (_valid_filters if valid else _invalid_filters)(spec.filter, values, limit)


_QUOTED = re.compile(r"\"([^\"]*)\"|'([^']*)'")


def read_filter(text: str) -> tuple[bool, frozenset[str]]:
    """What a valid filter keeps, for a test's model: ``(negated, names)``, and a name is kept
    when ``(name in names) != negated``. No filter ("" or blanks) keeps every name. A plain
    reading (the quoted values; ``!=`` or the word ``not`` outside them), independent of the
    emulator's parser; for valid filters only."""
    if not text.strip(" \t"):
        return True, frozenset()
    names = frozenset(double or single for double, single in _QUOTED.findall(text))
    rest = _QUOTED.sub(" ", text)
    return "!=" in rest or "not" in rest.lower().split(), names


@st.composite
def _valid_order_bys(draw, fields: tuple[str, ...], limit: int) -> str:
    chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=len(fields), unique=True))
    items = []
    for name in chosen:
        direction = draw(st.sampled_from(("", "asc", "desc")))
        direction = draw(_SPACE) + _any_case(draw, direction) if direction else ""
        items.append(draw(_BLANK) + name + direction + draw(_BLANK))
    text = ",".join(items)
    return text if len(text) <= limit else ",".join(item.strip(" \t") for item in items)


@st.composite
def _invalid_order_bys(draw, fields: tuple[str, ...], limit: int) -> str:
    first, second = draw(st.sampled_from(fields)), draw(st.sampled_from(fields))
    unknown = draw(st.sampled_from([name for name in ("size", "Name", "NAME", "ID", "tags", "created", "-name",
                                                      "createdAt", "digest", "created_at", "last_modified")
                                    if name not in fields]))  # fmt: skip
    direction = draw(st.sampled_from(("up", "down", "descending", "ascending", "dsc", "+", "-1")))
    forms = [
        unknown, f"{first}, {unknown} desc", f"{first}, {first} desc", f"{first},{first}", f"{first} {direction}",
        f"{first} asc desc", f"{first} desc {second}", f"{first},", f",{first}", f"{first},,{second}", ",", " , ",
        f"{first}\u00a0desc", f"{first}\ndesc", f"\u2003{first}", first + " " * limit + "x", first + " " * limit,
    ]  # fmt: skip
    return draw(st.sampled_from(forms))


def order_bys(method: str = "ImageService/List", *, valid: bool = True):
    """``order_by`` expressions of ``method``'s List in today's grammar: distinct fields it may
    be ordered by, comma-separated, each with an optional ``asc``/``desc`` in any case.
    ``valid=False``: expressions it refuses (unknown or repeated field, bad direction, an empty
    item, an invisible blank, too long). RegistryService/List has no order_by: ValueError."""
    request_type, spec = _spec(method)
    if not spec.has_order_by:
        raise ValueError(f"{method} has no order_by")
    limit = _annotation(request_type, "order_by")[0] or 100
    return (_valid_order_bys if valid else _invalid_order_bys)(spec.orders, limit)


def page_sizes(*, valid: bool = True):
    """``page_size``: 0 (the default, 100) to 1000, often small; ``valid=False``: negative or
    above 1000, to the ends of int64."""
    if valid:
        return st.sampled_from((0, 1, 2, 3, 5, 10, 100, MAX_PAGE_SIZE)) | st.integers(0, MAX_PAGE_SIZE)
    return (
        st.sampled_from((-1, MAX_PAGE_SIZE + 1, -(2**63), 2**63 - 1))
        | st.integers(-(2**63), -1)
        | st.integers(MAX_PAGE_SIZE + 1, 2**63 - 1)
    )


def _garbage_tokens(limit: int):
    """Page tokens no target issued: base64-like, any text, or longer than a request may carry."""
    return st.one_of(
        st.text(_BASE64URL, min_size=1, max_size=limit),
        st.text(_TEXT, min_size=1, max_size=limit),
        st.text(_BASE64URL, min_size=limit + 1, max_size=limit + 40),
    )


def _too_long(limit: int):
    return st.integers(limit + 1, limit + 30).flatmap(lambda n: st.text(ID_ALPHABET, min_size=n, max_size=n))


@st.composite
def _bad_names(draw, pattern: re.Pattern, names) -> str:
    """Repository names the annotation's pattern refuses (never empty: empty means unset)."""
    name = draw(names)
    forms = [name + "/", "/" + name, name + "//x", name + " x", name + ".", name + "/-x", name.upper() + "X",
             name + "/\u0430", "-" + name]  # fmt: skip
    return draw(st.sampled_from(forms).filter(lambda text: not pattern.fullmatch(text)))


# ---- List requests -------------------------------------------------------------------------------

_RANDOM_SCOPES = {"folder_id": _yc_ids("b1g"), "registry_id": _yc_ids("crp"), "repository_name": _REPOSITORY_NAMES}


def _list_requests(method: str, valid: bool, pools: dict[str, tuple[str, ...]], filter_names: tuple[str, ...]):
    """Requests of one List: a scope (from ``pools`` by request field when any is given, else
    drawn; with lower-precedence scope fields beside it sometimes), and sometimes a filter, an
    order and a page size. Invalid ones break one to three parts."""
    request_type, spec = _LISTS[method]
    fields = [field for field, _ in spec.scopes]  # highest precedence first
    rules = {field: _annotation(request_type, field) for field in (*fields, "page_token")}
    given = any(pools.get(field) for field in fields)
    sources = {
        field: st.sampled_from(pools[field]) if pools.get(field) else None if given else _RANDOM_SCOPES[field]
        for field in fields
    }
    primary = [field for field in fields if sources[field] is not None]
    filter_strategy, bad_filters = filters(method, names=filter_names), filters(method, valid=False, names=filter_names)
    order_strategy = order_bys(method) if spec.has_order_by else None
    bad_orders = order_bys(method, valid=False) if spec.has_order_by else None
    bad_tokens = _garbage_tokens(rules["page_token"][0] or 100)
    breakable = ["scope", "page_size", "page_token", "filter"]
    breakable += [f"{field}:length" for field in fields if rules[field][0] is not None]
    breakable += [f"{field}:pattern" for field in fields if rules[field][1] is not None]
    breakable += ["order_by"] if spec.has_order_by else []

    @st.composite
    def build(draw) -> dict:
        request: dict = {}
        chosen = draw(st.sampled_from(primary))
        request[chosen] = draw(sources[chosen])
        for field in fields[fields.index(chosen) + 1 :]:  # ignored beside a higher-precedence one
            if sources[field] is not None and draw(st.integers(0, 2)) == 0:
                request[field] = draw(sources[field])
        if draw(st.booleans()):
            request["filter"] = draw(filter_strategy)
        if order_strategy is not None and draw(st.booleans()):
            request["order_by"] = draw(order_strategy)
        if draw(st.booleans()):
            request["page_size"] = draw(page_sizes())
        if valid:
            return request
        for part in draw(st.lists(st.sampled_from(breakable), min_size=1, max_size=3, unique=True)):
            field, _, rule = part.partition(":")
            if part == "scope":
                for name in fields:
                    request.pop(name, None)
            elif part == "page_size":
                request["page_size"] = draw(page_sizes(valid=False))
            elif part == "page_token":
                request["page_token"] = draw(bad_tokens)
            elif part == "filter":
                request["filter"] = draw(bad_filters)
            elif part == "order_by":
                request["order_by"] = draw(bad_orders)
            elif rule == "length":
                request[field] = draw(_too_long(rules[field][0]))
            else:
                request[field] = draw(
                    _bad_names(rules[field][1], _REPOSITORY_NAMES if sources[field] is None else sources[field])
                )
        return request

    return build()


def _scope_pool(values, argument: str, method: str, field: str) -> tuple[str, ...]:
    """Given scope values, each one a valid request may carry in ``field`` (else ValueError)."""
    limit, pattern = _annotation(_LISTS[method][0], field)

    def fits(value: str) -> bool:
        return (limit is None or len(value) <= limit) and (pattern is None or bool(pattern.fullmatch(value)))

    shape = f"at most {limit} characters" if limit is not None else f"matching {pattern.pattern}"
    rule = f"may not be {method}'s {field} ({shape})"
    return _pool(values, argument, fits, rule)


def list_images_requests(*, valid=True, folder_ids=(), registry_ids=(), repository_names=(), image_names=()):
    """ImageService/List requests in every scope (``repository_name``, ``registry_id``,
    ``folder_id``; sometimes a lower-precedence one beside the one that wins), with filters
    (values from ``repository_names``, ``image_names`` and drawn names), orders and page sizes.
    Scope values are drawn from the given ones only (a kind with none given is then not drawn);
    with none given at all, every kind is drawn with well-formed unknown values."""
    method = "ImageService/List"
    pools = {
        "folder_id": _scope_pool(folder_ids, "folder_ids", method, "folder_id"),
        "registry_id": _scope_pool(registry_ids, "registry_ids", method, "registry_id"),
        "repository_name": _scope_pool(repository_names, "repository_names", method, "repository_name"),
    }
    names = _filter_values(_LISTS[method][1].filter, image_names, pools["repository_name"])
    return _list_requests(method, valid, pools, names)


def list_registries_requests(*, valid=True, folder_ids=(), registry_names=()):
    """RegistryService/List requests: a ``folder_id`` (from ``folder_ids`` if given), filters on
    ``name`` (values from ``registry_names`` that fit the filter's pattern, and drawn ones),
    page sizes. This List has no order_by."""
    method = "RegistryService/List"
    pools = {"folder_id": _scope_pool(folder_ids, "folder_ids", method, "folder_id")}
    return _list_requests(method, valid, pools, _filter_values(_LISTS[method][1].filter, registry_names))


def list_repositories_requests(*, valid=True, folder_ids=(), registry_ids=(), repository_names=()):
    """RepositoryService/List requests in both scopes (``registry_id`` wins over ``folder_id``),
    filters on ``name`` (values from ``repository_names`` and drawn ones), orders by ``id`` and
    ``name``, page sizes."""
    method = "RepositoryService/List"
    pools = {
        "folder_id": _scope_pool(folder_ids, "folder_ids", method, "folder_id"),
        "registry_id": _scope_pool(registry_ids, "registry_ids", method, "registry_id"),
    }
    return _list_requests(method, valid, pools, _filter_values(_LISTS[method][1].filter, repository_names))


# ---- Get requests ------------------------------------------------------------------------------


def get_requests(method: str, *, valid: bool = True, ids=()):
    """Requests of a Get (``ImageService/Get``, ``RegistryService/Get``, ``RepositoryService/Get``,
    ``RepositoryService/GetByName``, ``OperationService/Get``): ``{"image_id": ...}`` and so on,
    the id from ``ids`` if given (GetByName: repository names), else drawn and well formed.
    ``valid=False``: the id missing or empty, too long, or (GetByName) not a repository name."""
    request_type, field = _GETS[_method(method, _GETS)]
    limit, pattern = _annotation(request_type, field)

    def fits(value: str) -> bool:
        return (limit is None or len(value) <= limit) and (pattern is None or bool(pattern.fullmatch(value)))

    pool = _pool(ids, "ids", fits, f"may not be {method}'s {field}")
    drawn = _REPOSITORY_NAMES if field == "repository_name" else _yc_ids("crp")
    values = st.sampled_from(pool) if pool else drawn
    if valid:
        return values.map(lambda value: {field: value})
    broken = [st.just({}), st.just({field: ""})]
    if limit is not None:
        broken.append(_too_long(limit).map(lambda value: {field: value}))
    if pattern is not None:
        broken.append(_bad_names(pattern, values).map(lambda value: {field: value}))
    return st.one_of(broken)


# ---- from a seed -----------------------------------------------------------------------------------

# The seed values (scope_values) a Get's resource field is drawn from: image_id -> image_ids.
_GET_POOLS = {method: f"{field}s" for method, (_, field) in _GETS.items()}


def requests_for(seed: Mapping, method: str, *, valid: bool = True):
    """Requests of any List or Get method about what ``seed`` holds (scopes, filter values and
    ids from ``scope_values(seed)``), so that against an emulator loaded with it every valid one
    is answered OK (a Get of an id the seed does not name: NOT_FOUND, when it names none)."""
    values = scope_values(seed)
    key = _key(method)
    if key in _GETS:
        return get_requests(key, valid=valid, ids=values[_GET_POOLS[key]])
    key = _method(method, _LISTS)
    if key == "ImageService/List":
        return list_images_requests(
            valid=valid,
            folder_ids=values["folder_ids"],
            registry_ids=values["registry_ids"],
            repository_names=values["repository_names"],
        )
    if key == "RegistryService/List":
        return list_registries_requests(
            valid=valid, folder_ids=values["folder_ids"], registry_names=values["registry_names"]
        )
    return list_repositories_requests(
        valid=valid,
        folder_ids=values["folder_ids"],
        registry_ids=values["registry_ids"],
        repository_names=values["repository_names"],
    )
