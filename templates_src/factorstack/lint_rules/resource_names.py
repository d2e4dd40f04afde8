"""E9003: physical names in the form the service's API accepts.

A fixed name the service refuses fails the create after everything before it was created and
rolls the whole stack back. cfn-lint 1.58's schemas already check some names (LogGroupName,
RoleName, DBInstanceIdentifier, AlarmName and Secret Name lengths, logical ids); this rule
holds the constraints those schemas leave out, from each service's API reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from factorstack.lint_rules.values import KnownText, Path, branches, items, strings

ECS_API = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference"
ELB_API = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference"
RDS_API = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html"


@dataclass(frozen=True)
class NameSpec:
    """One documented naming constraint; `allowed` is a regex character class body."""

    allowed: str
    allowed_text: str
    max_length: int | None
    source: str
    letter_first: bool = False
    no_edge_hyphen: bool = False  # may not begin or end with "-"
    no_trailing_hyphen: bool = False
    no_double_hyphen: bool = False
    forbidden_prefix: str | None = None

    def problems(self, text: KnownText) -> list[str]:
        """What the service would refuse; checks needing the whole value run on literals only."""
        found = self._fragment_problems(text)
        if text.exact:
            found.extend(self._literal_problems(text.value))
        return found

    def _fragment_problems(self, text: KnownText) -> list[str]:
        """What even part of the value shows: a character not allowed, a length over the limit."""
        found: list[str] = []
        outside = re.compile(f"[^{self.allowed}]")
        bad = sorted({c for fragment in text.fragments for c in outside.findall(fragment)})
        if bad:
            found.append(f"has {' '.join(repr(c) for c in bad)} (allowed: {self.allowed_text})")
        if self.max_length is not None and text.min_length > self.max_length:
            at_least = "" if text.exact else "at least "
            found.append(
                f"is {at_least}{text.min_length} characters long (at most {self.max_length})"
            )
        return found

    def _literal_problems(self, value: str) -> list[str]:
        """What only the whole value shows: its first letter, its hyphens, its prefix."""
        if not value:
            return ["is empty"]
        found: list[str] = []
        if self.letter_first and not (value[0].isascii() and value[0].isalpha()):
            found.append("must begin with a letter")
        if self.no_edge_hyphen and (value.startswith("-") or value.endswith("-")):
            found.append("must not begin or end with a hyphen")
        if self.no_trailing_hyphen and value.endswith("-"):
            found.append("must not end with a hyphen")
        if self.no_double_hyphen and "--" in value:
            found.append("must not contain two consecutive hyphens")
        if self.forbidden_prefix and value.startswith(self.forbidden_prefix):
            found.append(f"must not begin with {self.forbidden_prefix!r}")
        return found


FAMILY = NameSpec(
    allowed="A-Za-z0-9_-",
    allowed_text="letters, digits, '-' and '_'",
    max_length=255,
    source=f"{ECS_API}/API_RegisterTaskDefinition.html",
)
CONTAINER_NAME = replace(FAMILY, source=f"{ECS_API}/API_ContainerDefinition.html")
SERVICE_NAME = replace(FAMILY, source=f"{ECS_API}/API_CreateService.html")
CLUSTER_NAME = replace(FAMILY, source=f"{ECS_API}/API_CreateCluster.html")
ELB_NAME = NameSpec(
    allowed="A-Za-z0-9-",
    allowed_text="letters, digits and '-'",
    max_length=32,
    source=f"{ELB_API}/API_CreateTargetGroup.html",
    no_edge_hyphen=True,
)
# RDS's CreateDBInstance DBName, by engine (Aurora and SQL Server take none on the instance).
DB_NAME_BY_ENGINE = {
    "mysql": NameSpec("A-Za-z0-9_", "letters, digits and '_'", 64, RDS_API, letter_first=True),
    "mariadb": NameSpec("A-Za-z0-9_", "letters, digits and '_'", 64, RDS_API, letter_first=True),
    "postgres": NameSpec("A-Za-z0-9_", "letters, digits and '_'", 63, RDS_API, letter_first=True),
}

# resource type -> (where the name is, as a path with "*" for each list element, and its spec)
NAMES: dict[str, list[tuple[tuple[str, ...], NameSpec]]] = {
    "AWS::ECS::TaskDefinition": [
        (("Family",), FAMILY),
        (("ContainerDefinitions", "*", "Name"), CONTAINER_NAME),
    ],
    "AWS::ECS::Service": [(("ServiceName",), SERVICE_NAME)],
    "AWS::ECS::Cluster": [(("ClusterName",), CLUSTER_NAME)],
    "AWS::ElasticLoadBalancingV2::LoadBalancer": [
        (
            ("Name",),
            replace(
                ELB_NAME,
                source=f"{ELB_API}/API_CreateLoadBalancer.html",
                forbidden_prefix="internal-",
            ),
        )
    ],
    "AWS::ElasticLoadBalancingV2::TargetGroup": [(("Name",), ELB_NAME)],
    "AWS::ElastiCache::ReplicationGroup": [
        (
            ("ReplicationGroupId",),
            NameSpec(
                allowed="A-Za-z0-9-",
                allowed_text="letters, digits and '-'",
                max_length=40,
                source="https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/"
                "API_CreateReplicationGroup.html",
                letter_first=True,
                no_trailing_hyphen=True,
                no_double_hyphen=True,
            ),
        )
    ],
    "AWS::SecretsManager::Secret": [
        (
            ("Name",),
            NameSpec(
                allowed="A-Za-z0-9/_+=.@-",
                allowed_text="letters, digits and /_+=.@-",
                max_length=None,  # 512: cfn-lint's E3033 checks it
                source="https://docs.aws.amazon.com/secretsmanager/latest/apireference/"
                "API_CreateSecret.html",
            ),
        )
    ],
}


def _at(value: Any, where: tuple[str, ...], path: Path) -> Iterator[tuple[Any, Path]]:
    """Each value at `where` under `value` (through lists at "*" and Fn::If branches)."""
    if not where:
        yield from branches(value, path)
        return
    head, rest = where[0], where[1:]
    if head == "*":
        for item, item_path in items(value, path):
            yield from _at(item, rest, item_path)
        return
    for candidate, candidate_path in branches(value, path):
        if isinstance(candidate, dict) and head in candidate:
            yield from _at(candidate[head], rest, [*candidate_path, head])


def _db_name_spec(properties: dict[str, Any]) -> NameSpec | None:
    engine = properties.get("Engine")
    return DB_NAME_BY_ENGINE.get(engine.lower()) if isinstance(engine, str) else None


class ResourceNames(CloudFormationLintRule):
    """Names and identifiers the service's API would refuse."""

    id = "E9003"
    shortdesc = "Physical names follow the service's own naming rules"
    description = (
        "Literal names that cfn-lint's schemas leave unchecked: ECS Family, container Name, "
        "ServiceName and ClusterName (<=255, letters digits - _); ELBv2 LoadBalancer and "
        "TargetGroup Name (<=32, letters digits -, no hyphen at either end, not 'internal-'); "
        "ElastiCache ReplicationGroupId (<=40, letter first, letters digits -, no '--', no "
        "trailing '-'); RDS DBName for mysql/mariadb (<=64) and postgres (<=63) (letter first, "
        "letters digits _); Secrets Manager Name characters (letters digits /_+=.@-)."
    )
    source_url = (
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html"
    )
    tags = ["resources", "names", "factorstack"]

    def __init__(self) -> None:
        super().__init__()
        self.resource_property_types = [*NAMES, "AWS::RDS::DBInstance"]

    def match_resource_properties(
        self, properties: dict[str, Any], resourcetype: str, path: Path, cfn: Template
    ) -> list[RuleMatch]:
        checks = list(NAMES.get(resourcetype, []))
        if resourcetype == "AWS::RDS::DBInstance":
            spec = _db_name_spec(properties)
            if spec is not None:
                checks.append((("DBName",), spec))
        matches: list[RuleMatch] = []
        for where, spec in checks:
            for value, value_path in _at(properties, where, list(path)):
                for text, text_path in strings(value, value_path):
                    for problem in spec.problems(text):
                        matches.append(
                            RuleMatch(
                                text_path,
                                f"{resourcetype} {where[-1]} {text.preview()} {problem} "
                                f"(see {spec.source})",
                            )
                        )
        return matches
