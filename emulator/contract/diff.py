"""``ycr-emulator diff A B``: send the same read-only requests to two Container Registry and Cloud
Registry endpoints and report every answer that differs.

Typically A is an emulator seeded from a snapshot of B, and B is the real registry: every
difference is then a place where the emulator is wrong (or B changed since the snapshot).
Requests are drawn with hypothesis from the strategies in ``emulator.contract.strategies``, valid and
invalid, over the values both targets hold in the scope given (``--folder-id`` or
``--registry-id``; with the latter no request carries a folder_id at all); ``--random-seed`` makes the
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
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TextIO

import grpc

from emulator.api.values import lone_surrogate
from emulator.api.wire import resource_id
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
from emulator.contract.drawing import Values, branches, discover, draw_requests, shares, whole_lists
from emulator.contract.sending import (
    MAX_PAGES,
    MAX_RESOURCES,
    Interrupted,
    UsageError,
    _check_interrupted,
    _interruptible,
    answer,
    render_request,
)

PROG = "ycr-emulator diff"
MAX_ROWS = 1_000  # differences kept for the report; later ones are only counted
SHOWN_ONLY = 10  # ids named per side in the closing "only in" summary
BROKEN_PIPE = 141  # the exit status when stdout is closed (128 + SIGPIPE, as a shell reports a killed reader)
INTERRUPTED = 130  # 128 + SIGINT


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


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
    parser.add_argument(
        "--random-seed", type=int, metavar="S", help="hypothesis seed; the same seed draws the same requests"
    )
    parser.add_argument("--seed", help=argparse.SUPPRESS)  # a seed is data everywhere else: said, not taken
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, metavar="T", help="stop drawing after T seconds (default: 60)"
    )
    parser.add_argument("--verbose", action="store_true", help="list every request and both codes on stderr")
    add_client_arguments(parser)
    args = parser.parse_args(argv)
    if args.seed is not None:
        parser.error("--seed: diff's is --random-seed (a seed is the data an emulator loads, as in --seed FILE)")
    texts = {"A": args.a, "B": args.b, "--folder-id": args.folder_id, "--registry-id": args.registry_id}
    for flag, value in texts.items():
        if value is not None and _not_text(value):
            parser.error(f"{flag}: not UTF-8 text: {os.fsencode(value)!r}")
    if args.examples < 1:
        parser.error(f"--examples: must be at least 1, got {args.examples}")
    if not args.max_seconds > 0:
        parser.error(f"--max-seconds: must be more than 0, got {args.max_seconds}")
    if args.random_seed is not None and not 0 <= args.random_seed < 2**64:
        parser.error(f"--random-seed: must be between 0 and 2^64-1, got {args.random_seed}")
    return args


# Rendering -------------------------------------------------------------------------------


def summary(method: str, result: Answer) -> str:
    if result.code != "OK":
        return status_text(result)
    if method not in LISTED:
        return f"{GOTTEN[method]} {resource_id(result.resources[0])}"
    ids = [resource_id(resource) for resource in result.resources]
    kind = LISTED[method] if len(ids) != 1 else SINGULAR[method]
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
    lines.append(f"{', '.join(totals)} (random seed {seed})")
    for line in lines:
        print(line, file=out)


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
    whole_end = time.monotonic() + args.max_seconds / (len(drawn) + 1)  # a share of the time, as each kind's
    for method, fields in whole_lists(values, folder_wide=args.folder_id is not None):
        _check_interrupted()
        if time.monotonic() > whole_end:
            break
        one(method, fields)
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
    seed = args.random_seed if args.random_seed is not None else random.SystemRandom().randrange(2**32)
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
