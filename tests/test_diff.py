"""``ycr-emulator diff``: two standalone emulators over TLS with strict auth, seeded alike, stand
in for an emulator and the registry it was snapshotted from. Equal ones give no difference;
a fault rule or a different seed on one side is reported, request by request; the same seed
sends the same requests; only List and Get are ever called; bad usage is one line, exit 2."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections import Counter

import pytest

from emulator import diff
from emulator.client import RegistryClient
from emulator.remote import EmulatorProcess
from emulator.wire import message_class

FOLDER = "b1gdiff0000000000000"
TOKEN = "t1.diff-token"
MAIN, OTHER = "crpdiffregistry00001", "crpdiffregistry00002"
EXAMPLES = "60"
# What RegistryClient sends to reach an endpoint, besides the tool's own calls.
DISCOVERY = "ApiEndpointService/List"


def _image(n: int, repository: str, tags: list[str], day: int) -> dict:
    return {
        "repository": repository,
        "id": f"crpdiffimage{n:08d}",
        "digest": f"sha256:{n:064x}",
        "tags": tags,
        "created_at": f"2026-01-{day:02d}T00:00:00Z",
    }


def _seed() -> dict:
    """Two registries, a nested and an empty repository, and equal created_at values (ties)."""
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
                    {"path": "team/web", "id": "crpdiffrepository0002"},
                    {"path": "empty", "id": "crpdiffrepository0003"},
                ],
                "images": [
                    _image(1, "app", ["v1", "latest"], 2),
                    _image(2, "app", ["v0"], 2),
                    _image(3, "team/web", ["latest"], 3),
                    _image(4, "team/web", [], 4),
                ],
            },
            {
                "id": OTHER,
                "folder_id": FOLDER,
                "name": "other",
                "created_at": "2026-01-05T00:00:00Z",
                "repositories": [{"path": "base", "id": "crpdiffrepository0004"}],
                "images": [_image(5, "base", ["v1"], 5)],
            },
        ]
    }


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
    match = re.search(r"^(\d+) requests, (\d+) differences \(seed \d+\)$", out, re.MULTILINE)
    assert match, out
    return int(match[1]), int(match[2])


def _rows(out: str) -> list[str]:
    """The method of each row of the differences table."""
    return re.findall(r"^\d+\s+(\S+/\S+)", out, re.MULTILINE)


def _methods(process) -> set[str]:
    return {call["method"].rpartition(".")[2] for call in process.calls}


def _normal(request: dict) -> str:
    """A request as the emulator recorded it or as drawn, in one form (int64 values come as text)."""
    return json.dumps({key: str(value) for key, value in request.items() if value not in ("", 0, "0")}, sort_keys=True)


def test_two_equal_emulators_differ_nowhere_and_are_only_read(targets):
    (a, b), _ = targets
    states = [a.state(), b.state()]
    command = [sys.executable, "-m", "emulator", "diff", *_argv(targets, "--folder-id", FOLDER, "--seed", "3")]
    finished = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert (finished.returncode, finished.stderr) == (0, ""), finished.stdout
    sent, differences = _totals(finished.stdout)
    assert 0 < sent <= int(EXAMPLES) and differences == 0
    assert finished.stdout.splitlines() == [f"{sent} requests, 0 differences (seed 3)"]
    for process in (a, b):  # every List and Get was exercised, and nothing else was called
        assert _methods(process) == diff.READ_METHODS | {DISCOVERY}
    assert [a.state(), b.state()] == states


def test_a_registry_scope_differs_nowhere_and_lists_no_folder(targets):
    code, out, err = _run(_argv(targets, "--registry-id", OTHER, "--seed", "4"))
    assert (code, err) == (0, ""), out
    assert _totals(out)[1] == 0
    for process in targets[0]:
        assert "RegistryService/List" not in _methods(process)
        folder_wide = [call for call in process.calls if call["request"].get("folder_id") == FOLDER]
        assert folder_wide == []


def test_fault_rules_on_one_side_are_each_reported(targets):
    (a, b), _ = targets
    b.add_fault(method="ImageService/Get", code="NOT_FOUND")
    b.add_fault(method="ImageService/List", match={"folder_id": FOLDER}, code="UNAVAILABLE")
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--seed", "5"))
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
    assert re.search(r"^\d+\s+ImageService/List folder_id=\S+.*\s+UNAVAILABLE\s+status code$", out, re.MULTILINE), out
    assert re.search(
        r"^\d+\s+ImageService/Get image_id=crpdiffimage0000000\d\s+image crpdiff\S+\s+NOT_FOUND", out, re.MULTILINE
    )


def test_a_different_seed_on_one_side_is_reported(targets):
    (_, b), _ = targets
    b.add_image(OTHER, "base", id="crpdiffextra00000001", digest=f"sha256:{99:064x}", created_at="2026-02-01T00:00:00Z")
    b.tag_image("crpdiffimage00000002", "moved")  # image 2 gains a tag on B only
    code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--seed", "6", "--examples", "120"))
    assert (code, err) == (1, ""), out
    assert "only in B: crpdiffextra00000001" in out
    assert re.search(r"image crpdiffimage00000002: tags: \['v0'\] != \['v0', 'moved'\]", out), out
    assert "ImageService/List" in _rows(out)
    assert _totals(out)[1] == len(_rows(out)) > 0


def test_the_same_seed_sends_the_same_requests(targets):
    (a, b), _ = targets
    runs = []
    for seed in ("7", "7", "8"):
        for process in (a, b):
            process.reset()  # also clears the recorded calls
            process.load_seed(_seed())
        code, out, err = _run(_argv(targets, "--folder-id", FOLDER, "--seed", seed, "--verbose"))
        assert code == 0, out
        # Page tokens are signed per emulator and reset, so the followed pages' tokens differ.
        calls = [(call["method"], {k: v for k, v in call["request"].items() if k != "page_token"}) for call in a.calls]
        assert len(err.splitlines()) == _totals(out)[0]  # the listing: one line per request sent
        runs.append((err, calls))
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[2][0]


def test_only_list_and_get_can_be_sent(targets):
    assert all(method.rpartition("/")[2] in ("List", "Get", "GetByName") for method in diff.READ_METHODS)
    (a, _), _ = targets
    with RegistryClient(a.tls_endpoint, ca_pem=a.ca_pem, iam_token=TOKEN) as client:
        for method in ("ImageService/Delete", "RegistryService/Create", "RepositoryService/Upsert"):
            with pytest.raises(ValueError, match="not a read-only method"):
                diff.send(client, method, client.request(method))
    assert {call["method"].rpartition(".")[2] for call in a.calls} <= {DISCOVERY}
    assert len(a.images) == 5


def test_differences_in_the_order_of_ties_do_not_count():
    image = message_class("yandex.cloud.containerregistry.v1.Image")
    one, two, three = (image(id=f"crp{n}", name="r/app" if n < 3 else "r/web") for n in (1, 2, 3))
    ok = diff.Answer

    def differs(order_by: str, left, right) -> str | None:
        return diff.difference("ImageService/List", {"order_by": order_by}, ok("OK", left), ok("OK", right))

    assert differs("", (one, two, three), (three, two, one)) is None  # no order given
    assert differs("name", (one, two, three), (two, one, three)) is None  # ties within one name
    assert differs("name", (one, two, three), (three, one, two)) == "order at 1: A crp1, B crp3"
    assert differs("id", (one, two, three), (two, one, three)) == "order at 1: A crp1, B crp2"
    assert differs("last_modified", (one, two, three), (three, one, two)) is None  # not shown by Image
    assert differs("name", (one, two), (one, two, three)) == "only in B: crp3"
    changed = image(id="crp2", name="r/app", tags=["x"])
    assert differs("name", (one, two), (one, changed)) == "image crp2: tags: [] != ['x']"
    assert diff.difference("ImageService/Get", {}, ok("NOT_FOUND"), ok("NOT_FOUND")) is None  # messages not compared
    # Past MAX_PAGES, the common prefix less its last runs of ties (they may have been cut anywhere).
    four = image(id="crp4", name="r/web")
    cut = diff.Answer("OK", (one, two, three), truncated=True)
    assert diff.difference("ImageService/List", {"order_by": "name"}, cut, ok("OK", (two, one, four, three))) is None
    assert diff.difference("ImageService/List", {"order_by": "name"}, cut, ok("OK", (one, three, four))) == (
        "only in A: crp2"
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: A, B"),
        (["localhost:1", "localhost:2"], "one of the arguments --folder-id --registry-id is required"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--registry-id", "r"], "not allowed with argument"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--examples", "0"], "--examples: must be at least 1"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--max-seconds", "0"], "--max-seconds: must be more"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--seed", "x"], "--seed: invalid int value"),
        (["nohostport", "localhost:2", "--folder-id", "f"], "an endpoint is HOST:PORT"),
        (["localhost:1", "localhost:2", "--folder-id", "f", "--ca-file", "/nonexistent.pem"], "--ca-file"),
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
