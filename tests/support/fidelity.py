"""docs/fidelity.md, generated from the code so that it cannot drift: every method of the APIs the
emulator speaks (the descriptors), whether it is served (the API catalogue), which official SDKs the
suite runs against it (tests/support/exercised.py, which their tests check against the recorded calls),
and each behaviour's standing, read from the ``behaviour`` markers on the tests that check it:

    @pytest.mark.behaviour(method, status, what, evidence)

``method`` is a method (``ImageService/List``), a service or a package (all their methods) or ``*``
(every served method). ``status`` is ``documented`` (Yandex says so; ``evidence`` holds a link: a URL,
or one of the API's .proto files, ``yandex/cloud/.../x.proto``) or ``choice`` (the documentation is
silent and the emulator decided; ``evidence`` says why). What is not emulated has no test to carry
it: NOT_EMULATED below. The markers are read with ``ast``, never imported: their arguments are
literal strings, and a marker anywhere but on a test is an error.

``python -m tests.support.fidelity --write`` rewrites the page; without ``--write`` it prints it.
tests/test_fidelity_page.py fails when the committed page differs, or a marker is wrong.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from google.protobuf import descriptor_pb2

from emulator.api.catalogue import answers_operation, short_service_name
from emulator.api.wire import CLOUD_REGISTRY, CONTAINER_REGISTRY, DESCRIPTOR_SET, OPERATION, POOL
from emulator.rpc.services import CATALOGUE
from emulator.state.stages import READ_ONLY_FROM, SHUT_DOWN_FROM
from tests.support.exercised import EXERCISED, SDKS

REPOSITORY = Path(__file__).resolve().parents[2]
TESTS = REPOSITORY / "tests"
PAGE = REPOSITORY / "docs" / "fidelity.md"
PROTOS = REPOSITORY / "emulator" / "proto"
COMMAND = "python -m tests.support.fidelity --write"

EVERY_METHOD = "*"
STATUSES = {"documented": "Documented by Yandex", "choice": "The emulator's choice", "not emulated": "Not emulated"}
MARKER_STATUSES = ("documented", "choice")  # what a test may say; "not emulated" has no test

# The page's sections: a title and the packages of the services it holds, in this order.
APIS = (
    ("Container Registry", (CONTAINER_REGISTRY,)),
    ("Cloud Registry", (CLOUD_REGISTRY, f"{CLOUD_REGISTRY}.domain")),
    ("Supporting services", (OPERATION, "yandex.cloud.endpoint", "yandex.cloud.iam.v1")),
)
SUNSET = "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/sunset.md"
CLOUDAPI = "https://github.com/yandex-cloud/cloudapi/blob/master/"

# What the emulator does not do, by the method or service it concerns (``*``: the whole emulator).
# Short, and only what the documentation promises and a user might expect: each has no test, since
# there is nothing to check.
NOT_EMULATED = (
    ("*", "The Docker Registry HTTP API (`docker push`/`pull`, `cr.yandex`): images are seeded, no layer is stored."),
    ("*", "Quotas on registries, repositories and storage are not enforced."),
    ("*", "Resource Manager: folders and clouds are any well-formed ids; none is looked up."),
    ("RegistryService/SetAccessBindings", "Access bindings are stored and listed, never enforced: the auth mode decides."),
    ("RepositoryService/SetAccessBindings", "Access bindings are stored and listed, never enforced: the auth mode decides."),
    ("RegistryService/SetIpPermission", "IP permissions are stored and listed; no registry traffic is served to filter."),
    ("ScanPolicyService", "A scan policy's push and schedule rules are kept and served, never run."),
    ("ScannerService/Scan", "No image is really scanned: a scan finds the vulnerabilities seeded for its digest."),
    ("IamTokenService/Create", "Tokens are the emulator's own, trusted only by it; no real IAM is asked."),
    ("cloudregistry.RegistryService/Create", "Remote and virtual registries proxy nothing; `properties` and "
     "`pattern_filter` are kept, not acted on."),
    ("cloudregistry.ArtifactService", "Registries other than DOCKER hold folders only: no Maven, npm or other packages."),
    ("cloudregistry.ArtifactService/Delete", "`with_history` is accepted and changes nothing: no history is kept."),
    ("cloudregistry.ScanPolicyService", "A scan policy's rules are kept and served, never run."),
    ("cloudregistry.MigrationService", "Redirects are kept and reported; no registry traffic is served to redirect."),
    ("cloudregistry.MigrationService", "No registry is ever CREATED (the tutorial's first status, when pushes may "
     "be refused): a start's registries are SCHEDULED from the start, and `created` counts 0."),
    ("*", "An `Idempotency-Key` is any string: the UUID the API design guide says it must contain is not checked."),
    ("cloudregistry.RegistryService/SetAccessBindings", "Access bindings are stored and listed, never enforced: the "
     "auth mode decides."),
    ("cloudregistry.RegistryService/SetIpPermissions", "IP permissions are stored and listed; no registry traffic is "
     "served to filter."),
    ("cloudregistry.ArtifactService/SetAccessBindings", "Access bindings are stored and listed, never enforced: the "
     "auth mode decides."),
    ("cloudregistry.LifecyclePolicyService", "Policies are not processed daily by themselves, as the docs say: they "
     "run on demand or on the schedule the user sets (the API shows no time of day)."),
)  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One method of the descriptors, as the page shows it."""

    short: str  # ImageService/List, cloudregistry.RegistryService/Get
    service: str  # ImageService, cloudregistry.RegistryService
    package: str
    served: bool
    answers: str  # read, operation, change; for a method not served: operation or "-"


@dataclass(frozen=True)
class Behaviour:
    method: str  # a method's or service's short name, a package, or "*"
    status: str  # one of STATUSES
    what: str
    evidence: str
    test: str  # tests/test_x.py::test_name ("" for NOT_EMULATED)


# ---- the methods --------------------------------------------------------------------------------


@cache
def rows() -> tuple[Row, ...]:
    """Every method of every service in the descriptors, served or not, in the descriptors' order."""
    found = []
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes()).file
    for file in files:
        for service in file.service:
            full = f"{file.package}.{service.name}"
            short = short_service_name(full)
            for method in service.method:
                served = CATALOGUE.method(f"{full}/{method.name}")
                if served is not None:
                    answers = "operation" if served.mutating else "read" if served.read else "change"
                else:
                    descriptor = POOL.FindServiceByName(full).methods_by_name[method.name]
                    answers = "operation" if answers_operation(descriptor) else "-"
                found.append(Row(f"{short}/{method.name}", short, file.package, served is not None, answers))
    unplaced = {row.package for row in found} - {package for _, packages in APIS for package in packages}
    if unplaced:
        raise ValueError(f"services of {sorted(unplaced)} belong to no section of the page: add them to APIS")
    return tuple(found)


@cache
def _names() -> dict[str, tuple[Row, ...]]:
    """What a behaviour's method may be: a method, a service or a package (their methods), or ``*``
    (every served one)."""
    names: dict[str, list[Row]] = defaultdict(list)
    for row in rows():
        names[row.short].append(row)
        names[row.service].append(row)
        names[row.package].append(row)
        if row.served:
            names[EVERY_METHOD].append(row)
    return {name: tuple(found) for name, found in names.items()}


# ---- the behaviours -----------------------------------------------------------------------------

_URL = re.compile(r"https://[^\s<>()\[\]`'\"]+[^\s<>()\[\]`'\".,;:]")
_PROTO = re.compile(r"\byandex/cloud/[\w/]+\.proto\b")


def check(behaviour: Behaviour, where: str) -> Behaviour:
    """The behaviour, or ValueError saying (at ``where``) what is wrong with it."""
    if behaviour.method not in _names():
        close = difflib.get_close_matches(behaviour.method, _names(), n=3)
        raise ValueError(
            f"{where}: behaviour method {behaviour.method!r} is no method or service of the descriptors "
            f"(write ImageService/List, cloudregistry.RegistryService/Get, a service or package alone, or *)"
            + (f"; did you mean {', '.join(close)}?" if close else "")
        )
    if behaviour.status not in STATUSES:
        raise ValueError(f"{where}: behaviour status {behaviour.status!r} is none of {', '.join(STATUSES)}")
    for field in ("what", "evidence") if behaviour.status != "not emulated" else ("what",):
        text = getattr(behaviour, field)
        if not text.strip() or "\n" in text:
            raise ValueError(f"{where}: behaviour {field} must be one line of text, got {text!r}")
    if behaviour.status == "documented":
        if not _URL.search(behaviour.evidence) and not _PROTO.search(behaviour.evidence):
            raise ValueError(
                f"{where}: a documented behaviour's evidence needs a link: a https:// URL or a .proto of the API "
                f"(yandex/cloud/.../x.proto), got {behaviour.evidence!r}"
            )
        for proto in _PROTO.findall(behaviour.evidence):
            if not (PROTOS / proto).is_file():
                raise ValueError(f"{where}: the evidence names {proto}, which is not under emulator/proto/")
    return behaviour


def _is_marker(node: ast.AST) -> bool:
    """``pytest.mark.behaviour`` (or ``mark.behaviour``), called or not."""
    target = node.func if isinstance(node, ast.Call) else node
    return (
        isinstance(target, ast.Attribute) and target.attr == "behaviour" and ast.unparse(target.value).endswith("mark")
    )


def _marker(call: ast.AST, where: str, test: str) -> Behaviour:
    """The behaviour a decorator states; ValueError unless it is a call with four literal strings."""
    fields = ("method", "status", "what", "evidence")
    if not isinstance(call, ast.Call):
        raise ValueError(f"{where}: pytest.mark.behaviour needs its arguments: ({', '.join(fields)})")
    given = dict(zip(fields, call.args)) | {keyword.arg: keyword.value for keyword in call.keywords}
    if len(call.args) > len(fields) or set(given) != set(fields):
        raise ValueError(f"{where}: pytest.mark.behaviour takes exactly ({', '.join(fields)})")
    values = {}
    for field, node in given.items():
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            raise ValueError(f"{where}: behaviour {field} must be a literal string (the page reads it without imports)")
        values[field] = node.value
    if values["status"] not in MARKER_STATUSES:
        raise ValueError(
            f"{where}: behaviour status {values['status']!r} is neither of {', '.join(MARKER_STATUSES)} "
            "(what is not emulated has no test: add it to NOT_EMULATED in tests/support/fidelity.py)"
        )
    return check(Behaviour(test=test, **values), where)


def markers_in(source: str, path: str) -> list[Behaviour]:
    """The behaviours the tests of one file state; ValueError for a marker that is wrong, or that is
    anywhere but on a test function (where the page could not say which test checks it)."""
    tree = ast.parse(source, path)
    found, placed = [], set()

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}::")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                for decorator in node.decorator_list:
                    if _is_marker(decorator):
                        found.append(_marker(decorator, f"{path}:{decorator.lineno}", f"{path}::{prefix}{node.name}"))
                        placed.add(id(decorator))

    visit(tree.body, "")
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if _is_marker(node) and id(node) not in placed and id(node) not in called:
            raise ValueError(f"{path}:{node.lineno}: a behaviour marker belongs among a test function's decorators")
    return found


def suite_files() -> list[Path]:
    """Every Python file of the suite, but the Node.js client's installed packages."""
    return sorted(path for path in TESTS.rglob("*.py") if "node_modules" not in path.parts)


@cache
def behaviours() -> tuple[Behaviour, ...]:
    """Every behaviour: the tests' markers and NOT_EMULATED, each checked."""
    found = []
    for path in suite_files():
        found += markers_in(path.read_text(), path.relative_to(REPOSITORY).as_posix())
    for method, what in NOT_EMULATED:
        found.append(check(Behaviour(method, "not emulated", what, "", ""), "NOT_EMULATED"))
    return tuple(found)


# ---- the SDKs -----------------------------------------------------------------------------------


def exercised_by() -> dict[str, list[str]]:
    """Method -> the SDKs whose scenarios call it, in SDKS order; ValueError for an unknown method."""
    if set(EXERCISED) != set(SDKS):
        raise ValueError(f"tests/support/exercised.py: EXERCISED names the SDKs {sorted(EXERCISED)}, SDKS {list(SDKS)}")
    methods = {row.short for row in rows() if row.served}
    by: dict[str, list[str]] = defaultdict(list)
    for sdk in SDKS:
        for scenario, declared in EXERCISED[sdk].items():
            unknown = declared.methods - methods
            if unknown:
                raise ValueError(
                    f"tests/support/exercised.py: {sdk} {scenario} names no served method {sorted(unknown)}"
                )
        for method in sorted(set().union(*(declared.methods for declared in EXERCISED[sdk].values()))):
            by[method].append(sdk)
    return by


# ---- the page -----------------------------------------------------------------------------------


def _moment(when: datetime) -> str:
    """``2026-11-10 00:00 (UTC+03:00)``."""
    return f"{when:%Y-%m-%d %H:%M} (UTC{when.isoformat()[-6:]})"


def _evidence(text: str) -> str:
    """Links made clickable: URLs as themselves, a .proto as its file in cloudapi."""
    text = _URL.sub(lambda found: f"<{found[0]}>", text)
    return _PROTO.sub(lambda found: f"[{found[0]}]({CLOUDAPI}{found[0]})", text)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _entries(found: list[Behaviour]) -> list[str]:
    """One list item per behaviour, with every test that checks it."""
    tests: dict[tuple[str, str], list[str]] = defaultdict(list)
    for behaviour in found:
        tests[behaviour.what, behaviour.evidence].append(behaviour.test)
    entries = []
    for (what, evidence), checked in sorted(tests.items()):
        line = f"- {_sentence(what)}"
        if evidence:
            line += f" *{'Source' if found[0].status == 'documented' else 'Why'}:* {_sentence(_evidence(evidence))}"
        checked = sorted(set(filter(None, checked)))
        if checked:
            line += " Checked by " + ", ".join(f"`{test}`" for test in checked) + "."
        entries.append(line)
    return entries


def _behaviours(found: list[Behaviour]) -> list[str]:
    """The behaviours of one method (or service, package, everything), grouped by status."""
    lines = []
    for status, title in STATUSES.items():
        of_status = [behaviour for behaviour in found if behaviour.status == status]
        if of_status:
            lines += [f"**{title}:**", "", *_entries(of_status), ""]
    return lines


def _counts(found: list[Behaviour]) -> str:
    counts = {status: len({(b.what, b.evidence) for b in found if b.status == status}) for status in STATUSES}
    return ", ".join(f"{count} {status}" for status, count in counts.items() if count) or "-"


def render() -> str:
    """The whole page, deterministic: the same code gives the same bytes."""
    marked: dict[str, list[Behaviour]] = defaultdict(list)
    for behaviour in behaviours():
        marked[behaviour.method].append(behaviour)
    sdks = exercised_by()
    served = [row for row in rows() if row.served]
    totals = ", ".join(
        f"{len({(b.method, b.what) for b in behaviours() if b.status == status})} {words}"
        for status, words in (("documented", "documented by Yandex"), ("choice", "the emulator's choices"),
                              ("not emulated", "not emulated"))
    )  # fmt: skip
    lines = [
        "# Fidelity",
        "",
        f"<!-- Generated by `{COMMAND}` from the code: edit the code, then regenerate. -->",
        "",
        "What the emulator serves of each API, method by method; which official SDKs the suite runs against",
        "each method; and how each behaviour the tests check stands with production: **documented** by Yandex",
        "(with the source), **the emulator's choice** where the documentation is silent (with the reason), or",
        "**not emulated**. The page is generated from the API catalogue, the API's descriptors, the SDK",
        "scenarios' declared calls (`tests/support/exercised.py`) and the `behaviour` markers on the tests,",
        f"so it cannot drift: `tests/test_fidelity_page.py` fails until `{COMMAND}` is run.",
        "",
        f"{len(served)} methods served, {len(rows()) - len(served)} not served. Behaviours: {totals}.",
        "",
        "In the tables, **served** is ✓ for a method the emulator answers and ✗ for one the API has but the",
        "emulator answers UNIMPLEMENTED; **answers** is `read` (changes nothing), `operation` (answers an",
        "`Operation`) or `change` (changes state without an operation of its own); **SDKs** are the official",
        "SDKs whose scenarios in the suite call the method (each scenario's test checks that the emulator",
        "recorded calls of exactly the methods declared for it); **behaviours** counts those of the method",
        "and of its whole service (those of every method, and of the whole API, are listed apart).",
        "",
        f"Container Registry is being shut down ([Yandex's timeline]({SUNSET})): read-only from",
        f"{_moment(READ_ONLY_FROM)}, shut down from {_moment(SHUT_DOWN_FROM)}. The emulator serves it in",
        "the stage chosen with `--container-registry-stage` (`active` by default; `by-date` follows these",
        "dates on the emulator's clock).",
        "",
        "## The SDK scenarios",
        "",
        "| SDK | scenario | methods | checked by |",
        "| --- | --- | --- | --- |",
    ]
    for sdk in SDKS:
        for scenario, declared in EXERCISED[sdk].items():
            lines.append(f"| {sdk} | {scenario} | {len(declared.methods)} | `{declared.test}` |")
    lines += ["", "## Every served method", "", *_behaviours(marked[EVERY_METHOD])]
    for title, packages in APIS:
        api_rows = [row for row in rows() if row.package in packages]
        lines += [f"## {title}", "", "Packages: " + ", ".join(f"`{package}`" for package in packages) + ".", ""]
        if CONTAINER_REGISTRY in packages:
            lines += [f"Read-only from {_moment(READ_ONLY_FROM)}, shut down from {_moment(SHUT_DOWN_FROM)}.", ""]
        lines += ["| method | served | answers | SDKs | behaviours |", "| --- | :-: | --- | --- | --- |"]
        for row in api_rows:
            found = marked[row.short] + marked[row.service]
            lines.append(
                f"| `{row.short}` | {'✓' if row.served else '✗'} | {row.answers} | "
                f"{', '.join(sdks.get(row.short, [])) or '-'} | {_counts(found)} |"
            )
        lines.append("")
        for package in packages:
            if marked[package]:
                lines += [f"Every method of `{package}`:", "", *_behaviours(marked[package])]
        for service in dict.fromkeys(row.service for row in api_rows):
            lines += [f"### {service}", ""]
            if marked[service]:
                lines += ["Every method of the service:", "", *_behaviours(marked[service])]
            for row in (row for row in api_rows if row.service == service):
                lines += [f"#### `{row.short}`", ""]
                if not row.served:
                    lines += ["Not served: the emulator answers UNIMPLEMENTED.", ""]
                lines += _behaviours(marked[row.short]) or ["No behaviour of its own is marked yet.", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fidelity", description="Generate docs/fidelity.md.")
    parser.add_argument("--write", action="store_true", help="rewrite docs/fidelity.md instead of printing it")
    page = render()
    if parser.parse_args(argv).write:
        PAGE.write_text(page)
        print(f"wrote {PAGE.relative_to(REPOSITORY)}")
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
