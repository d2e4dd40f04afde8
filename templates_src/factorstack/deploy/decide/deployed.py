"""A deployed environment as the day-two commands (status, run, logs) find it: from the root
stack's outputs, so nobody needs to know a cluster, service or log group name.

The output names are the root stack's documented outputs (README, "What it makes"):
`ClusterName`, `AppUrl`, `ImageTag` and one `<Process>ServiceName` per process type, whose
value is the ECS service, named after the process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from factorstack.deploy.decide.stacks import Stack
from factorstack.errors import NotReady, UsageError

CLUSTER_OUTPUT = "ClusterName"
URL_OUTPUT = "AppUrl"
IMAGE_TAG_OUTPUT = "ImageTag"
SERVICE_OUTPUT_SUFFIX = "ServiceName"  # `WebServiceName` → the web process's ECS service


@dataclass(frozen=True)
class Deployed:
    """What the root stack says about a deployed environment."""

    environment: str
    stack: Stack
    cluster: str | None  # None while the stack has no outputs yet (first create, rolled back)
    services: Mapping[str, str] = field(default_factory=dict)  # process → ECS service name
    url: str | None = None
    image_tag: str | None = None

    def service_of(self, process: str) -> str:
        """The ECS service of a deployed process, or refuse naming the deployed ones."""
        if process not in self.services:
            raise UsageError(
                f"no process {process!r} is deployed in {self.environment} "
                f"(deployed: {', '.join(self.services) or 'none'})"
            )
        return self.services[process]

    def chosen(self, processes: Sequence[str]) -> list[str]:
        """The named processes (all of them when none is named), each checked."""
        for process in processes:
            self.service_of(process)
        return list(dict.fromkeys(processes)) or list(self.services)


def services_in(outputs: Mapping[str, str], order: Iterable[str] = ()) -> dict[str, str]:
    """Process → ECS service from the root's `<Process>ServiceName` outputs; the processes in
    `order` (app.yaml's) first, any others after them by name."""
    found = {
        value: value
        for key, value in outputs.items()
        if key.endswith(SERVICE_OUTPUT_SUFFIX) and key != SERVICE_OUTPUT_SUFFIX and value
    }
    ranked = [name for name in order if name in found]
    ranked += sorted(name for name in found if name not in ranked)
    return {name: found[name] for name in ranked}


def deployed(
    stack: Stack | None, environment: str, stack_name: str, order: Iterable[str] = ()
) -> Deployed:
    """The environment its root stack describes; refuse (exit 2) when there is no stack."""
    if stack is None:
        raise NotReady(
            f"environment {environment} is not deployed: there is no stack {stack_name} in its "
            f"account and region (deploy it with `./deploy.sh {environment}`, then "
            f"`./deploy.sh {environment} --apply`)"
        )
    outputs = stack.outputs
    return Deployed(
        environment=environment,
        stack=stack,
        cluster=outputs.get(CLUSTER_OUTPUT) or None,
        services=services_in(outputs, order),
        url=outputs.get(URL_OUTPUT) or None,
        image_tag=outputs.get(IMAGE_TAG_OUTPUT) or None,
    )


def require_running(environment: Deployed) -> str:
    """The cluster of an environment whose services exist, or refuse (exit 2) saying why."""
    if environment.cluster is None or not environment.services:
        raise NotReady(
            f"environment {environment.environment} is not deployed: stack "
            f"{environment.stack.name} is {environment.stack.status} and has no services yet "
            f"(see `factorstack status {environment.environment}`)"
        )
    return environment.cluster
