"""The official Node.js SDK (@yandex-cloud/nodejs-sdk, pinned in tests/clients/node/package-lock.json),
unmodified, runs tests/clients/node/scenario.js against the emulator: the standalone process (TLS,
strict auth) and the pytest plugin's subprocess mode, one test per scenario. A failed check is a
failed test that shows the program's output. Without node and npm, or before
``npm ci --prefix tests/clients/node``, only these tests are skipped, saying what to install."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from emulator.control.process import EmulatorProcess
from tests.support.docs import assert_on_page
from tests.support.exercised import assert_exercised
from tests.support.scenarios import assert_the_cloud_registry_step, assert_the_lifecycle_step, assert_the_scan_step

NODE_DIR = Path(__file__).parent / "clients" / "node"
SCENARIO_JS = NODE_DIR / "scenario.js"
REPOSITORY = Path(__file__).parent.parent
NPM_CI = "npm ci --prefix tests/clients/node"
PINNED = ("@yandex-cloud/nodejs-sdk", "@grpc/grpc-js")  # package.json's dependencies
SCENARIOS = ("images", "errors", "registries", "oauth")
FOLDER = "b1gnodeclient0000000"
TOKEN = "t1.node-client-token"
OAUTH_TOKEN = "y0_node-client-oauth-token"
TIMEOUT = 120  # seconds for one run of the program; a run takes 1-3 s
# Bytecode for the downstream pytest runs, outside the tree (test_downstream.py's): where
# PYTHONDONTWRITEBYTECODE is set, each run would compile everything again, seconds each.
PYCACHE = Path(tempfile.gettempdir(), f"ycr-downstream-pycache-{os.getuid()}")

# ---- README text (the lead pastes the same into README.md) ---------------------------------------
# Each line of the JavaScript is a line of scenario.js (test_the_readme_snippet_is_what_the_program_runs).

DOC_NODE = """\
```js
const fs = require('node:fs');
const { Session, waitForOperation } = require('@yandex-cloud/nodejs-sdk');
const { imageService } = require('@yandex-cloud/nodejs-sdk/containerregistry-v1');

const session = new Session({
    iamToken: token,
    ssl: { rootCerts: fs.readFileSync(caFile) }, // the emulator's CA: ycr-emulator --ca-file ca.pem
    pollInterval: 100, // ms between waitForOperation's polls (default 1000)
});
const images = session.client(imageService.ImageServiceClient, endpoint); // endpoint: 'localhost:50052'
const operation = await images.delete(imageService.DeleteImageRequest.fromPartial({ imageId }));
const done = await waitForOperation(operation, session, 60_000, endpoint); // polls OperationService at endpoint
```
"""

DOC_NODE_OAUTH = """\
```js
const { promisify } = require('node:util');
const grpc = require('@grpc/grpc-js');
const { iamTokenService } = require('@yandex-cloud/nodejs-sdk/iam-v1');

const credentials = grpc.credentials.createSsl(fs.readFileSync(caFile)); // TLS, no call credentials
const iam = new iamTokenService.IamTokenServiceClient(endpoint, credentials);
const request = iamTokenService.CreateIamTokenRequest.fromPartial({ yandexPassportOauthToken: oauthToken });
const create = promisify(iam.create.bind(iam));
const response = await create(request); // { iamToken, expiresAt }
```
"""


def _node() -> str:
    """The node executable, once the pinned packages are installed; else skip, saying what to run."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(
            "the Node.js client tests need node and npm (Node.js 20 or later) on PATH: install Node.js "
            f"(on Debian: apt-get install nodejs npm), then run {NPM_CI}"
        )
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())["packages"]
    for name in PINNED:
        installed = NODE_DIR / "node_modules" / name / "package.json"
        if not installed.exists():
            pytest.skip(f"the Node.js client's packages are not installed ({name} is missing): run {NPM_CI}")
        version, pinned = json.loads(installed.read_text())["version"], lock[f"node_modules/{name}"]["version"]
        if version != pinned:
            pytest.fail(f"{name} {version} is installed, the lock file pins {pinned}: run {NPM_CI}", pytrace=False)
    return node


def _environment() -> dict[str, str]:
    """This process's environment without the emulator settings (the program reads YCR_* too)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("YCR_")}


def run_scenario(scenario: str, *, endpoint: str, ca_file: Path, admin_url: str, **options: str) -> tuple[int, str]:
    """Run scenario.js; its exit code and its output (stdout, then stderr)."""
    command = [_node(), str(SCENARIO_JS), scenario, "--endpoint", endpoint, "--ca-file", str(ca_file)]
    command += ["--admin-url", admin_url]
    for option, value in options.items():
        command += [f"--{option.replace('_', '-')}", value]
    try:
        run = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=TIMEOUT, cwd=NODE_DIR, env=_environment()
        )
    except subprocess.TimeoutExpired as stuck:
        so_far = (stuck.stdout or b"").decode(errors="replace") + (stuck.stderr or b"").decode(errors="replace")
        pytest.fail(f"node scenario.js {scenario} did not finish in {TIMEOUT} s; its output so far:\n{so_far}")
    return run.returncode, run.stdout + run.stderr


def assert_passed(scenario: str, code: int, output: str) -> None:
    summary = re.search(rf"^scenario {scenario}: (\d+) ok, 0 FAIL$", output, re.MULTILINE)
    assert code == 0 and summary and int(summary[1]) > 0, f"node scenario.js {scenario} exited {code}:\n{output}"


# The registries scenario's last step, Cloud Registry's: the checks it must have passed (each line
# starts so; a check may add a note after it).
CLOUD_REGISTRY_CHECKS = [
    "cloud registry: the SDK maps its services to registry.api.cloud.yandex.net:443 by itself",
    "cloud registry: RegistryService.List, 1 per page; the DOCKER registry by its kind",
    "cloud registry: ListArtifacts of library/ubuntu, 1 per page: an ARTIFACT a tag",
    "cloud registry: GetByPath library/ubuntu/latest, Get; the image's digest",
    "cloud registry: Delete latest: pends; waitForOperation; latest is gone",
    "cloud registry: Container Registry's RegistryService.List does not see its registries",
]


def assert_the_cloud_registry_checks(output: str) -> None:
    passed = [line.removeprefix("ok ") for line in output.splitlines() if line.startswith("ok cloud registry: ")]
    missing = [name for name in CLOUD_REGISTRY_CHECKS if not any(line.startswith(name) for line in passed)]
    assert not missing, f"scenario registries did not pass these Cloud Registry checks: {missing}\n{output}"


def localhost(endpoint: str) -> str:
    """The emulator's certificate names localhost; Node warns (DEP0123) when TLS is given an IP address."""
    return endpoint.replace("127.0.0.1", "localhost")


# ---- (a) the standalone emulator: TLS, strict auth ------------------------------------------------


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    ca_file = tmp_path_factory.mktemp("node") / "ca.pem"
    args = ["--tls-port", "0", "--ca-file", str(ca_file), "--auth", "strict"]
    args += ["--require-token", f"{TOKEN}={FOLDER}", "--require-token", f"{OAUTH_TOKEN}={FOLDER}"]
    with EmulatorProcess(args) as process:
        process.ca_file = ca_file
        yield process


def _run_standalone(process: EmulatorProcess, scenario: str) -> tuple[int, str]:
    process.reset()
    return run_scenario(
        scenario,
        endpoint=localhost(process.tls_endpoint),
        ca_file=process.ca_file,
        admin_url=process.admin_url,
        token=TOKEN,
        folder=FOLDER,
        oauth_token=OAUTH_TOKEN,
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_node_sdk_against_the_standalone_emulator(standalone, scenario):
    code, output = _run_standalone(standalone, scenario)
    assert_passed(scenario, code, output)
    assert_exercised("node", scenario, standalone.calls)  # what the fidelity page says it calls
    if scenario == "images":  # the images scenario's first registry and what it names the policy
        assert_the_lifecycle_step(standalone, registry="node-first", path="team/web", policy="node-keep-newest")
        assert_the_scan_step(standalone, registry="node-first", path="team/web")
    if scenario == "registries":  # its Cloud Registry step's registries; nodejs-sdk 3.2.0 cannot List by kind
        assert_the_cloud_registry_checks(output)
        assert_the_cloud_registry_step(
            standalone, registry="node-cloud-docker", other="node-cloud-npm", kind_filter=False
        )


def test_the_program_fails_and_says_which_check(standalone):
    """The checks can fail: under auth none the emulator refuses no token and no folder, so exactly
    the UNAUTHENTICATED and PERMISSION_DENIED checks fail, and the program exits 1."""
    _node()
    standalone.reset()  # the next test's reset() gives the emulator its strict auth back
    standalone.configure_auth("none")
    code, output = run_scenario(
        "errors",
        endpoint=localhost(standalone.tls_endpoint),
        ca_file=standalone.ca_file,
        admin_url=standalone.admin_url,
        token=TOKEN,
        folder=FOLDER,
    )
    failed = sorted(line.split(":")[0].removeprefix("FAIL ") for line in output.splitlines() if line.startswith("FAIL"))
    assert code == 1 and failed == ["PERMISSION_DENIED"] * 2 + ["UNAUTHENTICATED"] * 2, output
    assert re.search(r"^scenario errors: \d+ ok, 4 FAIL$", output, re.MULTILINE), output


def test_bad_usage_exits_2_with_the_usage():
    run = subprocess.run(
        [_node(), str(SCENARIO_JS), "nope"], check=False, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert run.returncode == 2 and "usage: node scenario.js {images,errors,registries,oauth}" in run.stderr


# ---- (b) the pytest plugin's subprocess mode, from a downstream project -----------------------------

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


def test_node_scenario(ycr, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ycr.ca_pem)
    command = [
        os.environ["NODE"], os.environ["SCENARIO_JS"], os.environ["SCENARIO"],
        "--endpoint", ycr.tls_endpoint.replace("127.0.0.1", "localhost"), "--ca-file", str(ca_file),
        "--token", "t1.ycr-test-token", "--folder", "b1g0000000000000ycrt",  # the plugin's test token and folder
        "--admin-url", ycr.admin_url, "--admin-token", ycr.admin_token, "--oauth-token", "{OAUTH_TOKEN}",
    ]
    run = subprocess.run(command, check=False, capture_output=True, text=True, timeout={TIMEOUT})
    assert run.returncode == 0, run.stdout + run.stderr
"""


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_node_sdk_against_the_plugins_subprocess_mode(scenario, tmp_path):
    node = _node()
    (tmp_path / "pytest.ini").write_text(PLUGIN_INI)
    (tmp_path / "test_node.py").write_text(PLUGIN_TEST)
    drop = ("PYTEST_", "PYTHONDONTWRITEBYTECODE")
    env = {key: value for key, value in _environment().items() if not key.startswith(drop)}
    env.update(NODE=node, SCENARIO_JS=str(SCENARIO_JS), SCENARIO=scenario, PYTHONPYCACHEPREFIX=str(PYCACHE))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--tb=short"]
    run = subprocess.run(
        command, check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=2 * TIMEOUT
    )
    assert run.returncode == 0 and "1 passed" in run.stdout, (
        f"the downstream pytest run failed:\n{run.stdout}{run.stderr}"
    )


# ---- the README --------------------------------------------------------------------------------------


def _code_lines(snippet: str) -> list[str]:
    return [line.strip() for line in snippet.splitlines() if line.strip() and not line.startswith("```")]


def test_the_documented_snippet_is_what_the_program_runs():
    program = {line.strip() for line in SCENARIO_JS.read_text().splitlines()}
    for snippet in (DOC_NODE, DOC_NODE_OAUTH):
        missing = [line for line in _code_lines(snippet) if line not in program]
        assert not missing, f"documented lines that scenario.js does not run: {missing}"


def test_the_docs_say_the_same():
    assert_on_page("other-languages.md", DOC_NODE=DOC_NODE, DOC_NODE_OAUTH=DOC_NODE_OAUTH)
