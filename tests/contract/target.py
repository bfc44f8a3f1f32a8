"""The contract suite's target as the environment names it (see tests/contract/conftest.py): the
YCR_CONTRACT_* variables, read and checked all together, so that a half-configured endpoint
stops pytest with one message naming what to set instead of falling back to the emulator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PREFIX = "YCR_CONTRACT_"
VARIABLES = ("API_ENDPOINT", "REGISTRY_ID", "CLOUD_REGISTRY_ID", "IAM_TOKEN", "OAUTH_TOKEN", "CA_FILE")
HOW = (
    f"unset every {PREFIX}* variable to test the in-process emulator, or set {PREFIX}API_ENDPOINT, "
    f"{PREFIX}REGISTRY_ID (a Container Registry registry) and/or {PREFIX}CLOUD_REGISTRY_ID (a Cloud Registry "
    f"DOCKER registry), and one of {PREFIX}IAM_TOKEN or {PREFIX}OAUTH_TOKEN "
    f"({PREFIX}CA_FILE too for an endpoint with a private CA)"
)


@dataclass(frozen=True)
class Settings:
    """An endpoint target, as the environment gives it."""

    endpoint: str
    registry_id: str | None  # Container Registry's (its tests are skipped, saying so, without one)
    cloud_registry_id: str | None  # Cloud Registry's (likewise)
    iam_token: str | None
    oauth_token: str | None
    ca_file: str | None
    ca_pem: bytes | None

    def describe(self) -> str:
        credential = "an IAM token" if self.iam_token else "an OAuth token"
        trust = f"CA file {self.ca_file}" if self.ca_file else "the system roots"
        registries = [f"registry {self.registry_id}" if self.registry_id else "",
                      f"Cloud Registry registry {self.cloud_registry_id}" if self.cloud_registry_id else ""]  # fmt: skip
        return f"{self.endpoint}, {', '.join(filter(None, registries))}, {credential}, trusting {trust}"


def settings_from(environ: Mapping[str, str]) -> Settings | None:
    """The endpoint target the variables name, None when none is set; pytest.UsageError naming
    every problem when they are incomplete or contradictory."""
    given = {name[len(PREFIX) :]: value for name, value in environ.items() if name.startswith(PREFIX)}
    if not given:
        return None
    problems = [
        f"{PREFIX}{name} is not a setting of the contract suite" for name in sorted(given) if name not in VARIABLES
    ]
    problems += [f"{PREFIX}{name} is set but empty" for name in VARIABLES if name in given and not given[name].strip()]
    value = {name: given[name].strip() for name in VARIABLES if given.get(name, "").strip()}
    if "API_ENDPOINT" not in given:
        problems.append(f"{PREFIX}API_ENDPOINT is missing")
    if "REGISTRY_ID" not in given and "CLOUD_REGISTRY_ID" not in given:
        problems.append(f"{PREFIX}REGISTRY_ID is missing (or {PREFIX}CLOUD_REGISTRY_ID: set one or both)")
    if "IAM_TOKEN" in value and "OAUTH_TOKEN" in value:
        problems.append(f"{PREFIX}IAM_TOKEN and {PREFIX}OAUTH_TOKEN are both set: give one")
    elif "IAM_TOKEN" not in given and "OAUTH_TOKEN" not in given:
        problems.append(f"a token is missing: set {PREFIX}IAM_TOKEN or {PREFIX}OAUTH_TOKEN")
    endpoint = value.get("API_ENDPOINT", "")
    host, _, port = endpoint.rpartition(":")
    if endpoint and (not host or not port.isdigit()):
        problems.append(f"{PREFIX}API_ENDPOINT must be HOST:PORT, got {endpoint!r}")
    ca_pem = None
    if "CA_FILE" in value:
        path = Path(value["CA_FILE"])
        try:
            ca_pem = path.read_bytes()
        except OSError as error:
            problems.append(f"{PREFIX}CA_FILE cannot be read: {error.strerror or error}: {path}")
        else:
            if b"-----BEGIN CERTIFICATE-----" not in ca_pem:
                problems.append(f"{PREFIX}CA_FILE holds no PEM certificate: {path}")
    if problems:
        raise pytest.UsageError(f"the contract suite's target: {'; '.join(problems)}. To fix: {HOW}.")
    return Settings(
        endpoint=endpoint,
        registry_id=value.get("REGISTRY_ID"),
        cloud_registry_id=value.get("CLOUD_REGISTRY_ID"),
        iam_token=value.get("IAM_TOKEN"),
        oauth_token=value.get("OAUTH_TOKEN"),
        ca_file=value.get("CA_FILE"),
        ca_pem=ca_pem,
    )
