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


# ---- the Cloud Registry step (Go's workflow scenario, Node.js's registries scenario) -------------------

CLOUD_REPOSITORY = "library/ubuntu"  # check.CloudRegistryRepository, scenario.js's CLOUD_REPOSITORY
CLOUD_TAGS = {"deleted": "latest", "kept": "24.04"}  # the image's tags: the one the step deletes, the other


def assert_the_cloud_registry_step(
    process: EmulatorProcess, *, registry: str, other: str, kind_filter: bool, moved: str | None = None
) -> None:
    """The Cloud Registry step, as the emulator recorded it: in the DOCKER Cloud Registry registry
    named ``registry`` (beside the NPM one named ``other``), RegistryService.List of the folder (by
    kind DOCKER when ``kind_filter``: go-sdk's genproto has the field, nodejs-sdk 3.2.0's has not),
    ListArtifacts of library/ubuntu, GetByPath of library/ubuntu/latest, then Get and Delete of that
    artifact, all answered OK; the Delete's operation polled by the SDK's waiter (OperationService.Get)
    and done without error; GetByPath of it afterwards NOT_FOUND; and the image left with its other tag.
    ``moved`` names the registry a later migration step moved, whose tree that step lists too."""
    [docker] = [found for found in process.registries.values() if found.name == registry]
    [npm] = [found for found in process.registries.values() if found.name == other]
    assert (docker.kind, npm.kind) == ("DOCKER", "NPM"), (docker, npm)
    listed = process.calls_of("cloudregistry.RegistryService/List")
    assert listed and {call["code"] for call in listed} == {"OK"}, listed
    wanted_kinds = ["DOCKER"] if kind_filter else None
    assert all(call["request"].get("kind") == wanted_kinds for call in listed), listed
    assert {call["request"]["folder_id"] for call in listed} == {docker.folder_id}, listed
    later = {found.id for found in process.registries.values() if found.name == moved}
    trees = [
        call
        for call in process.calls_of("cloudregistry.RegistryService/ListArtifacts")
        if call["request"]["registry_id"] not in later
    ]
    assert len(trees) >= 2 and {call["code"] for call in trees} == {"OK"}, trees  # before and after the Delete
    scopes = {(call["request"]["registry_id"], call["request"]["path"]) for call in trees}
    assert scopes == {(docker.id, CLOUD_REPOSITORY)}, trees
    by_path = process.calls_of("cloudregistry.ArtifactService/GetByPath")
    assert [call["code"] for call in by_path] == ["OK", "NOT_FOUND"], by_path
    path = f"{CLOUD_REPOSITORY}/{CLOUD_TAGS['deleted']}"
    assert all(call["request"] == {"registry_id": docker.id, "path": path} for call in by_path), by_path
    [get] = process.calls_of("cloudregistry.ArtifactService/Get")
    [delete] = process.calls_of("cloudregistry.ArtifactService/Delete")
    assert get["code"] == delete["code"] == "OK", (get, delete)
    artifact_id = delete["request"]["artifact_id"]
    assert get["request"] == {"artifact_id": artifact_id}, (get, delete)
    [operation] = [found for found in process.operations.values() if found.metadata.get("artifact_id") == artifact_id]
    assert operation.done and operation.error is None, operation
    polled = process.calls_of("OperationService/Get")
    polls = [call for call in polled if call["request"].get("operation_id") == operation.id]
    assert polls and {call["code"] for call in polls} == {"OK"}, polls
    [image] = [found for found in process.images.values() if found.name == f"{docker.id}/{CLOUD_REPOSITORY}"]
    assert list(image.tags) == [CLOUD_TAGS["kept"]], image
