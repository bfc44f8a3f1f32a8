"""What the other languages' scenario programs (tests/clients) leave in the emulator, checked the
same way for Go and Node.js."""

from __future__ import annotations

from datetime import timedelta

from emulator.control.process import EmulatorProcess

# What the scan step's programs seed for their image's digest (check.ScanReport, scenario.js's
# SCAN_REPORT): how many vulnerabilities of each severity.
SCAN_COUNTS = {"CRITICAL": 1, "HIGH": 2}

LIFECYCLE_CODES = {  # LifecyclePolicyService method -> the codes the step's calls are answered, in order
    "Create": ["OK"],
    "Get": ["OK", "NOT_FOUND"],  # the policy, then the deleted policy
    "DryRun": ["OK"],
    "GetDryRunResult": ["OK"],
    "Delete": ["OK"],
}


def assert_the_lifecycle_step(process: EmulatorProcess, *, registry: str, path: str, policy: str) -> None:
    """The images scenario's lifecycle step, as the emulator recorded it: a DISABLED policy named ``policy``
    with the rule {tag_regexp ".*", expire_period 24h, retained_top 1} on ``path`` in the registry
    named ``registry``, its dry run and affected images, and the policy deleted. And what the
    program's seed must hold for the dry run to affect an image (the program checks which): two
    tagged images there at least a day old, still there after the dry run."""
    [registry_id] = [found.id for found in process.registries.values() if found.name == registry]
    [repository] = [found for found in process.repositories.values() if found.name == f"{registry_id}/{path}"]
    [create] = process.calls_of("LifecyclePolicyService/Create")
    assert create["code"] == "OK" and create["request"] == {
        "repository_id": repository.id,
        "name": policy,
        "status": "DISABLED",
        "rules": [{"tag_regexp": ".*", "expire_period": "86400s", "retained_top": "1"}],
    }, create
    for method, codes in LIFECYCLE_CODES.items():
        calls = process.calls_of(f"LifecyclePolicyService/{method}")
        assert [call["code"] for call in calls] == codes, (method, calls)
    listed = process.calls_of("LifecyclePolicyService/ListDryRunResultAffectedImages")
    assert listed and {call["code"] for call in listed} == {"OK"}, listed
    assert process.lifecycle_policies == {}
    day_old = process.now - timedelta(days=1)
    images = [image for image in process.images.values() if image.name == repository.name]
    assert len([image for image in images if image.tags and image.created_at <= day_old]) >= 2, images
    assert not [op for op in process.operations.values() if op.created_by.startswith("lifecycle-policy:")]


def assert_the_scan_step(process: EmulatorProcess, *, registry: str, path: str) -> None:
    """The images scenario's scan step, as the emulator recorded it: one ScannerService.Scan of an
    image of ``path`` in the registry named ``registry``, answered OK, whose result (the only one) is
    READY and found the vulnerability report seeded for the image's digest (SCAN_COUNTS of them); its
    Get while pending, GetLast and ListVulnerabilities all answered OK."""
    [registry_id] = [found.id for found in process.registries.values() if found.name == registry]
    [repository] = [found for found in process.repositories.values() if found.name == f"{registry_id}/{path}"]
    [scan] = process.calls_of("ScannerService/Scan")
    assert scan["code"] == "OK", scan
    image = process.images[scan["request"]["image_id"]]
    assert image.name == repository.name, (image, repository)
    for method in ("Get", "GetLast"):
        calls = process.calls_of(f"ScannerService/{method}")
        assert [call["code"] for call in calls] == ["OK"], (method, calls)
    listed = process.calls_of("ScannerService/ListVulnerabilities")
    assert listed and {call["code"] for call in listed} == {"OK"}, listed
    state = process.state()
    [report] = [found for found in state.get("vulnerability_reports", []) if found["digest"] == image.digest]
    [result] = state["scan_results"]
    assert (result["image_id"], result["repository_id"], result["status"]) == (image.id, repository.id, "READY"), result
    assert result["vulnerabilities"] == report["vulnerabilities"], (result, report)
    severities = [vulnerability["severity"] for vulnerability in result["vulnerabilities"]]
    assert {severity: severities.count(severity) for severity in severities} == SCAN_COUNTS, severities
