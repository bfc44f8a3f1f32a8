"""The official Go SDKs, unmodified: go-sdk v1 (github.com/yandex-cloud/go-sdk) and v2
(github.com/yandex-cloud/go-sdk/v2), pinned by tests/clients/go/sdkv1 and sdkv2 (go.mod, go.sum),
run the scenarios of tests/clients/go against the emulator: the standalone process (TLS, strict
auth) and the pytest plugin's subprocess mode, one test per SDK and scenario. A failed check is a
failed test that shows the program's output. Without go on PATH only these tests are skipped."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from emulator.control.process import EmulatorProcess
from tests.support.docs import assert_on_page
from tests.support.exercised import assert_exercised
from tests.support.scenarios import assert_the_cloud_registry_step, assert_the_lifecycle_step, assert_the_scan_step

GO_DIR = Path(__file__).parent / "clients" / "go"
REPOSITORY = Path(__file__).parent.parent
SDKS = {"v1": "sdkv1", "v2": "sdkv2"}  # SDK major version -> its program's module under GO_DIR
SCENARIOS = ("auth", "images", "errors", "workflow")
FOLDER = "b1ggoclient000000000"
TOKEN = "t1.go-client-token"
OAUTH_TOKEN = "y0_go-client-oauth-token"
BUILD_TIMEOUT = 1200  # seconds; a first build with an empty build cache takes 2-4 minutes on 2 busy cores
RUN_TIMEOUT = 120  # seconds for one run of a program; a run takes 0.1-1.2 s

# ---- README text (the lead pastes the same into README.md) ---------------------------------------
# Each is its program's code between the "README snippet" markers, word for word
# (test_the_readme_snippets_are_what_the_programs_run).

DOC_GO_V1 = """\
```go
// connect points the SDK at the emulator: its TLS address, its CA, and a token it accepts.
func connect(endpoint, caFile string, credentials ycsdk.Credentials, options ...grpc.DialOption) (*ycsdk.SDK, error) {
	pem, err := os.ReadFile(caFile) // ycr-emulator --tls-port 50052 --ca-file ca.pem
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate", caFile)
	}
	return ycsdk.Build(context.Background(), ycsdk.Config{
		Endpoint:    endpoint, // endpoint discovery: ApiEndpointService answers the emulator's own address
		TLSConfig:   &tls.Config{RootCAs: roots},
		Credentials: credentials, // ycsdk.NewIAMTokenCredentials(token), or ycsdk.OAuthToken(token)
	}, options...)
}
```
"""

DOC_GO_V2 = """\
```go
// connect points the SDK at the emulator: its TLS address, its CA, and a token it accepts.
func connect(endpoint, caFile string, credentials credentials.Credentials, more ...options.Option) (*ycsdk.SDK, error) {
	// go-sdk v2 dials the discovery endpoint, and every endpoint it discovers, with the system's
	// roots (options.WithTLSConfig does not reach them): SSL_CERT_FILE makes the emulator's CA the
	// process's roots. Set it before the process's first TLS connection, or in its environment.
	if err := os.Setenv("SSL_CERT_FILE", caFile); err != nil { // ycr-emulator --tls-port 50052 --ca-file ca.pem
		return nil, err
	}
	return ycsdk.Build(context.Background(), append([]options.Option{
		options.WithDiscoveryEndpoint(endpoint), // ApiEndpointService answers the emulator's own address
		options.WithCredentials(credentials),    // credentials.IAMToken(token), or credentials.OAuthToken(token)
	}, more...)...)
}
```
"""

DOC_SNIPPETS = {"v1": DOC_GO_V1, "v2": DOC_GO_V2}


# ---- building the programs, once per session -------------------------------------------------------


def _environment() -> dict[str, str]:
    """This process's environment without the settings the programs read (YCR_*) or pytest's own."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("YCR_", "PYTEST_"))}


@pytest.fixture(scope="session")
def go_programs() -> dict[str, Path]:
    """The two programs, built with `go build` from their pinned modules into a directory outside
    the work tree. The build cache makes every build after the first quick, and a binary already up
    to date is left as it is (about 1 s), so xdist workers build one at a time, under a lock."""
    go = shutil.which("go")
    if go is None:
        pytest.skip(
            "the Go client tests need the go command on PATH: install Go 1.23 or later (Debian 12's golang-go, "
            "1.19, is too old), then run tests/clients/install (it fetches the pinned modules and compiles them)"
        )
    # One directory per checkout: another checkout's build must never replace the binaries this one runs.
    checkout = hashlib.sha256(str(GO_DIR).encode()).hexdigest()[:12]
    out = Path(tempfile.gettempdir()) / f"ycr-go-clients-{os.getuid()}-{checkout}"
    out.mkdir(exist_ok=True)
    programs = {}
    with open(out / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for version, module in SDKS.items():
            build = subprocess.run(
                [go, "build", "-mod=readonly", "-o", str(out / module), "."],
                cwd=GO_DIR / module,
                env=_environment(),
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT,
                check=False,
            )
            if build.returncode != 0:
                pytest.fail(
                    f"go build in tests/clients/go/{module} failed:\n{build.stdout}{build.stderr}", pytrace=False
                )
            programs[version] = out / module
    return programs


def run_program(binary: Path, scenario: str, **settings: str) -> tuple[int, str]:
    """Run one scenario; its exit code and its output (stdout, then stderr)."""
    command = [str(binary), "-scenario", scenario]
    for name, value in settings.items():
        command += [f"-{name.replace('_', '-')}", value]
    run = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=_environment(), check=False)
    return run.returncode, run.stdout + run.stderr


def assert_passed(version: str, scenario: str, code: int, output: str) -> None:
    summary = re.search(rf"^go-sdk {version} {scenario}: (\d+) ok, 0 FAIL$", output, re.MULTILINE)
    assert code == 0 and summary and int(summary[1]) > 0, f"go-sdk {version} {scenario} exited {code}:\n{output}"


# The workflow scenario's last step, Cloud Registry's: the checks it must have passed, whatever else it
# checks (each SDK resolves Cloud Registry through discovery in its own way: v1 by the endpoint id
# "cloud-registry", v2 by the method's package, which it maps to that id).
CLOUD_REGISTRY_CHECKS = [
    "cloud registry: RegistryService.List: the DOCKER registry alone",
    "cloud registry: ListArtifacts: an ARTIFACT for each tag, by name",
    "cloud registry: GetByPath: the tag's ARTIFACT, content.docker.manifest_digest the image's digest",
    "cloud registry: Delete: Operation.Wait polls OperationService.Get",
    "cloud registry: ListArtifacts afterwards: latest is gone, the image keeps its other tag",
]
CLOUD_REGISTRY_DISCOVERY = {
    "v1": ["cloud registry: discovery: cloud-registry is the emulator"],
    "v2": [
        f"cloud registry: discovery: yandex.cloud.cloudregistry.v1.{service}.Get is the emulator (cloud-registry)"
        for service in ("RegistryService", "ArtifactService")
    ],
}


# go-sdk v2's migration step, after it (v1's go-genproto has the older MigrationService, StartCloud only).
MIGRATION_CHECKS = {
    "v1": [],
    "v2": [
        "migration: StartFolder: StartFolderMigrationMetadata lists the registry it moves",
        "migration: StartFolder: done with Empty",
        "migration: dashboard: COMPLETED, with the registry, its repository and its tags counted",
        "migration: a Cloud Registry DOCKER registry, LOCAL, with its id, name and folder",
        "migration: ListArtifacts: the image's tags as ARTIFACTs with its digest",
        "migration: Container Registry's RegistryService.Get of it is NOT_FOUND",
    ],
}


def assert_the_cloud_registry_checks(version: str, output: str) -> None:
    passed = {line.removeprefix("ok ") for line in output.splitlines() if line.startswith("ok ")}
    wanted = CLOUD_REGISTRY_DISCOVERY[version] + CLOUD_REGISTRY_CHECKS + MIGRATION_CHECKS[version]
    missing = [name for name in wanted if name not in passed]
    assert not missing, f"go-sdk {version} workflow did not pass these Cloud Registry checks: {missing}\n{output}"


# ---- (a) the standalone emulator: TLS, strict auth ------------------------------------------------


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    ca_file = tmp_path_factory.mktemp("go") / "ca.pem"
    args = ["--tls-port", "0", "--ca-file", str(ca_file), "--auth", "strict"]
    args += ["--require-token", f"{TOKEN}={FOLDER}", "--require-token", f"{OAUTH_TOKEN}={FOLDER}"]
    with EmulatorProcess(args) as process:
        process.ca_file = ca_file
        yield process


def _run_standalone(binary: Path, process: EmulatorProcess, scenario: str) -> tuple[int, str]:
    """Run a scenario against the standalone emulator as it is (tests reset it first)."""
    return run_program(
        binary,
        scenario,
        endpoint=process.tls_endpoint,
        ca=str(process.ca_file),
        token=TOKEN,
        oauth_token=OAUTH_TOKEN,
        folder=FOLDER,
        admin=process.admin_url,
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("version", SDKS)
def test_the_go_sdk_against_the_standalone_emulator(go_programs, standalone, version, scenario):
    standalone.reset()
    code, output = _run_standalone(go_programs[version], standalone, scenario)
    assert_passed(version, scenario, code, output)
    assert_exercised(f"go {version}", scenario, standalone.calls)  # what the fidelity page says it calls
    if scenario == "images":  # check.SeedImages' first registry; the programs name the policy
        assert_the_lifecycle_step(standalone, registry="go-images-0", path="app", policy="go-keep-newest")
        assert_the_scan_step(standalone, registry="go-images-0", path="app")
    if scenario == "workflow":  # check.CloudRegistryName and check.CloudRegistryOther
        assert_the_cloud_registry_checks(version, output)
        assert_the_cloud_registry_step(
            standalone, registry="go-cloud-docker", other="go-cloud-npm", kind_filter=True, moved="go-migrated"
        )
        if version == "v2":  # check.MigratedRegistryName: a Cloud Registry DOCKER registry now, its migration done
            [moved] = [found for found in standalone.registries.values() if found.name == "go-migrated"]
            assert moved.kind == "DOCKER", moved
            [started] = standalone.calls_of("cloudregistry.MigrationService/StartFolder")
            assert started["code"] == "OK" and started["request"] == {"folder_id": FOLDER}, started


@pytest.mark.parametrize("version", SDKS)
def test_a_failed_check_fails_the_program_and_says_which(go_programs, standalone, version):
    """The checks can fail: under auth none the emulator refuses no token and no folder, so exactly
    the UNAUTHENTICATED and PERMISSION_DENIED checks of the auth scenario fail (and the one that reads
    the refusals from the emulator's recorded calls), and the program exits 1."""
    standalone.reset()  # the next test's reset() gives the emulator its strict auth back
    standalone.configure_auth("none")
    code, output = _run_standalone(go_programs[version], standalone, "auth")
    failed = [line.split(":")[0].removeprefix("FAIL ") for line in output.splitlines() if line.startswith("FAIL ")]
    refused = {"v1": 3, "v2": 4}[version]  # v2 also calls with no token at all
    assert code == 1 and sorted(failed) == ["PERMISSION_DENIED"] + ["UNAUTHENTICATED"] * refused + ["refusals"], output
    assert re.search(rf"^go-sdk {version} auth: \d+ ok, {refused + 2} FAIL$", output, re.MULTILINE), output


@pytest.mark.parametrize("version", SDKS)
def test_bad_usage_exits_2_and_names_what_is_missing(go_programs, version):
    code, output = run_program(go_programs[version], "nope", endpoint="127.0.0.1:1")
    assert code == 2 and "missing settings: " in output and "-ca" in output, output


# ---- (b) the pytest plugin's subprocess mode, from a downstream project -----------------------------
# One downstream session per SDK runs every scenario, one test each, against the emulator the plugin
# starts (reset before each test); each test here reports one of them.

PLUGIN_INI = f"""\
[pytest]
ycr_mode = subprocess
ycr_auth = strict
ycr_tokens =
    {OAUTH_TOKEN}=b1g0000000000000ycrt
"""

PLUGIN_TEST = f"""\
import os
import subprocess

import pytest


@pytest.mark.parametrize("scenario", {list(SCENARIOS)!r})
def test_go_scenario(ycr, tmp_path, scenario):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ycr.ca_pem)
    command = [
        os.environ["GO_PROGRAM"], "-scenario", scenario,
        "-endpoint", ycr.tls_endpoint, "-ca", str(ca_file),
        "-token", "t1.ycr-test-token", "-folder", "b1g0000000000000ycrt",  # the plugin's test token and folder
        "-oauth-token", "{OAUTH_TOKEN}", "-admin", ycr.admin_url, "-admin-token", ycr.admin_token,
    ]
    run = subprocess.run(command, check=False, capture_output=True, text=True, timeout={RUN_TIMEOUT})
    assert run.returncode == 0, run.stdout + run.stderr
"""


@pytest.fixture(scope="module")
def downstream(go_programs, tmp_path_factory):
    """``downstream(version)``: each scenario's failure in the downstream session (None: passed)."""
    outcomes: dict[str, dict[str, str | None]] = {}

    def outcome(version: str) -> dict[str, str | None]:
        if version not in outcomes:
            root = tmp_path_factory.mktemp(f"downstream-{version}")
            (root / "pytest.ini").write_text(PLUGIN_INI)
            (root / "test_go.py").write_text(PLUGIN_TEST)
            env = {**_environment(), "GO_PROGRAM": str(go_programs[version])}
            command = [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-vv",
                "--tb=short",
                "--junitxml=report.xml",
            ]
            run = subprocess.run(
                command, check=False, cwd=root, env=env, capture_output=True, text=True, timeout=5 * RUN_TIMEOUT
            )
            everything = f"the downstream pytest run exited {run.returncode}:\n{run.stdout}{run.stderr}"
            outcomes[version] = dict.fromkeys(SCENARIOS, everything)  # a scenario the report lacks: all of it
            if (root / "report.xml").exists():
                for case in ElementTree.parse(root / "report.xml").iter("testcase"):
                    scenario = case.get("name", "").removeprefix("test_go_scenario[").removesuffix("]")
                    failures = [f"{item.tag}:\n{item.text or item.get('message', '')}" for item in case]
                    outcomes[version][scenario] = "\n".join(failures) or None
        return outcomes[version]

    return outcome


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("version", SDKS)
def test_the_go_sdk_against_the_plugins_subprocess_mode(downstream, version, scenario):
    failure = downstream(version)[scenario]
    if failure is not None:
        pytest.fail(f"go-sdk {version} {scenario} in the plugin's subprocess mode:\n{failure}", pytrace=False)


# ---- the docs (other-languages.md) ----------------------------------------------------------------------


def _snippet(module: str) -> str:
    """The program's code between its README markers, as a Go code block."""
    source = (GO_DIR / module / "main.go").read_text()
    found = re.search(
        r"^// README snippet: go-sdk v\d\n(.*?)^// end of README snippet\n", source, re.DOTALL | re.MULTILINE
    )
    assert found, f"tests/clients/go/{module}/main.go has no README snippet markers"
    return f"```go\n{found[1].rstrip()}\n```\n"


@pytest.mark.parametrize("version", SDKS)
def test_the_documented_snippets_are_what_the_programs_run(version):
    assert DOC_SNIPPETS[version] == _snippet(SDKS[version])


def test_the_docs_say_the_same():
    assert_on_page("other-languages.md", DOC_GO_V1=DOC_GO_V1, DOC_GO_V2=DOC_GO_V2)
