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


def contract_seed() -> dict:
    """The seed as ``Emulator.load_seed`` and the control plane's ``POST /seed`` take it."""
    return {
        "scan_results": SCAN_RESULTS,
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
        ],
    }
