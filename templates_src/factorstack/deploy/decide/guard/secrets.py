"""Generated secrets read through {{resolve:secretsmanager:...}}: a new generated value
reaches the secret but not the database or cache that resolved the old one at deploy time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from factorstack.deploy.decide.guard.schema import canonical, create_only_properties
from factorstack.deploy.decide.guard.values import mentions, properties_of, references, type_of

SECRET_TYPE = "AWS::SecretsManager::Secret"


SECRET_VALUE_PROPERTIES = ("GenerateSecretString", "SecretString")


RESOLVE_SECRET = "{{resolve:secretsmanager:"


def regenerated_secrets(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[str]]:
    """Secrets kept under their logical id whose (generated) value changes: secret → properties."""
    found: dict[str, list[str]] = {}
    for logical_id, resource in new.items():
        if type_of(resource) != SECRET_TYPE or type_of(old.get(logical_id)) != SECRET_TYPE:
            continue
        before, after = properties_of(old[logical_id]), properties_of(resource)
        changed = [
            name
            for name in SECRET_VALUE_PROPERTIES
            if canonical(before.get(name)) != canonical(after.get(name))
        ]
        if changed:
            found[logical_id] = changed
    return found


def secret_reads(resource: dict[str, Any], secrets: Iterable[str]) -> dict[str, list[str]]:
    """Which of `secrets` a resource reads through {{resolve:secretsmanager:...}}, by property."""
    wanted = set(secrets)
    reads: dict[str, list[str]] = {}
    for key, value in sorted(properties_of(resource).items()):
        if not mentions(value, RESOLVE_SECRET):
            continue
        for name, _attribute in references(value):
            if name in wanted and key not in reads.setdefault(name, []):
                reads[name].append(key)
    return reads


def stranded_reasons(
    logical_id: str, resource_type: str, secret: str, names: list[str], changed: list[str]
) -> list[str]:
    """Why a resource that resolves a regenerated secret at deploy time is left behind."""
    what = "generated value" if "GenerateSecretString" in changed else "value"
    reasons = [
        f"{', '.join(names)} read from {secret}, whose {what} changes ({', '.join(changed)} "
        f"changed): {logical_id} would keep the old credentials while tasks read the new"
    ]
    create_only = {path[0] for path in create_only_properties(resource_type) if len(path) == 1}
    fixed = [name for name in names if name in create_only]
    if fixed:
        reasons.append(
            f"replaced once CloudFormation resolves the new value (create-only "
            f"{', '.join(fixed)} reads {secret})"
        )
    return reasons
