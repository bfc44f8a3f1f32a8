"""The contract suite (tests/contract) against a target given only by environment variables: a
standalone emulator over TLS with strict auth, standing in for production. The suite runs in a
pytest subprocess, as a user runs it in CI, and must pass with every test it collects by default
(no skip hiding a failure); with a wrong CA or a wrong token it must fail; a half-configured
target must stop it at start (exit code 4) naming what to set, never fall back to the emulator.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import trustme

from emulator.control.process import EmulatorProcess
from tests.contract.seed import CLOUD_REGISTRY_ID, FOLDER, REGISTRY_ID, contract_seed
from tests.contract.target import settings_from

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "t1.contract-ci-token"
RUN_TIMEOUT = 300  # seconds: a hung run fails instead of stalling the suite
OUTCOMES = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)")


def run_suite(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """``python -m pytest tests/contract`` in a subprocess with these YCR_CONTRACT_* variables and
    nothing of this session's pytest or emulator settings."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("PYTEST_", "YCR_"))}
    command = [sys.executable, "-m", "pytest", "tests/contract", "-p", "no:cacheprovider", "-q", *args]
    return subprocess.run(
        command, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )


def outcomes(run: subprocess.CompletedProcess) -> dict[str, int]:
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    return {kind.rstrip("s") if kind.startswith("error") else kind: int(n) for n, kind in OUTCOMES.findall(summary)}


@pytest.fixture(scope="module")
def collected() -> int:
    """How many tests the suite holds (the same for every target: nothing is parametrized by data)."""
    run = run_suite({}, "--collect-only")
    found = re.search(r"(\d+) tests? collected", run.stdout)
    assert run.returncode == 0 and found, run.stdout + run.stderr
    return int(found.group(1))


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """A standalone emulator (TLS, strict auth, TOKEN for the seed's folder) seeded through its
    control plane, and its CA in a file."""
    args = ["--tls-port", "0", "--auth", "strict", "--require-token", f"{TOKEN}={FOLDER}"]
    with EmulatorProcess(args) as process:
        process.load_seed(contract_seed())
        ca_file = tmp_path_factory.mktemp("contract") / "ca.pem"
        ca_file.write_bytes(process.ca_pem)
        yield process, ca_file


def target_env(process, ca_file: Path, **credential: str) -> dict[str, str]:
    return {
        "YCR_CONTRACT_API_ENDPOINT": process.tls_endpoint,
        "YCR_CONTRACT_REGISTRY_ID": REGISTRY_ID,
        "YCR_CONTRACT_CLOUD_REGISTRY_ID": CLOUD_REGISTRY_ID,
        "YCR_CONTRACT_CA_FILE": str(ca_file),
        **credential,
    }


def exchanges(process) -> int:
    """IamTokenService/Create calls since the counting rule was added: a fault rule that lets the
    first 1,000 calls through, whose ``after`` counts down (the call recording keeps only the
    newest 1,000 calls, and a run makes more)."""
    (rule,) = [rule for rule in process.faults if rule["method"].endswith("IamTokenService/Create")]
    return 1000 - rule.get("after", 0)


@pytest.mark.parametrize("credential", ["IAM_TOKEN", "OAUTH_TOKEN"])
def test_the_suite_passes_against_a_standalone_emulator_given_by_environment(standalone, collected, credential):
    """Every collected test passes (none skipped). With the OAuth token the SDK trades it through
    IamTokenService.Create, and strict auth accepts the IAM token the emulator issued for it."""
    process, ca_file = standalone
    process.clear_faults()
    process.add_fault(method="IamTokenService/Create", code="UNAVAILABLE", after=1000)
    run = run_suite(target_env(process, ca_file, **{f"YCR_CONTRACT_{credential}": TOKEN}))
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert outcomes(run) == {"passed": collected}, run.stdout[-2000:]
    assert (exchanges(process) > 0) == (credential == "OAUTH_TOKEN")  # the SDK may trade more than once
    assert collected >= 150  # the whole suite, not a remnant


@pytest.mark.parametrize("wrong", ["ca-file", "iam-token", "oauth-token"])
def test_the_suite_fails_with_a_wrong_ca_or_token(standalone, tmp_path, wrong):
    """A CA that did not sign the endpoint's certificate, or a token strict auth does not know (an
    OAuth token is refused when the SDK trades it): the run fails (-x: at its first test), with the
    target's answer in its output."""
    process, ca_file = standalone
    env = target_env(process, ca_file, YCR_CONTRACT_IAM_TOKEN=TOKEN)
    if wrong == "ca-file":
        other_ca = tmp_path / "other-ca.pem"
        other_ca.write_bytes(trustme.CA().cert_pem.bytes())
        env["YCR_CONTRACT_CA_FILE"], expected = str(other_ca), "UNAVAILABLE"
    elif wrong == "iam-token":
        env["YCR_CONTRACT_IAM_TOKEN"], expected = "t1.not-the-token", "UNAUTHENTICATED"
    else:
        del env["YCR_CONTRACT_IAM_TOKEN"]
        env["YCR_CONTRACT_OAUTH_TOKEN"], expected = "y0_not-the-token", "UNAUTHENTICATED"
    run = run_suite(env, "-x")
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    assert "passed" not in outcomes(run)
    assert f"answered RegistryService.Get of {REGISTRY_ID} with" in run.stdout, run.stdout[-3000:]
    assert expected in run.stdout, run.stdout[-3000:]


def test_with_only_a_cloud_registry_container_registrys_tests_skip_saying_so(standalone):
    """After Container Registry's shutdown a target names only a Cloud Registry registry: its tests
    pass, Container Registry's are skipped with the variable that would run them."""
    process, ca_file = standalone
    process.clear_faults()
    env = target_env(process, ca_file, YCR_CONTRACT_IAM_TOKEN=TOKEN)
    del env["YCR_CONTRACT_REGISTRY_ID"]
    files = ("tests/contract/test_contract_cloud_registry.py", "tests/contract/test_contract_operations.py")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *files, "-p", "no:cacheprovider", "-q", "-rs"], cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "YCR_"))}, **env},
        capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    found = outcomes(run)
    assert found["passed"] >= 9 and found["skipped"] >= 1, run.stdout[-2000:]
    assert "set YCR_CONTRACT_REGISTRY_ID to check it" in run.stdout, run.stdout[-2000:]


def test_a_half_configured_target_stops_pytest_at_start():
    """Exit code 4 (a usage error) with the message on stderr; no test runs."""
    run = run_suite({"YCR_CONTRACT_REGISTRY_ID": REGISTRY_ID})
    assert run.returncode == 4, run.stdout + run.stderr
    assert "YCR_CONTRACT_API_ENDPOINT is missing" in run.stderr
    assert "set YCR_CONTRACT_IAM_TOKEN or YCR_CONTRACT_OAUTH_TOKEN" in run.stderr
    assert "passed" not in run.stdout


GOOD = {
    "YCR_CONTRACT_API_ENDPOINT": "api.cloud.yandex.net:443",
    "YCR_CONTRACT_REGISTRY_ID": "crp0123456789abcdefg",
    "YCR_CONTRACT_IAM_TOKEN": "t1.token",
}


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"YCR_CONTRACT_API_ENDPOINT": None}, ["YCR_CONTRACT_API_ENDPOINT is missing"]),
        ({"YCR_CONTRACT_REGISTRY_ID": None}, ["YCR_CONTRACT_REGISTRY_ID is missing"]),
        ({"YCR_CONTRACT_IAM_TOKEN": None}, ["a token is missing"]),
        (
            {"YCR_CONTRACT_OAUTH_TOKEN": "y0_oauth"},
            ["YCR_CONTRACT_IAM_TOKEN and YCR_CONTRACT_OAUTH_TOKEN are both set"],
        ),
        ({"YCR_CONTRACT_IAM_TOKEN": " "}, ["YCR_CONTRACT_IAM_TOKEN is set but empty"]),
        ({"YCR_CONTRACT_API_ENDPOINT": "api.cloud.yandex.net"}, ["must be HOST:PORT"]),
        ({"YCR_CONTRACT_CA_FILE": "/nonexistent/ca.pem"}, ["YCR_CONTRACT_CA_FILE cannot be read"]),
        ({"YCR_CONTRACT_TOKEN": "t1.x"}, ["YCR_CONTRACT_TOKEN is not a setting"]),
        (
            {"YCR_CONTRACT_API_ENDPOINT": None, "YCR_CONTRACT_IAM_TOKEN": None},
            ["YCR_CONTRACT_API_ENDPOINT is missing", "a token is missing"],
        ),
    ],
    ids=[
        "no-endpoint",
        "no-registry",
        "no-token",
        "two-tokens",
        "empty-token",
        "no-port",
        "no-ca-file",
        "unknown",
        "two",
    ],
)
def test_every_problem_of_the_settings_is_named(changes, named):
    environ = {name: value for name, value in {**GOOD, **changes}.items() if value is not None}
    with pytest.raises(pytest.UsageError) as raised:
        settings_from(environ)
    for words in named:
        assert words in str(raised.value)


def test_settings_of_an_endpoint_and_of_none(tmp_path):
    assert settings_from({"PATH": "/bin"}) is None
    not_pem = tmp_path / "ca.txt"
    not_pem.write_text("not a certificate")
    with pytest.raises(pytest.UsageError, match="holds no PEM certificate"):
        settings_from({**GOOD, "YCR_CONTRACT_CA_FILE": str(not_pem)})
    ca = tmp_path / "ca.pem"
    ca.write_bytes(trustme.CA().cert_pem.bytes())
    settings = settings_from({**GOOD, "YCR_CONTRACT_CA_FILE": str(ca)})
    assert (settings.ca_pem, settings.iam_token, settings.oauth_token) == (ca.read_bytes(), "t1.token", None)
    oauth = {**GOOD, "YCR_CONTRACT_OAUTH_TOKEN": "y0_oauth"}
    del oauth["YCR_CONTRACT_IAM_TOKEN"]
    settings = settings_from(oauth)
    assert (settings.ca_pem, settings.iam_token, settings.oauth_token) == (None, None, "y0_oauth")
    cloud_only = {**GOOD, "YCR_CONTRACT_CLOUD_REGISTRY_ID": "cn10123456789abcdefg"}
    del cloud_only["YCR_CONTRACT_REGISTRY_ID"]
    settings = settings_from(cloud_only)
    assert (settings.registry_id, settings.cloud_registry_id) == (None, "cn10123456789abcdefg")


@pytest.mark.parametrize("wrong", ["ca-file", "maven-registry"])
def test_a_wrong_cloud_registry_target_fails_in_one_line(standalone, tmp_path, wrong):
    """Found by review: a CA that does not fit gave a traceback per test, and a registry that is not a
    Docker one passed. Each is now one line naming the target's answer."""
    process, ca_file = standalone
    env = target_env(process, ca_file, YCR_CONTRACT_IAM_TOKEN=TOKEN)
    del env["YCR_CONTRACT_REGISTRY_ID"]
    if wrong == "ca-file":
        other_ca = tmp_path / "other-ca.pem"
        other_ca.write_bytes(trustme.CA().cert_pem.bytes())
        env["YCR_CONTRACT_CA_FILE"], expected = str(other_ca), "cannot be reached: cannot reach"
    else:
        env["YCR_CONTRACT_CLOUD_REGISTRY_ID"], expected = "cn1contract000maven1", "a MAVEN registry: the suite reads a DOCKER one"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/contract/test_contract_cloud_registry.py", "-p", "no:cacheprovider",
         "-q", "-x"], cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "YCR_"))}, **env},
        capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout[-3000:]
    assert expected in run.stdout and "Traceback" not in run.stdout, run.stdout[-3000:]
