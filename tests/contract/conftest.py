"""The contract suite's target: the emulator by default, or a real Container Registry.

Set these to run the same tests against a real endpoint (read-only; nothing is deleted):
    YCR_CONTRACT_API_ENDPOINT   the SDK's discovery endpoint, e.g. api.cloud.yandex.net:443
    YCR_CONTRACT_IAM_TOKEN      an IAM token that may list the registry
    YCR_CONTRACT_REGISTRY_ID    a registry with at least 3 images in at least 2 repositories
Against the emulator, the suite seeds such a registry itself, and is reached through the
same official SDK over TLS, so both targets see the same client.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import pytest

from emulator import Emulator

FOLDER = "b1g0000000000contract"


@dataclass
class Target:
    sdk: object
    registry_id: str
    real: bool


def _seeded_emulator() -> Emulator:
    emulator = Emulator(tls=True).start()
    registry = emulator.add_registry(FOLDER, name="contract")
    for n in range(9):
        emulator.add_image(
            registry.id,
            ("team/web", "team/api", "base")[n % 3],
            tags=[f"v{n}"],
            created_at=f"2026-0{1 + n % 3}-1{n}T00:00:00Z",
        )
    return emulator


@pytest.fixture(scope="session")
def target():
    import yandexcloud

    endpoint = os.environ.get("YCR_CONTRACT_API_ENDPOINT")
    if endpoint:
        token, registry_id = os.environ["YCR_CONTRACT_IAM_TOKEN"], os.environ["YCR_CONTRACT_REGISTRY_ID"]
        yield Target(yandexcloud.SDK(iam_token=token, endpoint=endpoint), registry_id, real=True)
        return
    emulator = _seeded_emulator()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sdk = yandexcloud.SDK(iam_token="t1.contract", endpoint=emulator.endpoint, root_certificates=emulator.ca_pem)
    yield Target(sdk, next(iter(emulator.registries)), real=False)
    emulator.stop()
