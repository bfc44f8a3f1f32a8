"""Vulnerability scans of images and the registries' scan policies. A part of the Store.

What a scan finds is what the user seeded for the image's digest (a vulnerability report): an image
without one scans clean. A scan result is RUNNING while its Scan operation pends, then READY with
the report as it is then (ERROR if the operation fails or is cancelled).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from emulator.api.errors import AlreadyExists, FailedPrecondition, NotFound, ResourceExhausted, found, shown
from emulator.api.ids import CLOUD_REGISTRY_PREFIX, REGISTRY_PREFIX
from emulator.api.values import ValueProblem, check_digest, check_timestamp
from emulator.state.listing import ID_ORDER, Cursor, Field, Scope, ScopedIndex, by_number_then_id
from emulator.state.operation_log import Effect
from emulator.state.records import CLOUD_REGISTRY_API, CONTAINER_REGISTRY_API, Action

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNDEFINED")  # most severe first
SCAN_STATUSES = ("RUNNING", "READY", "ERROR")
MAX_PARALLEL_SCANS = 10  # documented: 10 parallel scans per cloud (the emulator has one cloud)
MAX_SCANNED_BYTES = 2 * 1024**3  # documented: images up to 2 GB are scanned
MAX_SCANNED_LAYERS = 127  # documented: images of up to 127 layers
MAX_VULNERABILITIES = 10_000  # per report: the emulator's bound
MAX_REPORTS = 100_000  # digests with a report: the emulator's bound
MAX_SCAN_RESULTS = 10_000  # finished results kept, the oldest forgotten first
SCAN_RESULT_PREFIX = "che"  # documented examples: che1el9t4t95elduhuq5
SCAN_RESULT_ORDERS = ("id", "status")
_RANK_BASE = 1 << 14  # above MAX_VULNERABILITIES: a count never carries into the next severity


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """One vulnerability of a package, as PackageVulnerability names its fields."""

    severity: str
    name: str
    link: str = ""
    package: str = ""
    source: str = ""
    version: str = ""
    fixed_by: str = ""
    origin: str = ""
    type: str = ""


@dataclass(slots=True)
class ScanResult:
    id: str
    image_id: str
    repository_id: str
    folder_id: str
    status: str  # RUNNING, READY or ERROR
    scanned_at_ns: int
    vulnerabilities: tuple[Vulnerability, ...] = ()
    artifact_id: str = ""  # Cloud Registry's scans name the artifact scanned; Container Registry's ""

    def counts(self) -> dict[str, int]:
        """VulnerabilityStats: how many of each severity."""
        counts = dict.fromkeys(SEVERITIES, 0)
        for vulnerability in self.vulnerabilities:
            counts[vulnerability.severity] += 1
        return counts

    @property
    def severity_rank(self) -> int:
        """Smaller for a more critical result (critical first, then high...): what order_by=status sorts by."""
        rank = 0
        for severity, count in self.counts().items():
            rank = rank * _RANK_BASE + min(count, _RANK_BASE - 1)
        return -rank


@dataclass(slots=True)
class ScanPolicy:
    id: str
    registry_id: str
    name: str
    description: str
    created_at_ns: int
    rules: dict[str, Any]  # ScanRules (its API's) in protobuf's JSON mapping (the API's annotations check it)
    disabled: bool = False
    scan_lang_packages: bool = False  # Cloud Registry's ScanPolicyOptions


# What CreateRegistryRequest.secure sets up: "scanning policy (on push and on schedule every 7 days)".
SECURE_RULES = {
    "push_rule": {"repository_prefixes": ["*"]},
    "schedule_rules": [{"repository_prefixes": ["*"], "rescan_period": "604800s"}],
}


def scan_result_json(result: ScanResult) -> dict[str, Any]:
    """The result in protobuf's JSON mapping of its API's ScanResult (Cloud Registry's names the
    artifact): what its Scan operation answers once done."""
    named = {"artifact_id": result.artifact_id} if result.artifact_id else {"image_id": result.image_id}
    entry: dict[str, Any] = {"id": result.id, **named, "status": result.status}
    if result.status != "RUNNING":
        seconds, nanos = divmod(result.scanned_at_ns, 1_000_000_000)
        entry["scanned_at"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos:09d}Z"
    counts = {severity.lower(): str(count) for severity, count in result.counts().items() if count}
    if counts:
        entry["vulnerabilities"] = counts
    return entry


def check_vulnerabilities(vulnerabilities: Iterable[Vulnerability], field: str) -> tuple[Vulnerability, ...]:
    found_ = tuple(vulnerabilities)
    if len(found_) > MAX_VULNERABILITIES:
        raise ValueProblem(field, f"a report holds at most {MAX_VULNERABILITIES} vulnerabilities", len(found_))
    for position, vulnerability in enumerate(found_):
        if not isinstance(vulnerability, Vulnerability) or vulnerability.severity not in SEVERITIES:
            raise ValueProblem(
                f"{field}[{position}]", f"severity must be one of {', '.join(SEVERITIES)}", vulnerability
            )
    return found_


class ScanTable:
    """Scan results by id, indexed by image and repository (and by status in each); the
    vulnerability reports by digest; the scan policies by id and by registry."""

    def _open_table(self) -> None:
        self.scan_results: dict[str, ScanResult] = {}
        self._scan_index = ScopedIndex(
            {
                "id": ID_ORDER,
                "status": by_number_then_id("severity_rank"),
                "scanned_at": by_number_then_id("scanned_at_ns"),  # of the finished ones: the oldest go first
            },
            fields={"id": Field("id"), "status": Field("severity_rank")},  # orders of several fields
            record_of=self.scan_results.__getitem__,
        )
        self._running: set[str] = set()  # RUNNING results (a loaded one may have no operation to finish it)
        self.vulnerability_reports: dict[str, tuple[Vulnerability, ...]] = {}  # digest -> its vulnerabilities
        self.scan_policies: dict[str, ScanPolicy] = {}
        self._scan_policy_of_registry: dict[str, str] = {}

    def _table_contents(self) -> tuple:
        return self.scan_results, self._scan_index.contents(), self.vulnerability_reports, self.scan_policies

    def _table_effects(self) -> dict[Action, Effect]:
        return {Action.SCAN_IMAGE: Effect(perform=self._complete_scan, unmark=self._fail_scan)}

    def _table_folders(self) -> dict[str, Callable[[str], str]]:
        return {
            "scan_result": lambda result_id: self.scan_result_in(CONTAINER_REGISTRY_API, result_id).folder_id,
            "cloud_scan_result": lambda result_id: self.scan_result_in(CLOUD_REGISTRY_API, result_id).folder_id,
            "scan_policy": lambda policy_id: self.scan_policy_in(CONTAINER_REGISTRY_API, policy_id)[1],
            "cloud_scan_policy": lambda policy_id: self.scan_policy_in(CLOUD_REGISTRY_API, policy_id)[1],
            "image_id": lambda image_id: self.get_image_and_folder(image_id)[1],  # a List's scope
        }

    def scan_result_in(self, api: str, result_id: str) -> ScanResult:
        """A result as ``api`` sees it (Cloud Registry's name an artifact): NOT_FOUND otherwise."""
        with self._lock:
            result = self.scan_results.get(result_id)
            if result is not None and bool(result.artifact_id) != (api == CLOUD_REGISTRY_API):
                result = None
            return found(result, "Scan result", result_id)

    def scan_policy_in(self, api: str, policy_id: str) -> tuple[ScanPolicy, str]:
        """A policy as ``api`` sees it, and its folder: NOT_FOUND if its registry is the other API's."""
        with self._lock:
            policy = self.scan_policies.get(policy_id)
            registry = self.registries.get(policy.registry_id) if policy is not None else None
            if registry is None or registry.api != api:
                raise NotFound(f"Scan policy {shown(policy_id)} not found")
            return policy, registry.folder_id

    # ---- reports -------------------------------------------------------------------------

    def set_vulnerability_report(self, digest: str, vulnerabilities: Iterable[Vulnerability]) -> None:
        """What a scan of any image with this digest finds from now on (none: it scans clean)."""
        check_digest(digest, "digest")
        found_ = check_vulnerabilities(vulnerabilities, "vulnerabilities")
        with self._lock:
            if digest not in self.vulnerability_reports and len(self.vulnerability_reports) >= MAX_REPORTS:
                raise ValueProblem("digest", f"at most {MAX_REPORTS} digests have a report", digest)
            self.vulnerability_reports[digest] = found_

    def restore_vulnerability_report(self, digest: str, vulnerabilities: tuple[Vulnerability, ...] | None) -> None:
        """Put a report back as it was (None: there was none)."""
        with self._lock:
            if vulnerabilities is None:
                self.vulnerability_reports.pop(digest, None)
            else:
                self.vulnerability_reports[digest] = vulnerabilities

    # ---- scans ---------------------------------------------------------------------------

    def start_scan(self, image_id: str = "", *, artifact_id: str = "") -> ScanResult:
        """A RUNNING scan of the image (its operation finishes it), or of a Cloud Registry artifact's
        image; FAILED_PRECONDITION for an image the scanner does not take (over 2 GB or 127 layers)
        or an artifact that is no Docker image, RESOURCE_EXHAUSTED beyond the parallel scans allowed."""
        with self._lock:
            if artifact_id:
                artifact = self.get_artifact(artifact_id)
                if artifact.image is None:
                    raise FailedPrecondition(
                        f"Artifact {artifact.id} is a {artifact.kind}: only Docker images (ARTIFACT) are scanned"
                    )
                image, folder_id = artifact.image, self.registries[artifact.registry_id].folder_id
            else:
                image, folder_id = self.get_image_and_folder(image_id)
            _, layers, size = image.blobs()
            if size > MAX_SCANNED_BYTES or len(layers) > MAX_SCANNED_LAYERS:
                raise FailedPrecondition(
                    f"Image {image.id} cannot be scanned: {size:,} bytes in {len(layers)} layers; a scanned image "
                    f"holds at most {MAX_SCANNED_BYTES:,} bytes (2 GB) and {MAX_SCANNED_LAYERS} layers"
                )
            if self._scans_in_progress() >= MAX_PARALLEL_SCANS:
                raise ResourceExhausted(
                    f"Quota limit container-registry.parallelScans.count exceeded: {MAX_PARALLEL_SCANS} scans are "
                    "running; wait for one to finish"
                )
            result_id = self.ids.new_id(SCAN_RESULT_PREFIX)
            while result_id in self.scan_results:
                result_id = self.ids.new_id(SCAN_RESULT_PREFIX)
            repository = self._repositories_by_name[image.name]
            result = ScanResult(
                result_id, image.id, repository.id, folder_id, "RUNNING", self.clock.now_ns(), artifact_id=artifact_id
            )
            self._keep_scan(result)
            return result

    def _scans_in_progress(self) -> int:
        """The RUNNING results a pending Scan operation will finish: what the parallel-scan limit counts."""
        return sum(1 for result_id in self._running if self.log.holding("ScanResult", result_id) is not None)

    def add_scan_result(self, result: ScanResult) -> ScanResult:
        """Keep a result as it is (a seed's or a state file's): never beyond the results kept (a load
        evicts nothing, so a failed one can put everything back); if its image is here, the result
        agrees with it."""
        with self._lock:
            self._new_or_given_id(result.id, self.scan_results, "id")
            if len(self.scan_results) >= MAX_SCAN_RESULTS + len(self._running):
                raise ValueProblem("id", f"at most {MAX_SCAN_RESULTS} finished scan results are kept", result.id)
            image = self.images.get(result.image_id)
            if image is not None:
                repository = self._repositories_by_name[image.name]
                folder_id = self.registries[image.registry_id].folder_id
                if result.repository_id != repository.id:
                    raise ValueProblem(
                        "repository_id", f"must be its image's repository, {repository.id}", result.repository_id
                    )
                if result.folder_id != folder_id:
                    raise ValueProblem("folder_id", f"must be its image's folder, {folder_id}", result.folder_id)
                # A result without an artifact is Container Registry's, also of an image that has since
                # moved to Cloud Registry (its history stays); only a Cloud Registry image's names one.
                if result.artifact_id and self.registries[image.registry_id].api != CLOUD_REGISTRY_API:
                    raise ValueProblem(
                        "artifact_id", "only a Cloud Registry image's result names an artifact", result.artifact_id
                    )
                if result.artifact_id and self._image_of_artifact(result.artifact_id) != image.id:
                    raise ValueProblem(
                        "artifact_id",
                        f"must be an artifact of its image {image.id} (the image's own id when it is untagged, "
                        f"or a tag's: {image.id}t and 8 characters of the tag's mark)",
                        result.artifact_id,
                    )
            if result.status not in SCAN_STATUSES:
                raise ValueProblem("status", f"must be one of {', '.join(SCAN_STATUSES)}", result.status)
            check_timestamp(result.scanned_at_ns, "scanned_at")
            check_vulnerabilities(result.vulnerabilities, "vulnerabilities")
            return self._keep_scan(result)

    def _image_of_artifact(self, artifact_id: str) -> str | None:
        try:
            return getattr(self.get_artifact(artifact_id).image, "id", None)
        except NotFound:
            return None

    def _keep_scan(self, result: ScanResult) -> ScanResult:
        self.scan_results[result.id] = result
        self._scan_index.add(result, self._scan_scopes(result))
        if result.status == "RUNNING":
            self._running.add(result.id)
        else:
            self._forget_beyond_bound()
        return result

    def _complete_scan(self, result_id: str) -> None:
        """What a Scan operation does when done: the image's report as it is now; NOT_FOUND (the
        operation's error, the result ERROR) if the image was deleted meanwhile."""
        result = self.get_scan_result(result_id)
        if result.status != "RUNNING":
            return
        image = self.images.get(result.image_id)
        if image is None:
            scanned = f"Artifact {result.artifact_id}" if result.artifact_id else f"Image {result.image_id}"
            raise NotFound(f"{scanned} was deleted while it was scanned")
        self._finish_scan(result_id, "READY")

    def _finish_scan(self, result_id: str, status: str) -> None:
        result = self.get_scan_result(result_id)
        if result.status != "RUNNING":
            return
        self._scan_index.remove(result, self._scan_scopes(result))  # its status is a scope too
        result.status, result.scanned_at_ns = status, self.clock.now_ns()
        if status == "READY":
            result.vulnerabilities = self.vulnerability_reports.get(self.images[result.image_id].digest, ())
        self._scan_index.add(result, self._scan_scopes(result))
        self._running.discard(result.id)
        self._forget_beyond_bound()
        holder = self.log.holding("ScanResult", result.id)  # its pending Scan operation answers it once done
        if holder is not None and status == "READY":
            self.log.operations[holder].response = scan_result_json(result)

    def _fail_scan(self, result_id: str) -> None:
        self._finish_scan(result_id, "ERROR")

    def _forget_beyond_bound(self) -> None:
        """Beyond the finished results kept, the oldest (by scanned_at) go."""
        while len(self.scan_results) - len(self._running) > MAX_SCAN_RESULTS:
            [oldest], _ = self._scan_index.page(_FINISHED, "scanned_at", limit=1)
            result = self.scan_results.pop(oldest)
            self._scan_index.remove(result, self._scan_scopes(result))

    def forget_scan_result(self, result_id: str) -> None:
        with self._lock:
            result = self.scan_results.pop(result_id, None)
            if result is not None:
                self._scan_index.remove(result, self._scan_scopes(result))
                self._running.discard(result.id)

    def get_scan_result(self, result_id: str) -> ScanResult:
        with self._lock:
            return found(self.scan_results.get(result_id), "Scan result", result_id)

    def last_scan_result(self, image_id: str = "", *, artifact_id: str = "") -> ScanResult:
        """The image's (or Cloud Registry artifact's) newest finished scan result (NOT_FOUND if none finished)."""
        with self._lock:
            if artifact_id:
                self.get_artifact(artifact_id)
            else:
                self.get_image(image_id)
            scope = Scope("artifact_id", artifact_id) if artifact_id else Scope("image_id", image_id)
            finished = [r for r in self._scan_results_of(scope) if r.status != "RUNNING"]
            return found(
                max(finished, key=lambda r: (r.scanned_at_ns, r.id), default=None),
                f"Finished scan result of {'artifact' if artifact_id else 'image'}",
                artifact_id or image_id,
            )

    def scan_results_of_artifact(self, artifact_id: str) -> list[ScanResult]:
        """Every kept result of a Cloud Registry artifact, by id."""
        with self._lock:
            return self._scan_results_of(Scope("artifact_id", artifact_id))

    def _scan_results_of(self, scope: Scope) -> list[ScanResult]:
        ids, _ = self._scan_index.page(scope, "id", limit=MAX_SCAN_RESULTS + MAX_PARALLEL_SCANS)
        return [self.scan_results[result_id] for result_id in ids]

    def list_scan_results(self, scope: Scope, **page: Any) -> tuple[list[ScanResult], Cursor | None]:
        """One page of the results of an image or repository (``scope`` kinds ``image_id``,
        ``repository_id``), as Store._list says; the filter names a status."""
        with self._lock:
            if scope.kind == "image_id":
                self.get_image(scope.value)
            return self._list(self._scan_index, self.scan_results, scope, _status_group, named="status", **page)

    @staticmethod
    def _scan_scopes(result: ScanResult) -> tuple[Scope, ...]:
        scopes = (
            Scope("image_id", result.image_id),
            Scope("repository_id", result.repository_id),
            Scope("image_id_status", (result.image_id, result.status)),
            Scope("repository_id_status", (result.repository_id, result.status)),
        )
        if result.artifact_id:  # Cloud Registry's: listed by artifact only
            scopes = (Scope("artifact_id", result.artifact_id),)
        return scopes if result.status == "RUNNING" else (*scopes, _FINISHED)

    # ---- scan policies -------------------------------------------------------------------

    def add_scan_policy(
        self,
        registry_id: str,
        *,
        id: str | None = None,
        name: str = "",
        description: str = "",
        rules: dict[str, Any] | None = None,
        disabled: bool = False,
        created_at_ns: int | None = None,
        scan_lang_packages: bool = False,
    ) -> ScanPolicy:
        """A registry's scan policy; ALREADY_EXISTS if it has one (GetByRegistry answers one). A
        Cloud Registry one only for a LOCAL or REMOTE Docker registry (FAILED_PRECONDITION): "you
        can only configure scanning for local and remote Docker registries"."""
        if created_at_ns is not None:
            check_timestamp(created_at_ns, "created_at")
        with self._lock:
            registry = self.get_registry(registry_id)
            if registry.kind is not None and (registry.kind != "DOCKER" or registry.type not in ("LOCAL", "REMOTE")):
                raise FailedPrecondition(
                    f"Registry {registry.id} is a {registry.type} {registry.kind} registry: scanning is configured "
                    "for local and remote Docker registries only"
                )
            existing = self._scan_policy_of_registry.get(registry.id)
            if existing is not None:
                raise AlreadyExists(f"Registry {registry.id} has a scan policy already, {existing}: update it")
            prefix = CLOUD_REGISTRY_PREFIX if registry.api == CLOUD_REGISTRY_API else REGISTRY_PREFIX
            policy_id = self._new_or_given_id(id, self.scan_policies, "id", prefix=prefix)
            policy = ScanPolicy(
                policy_id, registry.id, name, description,
                self.clock.now_ns() if created_at_ns is None else created_at_ns, dict(rules or {}), disabled,
                scan_lang_packages,
            )  # fmt: skip
            self.scan_policies[policy_id] = policy
            self._scan_policy_of_registry[registry.id] = policy_id
            return policy

    def get_scan_policy(self, policy_id: str) -> ScanPolicy:
        with self._lock:
            return found(self.scan_policies.get(policy_id), "Scan policy", policy_id)

    def scan_policy_of_registry(self, registry_id: str) -> ScanPolicy:
        with self._lock:
            self.get_registry(registry_id)
            policy_id = self._scan_policy_of_registry.get(registry_id)
            return found(self.scan_policies.get(policy_id), "Scan policy of registry", registry_id)

    def update_scan_policy(
        self,
        policy_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        rules: dict | None = None,
        disabled: bool | None = None,
        scan_lang_packages: bool | None = None,
    ) -> ScanPolicy:
        """Change what is given (None: unchanged); the rules are replaced whole."""
        with self._lock:
            policy = self.get_scan_policy(policy_id)
            if name is not None:
                policy.name = name
            if description is not None:
                policy.description = description
            if rules is not None:
                policy.rules = dict(rules)
            if disabled is not None:
                policy.disabled = disabled
            if scan_lang_packages is not None:
                policy.scan_lang_packages = scan_lang_packages
            return policy

    def delete_scan_policy(self, policy_id: str) -> ScanPolicy:
        with self._lock:
            policy = self.get_scan_policy(policy_id)
            del self.scan_policies[policy.id]
            del self._scan_policy_of_registry[policy.registry_id]
            return policy

    def _drop_registry_scan_policy(self, registry_id: str) -> None:
        """A registry going takes its scan policy with it."""
        policy_id = self._scan_policy_of_registry.get(registry_id)
        if policy_id is not None:
            self.delete_scan_policy(policy_id)


_FINISHED = Scope("finished", "")  # every finished result: what the bound on kept ones walks


def _status_group(status: str, scope: Scope) -> Scope | None:
    return Scope(f"{scope.kind}_status", (scope.value, status))
