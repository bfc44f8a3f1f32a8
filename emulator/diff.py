"""``ycr-emulator diff A B``: send the same read-only requests to two Container Registry
endpoints and report every answer that differs.

Typically A is an emulator seeded from a snapshot of B, and B is the real registry: every
difference is then a place where the emulator is wrong (or B changed since the snapshot).
Requests are drawn with hypothesis from the strategies in ``emulator.strategies``, valid and
invalid, over the values both targets hold in the scope given (``--folder-id`` or
``--registry-id``); ``--seed`` makes the run reproducible, ``--examples`` and ``--max-seconds``
bound it. Only the List and Get methods in ``READ_METHODS`` are ever called.

What is compared: the status code; when both answer OK, the whole result (every field of every
resource, timestamps exactly), a List's pages followed on each side with that side's own page
tokens and concatenated. What is not: error messages (wording is not part of the contract),
page tokens (opaque), how many pages a List took, and the order of resources wherever the
request leaves it undefined (see ``order_key``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, TextIO

import grpc
from google.protobuf.message import Message

from emulator.client import SERVICES, ClientError, RegistryClient, add_client_arguments, client_options
from emulator.wire import POOL

PROG = "ycr-emulator diff"
# Every method this tool can call, besides what RegistryClient itself sends to reach an endpoint
# (ApiEndpointService/List, and IamTokenService/Create for an OAuth token). All List or Get:
# send() refuses anything else, so the tool cannot change either target.
READ_METHODS = frozenset(
    {
        "ImageService/List",
        "ImageService/Get",
        "RegistryService/List",
        "RegistryService/Get",
        "RepositoryService/List",
        "RepositoryService/Get",
        "RepositoryService/GetByName",
        "OperationService/Get",
    }
)
# The repeated field of each List's response, and the name of one of its resources.
LISTED = {"ImageService/List": "images", "RegistryService/List": "registries", "RepositoryService/List": "repositories"}
SINGULAR = {"images": "image", "registries": "registry", "repositories": "repository"}
GOTTEN = {
    "ImageService/Get": "image",
    "RegistryService/Get": "registry",
    "RepositoryService/Get": "repository",
    "RepositoryService/GetByName": "repository",
    "OperationService/Get": "operation",
}
# The sort fields of each List whose value a listed resource shows, as a comparable value.
# Image has no last_modified field, so an order by it cannot be checked beyond what precedes it.
OBSERVABLE_ORDER_FIELDS: dict[str, dict[str, Callable[[Message], Any]]] = {
    "ImageService/List": {
        "id": lambda image: image.id,
        "name": lambda image: image.name,
        "digest": lambda image: image.digest,
        "created_at": lambda image: (image.created_at.seconds, image.created_at.nanos),
    },
    "RepositoryService/List": {"id": lambda repository: repository.id, "name": lambda repository: repository.name},
    "RegistryService/List": {},  # no order_by: the order is not defined
}
MAX_PAGES = 50  # pages followed per List and side; beyond it only the common prefix is compared
DISCOVERY_PAGES = 10  # pages of 1,000 read per List while discovering the scope's values
SHOWN_IDS = 1  # ids named in a List's summary


class UsageError(ValueError):
    """Bad flags, or a setup that cannot run (a target that cannot be reached or listed)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


class _TimeUp(Exception):
    """Raised inside the hypothesis run when --max-seconds is spent: ends the run, not a failure."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog=PROG,
        description="Send the same List/Get requests (drawn with hypothesis, valid and invalid) to two Container "
        "Registry endpoints and report every difference in status code or result. Read-only.",
        epilog="Exit status: 0 no difference, 1 differences found, 2 bad usage or a target that cannot be reached.",
    )
    parser.add_argument("a", metavar="A", help="the first endpoint, HOST:PORT (e.g. an emulator seeded from B)")
    parser.add_argument("b", metavar="B", help="the second endpoint, HOST:PORT (e.g. api.cloud.yandex.net:443)")
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--folder-id", metavar="F", help="compare this folder: its registries and everything in them")
    scope.add_argument("--registry-id", metavar="R", help="compare this registry (no folder-wide Lists)")
    parser.add_argument("--examples", type=int, default=200, metavar="N", help="requests to draw (default: 200)")
    parser.add_argument("--seed", type=int, metavar="S", help="hypothesis seed; the same seed draws the same requests")
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, metavar="T", help="stop drawing after T seconds (default: 60)"
    )
    parser.add_argument("--verbose", action="store_true", help="list every request and both codes on stderr")
    add_client_arguments(parser)
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error(f"--examples: must be at least 1, got {args.examples}")
    if not args.max_seconds > 0:
        parser.error(f"--max-seconds: must be more than 0, got {args.max_seconds}")
    if args.seed is not None and not 0 <= args.seed < 2**64:
        parser.error(f"--seed: must be between 0 and 2^64-1, got {args.seed}")
    return args


# Sending ---------------------------------------------------------------------------------


def send(client: RegistryClient, method: str, request: Message) -> Message:
    """The only way this module calls a target: a List or Get, nothing else."""
    if method not in READ_METHODS:
        raise ValueError(f"{method}: not a read-only method this tool may call")
    return client.call(method, request)


@dataclass(frozen=True)
class Answer:
    """One target's answer to one request. A List's ``resources`` are its pages concatenated;
    ``failed_page`` says which page's call failed (1 for the request itself)."""

    code: str
    resources: tuple[Message, ...] = ()
    failed_page: int = 0
    first_page: int = 0  # resources on the first page
    truncated: bool = False  # MAX_PAGES were read and the List said there were more


def answer(client: RegistryClient, method: str, request: Message) -> Answer:
    request, original = type(request)(), request
    request.CopyFrom(original)  # this side's copy: paging changes its page_token
    listed = LISTED.get(method)
    try:
        response = send(client, method, request)
    except grpc.RpcError as error:
        return Answer(error.code().name, failed_page=1)
    if listed is None:
        return Answer("OK", (response,))
    resources, first_page = list(getattr(response, listed)), len(getattr(response, listed))
    for page in range(2, MAX_PAGES + 1):
        if not response.next_page_token:
            return Answer("OK", tuple(resources), first_page=first_page)
        request.page_token = response.next_page_token  # this side's own token, to this side
        try:
            response = send(client, method, request)
        except grpc.RpcError as error:
            return Answer(error.code().name, tuple(resources), failed_page=page, first_page=first_page)
        resources += getattr(response, listed)
    return Answer("OK", tuple(resources), first_page=first_page, truncated=bool(response.next_page_token))


# Comparing -------------------------------------------------------------------------------


def order_key(method: str, order_by: str) -> Callable[[Message], tuple]:
    """The part of a List's order both targets must agree on, as a key of each resource.

    Resources with equal keys may come in any order: the emulator breaks ties by id, and
    nothing says production does. So the key holds the order_by fields up to the first one
    that is unique (``id``) or that a resource does not show (``last_modified``): an empty
    order_by (the default order is not documented), a RegistryService.List (no order_by) or an
    order by ``last_modified`` gives the empty key, and the List is compared as a multiset; an
    order by ``name`` compares the sequence of names and, within one name, the set of images.
    Only requests both targets answered OK get here, so the text is a valid order."""
    fields = OBSERVABLE_ORDER_FIELDS[method]
    chosen = []
    for item in order_by.split(","):
        words = item.split()
        if not words or words[0] not in fields:
            break
        chosen.append(fields[words[0]])
        if words[0] == "id":
            break
    return lambda resource: tuple(get(resource) for get in chosen)


def canonical(resources: Iterable[Message], key: Callable[[Message], tuple]) -> list[Message]:
    """The resources with each run of equal keys sorted by id (then bytes): two answers that
    differ only in the order of ties become equal."""
    runs: list[tuple[tuple, list[Message]]] = []
    for resource in resources:
        value = key(resource)
        if runs and runs[-1][0] == value:
            runs[-1][1].append(resource)
        else:
            runs.append((value, [resource]))
    return [
        resource
        for _, run in runs
        for resource in sorted(run, key=lambda message: (message.id, message.SerializeToString(deterministic=True)))
    ]


def _before_last_runs(resources: list[Message], keys: set[tuple], key: Callable[[Message], tuple]) -> list[Message]:
    end = len(resources)
    while end and key(resources[end - 1]) in keys:
        end -= 1
    return resources[:end]


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_difference(a: Message, b: Message, path: str = "") -> str | None:
    """The first field (in .proto order) where two messages of one type differ, as
    ``path: A's value != B's value``; None when they are equal."""
    if a == b:
        return None
    for descriptor in a.DESCRIPTOR.fields:
        name = f"{path}{descriptor.name}"
        left, right = getattr(a, descriptor.name), getattr(b, descriptor.name)
        if left == right:
            continue
        if descriptor.message_type is not None and descriptor.message_type.GetOptions().map_entry:
            return f"{name}: {_short(dict(left))} != {_short(dict(right))}"
        if descriptor.is_repeated:
            if descriptor.message_type is not None and len(left) == len(right):
                for index, (one, other) in enumerate(zip(left, right, strict=True)):
                    found = field_difference(one, other, f"{name}[{index}].")
                    if found:
                        return found
            return f"{name}: {_short(list(left))} != {_short(list(right))}"
        if descriptor.message_type is not None:
            return field_difference(left, right, f"{name}.")
        return f"{name}: {_short(left)} != {_short(right)}"
    return "unknown fields differ"


def _ids(counter: Counter) -> str:
    names = sorted(counter)
    return ", ".join(names[:SHOWN_IDS]) + (f" (+{len(names) - SHOWN_IDS})" if len(names) > SHOWN_IDS else "")


def list_difference(method: str, order_by: str, a: Answer, b: Answer) -> str | None:
    listed = LISTED[method]
    key = order_key(method, order_by)
    left, right = list(a.resources), list(b.resources)
    if a.truncated or b.truncated:  # compare the common prefix, less the (maybe cut) runs of ties at its end
        common = min(len(left), len(right))
        left, right = left[:common], right[:common]
        ends = {key(items[-1]) for items in (left, right) if items}
        left, right = _before_last_runs(left, ends, key), _before_last_runs(right, ends, key)
    left, right = canonical(left, key), canonical(right, key)
    if left != right:
        only_a = Counter(item.id for item in left) - Counter(item.id for item in right)
        only_b = Counter(item.id for item in right) - Counter(item.id for item in left)
        if only_a or only_b:
            parts = [f"only in A: {_ids(only_a)}" if only_a else "", f"only in B: {_ids(only_b)}" if only_b else ""]
            return "; ".join(part for part in parts if part)
        theirs = {item.id: item for item in right}
        for item in left:
            found = field_difference(item, theirs[item.id])
            if found:
                return f"{SINGULAR[listed]} {item.id}: {found}"
        position = next(index for index, (one, other) in enumerate(zip(left, right, strict=True)) if one != other)
        return f"order at {position + 1}: A {left[position].id}, B {right[position].id}"
    if a.first_page != b.first_page:
        return f"first page: {a.first_page} != {b.first_page} {listed}"
    return None


def difference(method: str, fields: dict, a: Answer, b: Answer) -> str | None:
    """What differs between the two answers, in a few words; None when they agree.
    Error answers agree when their codes (and the page that failed) do: messages are not compared."""
    if (a.code, a.failed_page) != (b.code, b.failed_page):
        return "status code"
    if a.code != "OK":
        return None
    if method in LISTED:
        return list_difference(method, fields.get("order_by", ""), a, b)
    return field_difference(a.resources[0], b.resources[0])


# Rendering -------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z0-9_./:@-]+")


def render_request(method: str, fields: dict) -> str:
    """``Service/Method field=value ...``: set fields only, in .proto order, strings quoted unless plain."""
    service, _, name = method.partition("/")
    order = [f.name for f in POOL.FindServiceByName(SERVICES[service][0]).FindMethodByName(name).input_type.fields]
    parts = [method]
    for field_name in sorted(fields, key=lambda given: order.index(given) if given in order else len(order)):
        value = fields[field_name]
        if value in ("", 0, None):
            continue
        text = value if isinstance(value, str) and _PLAIN.fullmatch(value) else json.dumps(value)
        parts.append(f"{field_name}={text}")
    return " ".join(parts)


def summary(method: str, result: Answer) -> str:
    if result.code != "OK":
        return result.code if result.failed_page <= 1 else f"{result.code} on page {result.failed_page}"
    if method not in LISTED:
        return f"{GOTTEN[method]} {result.resources[0].id}"
    ids = [resource.id for resource in result.resources]
    kind = LISTED[method] if len(ids) != 1 else SINGULAR[LISTED[method]]
    more = f", … (+{len(ids) - SHOWN_IDS})" if len(ids) > SHOWN_IDS else ""
    truncated = "+" if result.truncated else ""  # more pages than MAX_PAGES
    return f"{len(ids)}{truncated} {kind}" + (f": {', '.join(ids[:SHOWN_IDS])}{more}" if ids else "")


def _cell(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(rows: list[tuple[str, ...]], caps: tuple[int, ...]) -> list[str]:
    """Plain-text columns; each cell but the last cut to its column's cap (the last is never cut)."""
    rows = [tuple(_cell(cell, cap) for cell, cap in zip(row, caps, strict=False)) + row[len(caps) :] for row in rows]
    sizes = [max(len(row[column]) for row in rows) for column in range(len(caps))]
    return [
        "  ".join([*(cell.ljust(size) for cell, size in zip(row, sizes, strict=False)), *row[len(caps) :]])
        for row in rows
    ]


# Discovering the scope and drawing requests ----------------------------------------------


@dataclass
class Values:
    """What exists in the scope on either target: the values requests are drawn from."""

    folder_ids: set[str] = field(default_factory=set)
    registry_ids: set[str] = field(default_factory=set)
    registry_names: set[str] = field(default_factory=set)
    repository_names: set[str] = field(default_factory=set)
    repository_ids: set[str] = field(default_factory=set)
    image_ids: set[str] = field(default_factory=set)
    image_names: set[str] = field(default_factory=set)

    def sorted(self, name: str) -> tuple[str, ...]:
        return tuple(sorted(getattr(self, name)))


def _listed(client: RegistryClient, side: str, method: str, **fields) -> list[Message]:
    """Up to DISCOVERY_PAGES pages of a List; [] if its scope is NOT_FOUND on this side."""
    resources: list[Message] = []
    request = client.request(method, page_size=1000, **fields)
    for _ in range(DISCOVERY_PAGES):
        try:
            response = send(client, method, request)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return resources
            raise UsageError(_setup_failure(client, side, method, fields, error)) from None
        resources += getattr(response, LISTED[method])
        if not response.next_page_token:
            break
        request.page_token = response.next_page_token
    return resources


def _registry(client: RegistryClient, side: str, registry_id: str) -> list[Message]:
    """The registry, or [] if it is NOT_FOUND on this side."""
    try:
        return [send(client, "RegistryService/Get", client.request("RegistryService/Get", registry_id=registry_id))]
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return []
        raise UsageError(_setup_failure(client, side, "RegistryService/Get", {"registry_id": registry_id}, error))


def _setup_failure(client: RegistryClient, side: str, method: str, fields: dict, error: grpc.RpcError) -> str:
    details = " ".join((error.details() or "").split())[:200]
    return f"{side} ({client.endpoint}): {render_request(method, fields)}: {error.code().name}" + (
        f": {details}" if details else ""
    )


def discover(clients: dict[str, RegistryClient], folder_id: str | None, registry_id: str | None) -> Values:
    """The union of the scope's values on both sides. NOT_FOUND on one side contributes nothing
    (that difference shows in the answers); any other error means the run cannot start."""
    values = Values(folder_ids={folder_id} if folder_id is not None else set())
    for side, client in clients.items():
        if folder_id is not None:
            registries = _listed(client, side, "RegistryService/List", folder_id=folder_id)
        else:
            registries = _registry(client, side, registry_id)
        for registry in registries:
            values.registry_ids.add(registry.id)
            if registry.name:
                values.registry_names.add(registry.name)
    if registry_id is not None and not values.registry_ids:
        raise UsageError(f"registry {registry_id}: NOT_FOUND on both A and B")
    for side, client in clients.items():
        for known in sorted(values.registry_ids):
            for repository in _listed(client, side, "RepositoryService/List", registry_id=known):
                values.repository_names.add(repository.name)
                values.repository_ids.add(repository.id)
            for image in _listed(client, side, "ImageService/List", registry_id=known):
                values.image_ids.add(image.id)
                values.image_names.add(image.name)
                values.repository_names.add(image.name)
    return values


@dataclass(frozen=True)
class Branch:
    """One kind of request, drawn by its own hypothesis run: a method, valid or invalid, over the
    scope's values (``known``) or over values no target holds (unknown ids, other folders)."""

    method: str
    variant: str  # "known", "invalid" or "unknown"
    weight: int  # its share of --examples
    strategy: Any  # draws request field dicts


# Lists vary more (scope, filter, order, page size) than Gets (one id), so they get more draws.
WEIGHTS = {("List", "known"): 4, ("List", "invalid"): 2, ("List", "unknown"): 1}
WEIGHTS |= {("Get", "known"): 2, ("Get", "invalid"): 1, ("Get", "unknown"): 1}


def branches(values: Values, folder_wide: bool) -> list[Branch]:
    """Every List and Get, each valid over the scope's values, invalid, and valid over unknown
    values. Without --folder-id no folder-wide List is drawn (the other side may hold more of
    the folder than the one registry compared). OperationService/Get has unknown ids only: no
    List finds operations."""
    from emulator import strategies

    folders = values.sorted("folder_ids") if folder_wide else ()
    registry_ids, repository_names = values.sorted("registry_ids"), values.sorted("repository_names")

    def lists(method: str, known: bool, valid: bool = True):
        if method == "RegistryService/List":
            scope = {"folder_ids": folders, "registry_names": values.sorted("registry_names")}
            return strategies.list_registries_requests(valid=valid, **(scope if known else {}))
        scope = {"folder_ids": folders, "registry_ids": registry_ids, "repository_names": repository_names}
        if method == "RepositoryService/List":
            return strategies.list_repositories_requests(valid=valid, **(scope if known else {}))
        scope["image_names"] = values.sorted("image_names")
        return strategies.list_images_requests(valid=valid, **(scope if known else {}))

    found = []
    for method in ("ImageService/List", "RepositoryService/List", "RegistryService/List"):
        if method == "RegistryService/List" and not folder_wide:
            continue
        found += [
            Branch(method, "known", WEIGHTS["List", "known"], lists(method, known=True)),
            Branch(method, "invalid", WEIGHTS["List", "invalid"], lists(method, known=True, valid=False)),
            Branch(method, "unknown", WEIGHTS["List", "unknown"], lists(method, known=False)),
        ]
    gets = {
        "ImageService/Get": values.sorted("image_ids"),
        "RegistryService/Get": registry_ids,
        "RepositoryService/Get": values.sorted("repository_ids"),
        "RepositoryService/GetByName": repository_names,
        "OperationService/Get": (),
    }
    for method, ids in gets.items():
        if ids:
            found.append(Branch(method, "known", WEIGHTS["Get", "known"], strategies.get_requests(method, ids=ids)))
        found.append(
            Branch(method, "invalid", WEIGHTS["Get", "invalid"], strategies.get_requests(method, valid=False, ids=ids))
        )
        found.append(Branch(method, "unknown", WEIGHTS["Get", "unknown"], strategies.get_requests(method)))
    return found


def shares(weights: list[int], total: int) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders first, ties to the first)."""
    exact = [total * weight / sum(weights) for weight in weights]
    counts = [int(share) for share in exact]
    for index in sorted(range(len(weights)), key=lambda index: counts[index] - exact[index])[: total - sum(counts)]:
        counts[index] += 1
    return counts


def draw_requests(strategy, handle: Callable[[dict], None], *, examples: int, seed: int, deadline: float) -> None:
    """Runs hypothesis over ``strategy``, handing each drawn request to ``handle`` (which sends
    it), until ``examples`` were drawn, the strategy ran out of distinct values, or ``deadline``
    (time.monotonic) passed. Nothing fails or shrinks: an example is a request to record, never
    a test to pass. The same seed draws the same requests (no example database, no
    time-dependent health checks or deadlines)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as with_seed

    @with_seed(seed)
    @settings(
        max_examples=examples,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(strategy)
    def run(request):
        if time.monotonic() > deadline:
            raise _TimeUp  # hypothesis replays it once, which raises again at once
        handle(request)

    try:
        run()
    except _TimeUp:
        pass


@dataclass
class Row:
    """A request whose answers differ."""

    method: str
    fields: dict
    a: Answer
    b: Answer
    where: str


def compare(
    clients: dict[str, RegistryClient], values: Values, args: argparse.Namespace, seed: int, log: TextIO
) -> tuple[int, list[Row]]:
    """Draws the requests and sends each to both targets; how many were sent, and the rows that differ."""
    sent: set[str] = set()
    differences: list[Row] = []

    def one(method: str, fields: dict) -> None:
        identity = json.dumps([method, fields], sort_keys=True, default=repr)
        if identity in sent:
            return  # hypothesis may draw one request twice: send it once
        try:
            request = clients["A"].request(method, **fields)
        except (TypeError, ValueError) as error:  # a value protobuf cannot carry: nothing to compare
            if args.verbose:
                print(f"{render_request(method, fields)}  not sent: {error}", file=log)
            return
        sent.add(identity)
        a, b = answer(clients["A"], method, request), answer(clients["B"], method, request)
        where = difference(method, fields, a, b)
        if args.verbose:
            print(f"{render_request(method, fields)}  A: {a.code}  B: {b.code}{'  DIFFERS' if where else ''}", file=log)
        if where:
            differences.append(Row(method, fields, a, b, where))

    try:
        drawn = branches(values, folder_wide=args.folder_id is not None)
    except ValueError as error:  # a value found in the scope that no valid request may carry
        raise UsageError(f"the scope's values cannot be drawn from: {error}") from None
    end = time.monotonic() + args.max_seconds
    counts = shares([branch.weight for branch in drawn], args.examples)
    for index, (branch, count) in enumerate(zip(drawn, counts, strict=True)):
        if count:  # each branch may use its share of the time left, so every one gets drawn
            deadline = time.monotonic() + (end - time.monotonic()) / (len(drawn) - index)
            draw_requests(
                branch.strategy, lambda fields, method=branch.method: one(method, fields), examples=count,
                seed=seed, deadline=deadline,
            )  # fmt: skip
    return len(sent), differences


def report(rows: list[Row], sent: int, seed: int, endpoints: tuple[str, str], out: TextIO) -> None:
    if rows:
        print(f"A = {endpoints[0]}, B = {endpoints[1]}", file=out)
        lines = [("#", "request", "A", "B", "difference")]
        lines += [
            (
                str(n),
                render_request(row.method, row.fields),
                summary(row.method, row.a),
                summary(row.method, row.b),
                row.where,
            )
            for n, row in enumerate(rows, 1)
        ]
        for line in table(lines, (4, 100, 48, 48)):
            print(line, file=out)
    print(f"{sent} requests, {len(rows)} differences (seed {seed})", file=out)


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """0: no difference; 1: differences (the table on stdout); 2: bad usage or setup (one line on stderr)."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        try:
            args = parse_args(argv)
        except SystemExit as done:  # --help
            return int(done.code or 0)
        try:
            import hypothesis  # noqa: F401  (the contract extra; checked before any target is reached)
        except ImportError:
            raise UsageError("needs hypothesis: pip install 'ycr-emulator[contract]'") from None
        options = client_options(args)
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
        with ExitStack() as stack:
            clients = {}
            for side, endpoint in (("A", args.a), ("B", args.b)):
                try:
                    clients[side] = stack.enter_context(RegistryClient(endpoint, **options))
                except grpc.RpcError as error:  # an OAuth token the endpoint would not exchange
                    raise UsageError(f"{side} ({endpoint}): token exchange: {error.code().name}") from None
            values = discover(clients, args.folder_id, args.registry_id)
            sent, rows = compare(clients, values, args, seed, err)
    except (UsageError, ClientError) as error:
        print(f"{PROG}: {' '.join(str(error).split())}", file=err)  # one line, whatever the error holds
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=err)
        return 130
    report(rows, sent, seed, (args.a, args.b), out)
    return 1 if rows else 0
