"""The pytest plugin's edges (its recipes, in every mode, are tests/test_downstream.py): a bad
setting is one usage error at start, a fixture that cannot work fails saying what to change, a
bad marker fails its own test. Small suites in a fresh directory with no conftest, each run by
a pytest process of its own (pytester)."""

from __future__ import annotations

import fnmatch
import http.server
import os
import tempfile
import threading
from pathlib import Path

import pytest
import trustme  # noqa: F401 (imported before any test: see below)

from emulator import Emulator

# pytester puts sys.modules back as it found them after each test: a module first imported during
# one (trustme and cryptography, when an in-process emulator makes its TLS certificate) would be
# imported a second time later, which cryptography's compiled part does not survive.


@pytest.fixture(autouse=True)
def _environment(monkeypatch):
    """The runs see none of this shell's plugin settings, and keep their bytecode (outside the
    tree) where PYTHONDONTWRITEBYTECODE is set: otherwise each run compiles everything again."""
    for name in ("YCR_EMULATOR_ADDRESS", "YCR_EMULATOR_ADMIN_URL", "YCR_EMULATOR_ADMIN_TOKEN", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir(), f"ycr-downstream-pycache-{os.getuid()}")))


SUITE = """
def test_one(ycr):
    assert ycr.images == {}


def test_two(ycr_registry):
    assert ycr_registry.folder_id == "b1g0000000000000ycrt"
"""


@pytest.mark.parametrize(
    ("environment", "args", "message"),
    [
        (
            {"YCR_EMULATOR_ADDRESS": "127.0.0.1:1"}, [],
            ("ycr external mode needs the emulator's control plane (YCR_EMULATOR_ADDRESS alone is not enough*"
             "--admin-port*YCR_EMULATOR_ADMIN_URL"),
        ),
        (
            {"YCR_EMULATOR_ADMIN_URL": "http://127.0.0.1:1"}, ["-n", "2"],
            "ycr external mode shares one emulator*run without -n, or use --ycr-mode=subprocess*",
        ),
    ],
)  # fmt: skip
def test_a_bad_setting_stops_pytest_at_start(pytester, monkeypatch, environment, args, message):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "test_one" not in result.stdout.str()  # nothing collected, nothing run


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--ycr-mode=external"], "", "ycr external mode needs the emulator's control plane: start*"),
        (["--ycr-address=127.0.0.1:1"], "", "ycr external mode needs the emulator's control plane (*"),
        ([], "ycr_mode = elsewhere", "ycr_mode: must be one of inprocess, subprocess, external, got 'elsewhere'"),
        ([], "ycr_auth = strong", "ycr_auth: must be one of none, any, strict, got 'strong'"),
        ([], "ycr_tokens =\n    t1.ycr-test-token=", "ycr_tokens: token spec*folder list*"),
        ([], "ycr_tokens =\n    ci\n    ci=b1gx", "ycr_tokens: token spec 'ci=b1gx': the token is given twice*"),
        ([], "ycr_operations =\n    polls:zero", "ycr_operations: operation mode*polls:zero*"),
    ],
)
def test_every_setting_is_checked_at_configure(pytester, args, ini, message):
    """The same check as above, for each setting, without starting a process per case."""
    pytester.makeini(f"[pytest]\n{ini}\n")
    with pytest.raises(pytest.UsageError) as refused:
        pytester.parseconfigure(*args)
    assert fnmatch.fnmatch(str(refused.value), message), str(refused.value)


@pytest.fixture
def shared(monkeypatch):
    """A running emulator the plugin did not start, with an admin token and its own strict auth."""
    with Emulator(admin_port=0, admin_token="admin-secret", tls_port=0, auth="strict", tokens={"ci": None}) as running:
        monkeypatch.setenv("YCR_EMULATOR_ADMIN_URL", running.admin_url)
        yield running


def test_a_wrong_admin_token_stops_the_session_once(pytester, shared, monkeypatch):
    pytester.makepyfile(test_suite=SUITE)
    monkeypatch.setenv("YCR_EMULATOR_ADMIN_TOKEN", "not-it")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*ycr external mode: control plane * refused a wrong admin token*--ycr-admin-token*"])
    assert result.stdout.str().count("refused") == 1 and "ERROR at setup" not in result.stdout.str()


SDK_SUITE = """
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub


def test_needs_the_sdk(ycr_sdk, ycr_registry):
    ycr_sdk.client(ImageServiceStub).List(pb.ListImagesRequest(registry_id=ycr_registry.id))


def test_a_token_of_its_own(ycr, ycr_registry):
    with ycr.channel() as channel:
        request = pb.ListImagesRequest(registry_id=ycr_registry.id)
        assert ImageServiceStub(channel).List(request, metadata=[("authorization", "Bearer ci")]).images == []
"""


def test_fixtures_that_cannot_work_on_an_external_emulator_say_what_to_change(pytester, shared, monkeypatch):
    pytester.makepyfile(test_suite=SDK_SUITE)
    monkeypatch.setenv("YCR_EMULATOR_ADMIN_TOKEN", "admin-secret")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [("ycr_sdk: the emulator at * runs strict auth and refuses the SDK's token t1.ycr-test-token: start it with "
          "--require-token t1.ycr-test-token=b1g0000000000000ycrt, or set ycr_auth = strict in the ini file*")]
    )  # fmt: skip
    assert shared.info()["auth"] == "strict"  # the plugin changed nothing of its own settings
    pytester.makeini("[pytest]\nycr_auth = strict\nycr_tokens =\n    ci\n")
    pytester.runpytest_subprocess().assert_outcomes(passed=2)  # the plugin sets the emulator's auth...
    assert shared.info()["auth"] == "strict"
    with shared.channel() as channel:  # ...and gives it back at the end of the session: the test token is refused again
        from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
        from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub

        with pytest.raises(Exception, match="UNAUTHENTICATED"):
            ImageServiceStub(channel).List(
                pb.ListImagesRequest(folder_id="b1g0000000000000ycrt"),
                metadata=[("authorization", "Bearer t1.ycr-test-token")],
            )


def test_the_sdk_fixture_on_an_emulator_without_tls_fails_naming_the_flag(pytester, monkeypatch):
    pytester.makepyfile(test_suite=SDK_SUITE)
    with Emulator(admin_port=0) as running:
        monkeypatch.setenv("YCR_EMULATOR_ADMIN_URL", running.admin_url)
        result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["ycr_sdk: the emulator at * serves no TLS port*start it with --tls-port PORT*"])


BAD_MARKERS = """
import pytest


@pytest.mark.ycr_seed("missing.json")
def test_seed(ycr):
    pass


@pytest.mark.ycr_auth("strong")
def test_auth(ycr):
    pass


@pytest.mark.ycr_auth("strict", tokens="ci")
def test_tokens(ycr):
    pass


@pytest.mark.ycr_operations("ImageService/Delete=polls:0")
def test_operations(ycr):
    pass


def test_the_others_run(ycr):
    assert ycr.info()["auth"] == "none" and ycr.operation_modes == {}
"""


def test_a_bad_marker_fails_its_own_test_saying_why(pytester):
    pytester.makepyfile(test_markers=BAD_MARKERS)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=4)
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.ycr_seed: *missing.json: cannot read*",
            "@pytest.mark.ycr_auth: auth mode: must be one of none, any, strict, got 'strong'",
            "@pytest.mark.ycr_auth: tokens: a dict*",
            "@pytest.mark.ycr_operations: operation mode: polls:N needs 1 <= N*",
        ],
        consecutive=False,
    )
    # #24, found by a new user: each message came twice, around "During handling of the above exception".
    assert "During handling of the above exception" not in result.stdout.str()
    # Counted in the ERRORS section: the short summary repeats it in full on a wide terminal (CI's).
    errors_section = result.stdout.str().split("short test summary info")[0]
    assert errors_section.count("auth mode: must be one of none, any, strict, got 'strong'") == 1


NO_SDK = """
import sys

sys.modules["yandex.cloud.containerregistry.v1.image_service_pb2_grpc"] = None


def test_needs_sdk(ycr_stubs):
    raise AssertionError("not reached")
"""


def test_ycr_stubs_without_one_sdk_module_fails_rather_than_skips(pytester):
    """#24: it used to skip (exit 0); a missing SDK now fails the test (see the tests below)."""
    pytester.makepyfile(test_nosdk=NO_SDK)
    pytester.runpytest_subprocess().assert_outcomes(errors=1)


LIFECYCLE_SUITE = """
import pytest

FOLDER = "b1g0000000000000ycrt"


def _policy_over_an_old_image(ycr):
    registry = ycr.add_registry(FOLDER)
    ycr.add_image(registry.id, "app", tags=["v1"], created_at="2020-01-01T00:00:00Z")
    repository = ycr.add_repository(registry.id, "app")
    rules = [{"tag_regexp": ".*", "expire_period": "86400s"}]
    return ycr.add_lifecycle_policy(repository.id, status="ACTIVE", rules=rules)


@pytest.mark.ycr_lifecycle(86400)
def test_scheduled(ycr):
    _policy_over_an_old_image(ycr)
    ycr.advance_time(86399)
    assert len(ycr.images) == 1
    ycr.advance_time(1)
    assert ycr.images == {}


def test_not_scheduled_runs_on_demand(ycr, ycr_stubs):
    policy = _policy_over_an_old_image(ycr)
    ycr.advance_time(10 * 86400)
    assert len(ycr.images) == 1
    [run] = ycr.run_lifecycle_policies()
    assert run.lifecycle_policy_id == policy.id and ycr.images == {}
    from yandex.cloud.containerregistry.v1 import lifecycle_policy_service_pb2 as pb

    listed = ycr_stubs.lifecycle_policies.List(pb.ListLifecyclePoliciesRequest(repository_id=policy.repository_id))
    assert [p.id for p in listed.lifecycle_policies] == [policy.id]
    from yandex.cloud.containerregistry.v1 import scan_policy_service_pb2 as scan_pb

    registry_id = next(iter(ycr.registries))
    ycr_stubs.scan_policies.Create(scan_pb.CreateScanPolicyRequest(registry_id=registry_id))
    got = ycr_stubs.scan_policies.GetByRegistry(scan_pb.GetScanPolicyByRegistryRequest(registry_id=registry_id))
    assert got.registry_id == registry_id


def test_cloud_registry_stubs(ycr, ycr_cloud_registry_stubs):
    registry = ycr.add_registry("b1g0000000000000test", name="docker", kind="DOCKER")
    assert registry.kind == "DOCKER" and registry.id.startswith("cn1")
    ycr.add_image(registry.id, "library/ubuntu", tags=["latest"])
    from yandex.cloud.cloudregistry.v1 import registry_service_pb2 as pb

    request = pb.ListArtifactsRequest(registry_id=registry.id, path="library/ubuntu")
    listed = ycr_cloud_registry_stubs.registries.ListArtifacts(request)
    assert [artifact.name for artifact in listed.artifacts] == ["latest"]
    from yandex.cloud.cloudregistry.v1 import lifecycle_policy_pb2 as lp, lifecycle_policy_service_pb2 as lps

    always = lp.LifecycleRule(delete=lp.DeleteLifecycleRule(type=lp.HARD_DELETE, always=True))
    create = lps.CreateLifecyclePolicyRequest(registry_id=registry.id, rules=[always], state=lp.ENABLED)
    ycr_cloud_registry_stubs.lifecycle_policies.Create(create)
    [run] = ycr.run_lifecycle_policies()  # Cloud Registry's enabled policies run with the others
    assert run.deleted == (listed.artifacts[0].id,) and ycr.images == {}


@pytest.mark.ycr_lifecycle(every=-5)
def test_bad(ycr):
    pass
"""


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_the_lifecycle_marker_schedules_policies_in_every_mode(pytester, mode):
    pytester.makepyfile(test_lifecycle=LIFECYCLE_SUITE)
    result = pytester.runpytest_subprocess(f"--ycr-mode={mode}", "-p", "no:randomly")
    result.assert_outcomes(passed=3, errors=1)  # Cloud Registry's stubs too, in every mode
    result.stdout.fnmatch_lines(["*@pytest.mark.ycr_lifecycle: every: must be a positive number of seconds*"])


# ---- #24: misspelled ycr_ markers and ini options are refused ------------------------------------


MISSPELLED_MARKER = """
import pytest


@pytest.mark.ycr_faults(method="ImageService/Get", code="UNAVAILABLE")
def test_with_a_misspelled_marker(ycr):
    pass


def test_untouched(ycr):
    pass
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_a_misspelled_ycr_marker_fails_its_test_naming_it(pytester, workers):
    """Found by a new user: @pytest.mark.ycr_faults (for ycr_fault) gave pytest's generic warning and
    the test ran without its fault. Found by review: refused at collection, it crashed xdist runs."""
    pytester.makepyfile(test_misspelled=MISSPELLED_MARKER)
    result = pytester.runpytest_subprocess("-p", "no:randomly", *workers)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ycr_faults is not a marker of the ycr plugin*did you mean ycr_fault?*"])
    assert "INTERNALERROR" not in result.stdout.str()


def test_a_misspelled_ycr_ini_option_stops_the_run_naming_it(pytester):
    pytester.makeini("[pytest]\nycr_modes = subprocess\n")
    pytester.makepyfile(test_one="def test_one(ycr):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*ycr_modes is not an ini option of the ycr plugin*did you mean ycr_mode*"])


# ---- #24: a wrong control-plane URL is said at once, not after 30 s of silence ----------------------


class _NotAnEmulator(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the handler's protocol)
        self.send_response(404)
        self.end_headers()
        self.wfile.write(b"<html>something else</html>")

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("where", ["unresolvable", "another-server", "grpc-port", "tls-grpc-port"])
def test_a_wrong_admin_url_stops_the_session_at_once_saying_why(pytester, monkeypatch, where):
    """Found by a new user: a wrong YCR_EMULATOR_ADMIN_URL waited 30.8 s in silence before its error.
    A host no resolver knows, or a server that answers but is no emulator's control plane, cannot
    come right by waiting: said at once."""
    server = None
    if where == "unresolvable":
        url, said = "http://no-such-host.invalid:8081", "cannot be resolved"
    elif where in ("grpc-port", "tls-grpc-port"):  # found by review: a traceback per test, or a 30 s wait
        server = Emulator(tls=where == "tls-grpc-port").start()
        url, said = f"http://{server.endpoint}", "is not an emulator's control plane (it answers, but not in HTTP"
    else:
        server = http.server.HTTPServer(("127.0.0.1", 0), _NotAnEmulator)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url, said = f"http://127.0.0.1:{server.server_port}", "is not an emulator's control plane (HTTP 404)"
    monkeypatch.setenv("YCR_EMULATOR_ADMIN_URL", url)
    pytester.makepyfile(test_one="def test_one(ycr):\n    pass\n")
    try:
        result = pytester.runpytest_subprocess("-p", "no:randomly")
    finally:
        if isinstance(server, Emulator):
            server.stop()
        elif server is not None:
            server.shutdown()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stdout.fnmatch_lines([f"*ycr external mode: {url}*{said}*"])
    assert "waited" not in result.stdout.str()  # said at once, not after the wait for a starting emulator


def test_waiting_for_a_starting_emulator_is_said_on_the_terminal(pytester, monkeypatch):
    """Found by a new user: the wait for a control plane that is not up yet was silent. After a
    second the plugin says it waits (the emulator is started only once it has said so), then goes on
    once the emulator answers."""
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("YCR_EMULATOR_ADMIN_URL", f"http://127.0.0.1:{port}")
    pytester.makepyfile(test_one="def test_one(ycr):\n    assert ycr.registries == {}\n")
    process = pytester.popen(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    late = Emulator(admin_port=port)
    try:
        lines = []
        for line in process.stdout:  # the plugin gives up after 30 s, so this ends
            lines.append(line)
            if "waiting up to 30 s for the emulator's control plane" in line:
                late.start()
        process.wait(timeout=60)
    finally:
        late.stop()
    text = "".join(lines)
    assert f"ycr external mode: waiting up to 30 s for the emulator's control plane at http://127.0.0.1:{port}" in text
    assert process.returncode == 0 and "1 passed" in text, text


@pytest.mark.parametrize(("mode", "said"), [("inprocess", "inprocess mode: an emulator in the test process"),
                                            ("subprocess", "subprocess mode: a ycr-emulator process")])  # fmt: skip
def test_the_pytest_header_says_where_the_emulator_runs(pytester, mode, said):
    """#24, found by a new user: the header did not say which mode or endpoint the plugin uses."""
    pytester.makepyfile(test_one="def test_one(ycr):\n    pass\n")
    result = pytester.runpytest_subprocess(f"--ycr-mode={mode}", "-p", "no:randomly")
    result.stdout.fnmatch_lines([f"ycr-emulator plugin: {said}*"])


def test_the_pytest_header_names_an_external_emulators_control_plane(pytester, shared, monkeypatch):
    monkeypatch.setenv("YCR_EMULATOR_ADMIN_TOKEN", "admin-secret")
    pytester.makepyfile(test_one="def test_one(ycr):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.stdout.fnmatch_lines([f"ycr-emulator plugin: external mode: the emulator at {shared.admin_url}*"])


# ---- #24: without the official SDK, its fixtures fail saying how to install it (or skip, if asked) --------

NO_SDK_CONFTEST = """
import sys

for name in ("yandexcloud", "yandex", "yandex.cloud"):  # as if the official SDK were not installed
    sys.modules[name] = None
"""
NO_SDK_TESTS = """
def test_sdk(ycr_sdk):
    pass


def test_stubs(ycr_stubs):
    pass


def test_cloud_stubs(ycr_cloud_registry_stubs):
    pass


def test_without(ycr):
    pass
"""


def test_a_missing_sdk_fails_the_tests_that_need_it_naming_the_extra(pytester):
    """Found by a new user: tests using ycr_sdk or ycr_stubs were skipped (exit 0) without yandexcloud."""
    pytester.makeconftest(NO_SDK_CONFTEST)
    pytester.makepyfile(test_sdk=NO_SDK_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=3)
    result.stdout.fnmatch_lines(["this fixture needs the official SDK: install this package with its sdk extra (pip install '/path/to/ycr-emulator[[]sdk]')*ycr_sdk_missing = skip*"])
    assert "During handling of the above exception" not in result.stdout.str()  # one message, not two


def test_a_missing_sdk_skips_them_when_the_ini_says_so(pytester):
    pytester.makeconftest(NO_SDK_CONFTEST)
    pytester.makeini("[pytest]\nycr_sdk_missing = skip\n")
    pytester.makepyfile(test_sdk=NO_SDK_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-rs")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(["*the official SDK is not installed*"])


# ---- #24: ycr_sdk retries as the SDK does, and takes SDK settings --------------------------------

SDK_RETRY = """
import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub


@pytest.mark.ycr_fault(method="ImageService/Get", code="UNAVAILABLE", count=2)
def test_the_sdk_retries_an_injected_unavailable(ycr, ycr_image, ycr_sdk):
    image = ycr_image("app")
    assert ycr_sdk.client(ImageServiceStub).Get(pb.GetImageRequest(image_id=image.id)).id == image.id
    assert [call["code"] for call in ycr.calls_of("ImageService/Get")] == ["UNAVAILABLE", "UNAVAILABLE", "OK"]


@pytest.mark.ycr_fault(method="ImageService/Get", code="UNAVAILABLE", count=3)
def test_the_sdks_throttling_gives_up_on_the_third_failure(ycr, ycr_image, ycr_sdk):
    image = ycr_image("app")
    with pytest.raises(grpc.RpcError) as failed:
        ycr_sdk.client(ImageServiceStub).Get(pb.GetImageRequest(image_id=image.id))
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.ycr_sdk(retry_policy=None)
@pytest.mark.ycr_fault(method="ImageService/Get", code="UNAVAILABLE", count=1)
def test_without_a_retry_policy_it_fails(ycr, ycr_image, ycr_sdk):
    image = ycr_image("app")
    with pytest.raises(grpc.RpcError) as failed:
        ycr_sdk.client(ImageServiceStub).Get(pb.GetImageRequest(image_id=image.id))
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.ycr_sdk(user_agent="my-tool/1.0")
def test_sdk_settings_reach_the_sdk(ycr_sdk):
    assert ycr_sdk is not None
"""


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_ycr_sdk_retries_as_the_sdk_does_and_takes_sdk_settings(pytester, mode):
    """Found by a new user: ycr_sdk had no retry policy, so an injected UNAVAILABLE, which the docs
    say clients' retry policies retry, failed the test; and there was no way to pass SDK settings."""
    pytester.makepyfile(test_retry=SDK_RETRY)
    result = pytester.runpytest_subprocess(
        f"--ycr-mode={mode}", "-p", "no:randomly", "-W", "ignore:Call to deprecated class RetryInterceptor"
    )
    result.assert_outcomes(passed=4)


# ---- #24: a fast way to wait for pending operations ------------------------------------------------

FAST_WAIT = """
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb


@pytest.mark.ycr_operations("ImageService/Delete=polls:5")
def test_waiting_without_sleeping(ycr, ycr_image, ycr_stubs, ycr_wait):
    image = ycr_image("app")
    operation = ycr_stubs.images.Delete(pb.DeleteImageRequest(image_id=image.id))
    assert not operation.done and image.id in ycr.images
    done = ycr_wait(operation)
    assert done.done and type(done) is type(operation) and done.id == operation.id
    assert image.id not in ycr.images
    assert len(ycr.calls_of("OperationService/Get")) == 5
    assert ycr_wait(operation.id).done  # an id works too


@pytest.mark.ycr_operations("ImageService/Delete=polls:1000")
def test_a_wait_that_never_ends_says_so(ycr_image, ycr_stubs, ycr_wait):
    operation = ycr_stubs.images.Delete(pb.DeleteImageRequest(image_id=ycr_image("app").id))
    with pytest.raises(TimeoutError, match="not done after 10 polls .*ycr.advance_time"):
        ycr_wait(operation, max_polls=10)
"""


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_ycr_wait_polls_without_sleeping(pytester, mode):
    """Found by a new user: polls:N cost N-1 seconds per operation with the Python SDK (it sleeps 1 s
    between polls); ycr_wait polls the same OperationService.Get without sleeping."""
    pytester.makepyfile(test_wait=FAST_WAIT)
    pytester.runpytest_subprocess(f"--ycr-mode={mode}", "-p", "no:randomly").assert_outcomes(passed=2)


# ---- #24: an external emulator is left as the session found it ---------------------------------------

CHANGES_EVERYTHING = """
import pytest


@pytest.mark.ycr_operations("ImageService/Delete=polls:3")
@pytest.mark.ycr_container_registry_stage("read-only")
@pytest.mark.ycr_fault(method="ImageService/Get", code="UNAVAILABLE")
def test_changes_everything(ycr):
    registry = ycr.add_registry("b1g0000000000000ycrt", name="from-the-test")
    ycr.add_image(registry.id, "app", tags=["v1"])
    ycr.add_fault(method="ImageService/List", delay_ms=5)
"""


def test_an_external_emulator_is_left_as_the_session_found_it(pytester, shared, monkeypatch):
    """Found by a new user: after the session the shared emulator kept the last test's faults,
    operation modes, stage and data, so the next job sharing it started from them."""
    monkeypatch.setenv("YCR_EMULATOR_ADMIN_TOKEN", "admin-secret")
    kept = shared.add_registry("b1g0000000000000keep", name="kept-by-another-job")
    shared.add_image(kept.id, "base", tags=["1.0"])
    shared.add_fault(method="RegistryService/Get", code="INTERNAL", count=5)
    shared.configure_operations({"RegistryService/Delete": "polls:2"})

    def now() -> tuple:
        return (
            shared.state(), [{k: v for k, v in rule.items() if k != "id"} for rule in shared.faults],
            shared.operation_modes, shared.container_registry_stage,
        )  # fmt: skip

    before = now()
    pytester.makeini("[pytest]\nycr_auth = strict\n")
    pytester.makepyfile(test_changes=CHANGES_EVERYTHING)
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=1)
    assert now() == before


SDK_SETTINGS_MISTAKES = """
import pytest


@pytest.mark.ycr_sdk(retry_polcy=None)
def test_misspelled_setting(ycr_sdk):
    pass


@pytest.mark.ycr_sdk(retry_policy="none")
def test_wrong_retry_policy(ycr_sdk):
    pass


def test_wrong_code(ycr_sent):
    with pytest.raises(ValueError, match="code: 'NOT_FUOND' is not a gRPC status name"):
        ycr_sent("ImageService/Delete", "image_id", code="NOT_FUOND")
    import grpc
    assert ycr_sent("ImageService/Delete", "image_id", code=grpc.StatusCode.NOT_FOUND) == []
"""


def test_mistakes_in_sdk_settings_and_sent_codes_are_said(pytester):
    """Found by review: ycr_sdk(retry_polcy=None) was silently ignored (yandexcloud.SDK takes **kwargs),
    retry_policy="none" failed inside the SDK, and ycr_sent(code="NOT_FUOND") answered []."""
    pytester.makepyfile(test_mistakes=SDK_SETTINGS_MISTAKES)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines([
        "*@pytest.mark.ycr_sdk: retry_polcy is not a setting of yandexcloud.SDK*retry_policy*",
        "*@pytest.mark.ycr_sdk: retry_policy: must be a yandexcloud.RetryPolicy or None, got 'none'*",
    ], consecutive=False)  # fmt: skip


def test_a_bad_ycr_sdk_missing_value_stops_the_run(pytester):
    pytester.makeini("[pytest]\nycr_sdk_missing = skp\n")
    pytester.makepyfile(test_one="def test_one(ycr):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ycr_sdk_missing: must be fail or skip, got 'skp'*"])


def test_an_admin_url_that_is_not_http_is_refused_at_start(pytester, monkeypatch):
    monkeypatch.setenv("YCR_EMULATOR_ADMIN_URL", "127.0.0.1:8091")
    pytester.makepyfile(test_one="def test_one(ycr):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*must be http://HOST:PORT*got '127.0.0.1:8091'*"])


STUBS_ON_STRICT = """
def test_stubs(ycr_stubs):
    pass


def test_channel(ycr_channel):
    pass
"""


def test_the_channel_and_stubs_on_a_strict_emulator_that_refuses_the_token_say_what_to_change(
    pytester, shared, monkeypatch
):
    """Found by review (#24): ycr_channel and ycr_stubs got a bare UNAUTHENTICATED where ycr_sdk says
    what to change."""
    pytester.makepyfile(test_strict=STUBS_ON_STRICT)
    monkeypatch.setenv("YCR_EMULATOR_ADMIN_TOKEN", "admin-secret")
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        ["ycr_channel: the emulator at * runs strict auth and refuses the plugin's test token t1.ycr-test-token*"]
    )
