"""Seeds in the format ``Emulator.load_seed`` and ``--seed`` read, and the scope values a seed holds."""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import strategies as st

from emulator.api.ids import ACCEPTED_ID_PATTERN
from emulator.api.values import INT64_MAX
from emulator.contract.strategies._leaves import (
    _DIGESTS,
    _LABELS,
    _OFFSETS,
    _PATHS,
    _TAGS,
    _URLS,
    _derived_digest,
    _derived_id,
    _instants,
    _pool,
    _registry_names,
    _rfc3339,
    _yc_ids,
)
from emulator.state.artifacts import tag_artifact_id
from emulator.state.repositories import REPOSITORY_PATH

# ---- seeds -------------------------------------------------------------------------------------


class _Seen:
    """What one seed holds so far: ids are unique, tags and digests unique per repository."""

    def __init__(self):
        self.ids: set[str] = set()
        self.in_repository: dict[tuple[str, str], tuple[set[str], set[str]]] = {}  # -> (digests, tags)
        self.names: set[tuple[str, str]] = set()  # (folder, registry name)

    def fresh_id(self, candidate: str, prefix: str = "crp") -> str:
        while candidate in self.ids:  # derived, so a replayed example gets the same id again
            candidate = _derived_id(prefix, candidate)
        self.ids.add(candidate)
        return candidate

    def repository(self, registry_id: str, path: str) -> tuple[set[str], set[str]]:
        return self.in_repository.setdefault((registry_id, path), (set(), set()))


class _Sources:
    """Where a seed's values come from: small per-seed pools (so that names, times and digests
    tie) mixed with fresh values."""

    def __init__(self, paths=None, instants=None, digests=None):
        self.paths = paths if paths is not None else _PATHS
        self.instants = instants if instants is not None else _instants()
        self.digests = digests if digests is not None else _DIGESTS


@st.composite
def _pooled_sources(draw) -> _Sources:
    paths = draw(st.lists(_PATHS, min_size=1, max_size=4, unique=True))
    instants = draw(st.lists(_instants(), min_size=1, max_size=3))
    digests = draw(st.lists(_DIGESTS, min_size=1, max_size=3))
    return _Sources(
        st.sampled_from(paths) | _PATHS, st.sampled_from(instants) | _instants(), st.sampled_from(digests) | _DIGESTS
    )


def _blob(draw, sizes) -> dict:
    entry = {"digest": draw(_DIGESTS), "size": draw(sizes)}
    if draw(st.booleans()):
        entry["id"] = draw(_yc_ids("crp"))
    if draw(st.booleans()):
        entry["urls"] = draw(_URLS)
    return entry


def _image(draw, seen: _Seen, sources: _Sources, registry_key: str) -> dict:
    path = draw(sources.paths)
    image_id = seen.fresh_id(draw(_yc_ids("crp")))
    digests, tags_held = seen.repository(registry_key, path)
    digest = draw(sources.digests)
    if digest in digests:  # one image per repository and digest
        digest = _derived_digest(image_id)
    digests.add(digest)
    entry: dict = {"repository": path, "id": image_id, "digest": digest}
    tags = [tag for tag in dict.fromkeys(draw(st.lists(_TAGS, max_size=3))) if tag not in tags_held]
    if tags:  # each tag once per repository: no tag moves while the seed loads
        tags_held.update(tags)
        entry["tags"] = tags
    if draw(st.integers(0, 4)):  # usually given
        created = draw(sources.instants)
        entry["created_at"] = _rfc3339(created, draw(_OFFSETS))
        if not draw(st.integers(0, 5)):
            entry["last_modified"] = _rfc3339(created + draw(st.integers(0, 10**12)))
    sizes = st.integers(0, 2**31)
    if draw(st.booleans()):
        entry["compressed_size"] = draw(st.integers(0, 2**40) | st.just(INT64_MAX))
    if draw(st.booleans()):
        entry["config"] = _blob(draw, sizes)
    if draw(st.booleans()):
        entry["layers"] = [_blob(draw, sizes) for _ in range(draw(st.integers(1, 3)))]
    return entry


def _registry(draw, seen: _Seen, sources: _Sources, folders, image_count: int) -> dict:
    registry_id = seen.fresh_id(draw(_yc_ids("crp")))
    folder_id = draw(folders)
    name = draw(_registry_names())
    number = 1
    while (folder_id, name) in seen.names:  # unique in its folder, as Create requires
        name, number = f"{name[:50]}-{number}", number + 1
    seen.names.add((folder_id, name))
    entry: dict = {"id": registry_id, "folder_id": folder_id, "name": name, "labels": draw(_LABELS)}
    if draw(st.integers(0, 3)):
        entry["created_at"] = _rfc3339(draw(sources.instants), draw(_OFFSETS))
    entry["images"] = [_image(draw, seen, sources, registry_id) for _ in range(image_count)]
    declared = []
    for path in dict.fromkeys(image["repository"] for image in entry["images"]):
        if draw(st.booleans()):  # its id pinned, as a snapshot pins it
            declared.append({"path": path, "id": seen.fresh_id(draw(_yc_ids("crp"))), "kept": draw(st.booleans())})
    if draw(st.integers(0, 3)) == 0:  # an empty repository that stays (upserted)
        path = draw(sources.paths)
        if all(repository["path"] != path for repository in declared):
            declared.append({"path": path, "id": seen.fresh_id(draw(_yc_ids("crp")))})
    for repository in declared:
        if draw(st.integers(0, 2)) == 0:
            repository["lifecycle_policies"] = _lifecycle_policies(draw, seen, sources)
            repository["kept"] = True  # a repository with a policy stays while empty
    if declared:
        entry["repositories"] = declared
    return entry


_TAG_REGEXPS = st.sampled_from((".*", "v.*", "latest", "release-[0-9]+", "test.*", "(dev|staging)-.*"))


@st.composite
def lifecycle_rules(draw) -> dict:
    """A lifecycle rule as production documents them: at least one tag filter (``tag_regexp``,
    ``untagged``) and at least one delete condition (``expire_period``, a multiple of 24 hours;
    ``retained_top``), in protobuf's JSON mapping of LifecycleRule."""
    rule: dict = {}
    filters = draw(st.sampled_from(("tag_regexp", "untagged", "both")))
    if filters != "untagged":
        rule["tag_regexp"] = draw(_TAG_REGEXPS)
    if filters != "tag_regexp":
        rule["untagged"] = True
    conditions = draw(st.sampled_from(("expire_period", "retained_top", "both")))
    if conditions != "retained_top":
        rule["expire_period"] = f"{draw(st.integers(1, 400)) * 86_400}s"
    if conditions != "expire_period":
        rule["retained_top"] = draw(st.integers(1, 20))
    if draw(st.booleans()):
        rule["description"] = draw(st.sampled_from(("keep releases", "drop old test images", "")))
    return rule


def _lifecycle_policies(draw, seen: _Seen, sources: _Sources) -> list[dict]:
    policies = []
    active = draw(st.integers(-1, 2))  # which one is ACTIVE (at most one per repository), if any
    for number in range(draw(st.integers(1, 3))):
        policy: dict = {
            "id": seen.fresh_id(draw(_yc_ids("crp"))),
            "name": draw(st.sampled_from(("", f"policy-{number}", f"cleanup-{number}"))),
            "status": "ACTIVE" if number == active else "DISABLED",
            "rules": draw(st.lists(lifecycle_rules(), max_size=3)),
        }
        if draw(st.integers(0, 3)):
            policy["created_at"] = _rfc3339(draw(sources.instants), draw(_OFFSETS))
        if draw(st.booleans()):
            policy["dry_run_results"] = [
                {"id": seen.fresh_id(draw(_yc_ids("crp"))), "run_at": _rfc3339(draw(sources.instants), 0)}
                for _ in range(draw(st.integers(1, 2)))
            ]
        policies.append(policy)
    return policies


_SEVERITIES = st.sampled_from(("CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNDEFINED"))


@st.composite
def vulnerabilities(draw) -> dict:
    """A vulnerability in protobuf's JSON mapping of Vulnerability, as a report or a scan result holds it."""
    package = {"name": f"CVE-20{draw(st.integers(10, 26))}-{draw(st.integers(1, 99999))}"}
    for field, values in (
        ("package", ("openssl", "zlib", "libc6")),
        ("version", ("1.0.0", "3.0.2")),
        ("fixed_by", ("3.0.3", "")),
        ("link", ("https://nvd.nist.gov/vuln/detail/x", "")),
    ):
        value = draw(st.sampled_from(values))
        if value:
            package[field] = value
    return {"severity": draw(_SEVERITIES), "package": package}  # fmt: skip


def _scans(draw, seen: _Seen, sources: _Sources, registries: list[dict]) -> dict:
    """Sometimes vulnerability reports for some of the images' digests, and finished scan results of
    images whose repository's id the seed pins."""
    images = [
        (image, repository)
        for registry in registries
        for repository in registry.get("repositories", ())
        for image in registry["images"]
        if image["repository"] == repository["path"] and image.get("id")
    ]
    found: dict = {}
    digests = sorted({image["digest"] for registry in registries for image in registry["images"]})
    if digests and draw(st.booleans()):
        found["vulnerability_reports"] = [
            {"digest": digest, "vulnerabilities": draw(st.lists(vulnerabilities(), max_size=4))}
            for digest in draw(st.lists(st.sampled_from(digests), max_size=3, unique=True))
        ]
    if images and draw(st.booleans()):
        folder_of = {image["id"]: registry["folder_id"] for registry in registries for image in registry["images"]}
        found["scan_results"] = [
            {
                "id": seen.fresh_id(draw(_yc_ids("che")), "che"),
                "image_id": image["id"],
                "repository_id": repository["id"],
                "folder_id": folder_of[image["id"]],
                "status": draw(st.sampled_from(("READY", "READY", "ERROR"))),
                "scanned_at": _rfc3339(draw(sources.instants), 0),
                "vulnerabilities": draw(st.lists(vulnerabilities(), max_size=3)),
            }
            for image, repository in draw(st.lists(st.sampled_from(images), min_size=1, max_size=4))
        ]
    return found


def _folder_pool(folder_ids, argument: str = "folder_ids"):
    if folder_ids is None:
        return None
    pool = _pool(folder_ids, argument, ACCEPTED_ID_PATTERN.fullmatch, "is not 1-50 lowercase letters and digits")
    if not pool:
        raise ValueError(f"{argument}: give at least one folder id, or None for drawn ones")
    return st.sampled_from(pool)


def _path_pool(repository_paths):
    if repository_paths is None:
        return None
    rule = f"must match {REPOSITORY_PATH.pattern}"
    pool = _pool(repository_paths, "repository_paths", REPOSITORY_PATH.fullmatch, rule)
    if not pool:
        raise ValueError("repository_paths: give at least one path, or None for drawn ones")
    return st.sampled_from(pool)


def images(*, repository_paths=None):
    """One seed image entry: ``repository``, ``id`` and ``digest`` always, and often ``tags``,
    ``created_at`` (sometimes with nanoseconds or an offset, sometimes ``last_modified``),
    ``compressed_size``, ``config`` and ``layers``. ``repository_paths``: the paths to pick from.
    Ids are unique within one draw: for several images in one seed, use ``registries()`` or
    ``seeds()``, which keep them unique across the seed."""
    paths = _path_pool(repository_paths)

    @st.composite
    def build(draw) -> dict:
        return _image(draw, _Seen(), _Sources(paths=paths), "")

    return build()


def registries(*, folder_ids=None, max_images: int = 5, repository_paths=None):
    """One seed registry entry: ``id``, ``folder_id`` (from ``folder_ids`` if given), a ``name``
    unique in its folder, ``labels``, often ``created_at``, up to ``max_images`` ``images`` and
    sometimes ``repositories`` (ids pinned, ``kept`` or not, or empty and kept)."""
    folders = _folder_pool(folder_ids)
    folders = _yc_ids("b1g") if folders is None else folders
    paths = _path_pool(repository_paths)

    @st.composite
    def build(draw) -> dict:
        sources = draw(_pooled_sources())
        if paths is not None:
            sources.paths = paths
        return _registry(draw, _Seen(), sources, folders, draw(st.integers(0, max_images)))

    return build()


def seeds(
    *, max_registries: int = 3, max_images: int = 20, folder_ids=None, min_registries: int = 1, min_images: int = 0
):
    """A whole seed, ``{"registries": [...]}``, that ``Emulator.load_seed`` (and ``--seed``)
    always accepts: ``min_registries``-``max_registries`` registries (see ``registries()``) in one
    or two folders (or in ``folder_ids``), holding ``min_images``-``max_images`` images in all
    (see ``images()``). Paths, creation times and digests come partly from small pools, so
    that repositories hold several images and List orders meet ties."""
    folders = _folder_pool(folder_ids)
    if not 0 <= min_registries <= max_registries or not 0 <= min_images <= max_images:
        raise ValueError("need 0 <= min_registries <= max_registries and 0 <= min_images <= max_images")
    if min_images and not max_registries:
        raise ValueError("images need a registry: max_registries must be at least 1")

    @st.composite
    def build(draw) -> dict:
        seen, sources = _Seen(), draw(_pooled_sources())
        folder_source = folders
        if folder_source is None:  # one or two folders: several registries share one
            folder_source = st.sampled_from(draw(st.lists(_yc_ids("b1g"), min_size=1, max_size=2)))
        count = draw(st.integers(max(min_registries, 1 if min_images else 0), max_registries))
        image_count = draw(st.integers(min_images, max_images)) if count else 0
        owners = draw(st.lists(st.integers(0, count - 1), min_size=image_count, max_size=image_count)) if count else []
        seed = {"registries": [_registry(draw, seen, sources, folder_source, owners.count(n)) for n in range(count)]}
        seed.update(_scans(draw, seen, sources, seed["registries"]))
        return seed

    return build()


def scope_values(seed: Mapping) -> dict[str, tuple[str, ...]]:
    """What a seed (dict) names: ``folder_ids``, ``registry_ids``, ``registry_names``,
    ``repository_names`` (``<registry_id>/<path>`` of its images and declared repositories),
    ``image_ids``, ``repository_ids``, ``operation_ids``, ``lifecycle_policy_ids``,
    ``lifecycle_policy_names``, ``dry_run_lifecycle_policy_result_ids`` and ``scan_policy_ids``;
    Cloud Registry's registries in ``cloud_folder_ids``, ``cloud_registry_ids`` and
    ``cloud_registry_names``, the paths of their folders and packages in ``cloud_containers``
    (``<registry_id>/<path>``) and ``cloud_node_paths``, of their tags in ``cloud_paths``, the paths
    their dry runs found in ``cloud_affected_paths``, their images' artifacts in ``artifact_ids``,
    lifecycle policies and dry runs in ``cloud_lifecycle_policy_ids`` and ``cloud_dry_run_ids``, their
    scan policies in ``cloud_scan_policy_ids`` and their scan results in ``cloud_scan_result_ids``.
    Registries without an ``id`` have generated ids, unknown here: their images and repositories are
    left out."""
    found: dict[str, dict[str, None]] = {
        key: {}
        for key in (
            "folder_ids", "registry_ids", "registry_names", "repository_names", "image_ids", "repository_ids",
            "operation_ids", "lifecycle_policy_ids", "lifecycle_policy_names", "dry_run_lifecycle_policy_result_ids",
            "scan_result_ids", "scanned_image_ids", "scanned_repository_ids", "cloud_folder_ids",
            "cloud_registry_ids", "cloud_registry_names", "cloud_containers", "cloud_node_paths", "cloud_paths",
            "cloud_affected_paths", "artifact_ids", "cloud_lifecycle_policy_ids",
            "cloud_dry_run_ids", "cloud_scan_result_ids", "scan_policy_ids", "cloud_scan_policy_ids",
        )
    }  # fmt: skip
    for registry in seed.get("registries", ()):
        if registry.get("kind"):  # a Cloud Registry registry: its own pools (Container Registry's calls miss it)
            found["cloud_folder_ids"][registry["folder_id"]] = None
            if registry.get("name"):
                found["cloud_registry_names"][registry["name"]] = None
            if registry.get("id"):
                found["cloud_registry_ids"][registry["id"]] = None
                if (registry.get("scan_policy") or {}).get("id"):
                    found["cloud_scan_policy_ids"][registry["scan_policy"]["id"]] = None
                for policy in registry.get("lifecycle_policies", ()):
                    if policy.get("id"):
                        found["cloud_lifecycle_policy_ids"][policy["id"]] = None
                        for run in policy.get("dry_run_results", ()):
                            found["cloud_dry_run_ids"][run["id"]] = None
                            found["cloud_affected_paths"].update(
                                dict.fromkeys(a["path"] for a in run.get("affected", ()))
                            )
            containers = [item["path"] for item in registry.get("folders", ())]
            containers += [item["path"] for item in (*registry.get("repositories", ()),)]
            containers += [image["repository"] for image in registry.get("images", ())]
            for path in containers if registry.get("id") else ():  # each with the folders above it
                parts = path.strip("/").split("/")
                found["cloud_containers"].update(
                    dict.fromkeys(f"{registry['id']}/" + "/".join(parts[:n]) for n in range(1, len(parts) + 1))
                )
                found["cloud_node_paths"].update(dict.fromkeys("/".join(parts[:n]) for n in range(1, len(parts) + 1)))
            for image in registry.get("images", ()):
                for tag in image.get("tags", ()):
                    found["cloud_paths"][f"{image['repository']}/{tag}"] = None
                if image.get("id"):
                    artifacts = [tag_artifact_id(image["id"], tag) for tag in image.get("tags", ())] or [image["id"]]
                    found["artifact_ids"].update(dict.fromkeys(artifacts))
            continue
        found["folder_ids"][registry["folder_id"]] = None
        if registry.get("name"):
            found["registry_names"][registry["name"]] = None
        registry_id = registry.get("id")
        if not registry_id:
            continue
        found["registry_ids"][registry_id] = None
        if (registry.get("scan_policy") or {}).get("id"):
            found["scan_policy_ids"][registry["scan_policy"]["id"]] = None
        for repository in registry.get("repositories", ()):
            found["repository_names"][f"{registry_id}/{repository['path']}"] = None
            if repository.get("id"):
                found["repository_ids"][repository["id"]] = None
            for policy in repository.get("lifecycle_policies", ()):
                if policy.get("name"):
                    found["lifecycle_policy_names"][policy["name"]] = None
                if policy.get("id") and repository.get("id"):
                    found["lifecycle_policy_ids"][policy["id"]] = None
                    for result in policy.get("dry_run_results", ()):
                        found["dry_run_lifecycle_policy_result_ids"][result["id"]] = None
        for image in registry.get("images", ()):
            found["repository_names"][f"{registry_id}/{image['repository']}"] = None
            if image.get("id"):
                found["image_ids"][image["id"]] = None
    for operation in seed.get("operations", ()):
        found["operation_ids"][operation["id"]] = None
    for result in seed.get("scan_results", ()):
        if result.get("artifact_id"):  # a Cloud Registry result
            found["cloud_scan_result_ids"][result["id"]] = None
            continue
        found["scan_result_ids"][result["id"]] = None
        if result["image_id"] in found["image_ids"]:  # an image the seed holds: its List is OK
            found["scanned_image_ids"][result["image_id"]] = None
        if result["repository_id"] in found["repository_ids"]:
            found["scanned_repository_ids"][result["repository_id"]] = None
    return {key: tuple(values) for key, values in found.items()}
