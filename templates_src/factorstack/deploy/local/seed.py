"""Placeholder SSM parameters and secrets in the LOCAL endpoint, so that `plan`'s account
preflight passes on `make local-aws`: every parameter and every existing (not generated) secret
app.yaml refers to, with each JSON key a variable names. The values are obviously fake; what is
already there is kept, and a missing key is added beside the others.

Refuses to run unless AWS_ENDPOINT_URL points at this machine, so it can never write to AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from factorstack.build.manifest import AwsTarget
from factorstack.deploy.aws.gateway import Gateway, open_gateway
from factorstack.deploy.local.placeholder_images import require_local_endpoint
from factorstack.model import AppModel, ParameterVariable, SecretVariable

COMMAND = "local-seed"
PLACEHOLDER = "local-placeholder"


@dataclass(frozen=True)
class Seeds:
    """What the app reads from the account: parameter names, secret name → JSON keys."""

    parameters: tuple[str, ...]
    secrets: dict[str, frozenset[str]]


def wanted_seeds(model: AppModel) -> Seeds:
    """Every declared or referenced parameter and existing secret, with the keys read from it."""
    parameters = set(model.parameters)
    secrets: dict[str, set[str]] = {name: set() for name in model.secrets}
    for process in model.processes:
        for variable in process.variables:
            if isinstance(variable, ParameterVariable):
                parameters.add(variable.parameter)
            elif isinstance(variable, SecretVariable) and not variable.generated:
                keys = secrets.setdefault(variable.secret, set())
                if variable.key:
                    keys.add(variable.key)
    return Seeds(
        parameters=tuple(sorted(parameters)),
        secrets={name: frozenset(keys) for name, keys in sorted(secrets.items())},
    )


def placeholder_secret(keys: frozenset[str], current: str | None) -> str:
    """The secret string to store: the current one with every missing key added (a JSON object),
    or the plain placeholder for a secret that is read whole."""
    if not keys:
        return PLACEHOLDER if current is None else current
    try:
        data = json.loads(current) if current is not None else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if current is not None and keys <= set(data):
        return current
    return json.dumps({**{key: PLACEHOLDER for key in sorted(keys)}, **data}, sort_keys=True)


def seed_parameter(aws: Gateway, name: str, doing: str) -> str:
    """Create the parameter with the placeholder unless it exists; what was done, as a line."""
    if not aws.put_parameter_once(name, PLACEHOLDER, doing):
        return f"SSM parameter {name}: already there, kept"
    return f"SSM parameter {name} = {PLACEHOLDER}"


def seed_secret(aws: Gateway, name: str, keys: frozenset[str], doing: str) -> str:
    """Create the secret, or add the keys it lacks; what was done, as a line."""
    shown = f" (keys {', '.join(sorted(keys))})" if keys else ""
    exists, current = aws.secret_string(name, doing)
    if not exists:
        aws.create_secret(name, placeholder_secret(keys, None), doing)
        return f"secret {name}{shown} = {PLACEHOLDER}"
    wanted = placeholder_secret(keys, current)
    if wanted == current:
        return f"secret {name}{shown}: already there, kept"
    aws.put_secret_string(name, wanted, doing)
    return f"secret {name}{shown}: missing keys set to {PLACEHOLDER}"


def seed_placeholders(seeds: Seeds, target: AwsTarget) -> list[str]:
    """Seed the local endpoint; one line per parameter and secret."""
    endpoint = require_local_endpoint(COMMAND)
    aws = open_gateway(target)
    doing = f"{COMMAND}: seeding parameters and secrets in {endpoint}"
    lines = [seed_parameter(aws, name, doing) for name in seeds.parameters]
    lines += [seed_secret(aws, n, k, doing) for n, k in seeds.secrets.items()]
    return lines
