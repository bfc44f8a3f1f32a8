"""The data the contract suite's own targets hold (the in-process default, and the standalone
emulator of tests/test_contract_targets.py): a folder with three registries, one of them empty,
nested repository paths, an upserted repository without images, the same path and the same digest
in two places, ties on created_at, tags moved off older images (last_modified after created_at), and
a registry in another folder that no folder-scope answer may show.

The suite asserts relations that hold for any data; this seed only makes them bite. Image ids are
left to the target, so ties broken by id fall differently on every run.
"""

from __future__ import annotations

FOLDER = "b1gcontract000000000"
OTHER_FOLDER = "b1gotherfolder000000"
REGISTRY_ID = "crpcontract00000main"  # the registry the suite is pointed at (YCR_CONTRACT_REGISTRY_ID's role)
SECOND_REGISTRY_ID = "crpcontract0000other"
EMPTY_REGISTRY_ID = "crpcontract0000empty"
FAR_REGISTRY_ID = "crpcontract00000far0"


def digest(number: int) -> str:
    return f"sha256:{number:064x}"


def _image(repository: str, created_at: str, digest_number: int, tags=(), last_modified: str | None = None) -> dict:
    entry = {"repository": repository, "created_at": created_at, "digest": digest(digest_number), "tags": list(tags)}
    if last_modified:
        entry["last_modified"] = last_modified
    return entry


MAIN_IMAGES = [
    _image("base", "2025-11-02T08:00:00Z", 1, ["latest", "3.20"]),
    _image("base", "2025-10-01T08:00:00Z", 2, ["3.19"], last_modified="2025-11-02T08:00:00Z"),  # latest moved off
    _image("base", "2026-01-10T00:00:00Z", 3, ["edge"]),
    {**_image("team/web", "2026-01-10T00:00:00Z", 4, ["latest"]), "id": "crpcontractscanned01"},  # created_at tie
    # with base:edge; its id pinned: the scan results below name it
    _image("team/web", "2026-01-09T12:30:00.250Z", 5, ["v2"], last_modified="2026-01-10T00:00:00Z"),
    _image("team/web", "2025-12-24T23:59:59Z", 6),  # untagged
    _image("team/api", "2026-02-01T09:15:00Z", 1, ["latest"]),  # base's digest: a digest tie
    _image("team/api", "2026-02-01T09:15:00Z", 7, ["v1.0.1"]),  # created_at tie in one repository
    _image("team/web/assets", "2026-03-03T03:03:03.123456789Z", 8, ["2026.03"]),
    _image("team/web/assets", "2026-03-01T00:00:00Z", 9),
    _image("tools.ci_runner-x", "2024-06-30T00:00:00Z", 10, ["stable"]),
    _image("a/b/c/d", "2026-02-14T14:14:14Z", 11, ["deep"]),
]
OTHER_IMAGES = [
    _image("base", "2025-11-02T08:00:00Z", 1, ["latest"]),  # the same path, digest and time as main's base
    _image("team/web", "2026-01-05T00:00:00Z", 12, ["latest"]),
    _image("mirror/nginx", "2026-02-20T10:00:00Z", 13, ["1.27", "mainline"]),
]
FAR_IMAGES = [
    _image("base", "2026-01-01T00:00:00Z", 14, ["latest"]),
    _image("secret/app", "2026-01-02T00:00:00Z", 15),
]


WEB_REPOSITORY_ID = "crpcontract00000web0"


def _affected(number: int) -> dict:
    """An image of team/web as a dry run found it (it need not exist any more)."""
    return {**_image("team/web", f"2025-0{number}-01T00:00:00Z", 100 + number), "id": f"crpcontractaffected{number}"}


# Three policies (one ACTIVE, names for the filter, created_at ties) and dry runs of the first, with
# what they found, so that every List of LifecyclePolicyService has pages to walk.
WEB_POLICIES = [
    {
        "id": "crpcontractpolicy001",
        "name": "drop-untagged",
        "status": "ACTIVE",
        "created_at": "2026-01-01T00:00:00Z",
        "rules": [{"untagged": True, "expire_period": "172800s"}],
        "dry_run_results": [
            {
                "id": f"crpcontractdryrun00{n}",
                "run_at": f"2026-0{n}-01T00:00:00Z",
                "affected_images": [_affected(m) for m in range(1, n + 2)],
            }
            for n in range(1, 4)
        ],
    },
    {
        "id": "crpcontractpolicy002",
        "name": "keep-ten",
        "created_at": "2026-01-01T00:00:00Z",
        "rules": [{"tag_regexp": ".*", "retained_top": 10}],
    },
    {
        "id": "crpcontractpolicy003",
        "name": "",
        "description": "no name",
        "created_at": "2026-02-01T00:00:00Z",
        "rules": [],
    },
]


# Scan results of team/web's images (ids pinned there: see WEB_IMAGES), with vulnerabilities of
# every severity, so the List by image and by repository has pages and a critical-first order.
SCANNED_IMAGE_ID = "crpcontractscanned01"


def _scan(number: int, status: str, severities: str) -> dict:
    return {
        "id": f"checontractscan{number:05d}", "image_id": SCANNED_IMAGE_ID, "repository_id": WEB_REPOSITORY_ID,
        "folder_id": FOLDER, "status": status, "scanned_at": f"2026-03-0{number}T00:00:00Z",
        "vulnerabilities": [{"severity": severity, "package": {"name": f"CVE-2026-{n}"}} for n, severity in
                            enumerate(severities.split())],
    }  # fmt: skip


SCAN_RESULTS = [_scan(1, "READY", "HIGH LOW"), _scan(2, "READY", "CRITICAL"), _scan(3, "ERROR", ""),
                _scan(4, "READY", "")]  # fmt: skip


# Cloud Registry: a DOCKER registry (folders, nested packages, tags, an untagged image, an image list,
# a lifecycle policy with dry runs, scans of a tag) and a MAVEN one in the same folder.
CLOUD_REGISTRY_ID = "cn1contract000cloud1"  # YCR_CONTRACT_CLOUD_REGISTRY_ID's role
CLOUD_IMAGE_ID = "crpcontractcloudimg1"
CLOUD_RULE = {"delete": {"type": "HARD_DELETE", "older_than_days": "30"}, "path_prefix": "team"}
CLOUD_IMAGES = [
    {**_image("team/web", "2026-01-10T00:00:00Z", 21, ["v1", "latest", "stable"]), "id": CLOUD_IMAGE_ID},
    _image("team/web", "2026-01-09T00:00:00Z", 22, ["v0"], last_modified="2026-01-10T00:00:00Z"),
    _image("team/web", "2026-01-08T00:00:00Z", 23),  # untagged: an artifact named by its digest
    _image("base", "2026-01-10T00:00:00Z", 24, ["3.20"]),  # created_at tie
    _image("multi", "2026-01-01T00:00:00Z", 25),
    _image("multi", "2026-01-01T00:00:00Z", 26),
    {**_image("multi", "2026-01-02T00:00:00Z", 27, ["latest"]), "manifests": [digest(25), digest(26)]},
]


def _cloud_run(number: int) -> dict:
    return {
        "id": f"cn1contractdryrun{number:03d}", "run_at": f"2026-02-0{number}T00:00:00Z",
        "policy_snapshot": [CLOUD_RULE],
        "affected": [{"path": f"/team/web/v{n}", "artifact_id": f"cn1contractaffected{n}",
                      "rule_type": "LIFECYCLE_RULE_TYPE_HARD_DELETE"} for n in range(number + 1)],
    }  # fmt: skip


def contract_seed() -> dict:
    """The seed as ``Emulator.load_seed`` and the control plane's ``POST /seed`` take it."""
    from emulator.state.artifacts import tag_artifact_id

    cloud_scans = [
        {**_scan(n, status, severities), "id": f"checontractcloud{n:04d}", "image_id": CLOUD_IMAGE_ID,
         "repository_id": "crpcontractcloudweb1", "artifact_id": tag_artifact_id(CLOUD_IMAGE_ID, tag)}
        for n, status, severities, tag in ((1, "READY", "HIGH LOW", "v1"), (2, "READY", "CRITICAL MEDIUM", "v1"),
                                           (3, "ERROR", "", "latest"), (4, "ERROR", "", "v1"))
    ]  # fmt: skip
    return {
        "scan_results": SCAN_RESULTS + cloud_scans,
        "registries": [
            {
                "id": REGISTRY_ID,
                "folder_id": FOLDER,
                "name": "contract",
                "created_at": "2025-09-01T00:00:00Z",
                "labels": {"team": "platform", "env": "ci"},
                "repositories": [
                    {"path": "empty/upserted", "kept": True},
                    {"path": "team/web", "id": WEB_REPOSITORY_ID, "lifecycle_policies": WEB_POLICIES},
                ],
                "images": MAIN_IMAGES,
            },
            {
                "id": SECOND_REGISTRY_ID,
                "folder_id": FOLDER,
                "name": "contract-mirror",
                "created_at": "2025-09-02T00:00:00Z",
                "images": OTHER_IMAGES,
            },
            {
                "id": EMPTY_REGISTRY_ID,
                "folder_id": FOLDER,
                "name": "contract-empty",
                "created_at": "2026-01-01T00:00:00Z",
            },
            {"id": FAR_REGISTRY_ID, "folder_id": OTHER_FOLDER, "name": "contract", "images": FAR_IMAGES},
            {
                "id": CLOUD_REGISTRY_ID, "folder_id": FOLDER, "name": "contract-cloud", "kind": "DOCKER",
                "created_at": "2025-12-01T00:00:00Z", "labels": {"team": "platform"},
                "folders": [{"path": "team/tools", "created_at": "2025-12-02T00:00:00Z", "created_by": "ajecontract"}],
                "repositories": [{"path": "team/web", "id": "crpcontractcloudweb1"}, {"path": "empty", "kept": True}],
                "images": CLOUD_IMAGES,
                "lifecycle_policies": [
                    {"id": "cn1contractpolicy001", "name": "drop-old", "rules": [CLOUD_RULE],
                     "created_at": "2026-01-15T00:00:00Z", "dry_run_results": [_cloud_run(n) for n in (1, 2, 3)]},
                    {"id": "cn1contractpolicy002", "name": "keep", "created_at": "2026-01-15T00:00:00Z",
                     "rules": [{"keep_by_version": {"keep_versions_count": "5"}}]},
                ],
            },
            {"id": "cn1contract000maven1", "folder_id": FOLDER, "name": "contract-maven", "kind": "MAVEN",
             "folders": [{"path": "com/example"}]},
        ],
    }  # fmt: skip
