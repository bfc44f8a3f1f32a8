"""``ycr-emulator diff A B``: send the same read-only requests to two Container Registry
endpoints and report every answer that differs.

Typically A is an emulator seeded from a snapshot of B, and B is the real registry: every
difference is then a place where the emulator is wrong (or B changed since the snapshot).
Requests are drawn with hypothesis from the strategies in ``emulator.contract.strategies``, valid and
invalid, over the values both targets hold in the scope given (``--folder-id`` or
``--registry-id``; with the latter no request carries a folder_id at all); ``--seed`` makes the
run reproducible, ``--examples`` and ``--max-seconds`` bound it. Only the List and Get methods in
``READ_METHODS`` are ever called. The count printed is of distinct requests sent to both sides
(hypothesis may draw one twice, and may stop short of ``--examples``).

What is compared: the status code; when both answer OK, the whole result (every field of every
resource, timestamps exactly), a List's pages followed on each side with that side's own page
tokens and concatenated. What is not: error messages (wording is not part of the contract),
page tokens (opaque), how many pages a List took, and the order of resources wherever the
request leaves it undefined (see ``order_of``): an order that names the unique ``id`` defines
the whole sequence; any other leaves ties (as far as the resource shows them) in any order.

Lists are followed for at most MAX_PAGES pages or MAX_RESOURCES resources a side, with the page
size drawn. Past that bound a List is compared over what the pages read settle: one side ending
while the other has more is a difference; otherwise the List counts as "compared in part", or
"not compared" when nothing could be (an order with no visible field, both sides cut): never as
agreement. A difference keeps only its printed text; the first MAX_ROWS are printed, the rest
counted. Nothing sent, or no registry in the scope on either side, is exit 2: comparing nothing
proves nothing.

Two emulators started from one seed file agree only if the seed pins every id (a snapshot
does): the demo data, and seeds without repository or blob ids, get random ones at each start,
which every List and Get that shows them reports as differences.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

import grpc
from google.protobuf.message import Message

from emulator.api.values import lone_surrogate
from emulator.api.wire import message_class
from emulator.contract.client import ClientError, RegistryClient, add_client_arguments, client_options
from emulator.contract.comparison import (
    ALL,
    GOTTEN,
    LISTED,
    NONE,
    PART,
    SHOWN_IDS,
    SINGULAR,
    Answer,
    Verdict,
    judge,
    status_text,
)
from emulator.rpc.services import CATALOGUE
from emulator.state.images import IMAGE_ORDERS

PROG = "ycr-emulator diff"
# Every method this tool can call, besides what RegistryClient itself sends to reach an endpoint
# (ApiEndpointService/List, and IamTokenService/Create for an OAuth token): the catalogue's Lists and
# Gets, all reads. send() refuses anything else, so the tool cannot change either target.
READ_METHODS = frozenset(method.short for method in (*CATALOGUE.lists, *CATALOGUE.gets) if method.read)
MAX_PAGES = 50  # pages followed per List and side, with the page size drawn
MAX_RESOURCES = 10_000  # resources read per List and side (a bound on memory with big pages)
MAX_ROWS = 1_000  # differences kept for the report; later ones are only counted
DISCOVERY_PAGES = 10  # pages of 1,000 read per List while discovering the scope's values
SHOWN_ONLY = 10  # ids named per side in the closing "only in" summary
BROKEN_PIPE = 141  # the exit status when stdout is closed (128 + SIGPIPE, as a shell reports a killed reader)
INTERRUPTED = 130  # 128 + SIGINT


class UsageError(ValueError):
    """Bad flags, or a setup that cannot run (a target that cannot be reached or listed)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


class _TimeUp(Exception):
    """Raised inside the hypothesis run when --max-seconds is spent: ends the run, not a failure."""


class Interrupted(Exception):
    """Ctrl-C was pressed: raised before the next call, so the run stops between requests."""


_INTERRUPTED = threading.Event()


def _on_sigint(signum, frame) -> None:
    """Only set a flag: Python's default handler raises KeyboardInterrupt wherever the main thread
    is, and raised inside a gc callback (Hypothesis has one) it is printed and dropped. A second
    Ctrl-C stops at once."""
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt
    _INTERRUPTED.set()


def _check_interrupted() -> None:
    if _INTERRUPTED.is_set():
        raise Interrupted


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT sets _INTERRUPTED for the duration (main thread only: signals go nowhere else)."""
    _INTERRUPTED.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _not_text(value: str) -> bool:
    """A command-line argument that was not UTF-8 reaches Python as lone surrogates (PEP 383)."""
    return lone_surrogate(value) is not None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog=PROG,
        description="Send the same List/Get requests (drawn with hypothesis, valid and invalid) to two Container "
        "Registry endpoints and report every difference in status code or result. Read-only.",
        epilog="Exit status: 0 no difference, 1 differences found, 2 bad usage, a target that cannot be reached, "
        "nothing sent or nothing in the scope; 130 interrupted; 141 stdout closed.",
    )
    parser.add_argument("a", metavar="A", help="the first endpoint, HOST:PORT (e.g. an emulator seeded from B)")
    parser.add_argument("b", metavar="B", help="the second endpoint, HOST:PORT (e.g. api.cloud.yandex.net:443)")
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--folder-id", metavar="F", help="compare this folder: its registries and everything in them")
    scope.add_argument("--registry-id", metavar="R", help="compare this registry (no request carries a folder_id)")
    parser.add_argument("--examples", type=int, default=200, metavar="N", help="requests to draw (default: 200)")
    parser.add_argument("--seed", type=int, metavar="S", help="hypothesis seed; the same seed draws the same requests")
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, metavar="T", help="stop drawing after T seconds (default: 60)"
    )
    parser.add_argument("--verbose", action="store_true", help="list every request and both codes on stderr")
    add_client_arguments(parser)
    args = parser.parse_args(argv)
    texts = {"A": args.a, "B": args.b, "--folder-id": args.folder_id, "--registry-id": args.registry_id}
    for flag, value in texts.items():
        if value is not None and _not_text(value):
            parser.error(f"{flag}: not UTF-8 text: {os.fsencode(value)!r}")
    if args.examples < 1:
        parser.error(f"--examples: must be at least 1, got {args.examples}")
    if not args.max_seconds > 0:
        parser.error(f"--max-seconds: must be more than 0, got {args.max_seconds}")
    if args.seed is not None and not 0 <= args.seed < 2**64:
        parser.error(f"--seed: must be between 0 and 2^64-1, got {args.seed}")
    return args


# Sending ---------------------------------------------------------------------------------


def send(client: RegistryClient, method: str, request: Message) -> Message:
    """The only way this module calls a target: a List or Get, nothing else (and nothing once
    Ctrl-C was pressed)."""
    if method not in READ_METHODS:
        raise ValueError(f"{method}: not a read-only method this tool may call")
    _check_interrupted()
    return client.call(method, request)


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
    resources, first_page, page = list(getattr(response, listed)), len(getattr(response, listed)), 1
    while response.next_page_token:
        if page == MAX_PAGES or len(resources) >= MAX_RESOURCES:
            return Answer("OK", tuple(resources), first_page=first_page, truncated=True)
        request.page_token, page = response.next_page_token, page + 1  # this side's own token, to this side
        try:
            response = send(client, method, request)
        except grpc.RpcError as error:
            return Answer(error.code().name, failed_page=page)
        resources += getattr(response, listed)
    return Answer("OK", tuple(resources), first_page=first_page)


# Rendering -------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z0-9_./:@-]+")


def render_request(method: str, fields: dict) -> str:
    """``Service/Method field=value ...``: set fields only, in .proto order, strings quoted unless
    plain (so the text is one line, whole, and two different requests never print alike)."""
    order = [field.name for field in message_class(CATALOGUE.method(method).request_type).DESCRIPTOR.fields]
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
        return status_text(result)
    if method not in LISTED:
        return f"{GOTTEN[method]} {result.resources[0].id}"
    ids = [resource.id for resource in result.resources]
    kind = LISTED[method] if len(ids) != 1 else SINGULAR[LISTED[method]]
    more = f", … (+{len(ids) - SHOWN_IDS})" if len(ids) > SHOWN_IDS else ""
    truncated = "+" if result.truncated else ""  # more than the pages read
    return f"{len(ids)}{truncated} {kind}" + (f": {', '.join(ids[:SHOWN_IDS])}{more}" if ids else "")


@dataclass(frozen=True)
class Row:
    """A request whose answers differ, as the report prints it (no answer is kept)."""

    request: str
    a: str
    b: str
    difference: str


@dataclass
class Tally:
    """What a run found: counts, the first MAX_ROWS differences, and the ids only one side
    lists with how many differing requests showed each."""

    sent: int = 0
    differences: int = 0
    partial: int = 0
    not_compared: int = 0
    rows: list[Row] = field(default_factory=list)
    only: dict[str, Counter] = field(default_factory=lambda: {"A": Counter(), "B": Counter()})

    def add(self, request: str, a: str, b: str, verdict: Verdict) -> None:
        self.sent += 1
        if verdict.difference is None:
            self.partial += verdict.extent == PART
            self.not_compared += verdict.extent == NONE
            return
        self.differences += 1
        if len(self.rows) < MAX_ROWS:
            self.rows.append(Row(request, a, b, verdict.difference))
        self.only["A"].update(verdict.only_a)
        self.only["B"].update(verdict.only_b)


def _requests(count: int) -> str:
    return f"{count} request" + ("s" if count != 1 else "")


def report(tally: Tally, seed: int, endpoints: tuple[str, str], out: TextIO) -> None:
    """One block per difference (the request whole on its own line, then each side's answer and
    the difference), the ids only one side lists, and the totals."""
    lines = []
    if tally.rows:
        lines += [f"A = {endpoints[0]}", f"B = {endpoints[1]}", ""]
        for number, row in enumerate(tally.rows, 1):
            lines += [
                f"#{number} {row.request}",
                f"   A: {row.a}",
                f"   B: {row.b}",
                f"   difference: {row.difference}",
                "",
            ]
        if tally.differences > len(tally.rows):
            hidden = tally.differences - len(tally.rows)
            lines += [f"… {hidden} more differences, not shown (the first {MAX_ROWS} are)", ""]
    if any(tally.only.values()):
        lines.append("Ids only one side lists (and how many differing requests showed each):")
        for side, counter in tally.only.items():
            ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
            lines += [f"  only in {side}: {found} ({_requests(count)})" for found, count in ranked[:SHOWN_ONLY]]
            if len(ranked) > SHOWN_ONLY:
                lines.append(f"  only in {side}: … {len(ranked) - SHOWN_ONLY} more ids")
        lines.append("")
    if tally.partial or tally.not_compared:
        lines.append(
            f"Lists past {MAX_PAGES} pages or {MAX_RESOURCES} resources on a side are compared over the pages read "
            "(in part), or not at all when those settle nothing (an order with no visible field)."
        )
    totals = [f"{tally.sent} requests", f"{tally.differences} differences"]
    totals += [f"{tally.partial} compared in part"] if tally.partial else []
    totals += [f"{tally.not_compared} not compared"] if tally.not_compared else []
    lines.append(f"{', '.join(totals)} (seed {seed})")
    for line in lines:
        print(line, file=out)


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
    (that difference shows in the answers); any other error means the run cannot start, and so
    does a scope with no registry on either side (two empty scopes agree, proving nothing)."""
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
    if not values.registry_ids:
        raise UsageError(f"folder {folder_id}: no registry on A or B, nothing to compare")
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
    variant: str  # "known", "ordered", "invalid" or "unknown"
    weight: int  # its share of --examples
    strategy: Any  # draws request field dicts


# Lists vary more (scope, filter, order, page size) than Gets (one id), so they get more draws.
WEIGHTS = {("List", "known"): 4, ("List", "ordered"): 2, ("List", "invalid"): 2, ("List", "unknown"): 1}
WEIGHTS |= {("Get", "known"): 2, ("Get", "invalid"): 1, ("Get", "unknown"): 1}


def _no_folder_id(request: dict) -> bool:
    return "folder_id" not in request


def branches(values: Values, folder_wide: bool) -> list[Branch]:
    """Every List and Get, each valid over the scope's values, invalid, and valid over unknown
    values. Without --folder-id no request carries a folder_id, valid or not, known or unknown
    (the other side may hold more of a folder than the one registry compared). OperationService/Get
    has unknown ids only: no List finds operations. ImageService/List also gets known requests in
    each field's order made total by the id (``last_modified desc, id desc``): an order by a field
    Image does not show (last_modified) can only be checked as an exact sequence, and the drawn
    orders put it before the id in about one request in eight."""
    from hypothesis import strategies as st

    from emulator.contract import strategies

    folders = values.sorted("folder_ids") if folder_wide else ()
    registry_ids, repository_names = values.sorted("registry_ids"), values.sorted("repository_names")

    def lists(method: str, known: bool, valid: bool = True):
        if method == "RegistryService/List":
            scope = {"folder_ids": folders, "registry_names": values.sorted("registry_names")}
            return strategies.list_registries_requests(valid=valid, **(scope if known else {}))
        scope = {"folder_ids": folders, "registry_ids": registry_ids, "repository_names": repository_names}
        if method == "RepositoryService/List":
            drawn = strategies.list_repositories_requests(valid=valid, **(scope if known else {}))
        else:
            scope["image_names"] = values.sorted("image_names")
            drawn = strategies.list_images_requests(valid=valid, **(scope if known else {}))
        return drawn if folder_wide else drawn.filter(_no_folder_id)

    def ordered(method: str):
        fields, direction = (
            st.sampled_from([name for name in IMAGE_ORDERS if name != "id"]),
            st.sampled_from(("", " desc")),
        )
        return st.tuples(lists(method, known=True), fields, direction).map(
            lambda drawn: {**drawn[0], "order_by": f"{drawn[1]}{drawn[2]}, id{drawn[2]}"}
        )

    found = []
    for method in ("ImageService/List", "RepositoryService/List", "RegistryService/List"):
        if method == "RegistryService/List" and not folder_wide:
            continue
        found.append(Branch(method, "known", WEIGHTS["List", "known"], lists(method, known=True)))
        if method == "ImageService/List":
            found.append(Branch(method, "ordered", WEIGHTS["List", "ordered"], ordered(method)))
        found += [
            Branch(method, "invalid", WEIGHTS["List", "invalid"], lists(method, known=True, valid=False)),
            Branch(method, "unknown", WEIGHTS["List", "unknown"], lists(method, known=False)),
        ]
    # Each Get of the catalogue, its ids from what was found (image_id: image_ids; operations are not discovered).
    gets = {
        method.short: values.sorted(f"{method.gets}s") if hasattr(values, f"{method.gets}s") else ()
        for method in CATALOGUE.gets
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
    time-dependent health checks or deadlines). Ctrl-C raises Interrupted out of it."""
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
        _check_interrupted()  # before anything: hypothesis replays a failing example once, and it raises again
        if time.monotonic() > deadline:
            raise _TimeUp  # likewise
        handle(request)

    try:
        run()
    except _TimeUp:
        pass


_MARKS = {ALL: "", PART: "  IN PART", NONE: "  NOT COMPARED"}  # --verbose's note on a request that agrees


def compare(
    clients: dict[str, RegistryClient], values: Values, args: argparse.Namespace, seed: int, log: TextIO
) -> Tally:
    """Draws the requests and sends each to both targets; what was found."""
    sent: set[str] = set()
    tally = Tally()

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
        verdict = judge(method, fields, a, b)
        text = render_request(method, fields)
        tally.add(text, summary(method, a), summary(method, b), verdict)
        if args.verbose:
            found = "  DIFFERS" if verdict.difference else _MARKS[verdict.extent]
            print(f"{text}  A: {a.code}  B: {b.code}{found}", file=log)

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
    _check_interrupted()
    return tally


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
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
        tally = compare(clients, values, args, seed, err)
    if tally.sent == 0:
        raise UsageError(f"no request was sent (--max-seconds {args.max_seconds:g} ran out before the first)")
    if tally.not_compared == tally.sent:
        raise UsageError(f"none of the {tally.sent} requests sent could be compared")
    report(tally, seed, (args.a, args.b), out)
    return 1 if tally.differences else 0


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """0: no difference; 1: differences (the report on stdout); 2: bad usage or setup, nothing
    sent, nothing in scope (one line on stderr); 130: Ctrl-C; 141: stdout closed (``| head``)."""
    out, err = out or sys.stdout, err or sys.stderr
    with _interruptible():
        try:
            try:
                args = parse_args(argv)
            except SystemExit as done:  # --help
                return int(done.code or 0)
            code = _run(args, out, err)
            out.flush()  # a closed stdout shows here, not at exit
            return code
        except (UsageError, ClientError) as error:
            print(f"{PROG}: {' '.join(str(error).split())}", file=err)  # one line, whatever the error holds
            return 2
        except (Interrupted, KeyboardInterrupt):
            print(f"{PROG}: interrupted", file=err)
            return INTERRUPTED
        except BrokenPipeError:  # the reader stopped reading (diff ... | head): nothing more to say
            if out is sys.stdout:  # and nothing to flush at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return BROKEN_PIPE
