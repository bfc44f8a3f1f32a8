"""Requests of every List and Get, valid or invalid, drawn from the rules the emulator declares."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from hypothesis import strategies as st

from emulator.api.filters import MAX_VALUE_LENGTH, REGISTRY_NAME_FILTER, FilterSpec
from emulator.api.ids import ID_ALPHABET
from emulator.api.validation import parse_range
from emulator.api.wire import field_option, message_class
from emulator.contract.strategies._leaves import (
    _BASE64URL,
    _REPOSITORY_NAMES,
    _TEXT,
    _pool,
    _registry_names,
    _yc_ids,
)
from emulator.contract.strategies.seeds import scope_values
from emulator.rpc.services import CATALOGUE
from emulator.rpc.services.paged import MAX_PAGE_SIZE, ListSpec

# ---- the rules, read from the emulator ---------------------------------------------------------

# The Lists and Gets, as the catalogue declares them: their request type and ListSpec, or the field naming the resource.
_LISTS: dict[str, tuple[str, ListSpec]] = {
    method.short: (method.request_type, method.spec) for method in CATALOGUE.keyset_lists
}
_GETS: dict[str, tuple[str, str]] = {method.short: (method.request_type, method.gets) for method in CATALOGUE.gets}
KEYSET_LIST_METHODS = tuple(_LISTS)  # with a ListSpec; Cloud Registry's position-paged ones: strategies.cloud
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


# ---- request parts -------------------------------------------------------------------------------


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
    limit = _annotation(request_type, spec.filter_field)[0] or 1000
    pool = _filter_values(spec.filter, names)
    if spec.filter is REGISTRY_NAME_FILTER:
        drawn = _registry_names()
    elif spec.filter.field == "name":
        drawn = _REPOSITORY_NAMES
    else:  # an enum's names (a scan result's status)
        drawn = st.from_regex(spec.filter.value_pattern, fullmatch=True)
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

_RANDOM_SCOPES = {
    "folder_id": _yc_ids("b1g"),
    "registry_id": _yc_ids("crp"),
    "repository_name": _REPOSITORY_NAMES,
    "repository_id": _yc_ids("crp"),
    "lifecycle_policy_id": _yc_ids("crp"),
    "dry_run_lifecycle_policy_result_id": _yc_ids("crp"),
    "image_id": _yc_ids("crp"),
}


def _oneof(request_type: str, field: str) -> str | None:
    oneof = message_class(request_type).DESCRIPTOR.fields_by_name[field].containing_oneof
    return oneof.name if oneof is not None else None


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
    enums = {field: message_class(request_type).DESCRIPTOR.fields_by_name[field].enum_type for field in spec.matching}
    breakable = ["scope", "page_size", "page_token", "filter", *(f"{field}:enum" for field in spec.matching)]
    breakable += [f"{field}:length" for field in fields if rules[field][0] is not None]
    breakable += [f"{field}:pattern" for field in fields if rules[field][1] is not None]
    breakable += ["order_by"] if spec.has_order_by else []

    @st.composite
    def build(draw) -> dict:
        request: dict = {}
        chosen = draw(st.sampled_from(primary))
        request[chosen] = draw(sources[chosen])
        for field in fields[fields.index(chosen) + 1 :]:  # ignored beside a higher-precedence one
            if _oneof(request_type, field) is not None and _oneof(request_type, field) == _oneof(request_type, chosen):
                continue  # a oneof's other field: setting it would unset the chosen one
            if sources[field] is not None and draw(st.integers(0, 2)) == 0:
                request[field] = draw(sources[field])
        if draw(st.booleans()):
            request[spec.filter_field] = draw(filter_strategy)
        for field, enum in enums.items():  # a repeated enum a record must match one of (empty: any)
            if draw(st.integers(0, 2)) == 0:
                defined = [value.number for value in enum.values if value.number]
                request[field] = draw(st.lists(st.sampled_from(defined), max_size=3, unique=True))
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
                request[spec.filter_field] = draw(bad_filters)
            elif rule == "enum":  # a number the enum does not define, among defined ones
                defined = [value.number for value in enums[field].values]
                undefined = draw(
                    st.integers(-(2**31), 2**31 - 1).filter(lambda number, defined=defined: number not in defined)
                )
                request[field] = [*request.get(field, []), undefined]
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


def list_cloud_registries_requests(*, valid=True, folder_ids=(), registry_names=()):
    """Cloud Registry's RegistryService/List requests: a ``folder_id`` (from ``folder_ids`` if
    given), ``name_filter`` on ``name`` (values from ``registry_names`` and drawn ones), ``kind``,
    ``type`` and ``status`` lists, page sizes. This List has no order_by."""
    method = "cloudregistry.RegistryService/List"
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


def list_lifecycle_policies_requests(*, valid=True, registry_ids=(), repository_ids=(), policy_names=()):
    """LifecyclePolicyService/List requests by ``registry_id`` or ``repository_id`` (exactly one),
    filters on the policy ``name`` (values from ``policy_names`` and drawn ones), orders by
    ``id``, ``name``, ``created_at`` and ``status``, page sizes."""
    method = "LifecyclePolicyService/List"
    pools = {
        "registry_id": _scope_pool(registry_ids, "registry_ids", method, "registry_id"),
        "repository_id": _scope_pool(repository_ids, "repository_ids", method, "repository_id"),
    }
    return _list_requests(method, valid, pools, _filter_values(_LISTS[method][1].filter, policy_names))


def list_dry_run_results_requests(*, valid=True, lifecycle_policy_ids=(), policy_names=()):
    """LifecyclePolicyService/ListDryRunResults requests of a ``lifecycle_policy_id``, filters on
    the policy's ``name``, orders by ``id``, ``run_at`` and ``affected_images_count``."""
    method = "LifecyclePolicyService/ListDryRunResults"
    pools = {
        "lifecycle_policy_id": _scope_pool(lifecycle_policy_ids, "lifecycle_policy_ids", method, "lifecycle_policy_id")
    }
    return _list_requests(method, valid, pools, _filter_values(_LISTS[method][1].filter, policy_names))


def list_affected_images_requests(*, valid=True, dry_run_lifecycle_policy_result_ids=(), repository_names=()):
    """LifecyclePolicyService/ListDryRunResultAffectedImages requests of a dry run's result, filters
    on the images' ``name``, orders by ``id``, ``name`` and ``created_at``."""
    method = "LifecyclePolicyService/ListDryRunResultAffectedImages"
    field = "dry_run_lifecycle_policy_result_id"
    pools = {field: _scope_pool(dry_run_lifecycle_policy_result_ids, f"{field}s", method, field)}
    return _list_requests(method, valid, pools, _filter_values(_LISTS[method][1].filter, repository_names))


def list_scan_results_requests(*, valid=True, image_ids=(), repository_ids=()):
    """ScannerService/List requests by ``image_id`` or ``repository_id`` (exactly one), filters on
    ``status`` (RUNNING, READY, ERROR), orders by ``id`` and ``status`` (most critical first)."""
    method = "ScannerService/List"
    pools = {
        "image_id": _scope_pool(image_ids, "image_ids", method, "image_id"),
        "repository_id": _scope_pool(repository_ids, "repository_ids", method, "repository_id"),
    }
    return _list_requests(method, valid, pools, ())


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
_GET_POOLS |= {  # Cloud Registry's own pools (a field of the same name in Container Registry's is another's)
    "cloudregistry.RegistryService/Get": "cloud_registry_ids",
    "cloudregistry.LifecyclePolicyService/Get": "cloud_lifecycle_policy_ids",
    "cloudregistry.LifecyclePolicyService/GetDryRunResult": "cloud_dry_run_ids",
    "cloudregistry.ScannerService/Get": "cloud_scan_result_ids",
    "cloudregistry.ScanPolicyService/Get": "cloud_scan_policy_ids",
}


def _from_seed(builder, **pools: str):
    """A List's requests from a seed: each keyword of ``builder`` takes the seed's values named so."""
    return lambda values, valid: builder(valid=valid, **{argument: values[pool] for argument, pool in pools.items()})


# How each List's requests are drawn from what a seed holds. A List the catalogue declares must have
# its entry here: tests/test_catalogue.py fails until it does (a new List is never drawn silently wrong).
_SEEDED_LISTS = {
    "ImageService/List": _from_seed(
        list_images_requests, folder_ids="folder_ids", registry_ids="registry_ids", repository_names="repository_names"
    ),
    "RegistryService/List": _from_seed(
        list_registries_requests, folder_ids="folder_ids", registry_names="registry_names"
    ),
    "cloudregistry.RegistryService/List": _from_seed(
        list_cloud_registries_requests, folder_ids="cloud_folder_ids", registry_names="cloud_registry_names"
    ),
    "RepositoryService/List": _from_seed(
        list_repositories_requests,
        folder_ids="folder_ids",
        registry_ids="registry_ids",
        repository_names="repository_names",
    ),
    "LifecyclePolicyService/List": _from_seed(
        list_lifecycle_policies_requests,
        registry_ids="registry_ids",
        repository_ids="repository_ids",
        policy_names="lifecycle_policy_names",
    ),
    "ScannerService/List": _from_seed(
        list_scan_results_requests, image_ids="scanned_image_ids", repository_ids="scanned_repository_ids"
    ),
    "LifecyclePolicyService/ListDryRunResults": _from_seed(
        list_dry_run_results_requests,
        lifecycle_policy_ids="lifecycle_policy_ids",
        policy_names="lifecycle_policy_names",
    ),
    "LifecyclePolicyService/ListDryRunResultAffectedImages": _from_seed(
        list_affected_images_requests,
        dry_run_lifecycle_policy_result_ids="dry_run_lifecycle_policy_result_ids",
        repository_names="repository_names",
    ),
}


def requests_for(seed: Mapping, method: str, *, valid: bool = True):
    """Requests of any List or Get method about what ``seed`` holds (scopes, filter values and
    ids from ``scope_values(seed)``), so that against an emulator loaded with it every valid one
    is answered OK (a Get of an id the seed does not name: NOT_FOUND, when it names none; a Get
    of a resource seeds cannot hold draws well-formed ids)."""
    from emulator.contract.strategies.cloud import BUILDERS  # it builds on this module's parts

    values = scope_values(seed)
    key = _key(method)
    if key in _GETS:
        return get_requests(key, valid=valid, ids=values.get(_GET_POOLS[key], ()))
    if key in BUILDERS:  # Cloud Registry's Lists paged by position
        builder, pools = BUILDERS[key]
        return builder(valid=valid, **{argument: values[pool] for argument, pool in pools.items()})
    key = _method(method, _LISTS)
    if key not in _SEEDED_LISTS:
        raise ValueError(f"{method!r}: no way to draw its requests from a seed yet (see _SEEDED_LISTS)")
    return _SEEDED_LISTS[key](values, valid)
