"""``ycr-emulator diff``: two standalone emulators over TLS with strict auth, seeded alike, stand
in for an emulator and the registry it was snapshotted from. Equal ones give no difference;
a fault rule or a different seed on one side is reported, request by request; the same seed
sends the same requests; only List and Get are ever called; bad usage is one line, exit 2. Lists past
the page bound never pass for agreement; an order that names the id is compared exactly; nothing
sent or nothing in scope is exit 2; Ctrl-C is exit 130 and a closed stdout is quiet."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import subprocess
import sys
import textwrap
from collections import Counter

import pytest

from emulator.api.wire import message_class
from emulator.contract import comparison as compare
from emulator.contract import diff, sending
from emulator.contract.client import RegistryClient
from emulator.control.process import EmulatorProcess
from emulator.rpc.services import CATALOGUE
from emulator.state.artifacts import tag_artifact_id

FOLDER = "b1gdiff0000000000000"
TOKEN = "t1.diff-token"
MAIN, OTHER = "crpdiffregistry00001", "crpdiffregistry00002"
EXAMPLES = "120"  # at least one of each kind of request (every List and Get)
# Sent besides the drawn ones: the Cloud Registry registry and the folder listed whole by ArtifactService.List,
# and the registry and its folders and package (team, team/tools, team/api) by ListArtifacts.
WHOLE_LISTS = 6
# What RegistryClient sends to reach an endpoint, besides the tool's own calls.
DISCOVERY = "ApiEndpointService/List"


def _image(n: int, repository: str, tags: list[str], day: int, last_modified: dict[int, str]) -> dict:
    entry = {
        "repository": repository,
        "id": f"crpdiffimage{n:08d}",
        "digest": f"sha256:{n:064x}",
        "tags": tags,
        "created_at": f"2026-01-{day:02d}T00:00:00Z",
    }
    if n in last_modified:
        entry["last_modified"] = last_modified[n]
    return entry


# A policy with two dry runs and one without: every List of LifecyclePolicyService has something to list.
POLICIES = [
    {
        "id": "crpdiffpolicy0000001",
        "name": "drop-old",
        "created_at": "2026-01-02T00:00:00Z",
        "rules": [{"tag_regexp": ".*", "untagged": True, "expire_period": "86400s"}],
        "dry_run_results": [
            {
                "id": f"crpdiffdryrun000000{n}",
                "run_at": f"2026-01-0{n + 2}T00:00:00Z",
                "affected_images": [
                    {
                        "repository": "team/web",
                        "id": "crpdiffgone000000001",
                        "digest": f"sha256:{90 + n:064x}",
                        "created_at": "2025-12-01T00:00:00Z",
                        "tags": ["old"],
                    },
                ],
            }
            for n in (1, 2)
        ],
    },
    {
        "id": "crpdiffpolicy0000002",
        "name": "keep-one",
        "status": "ACTIVE",
        "created_at": "2026-01-02T00:00:00Z",
        "rules": [{"untagged": True, "retained_top": 1}],
    },
]


def _seed(last_modified: dict[int, str] | None = None) -> dict:
    """Two registries, a nested and an empty repository, and equal created_at values (ties).
    ``last_modified``: image number -> its last_modified (a field Image does not show)."""
    changed = last_modified or {}
    return {
        "registries": [
            {
                "id": MAIN,
                "folder_id": FOLDER,
                "name": "main",
                "created_at": "2026-01-01T00:00:00Z",
                "labels": {"env": "ci"},
                "repositories": [
                    {"path": "app", "id": "crpdiffrepository0001"},
                    {"path": "team/web", "id": "crpdiffrepository0002", "lifecycle_policies": POLICIES},
                    {"path": "empty", "id": "crpdiffrepository0003"},
                ],
                "images": [
                    _image(1, "app", ["v1", "latest"], 2, changed),
                    _image(2, "app", ["v0"], 2, changed),
                    _image(3, "team/web", ["latest"], 3, changed),
                    _image(4, "team/web", [], 4, changed),
                ],
            },
            {
                "id": OTHER,
                "folder_id": FOLDER,
                "name": "other",
                "created_at": "2026-01-05T00:00:00Z",
                "repositories": [{"path": "base", "id": "crpdiffrepository0004"}],
                "images": [_image(5, "base", ["v1"], 5, changed)],
            },
            CLOUD_REGISTRY,
        ],
        "scan_results": [CLOUD_SCAN],
    }


# A Cloud Registry registry with a tree, a policy with a dry run and a scan result: every Cloud Registry
# List has something to list.
CLOUD, CLOUD_IMAGE = "cn1diffregistry00001", "crpdiffimage00000006"
_CLOUD_RULE = {"delete": {"type": "HARD_DELETE", "always": True}, "path_prefix": "team"}
_CLOUD_ARTIFACT = tag_artifact_id(CLOUD_IMAGE, "v1")
CLOUD_REGISTRY = {
    "id": CLOUD, "folder_id": FOLDER, "name": "cloud", "kind": "DOCKER", "created_at": "2026-01-01T00:00:00Z",
    "folders": [{"path": "team/tools", "created_at": "2026-01-02T00:00:00Z"}],
    "repositories": [{"path": "team/api", "id": "crpdiffrepository0005"}],
    "images": [_image(6, "team/api", ["v1", "v2"], 6, {}), _image(7, "team/api", [], 7, {})],
    "lifecycle_policies": [{
        "id": "cn1diffpolicy0000001", "name": "tidy", "created_at": "2026-01-02T00:00:00Z",
        "modified_at": "2026-01-02T00:00:00Z", "rules": [_CLOUD_RULE],
        "dry_run_results": [{
            "id": "cn1diffdryrun0000001", "run_at": "2026-01-08T00:00:00Z", "policy_snapshot": [_CLOUD_RULE],
            "affected": [{"path": "/team/api/v1", "artifact_id": _CLOUD_ARTIFACT,
                          "rule_type": "LIFECYCLE_RULE_TYPE_HARD_DELETE"}],
        }],
    }],
}  # fmt: skip
CLOUD_SCAN = {
    "id": "chediffresult0000001", "image_id": CLOUD_IMAGE, "repository_id": "crpdiffrepository0005",
    "folder_id": FOLDER, "status": "READY", "scanned_at": "2026-01-09T00:00:00Z", "artifact_id": _CLOUD_ARTIFACT,
    "vulnerabilities": [{"severity": "HIGH", "package": {"name": "CVE-2024-1", "package": "openssl"}}],
}  # fmt: skip


@pytest.fixture(scope="module")
def processes():
    args = ["--tls-port", "0", "--auth", "strict", "--require-token", f"{TOKEN}={FOLDER}"]
    with EmulatorProcess(args) as a, EmulatorProcess(args) as b:
        yield a, b


@pytest.fixture
def targets(processes, tmp_path):
    """Both emulators emptied and seeded alike; a CA file that trusts both (one trust store)."""
    for process in processes:
        process.reset()
        process.load_seed(_seed())
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(b"".join(process.ca_pem for process in processes))
    return processes, str(ca_file)


def _argv(targets, *extra: str) -> list[str]:
    (a, b), ca_file = targets
    return [a.tls_endpoint, b.tls_endpoint, "--ca-file", ca_file, "--token", TOKEN, "--examples", EXAMPLES, *extra]


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = diff.main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _totals(out: str) -> tuple[int, int]:
    """(requests sent, differences) from the last line."""
    match = re.search(
        r"^(\d+) requests, (\d+) differences(?:, \d+ compared in part)?(?:, \d+ not compared)? \(random seed \d+\)$",
        out,
        re.MULTILINE,
    )
    assert match, out
    return int(match[1]), int(match[2])


def _blocks(out: str) -> list[dict[str, str]]:
    """Each difference's block: its request line, A's and B's answers, the difference."""
    found = re.findall(r"^#\d+ (.+)\n   A: (.+)\n   B: (.+)\n   difference: (.+)$", out, re.MULTILINE)
    return [dict(zip(("request", "A", "B", "difference"), block, strict=True)) for block in found]


def _rows(out: str) -> list[str]:
    """The method of each difference."""
    return [block["request"].split()[0] for block in _blocks(out)]


def _methods(process) -> set[str]:
    return {CATALOGUE.method(call["method"]).short for call in process.calls}


def _normal(request: dict) -> str:
    """A request as the emulator recorded it or as drawn, in one form (int64 values come as text)."""
    return json.dumps({key: str(value) for key, value in request.items() if value not in ("", 0, "0")}, sort_keys=True)


def test_two_equal_emulators_differ_nowhere_and_are_only_read(targets):
    (a, b), _ = targets
    states = [a.state(), b.state()]
    command = [sys.executable, "-m", "emulator", "diff", *_argv(targets, "--folder-id", FOLDER, "--random-seed", "3")]
    finished = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert (finished.returncode, finished.stderr) == (0, ""), finished.stdout
    sent, differences = _totals(finished.stdout)
    assert 0 < sent <= int(EXAMPLES) + WHOLE_LISTS and differences == 0
    assert finished.stdout.splitlines() == [f"{sent} requests, 0 differences (random seed 3)"]
    for process in (a, b):  # every List and Get was exercised, and nothing else was called
        assert _methods(process) == sending.READ_METHODS | {DISCOVERY}
    assert [a.state(), b.state()] == states


def test_a_registry_scope_differs_nowhere_and_sends_no_folder_id(targets):
    """With --registry-id no request carries a folder_id: not the folder's, not an unknown one
    (the unknown-values Lists used to draw folder-only scopes), not a malformed one."""
    code, out, err = _run(_argv(targets, "--registry-id", OTHER, "--random-seed", "4", "--examples", "200"))
    assert (code, err) == (0, ""), out
    assert _totals(out)[1] == 0
    for process in targets[0]:
        methods = _methods(process)
        assert "RegistryService/List" not in methods and {"ImageService/List", "RepositoryService/List"} <= methods
        with_folder = [call for call in process.calls if call["request"].get("folder_id")]
        assert with_folder == []


def test_fault_rules_on_one_side_are_each_reported(targets):
    (a, b), _ = targets
    b.add_fault(method="ImageService/Get", code="NOT_FOUND")
    b.add_fault(method="ImageService/List", match={"folder_id": FOLDER}, code="UNAVAILABLE")
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--random-seed", "5"))
    assert (code, err) == (1, ""), out
    rows = _rows(out)
    assert set(rows) == {"ImageService/Get", "ImageService/List"}
    assert _totals(out)[1] == len(rows)
    # Every faulted List is a row (A never answers UNAVAILABLE), and so is every faulted Get
    # that A answered otherwise than NOT_FOUND: all differences, not the first.
    a_codes = {(call["method"], _normal(call["request"])): call["code"] for call in a.calls}
    faulted = {(call["method"], _normal(call["request"])) for call in b.calls if call["fault"]}
    expected = Counter(
        method.rpartition(".")[2] for method, request in faulted if a_codes[method, request] != "NOT_FOUND"
    )
    assert Counter(rows) == expected
    assert expected["ImageService/List"] > 0 and expected["ImageService/Get"] > 0
    blocks = _blocks(out)
    assert any(
        re.fullmatch(r"ImageService/List folder_id=\S+.*", block["request"])
        and block["B"] == "UNAVAILABLE"
        and re.fullmatch(r"status code: OK != UNAVAILABLE", block["difference"])
        for block in blocks
    ), out
    assert any(
        re.fullmatch(r"ImageService/Get image_id=crpdiffimage0000000\d", block["request"])
        and re.fullmatch(r"image crpdiffimage0000000\d", block["A"])
        and block["B"] == "NOT_FOUND"
        for block in blocks
    ), out
    assert len({block["request"] for block in blocks}) == len(blocks)  # no two blocks print one request


def test_a_different_seed_on_one_side_is_reported(targets):
    (_, b), _ = targets
    b.add_image(OTHER, "base", id="crpdiffextra00000001", digest=f"sha256:{99:064x}", created_at="2026-02-01T00:00:00Z")
    b.tag_image("crpdiffimage00000002", "moved")  # image 2 gains a tag on B only
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--random-seed", "6", "--examples", "500"))
    assert (code, err) == (1, ""), out
    blocks = _blocks(out)
    assert any(block["difference"] == "only in B: crpdiffextra00000001" for block in blocks), out
    assert any(re.fullmatch(r"image crpdiffimage00000002: tags: \['v0'\] != \['v0', 'moved'\]", block["difference"])
               or block["difference"] == "tags: ['v0'] != ['v0', 'moved']" for block in blocks), out  # fmt: skip
    assert "ImageService/List" in _rows(out)
    assert _totals(out)[1] == len(blocks) > 0
    # The one extra image, named by many requests, is summed up once at the end.
    naming = sum("crpdiffextra00000001" in block["difference"] for block in blocks)
    assert naming > 1
    assert f"  only in B: crpdiffextra00000001 ({naming} requests)" in out.splitlines(), out


def test_an_order_that_names_the_id_is_compared_exactly_through_the_wire(processes, tmp_path):
    """B's images 1 and 3 were modified last (Image does not show last_modified): an order that
    runs through last_modified to the id differs, on the wire and in a run (which draws each
    field's order made total by the id, so it finds this whatever the seed)."""
    a, b = processes
    for process in processes:
        process.reset()
    a.load_seed(_seed())
    b.load_seed(_seed({1: "2026-03-01T00:00:00Z", 3: "2026-03-02T00:00:00Z"}))
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(a.ca_pem + b.ca_pem)
    fields = {"registry_id": MAIN, "page_size": 2}
    with (
        RegistryClient(a.tls_endpoint, ca_pem=a.ca_pem, iam_token=TOKEN) as one,
        RegistryClient(b.tls_endpoint, ca_pem=b.ca_pem, iam_token=TOKEN) as other,
    ):

        def verdict(order_by: str) -> str | None:
            request = one.request("ImageService/List", **fields, order_by=order_by)
            return compare.difference(
                "ImageService/List", {**fields, "order_by": order_by},
                sending.answer(one, "ImageService/List", request), sending.answer(other, "ImageService/List", request),
            )  # fmt: skip

        assert verdict("last_modified, id") == "order at 1: A crpdiffimage00000001, B crpdiffimage00000002"
        assert verdict("last_modified desc, id desc") == "order at 1: A crpdiffimage00000004, B crpdiffimage00000003"
        assert verdict("name, last_modified, id") == "order at 1: A crpdiffimage00000001, B crpdiffimage00000002"
        assert verdict("last_modified") is None  # ties (invisible) may come in any order
        assert verdict("name, last_modified") is None
    # A whole run draws such orders often enough to find them.
    argv = [a.tls_endpoint, b.tls_endpoint, "--ca-file", str(ca_file), "--token", TOKEN, "--registry-id", MAIN]
    code, out, err = _run([*argv, "--random-seed", "1", "--examples", "300"])
    assert (code, err) == (1, ""), out
    for block in _blocks(out):
        order = re.search(r"order_by=(\"[^\"]*\"|\S+)", block["request"])
        assert block["request"].startswith("ImageService/List") and "last_modified" in order[1], block
    assert _totals(out)[1] > 0


def test_the_same_seed_sends_the_same_requests(targets):
    (a, b), _ = targets
    runs = []
    for seed in ("7", "7", "8"):
        for process in (a, b):
            process.reset()  # also clears the recorded calls
            process.load_seed(_seed())
        code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--random-seed", seed, "--verbose"))
        assert code == 0, out
        # Page tokens are signed per emulator and reset, so the followed pages' tokens differ.
        calls = [(call["method"], {k: v for k, v in call["request"].items() if k != "page_token"}) for call in a.calls]
        assert len(err.splitlines()) == _totals(out)[0]  # the listing: one line per request sent
        runs.append((err, calls))
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[2][0]


def test_only_list_and_get_can_be_sent(targets):
    assert all(
        CATALOGUE.method(method).lists or CATALOGUE.method(method).gets or method in sending.DISCOVERY_READS
        for method in sending.READ_METHODS
    )
    (a, _), _ = targets
    with RegistryClient(a.tls_endpoint, ca_pem=a.ca_pem, iam_token=TOKEN) as client:
        for method in ("ImageService/Delete", "RegistryService/Create", "RepositoryService/Upsert"):
            with pytest.raises(ValueError, match="not a read-only method"):
                sending.send(client, method, client.request(method))
    assert {call["method"].rpartition(".")[2] for call in a.calls} <= {DISCOVERY}
    assert len(a.images) == 7


_IMAGE = message_class("yandex.cloud.containerregistry.v1.Image")


def _images(*names: str) -> tuple:
    """Images crp1, crp2, ... with these names (r/app, r/web, ...)."""
    return tuple(_IMAGE(id=f"crp{n}", name=name) for n, name in enumerate(names, 1))


def test_differences_in_the_order_of_ties_do_not_count():
    one, two, three = _images("r/app", "r/app", "r/web")
    ok = compare.Answer

    def differs(order_by: str, left, right) -> str | None:
        return compare.difference("ImageService/List", {"order_by": order_by}, ok("OK", left), ok("OK", right))

    assert differs("", (one, two, three), (three, two, one)) is None  # no order given
    assert differs("name", (one, two, three), (two, one, three)) is None  # ties within one name
    assert differs("name", (one, two, three), (three, one, two)) == "order at 1: A crp1, B crp3"
    assert differs("id", (one, two, three), (two, one, three)) == "order at 1: A crp1, B crp2"
    assert differs("last_modified", (one, two, three), (three, one, two)) is None  # not shown by Image
    assert differs("name", (one, two), (one, two, three)) == "only in B: crp3"
    changed = _IMAGE(id="crp2", name="r/app", tags=["x"])
    assert differs("name", (one, two), (one, changed)) == "image crp2: tags: [] != ['x']"
    assert compare.difference("ImageService/Get", {}, ok("NOT_FOUND"), ok("NOT_FOUND")) is None  # messages not compared


@pytest.mark.parametrize(
    "order_by", ["id", "id desc", "last_modified, id", "last_modified desc, id desc", "name, id", "name, id, digest"]
)
def test_an_order_that_names_the_id_is_a_whole_sequence(order_by):
    """The id is unique: an order that names it (anywhere) leaves no ties, even when a field
    before it (last_modified) is not shown; so two answers in other orders differ."""
    one, two, three = _images("r/app", "r/app", "r/web")
    ok = compare.Answer
    assert compare.difference("ImageService/List", {"order_by": order_by}, ok("OK", (one, two, three)),
                           ok("OK", (two, one, three))) == "order at 1: A crp1, B crp2"  # fmt: skip
    assert compare.judge("ImageService/List", {"order_by": order_by}, ok("OK", (one, two)), ok("OK", (one, two))) == (
        compare.Verdict()
    )


def test_a_list_past_the_page_bound_is_never_taken_for_agreement():
    """One side ending while the other has more is a difference; a List of which nothing can be
    compared is counted as not compared; one compared over its first pages, in part."""
    fifty = tuple(_IMAGE(id=f"crp{n:04d}", name="r/app") for n in range(50))
    long, short = compare.Answer("OK", fifty, truncated=True), compare.Answer("OK", fifty[:40])
    judge = compare.judge

    def method(order_by: str, left, right, **extra):
        return judge("ImageService/List", {"page_size": 1, "order_by": order_by, **extra}, left, right)

    # The reviewer's case: 50 pages and more on A, 40 images in all on B.
    assert compare.difference("ImageService/List", {"page_size": 1, "order_by": "id"}, long, short) == (
        "only in A: crp0040 (+9) (B ends after 40 images)"
    )
    assert method("id", short, long).difference == "only in B: crp0040 (+9) (A ends after 40 images)"
    for order_by in ("", "last_modified", "name"):  # whatever the order: B has fewer in all than A has read
        assert method(order_by, long, short).difference.startswith("only in A: crp0040 (+9)"), order_by
    # Both past the bound: what the first pages settle.
    assert method("id", long, long) == compare.Verdict(extent="part")
    assert method("", long, long) == compare.Verdict(extent="none")  # one run of ties, cut anywhere: nothing
    assert method("last_modified", long, long) == compare.Verdict(extent="none")
    other = compare.Answer("OK", (*fifty[:10], *fifty[11:], _IMAGE(id="crp0050", name="r/app")), truncated=True)
    assert method("id", long, other).difference == "order at 11: A crp0010, B crp0011"
    # Runs of ties: a run the other side's list goes past is whole, and compared as a set.
    app, web, web2, zed = _images("r/app", "r/web", "r/web", "r/zed")
    cut = compare.Answer("OK", (app, web), truncated=True)
    assert method("name", cut, compare.Answer("OK", (app, web2, web), truncated=True)) == compare.Verdict(extent="part")
    assert method("name", compare.Answer("OK", (app, web, zed), truncated=True), compare.Answer(
        "OK", (app, web, web2), truncated=True)).difference == "only in B: crp3"  # fmt: skip
    reordered = compare.Answer("OK", (zed, app), truncated=True)
    assert method("name", cut, reordered).difference == "order at 1: A crp1, B crp4"
    assert method("name", cut, compare.Answer("OK", (app, web, web2))) == compare.Verdict(extent="part")


def test_a_differing_request_keeps_only_its_text_and_rows_are_bounded(targets, monkeypatch):
    (_, b), _ = targets
    b.add_fault(method="ImageService/Get", code="INTERNAL")
    monkeypatch.setattr(diff, "MAX_ROWS", 3)
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--random-seed", "5", "--examples", "200"))
    assert (code, err) == (1, ""), out
    differences = _totals(out)[1]
    assert len(_blocks(out)) == 3 and differences > 3
    assert f"… {differences - 3} more differences, not shown (the first 3 are)" in out.splitlines()
    tally = diff.Tally()
    tally.add("ImageService/List registry_id=crp1", "3 images", "UNAVAILABLE", compare.Verdict("status code: OK != X"))
    assert all(isinstance(value, str) for value in dataclasses.astuple(tally.rows[0]))


def test_the_report_prints_each_request_whole_in_a_block():
    tally = diff.Tally()
    filter_text = "name IN (" + ", ".join(f'"crp00000000000000001/repository-{n}"' for n in range(6)) + ")"
    for last in ("5", "6"):
        request = sending.render_request(
            "ImageService/List", {"registry_id": "crp1", "filter": filter_text[:-3] + last}
        )
        tally.add(request, "OK", "UNAVAILABLE", compare.Verdict("status code: OK != UNAVAILABLE"))
    not_found = compare.Verdict("status code: OK != NOT_FOUND")
    tally.add("ImageService/Get image_id=crp1", "image crp1", "NOT_FOUND", not_found)
    out = io.StringIO()
    diff.report(tally, 9, ("localhost:1", "localhost:2"), out)
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["A = localhost:1", "B = localhost:2"]
    requests = [block["request"] for block in _blocks(out.getvalue())]
    assert len(requests) == 3 and len(set(requests)) == 3 and len(requests[0]) > 250
    assert lines[-1] == "3 requests, 3 differences (random seed 9)"
    assert max(len(line) for line in lines if not line.startswith("#")) <= 80


def test_lists_compared_in_part_or_not_at_all_are_counted(targets):
    """A folder of 60 images listed one per page: past 50 pages on both sides, a List in an
    order that names the id is compared over the first 50 pages; one with no order, not at all."""
    (a, b), _ = targets
    for process in (a, b):
        for n in range(60):
            process.add_image(OTHER, "many", id=f"crpdiffmany{n:09d}", digest=f"sha256:{n + 1000:064x}",
                              created_at="2026-02-01T00:00:00Z")  # fmt: skip
    out, tally = io.StringIO(), diff.Tally()
    with (
        RegistryClient(a.tls_endpoint, ca_pem=a.ca_pem, iam_token=TOKEN) as one,
        RegistryClient(b.tls_endpoint, ca_pem=b.ca_pem, iam_token=TOKEN) as other,
    ):
        clients = {"A": one, "B": other}
        for order_by in ("id", ""):
            fields = {"registry_id": OTHER, "page_size": 1, "order_by": order_by}
            request = clients["A"].request("ImageService/List", **fields)
            answers = [sending.answer(clients[side], "ImageService/List", request) for side in ("A", "B")]
            assert all(answer.truncated and len(answer.resources) == sending.MAX_PAGES for answer in answers)
            verdict = compare.judge("ImageService/List", fields, *answers)
            tally.add(sending.render_request("ImageService/List", fields), "", "", verdict)
    diff.report(tally, 1, ("a", "b"), out)
    assert (
        out.getvalue().splitlines()[-1]
        == "2 requests, 0 differences, 1 compared in part, 1 not compared (random seed 1)"
    )


def test_nothing_sent_or_nothing_in_scope_is_exit_2(targets):
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--max-seconds", "1e-9"))
    assert (code, out) == (2, "")
    assert err == "ycr-emulator diff: no request was sent (--max-seconds 1e-09 ran out before the first)\n"
    for process in targets[0]:
        process.reset()  # an empty folder on both sides (as a mistyped folder id looks)
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER))
    assert (code, out) == (2, "")
    assert err == f"ycr-emulator diff: folder {FOLDER}: no registry on A or B, nothing to compare\n"


_INTERRUPTING = textwrap.dedent("""
    import gc, signal, sys
    from emulator.contract import diff, sending

    sent, send = [], sending.send

    def interrupt(phase, info):  # Ctrl-C while Hypothesis's (or any) gc callback runs
        if phase == "start" and len(sent) == 20:
            gc.callbacks.remove(interrupt)
            signal.raise_signal(signal.SIGINT)

    def counting(*args):
        sent.append(1)
        if len(sent) == 20:
            gc.callbacks.append(interrupt)
            gc.collect()
        return send(*args)

    sending.send = counting
    sys.exit(diff.main(sys.argv[1:]))
""")


def test_ctrl_c_stops_the_run_even_inside_a_gc_callback(targets, tmp_path):
    """Python's default SIGINT handler raises KeyboardInterrupt where the main thread is; inside
    a gc callback that is printed and dropped, and the run went on to its end."""
    script = tmp_path / "interrupting.py"
    script.write_text(_INTERRUPTING)
    # Bounds that the run, if the signal were lost, would reach: then it exits 0, not 130.
    argv = _argv(targets, "--folder-id", FOLDER, "--random-seed", "3", "--examples", "100000", "--max-seconds", "20")
    command = [sys.executable, str(script), *argv]
    finished = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert (finished.returncode, finished.stdout, finished.stderr) == (130, "", "ycr-emulator diff: interrupted\n")


def test_a_closed_stdout_ends_the_run_quietly(targets):
    (_, b), _ = targets
    b.add_fault(method="ImageService/Get", code="NOT_FOUND")
    command = [sys.executable, "-m", "emulator", "diff", *_argv(targets, "--folder-id", FOLDER, "--random-seed", "5")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        process.stdout.close()  # as `| head` does once it has read enough
        stderr = process.stderr.read()
        assert (process.wait(timeout=300), stderr) == (diff.BROKEN_PIPE, "")


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: A, B"),
        (["localhost:1", "localhost:2"], "one of the arguments --folder-id --registry-id is required"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--registry-id", "r"], "not allowed with argument"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--examples", "0"], "--examples: must be at least 1"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--max-seconds", "0"], "--max-seconds: must be more"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--max-seconds", "nan"], "--max-seconds: must be more"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--random-seed", "x"], "--random-seed: invalid int value"),
        (["nohostport", "localhost:2", "--folder-id", "f"], "an endpoint is HOST:PORT"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--ca-file", "/nonexistent.pem"], "--ca-file"),
        # What Python makes of `--folder-id "$(printf 'b1g\xff')"`: not text the wire can carry.
        (["localhost:1", "localhost:2", "--folder-id", "b1g\udcff"], "--folder-id: not UTF-8 text: b'b1g\\xff'"),
        (["localhost:1", "localhost:2", "--registry-id", "\udcffcrp"], "--registry-id: not UTF-8 text"),
        (["localhost:1\udcff", "localhost:2", "--folder-id", "f"], "A: not UTF-8 text"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--token", "t1.\udcff"], "--token: "),
        (
            ["localhost:1", "localhost:2", "--folder-id", "f", "--timeout", "2"],
            "endpoint discovery failed: UNAVAILABLE",
        ),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(argv, message):
    code, out, err = _run(argv)
    assert (code, out) == (2, "")
    assert err.startswith("ycr-emulator diff: ") and message in err and err.count("\n") == 1, err
    assert "\udcff" not in err and "t1." not in err  # printable; a token is never echoed


def test_a_target_that_refuses_the_listing_is_a_setup_error(targets):
    (a, b), ca_file = targets
    code, out, err = _run(
        [a.tls_endpoint, b.tls_endpoint, "--ca-file", ca_file, "--token", "t1.wrong", "--folder-id", FOLDER]
    )
    assert (code, out) == (2, "")
    assert err.startswith(
        f"ycr-emulator diff: A ({a.tls_endpoint}): RegistryService/List folder_id={FOLDER}: UNAUTHENTICATED"
    )
    assert err.count("\n") == 1
    code, out, err = _run(_argv(targets, "--registry-id", "crpnosuchregistry000"))
    assert (code, out, err) == (2, "", "ycr-emulator diff: registry crpnosuchregistry000: NOT_FOUND on both A and B\n")


def test_an_order_stops_at_the_first_field_the_answer_does_not_show():
    """``last_modified, name``: after last_modified (not shown by Image) nothing can be compared,
    even a shown field: the answers tie as one set. Continuing past it to ``name`` would call two
    correct answers different (a mutation that did so survived the suite)."""
    one, two, three = _images("r/web", "r/app", "r/app")
    ok = compare.Answer
    request = {"order_by": "last_modified, name"}
    # By last_modified the endpoint may list web before app: ordered by name, it would not be.
    assert (
        compare.difference("ImageService/List", request, ok("OK", (one, two, three)), ok("OK", (two, three, one)))
        is None
    )
    key, total = compare.order_of("ImageService/List", "last_modified, name")
    assert key(one) == () and not total
    key, _ = compare.order_of("ImageService/List", "name, last_modified, digest")
    assert key(one) == ("r/web",)


def test_a_cloud_registry_difference_is_reported_by_its_reads(targets):
    """B's Cloud Registry image gains a tag: an artifact only B lists, found by Cloud Registry's Lists."""
    (_, b), _ = targets
    b.tag_image(CLOUD_IMAGE, "moved")
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--random-seed", "8", "--examples", "300"))
    assert (code, err) == (1, ""), out
    cloud_rows = {row for row in _rows(out) if row.startswith("cloudregistry.")}
    assert {"cloudregistry.ArtifactService/List", "cloudregistry.RegistryService/ListArtifacts"} & cloud_rows, out
    moved = tag_artifact_id(CLOUD_IMAGE, "moved")
    assert any(moved in block["difference"] for block in _blocks(out)), out


def test_seed_is_not_diffs_word_for_its_random_seed(targets):
    """#24: one word, one meaning: a seed is the data an emulator loads (--seed FILE); diff's
    reproducibility is --random-seed, and --seed says so instead of being taken."""
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--seed", "1"))
    assert (code, out) == (2, "")
    assert "--seed: diff's is --random-seed" in err


def _with_scan_policies(name: str) -> dict:
    """The seed, each API's registry with a scan policy named ``name`` (its id the same on both sides)."""
    seed = _seed()
    main, _, cloud = seed["registries"]
    main["scan_policy"] = {
        "id": "crpdiffscanpolicy001", "name": name, "created_at": "2026-01-01T00:00:00Z",
        "rules": {"push_rule": {"repository_prefixes": ["*"]}},
    }  # fmt: skip
    cloud["scan_policy"] = {
        "id": "cn1diffscanpolicy001", "name": name, "created_at": "2026-01-01T00:00:00Z",
        "rules": {"push_rule": {"paths": ["*"]}},
    }  # fmt: skip
    return seed


def test_a_scan_policy_that_differs_is_reported_by_its_gets(targets):
    """Found by review: no scan policy id was discovered, so their Gets were sent with unknown ids only."""
    (a, b), _ = targets
    for process, name in ((a, "scan-all"), (b, "renamed")):
        process.reset()
        process.load_seed(_with_scan_policies(name))
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--random-seed", "1"))
    assert (code, err) == (1, ""), out
    rows = set(_rows(out))
    assert {"ScanPolicyService/Get", "cloudregistry.ScanPolicyService/Get"} <= rows, out


@pytest.mark.parametrize("random_seed", ["1", "2", "3", "4"])
def test_each_cloud_registry_tree_is_listed_whole_whatever_is_drawn(targets, random_seed):
    """Found by review: the whole-tree Lists were drawn among the scopes, so a changed node in one of
    many registries went unseen by some random seeds; each scope is now listed whole, once."""
    (a, b), _ = targets
    more = [
        {"id": f"cn1diffmore000000{n:03d}", "folder_id": FOLDER, "name": f"more-{n}", "kind": "DOCKER",
         "created_at": "2026-01-01T00:00:00Z",
         "images": [{"repository": f"deep/a/b/pkg{n}", "id": f"crpdiffmoreimage{n:04d}", "digest": f"sha256:{n:064x}",
                     "tags": ["v1"], "created_at": "2026-01-02T00:00:00Z"}]}
        for n in range(12)
    ]  # fmt: skip
    for process in (a, b):
        process.load_seed({"registries": more})
    b.tag_image("crpdiffmoreimage0007", "y")
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--random-seed", random_seed, "--examples", "40"))
    assert (code, err) == (1, ""), out
    moved = tag_artifact_id("crpdiffmoreimage0007", "y")
    assert any(moved in block["difference"] for block in _blocks(out)), out


def test_the_whole_lists_take_their_share_of_the_time_not_all_of_it(targets):
    """Found by review: slow whole Lists used all of --max-seconds before anything was drawn, and the
    drawn requests were never sent. They now get one share of the time, as each kind of request does."""
    (a, b), _ = targets
    # slow whole Lists only (page_size 1000, which the drawn requests of this seed do not take)
    a.add_fault(method="cloudregistry.RegistryService/ListArtifacts", match={"page_size": 1000}, delay_ms=1500)
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--random-seed", "1", "--max-seconds", "5"))
    assert err == "" and code in (0, 1), out
    drawn = {call["method"].rpartition(".")[2] for call in b.calls} - {DISCOVERY}
    assert {"ImageService/Get", "RegistryService/Get"} <= drawn, sorted(drawn)  # discovery sends no Get
