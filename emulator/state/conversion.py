"""What a migration makes of a Container Registry registry in Cloud Registry: its seed-format entry
converted to a Cloud Registry DOCKER registry's, keeping its id, images, bindings and IP permissions.

What moves [E: docs ``en/container-registry/tutorials/container-registry-migration.md``]: registry
metadata, access permissions of registries and repositories, IP policies, lifecycle policies, scan
settings; registry ids and image addresses persist. How lifecycle and scan policies become Cloud
Registry's is documented nowhere: the rules below are the emulator's, chosen so that a converted
policy deletes what the old one did; a policy they cannot convert exactly raises ``NotConvertible``
naming the repository it belongs to, and that registry's migration fails visibly.

Container Registry's lifecycle rule (``tag_regexp`` or ``untagged``; ``expire_period``;
``retained_top``) becomes, with ``path_prefix`` its repository's path: a KEEP ``keep_by_version``
rule of ``retained_top`` (if any), and a HARD DELETE rule (``older_than_days`` = the period in
days, or ``always`` without one), both filtered by ``version_regexp`` = ``tag_regexp`` and
``tag_status`` TAGGED, or ``tag_status`` UNTAGGED. Container Registry deletes an image only if
every rule matching it would, Cloud Registry by any one rule (KEEP rules first): so a policy is
converted only if no image can match two of its rules (at most one tag rule and one untagged
rule). Cloud Registry allows one ENABLED policy per registry and ten rules a policy: the ACTIVE
policies of all repositories become one ENABLED policy, each DISABLED one a DISABLED policy.
Plain data: no store, no gRPC.
"""

from __future__ import annotations

from typing import Any

from emulator.api.errors import InvalidArgument
from emulator.state.cloud_lifecycle import MAX_POLICIES, MAX_RULES, check_rules

DAY_S = 86_400


class NotConvertible(ValueError):
    """A policy that Cloud Registry's rules cannot state exactly: ``path`` is its repository's."""

    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path = path


def _seconds(duration: str) -> int:
    return int(float(duration.removesuffix("s")))


def _cloud_rules(path: str, policy: dict[str, Any]) -> list[dict[str, Any]]:
    """A Container Registry policy's rules as Cloud Registry's, filtered to its repository."""
    rules = policy.get("rules", [])
    if sum(1 for rule in rules if rule.get("tag_regexp")) > 1 or sum(1 for rule in rules if rule.get("untagged")) > 1:
        raise NotConvertible(
            path,
            f"lifecycle policy {policy['id']} of repository {path}: two of its rules are tag rules (or untagged "
            "rules), so an image may match both. Container Registry deletes an image only if every rule matching it would; "
            "Cloud Registry deletes by any one rule, so the policy cannot be converted exactly. Merge those "
            "rules or delete the policy, then start the migration again",
        )
    converted = []
    for rule in rules:
        selections = []
        if rule.get("tag_regexp"):
            selections.append({"version_regexp": rule["tag_regexp"], "docker_filters": {"tag_status": "TAGGED"}})
        if rule.get("untagged"):
            selections.append({"docker_filters": {"tag_status": "UNTAGGED"}})
        top = int(rule.get("retained_top", 0))
        if len(selections) > 1 and top:
            raise NotConvertible(
                path,
                f"lifecycle policy {policy['id']} of repository {path}: a rule over tagged and untagged images "
                f"keeps its {top} newest of both together, which Cloud Registry's per-filter version counts "
                "cannot state. Split it into a tag rule and an untagged rule, then start the migration again",
            )
        period = _seconds(rule.get("expire_period", "0s"))
        for selection in selections:
            base = {"path_prefix": path, **selection}
            if rule.get("description"):
                base["description"] = rule["description"]
            if top:
                converted.append({**base, "keep_by_version": {"keep_versions_count": str(top)}})
            condition = {"older_than_days": str(period // DAY_S)} if period else {"always": True}
            converted.append({**base, "delete": {"type": "HARD_DELETE", **condition}})
    try:
        check_rules(converted)
    except InvalidArgument as refused:  # a period or count beyond what Cloud Registry's rules hold
        raise NotConvertible(
            path,
            f"lifecycle policy {policy['id']} of repository {path}: as Cloud Registry's rules, {refused.message}. "
            "Shorten that period or count, then start the migration again",
        ) from None
    return converted


def _check_prefix(path: str, paths: list[str]) -> None:
    """A rule's ``path_prefix`` matches every package whose path starts with it: it must name one repository."""
    others = sorted(other for other in paths if other != path and other.startswith(path))
    if others:
        raise NotConvertible(
            path,
            f"the lifecycle policy of repository {path} would also apply to {others[0]} in Cloud Registry "
            "(a rule's path_prefix takes every package whose path begins with it), so it cannot be converted "
            "exactly. Delete or move one of them, then start the migration again",
        )


def lifecycle_policies(repositories: list[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    """The registry's Container Registry policies (in its ``repositories`` entries) as Cloud Registry
    policies in the seed format (ids made on load)."""
    paths = [repository["path"] for repository in repositories]
    enabled_rules: list[tuple[str, dict]] = []
    enabled_from: list[str] = []
    disabled: list[tuple[str, dict]] = []
    for repository in repositories:
        for policy in repository.get("lifecycle_policies", ()):
            path = repository["path"]
            _check_prefix(path, paths)
            rules = _cloud_rules(path, policy)
            if policy.get("status") == "ACTIVE":
                enabled_rules += [(path, rule) for rule in rules]
                enabled_from.append(f"{policy['name'] or policy['id']} ({path})")
            else:
                disabled.append((path, {**_policy(policy, rules, now), "state": "DISABLED"}))
    if len(enabled_rules) > MAX_RULES:
        raise NotConvertible(
            enabled_rules[MAX_RULES][0],
            f"the ACTIVE lifecycle policies of this registry make {len(enabled_rules)} rules; Cloud Registry's one "
            f"ENABLED policy a registry may have holds at most {MAX_RULES}. Disable or merge some, then start the "
            "migration again",
        )
    policies = []
    if enabled_rules:
        policies.append(
            {
                "name": "migrated-active-policies",
                "description": ("Container Registry's ACTIVE lifecycle policies: " + ", ".join(enabled_from))[:256],
                "state": "ENABLED",
                "rules": [rule for _, rule in enabled_rules],
                "created_at": now,
                "modified_at": now,
            }
        )
    for path, policy in disabled:
        if len(policies) == MAX_POLICIES:
            raise NotConvertible(
                path,
                f"this registry's lifecycle policies would be more than Cloud Registry's {MAX_POLICIES} a registry. "
                "Delete some DISABLED ones, then start the migration again",
            )
        policies.append(policy)
    return policies


def _policy(policy: dict[str, Any], rules: list[dict], now: str) -> dict[str, Any]:
    return {
        "name": policy.get("name", ""),
        "description": policy.get("description", ""),
        "rules": rules,
        "created_at": policy.get("created_at", now),
        "modified_at": now,
    }


def scan_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """A Container Registry scan policy as Cloud Registry's: repository prefixes become paths, a rescan
    period whole days (rounded down, at least one: scans come no less often than before)."""
    rules = policy.get("rules", {})
    converted: dict[str, Any] = {}
    if "push_rule" in rules:
        push = rules["push_rule"]
        converted["push_rule"] = {
            "paths": list(push.get("repository_prefixes", [])),
            "disabled": push.get("disabled", False),
        }
    schedules = []
    for rule in rules.get("schedule_rules", []):
        days = max(1, _seconds(rule.get("rescan_period", "0s")) // DAY_S)
        schedules.append(
            {
                "amount": str(days),
                "interval_unit": "DAYS",
                "paths": list(rule.get("repository_prefixes", [])),
                "disabled": rule.get("disabled", False),
            }
        )
    if schedules:
        converted["schedule_rules"] = schedules
    return {key: policy[key] for key in ("id", "name", "description", "created_at", "disabled") if key in policy} | {
        "rules": converted
    }


def registry_entry(entry: dict[str, Any], now: str) -> dict[str, Any]:
    """A Container Registry registry's seed entry (with its repositories and images) as the Cloud
    Registry DOCKER registry it becomes: the same id, name, labels, images, bindings and IP permissions."""
    repositories = entry.get("repositories", [])
    converted = {
        key: entry[key]
        for key in ("id", "folder_id", "name", "created_at", "labels", "access_bindings", "ip_permissions", "images")
        if key in entry
    }
    converted.update(kind="DOCKER", type="LOCAL", modified_at=now)
    converted["repositories"] = [
        {key: repository[key] for key in ("path", "id", "kept") if key in repository} for repository in repositories
    ]
    bindings = [
        {"path": repository["path"], "access_bindings": repository["access_bindings"]}
        for repository in repositories
        if repository.get("access_bindings")
    ]
    if bindings:
        converted["artifact_access_bindings"] = bindings
    policies = lifecycle_policies(repositories, now)
    if policies:
        converted["lifecycle_policies"] = policies
    if entry.get("scan_policy") is not None:
        converted["scan_policy"] = scan_policy(entry["scan_policy"])
    return converted
