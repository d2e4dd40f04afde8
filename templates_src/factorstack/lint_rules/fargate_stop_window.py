"""E9002: on Fargate, a job must fit in the stop window.

At every deploy and scale-in ECS sends SIGTERM and, StopTimeout seconds later, SIGKILL. Fargate
allows 2 to 120 seconds (30 when unset). A queue worker whose job timeout (`--timeout=N`) is not
shorter than that window can be killed in the middle of a job, every time. cfn-lint's schema
types StopTimeout as a bare integer and knows nothing of the worker's command.
"""

from __future__ import annotations

import re
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from factorstack.lint_rules.values import Path, branches, items, known_text, literal_int

FARGATE_MIN_STOP_TIMEOUT = 2
FARGATE_MAX_STOP_TIMEOUT = 120
FARGATE_DEFAULT_STOP_TIMEOUT = 30
# `--timeout=90` or `--timeout 90`, as one argument or inside a shell command line.
TIMEOUT_FLAG = re.compile(r"(?:^|\s)--timeout(?:=|\s+)(\d+)(?=\s|$)")


def is_fargate(properties: dict[str, Any]) -> bool:
    compatibilities = [value for value, _ in items(properties.get("RequiresCompatibilities"), [])]
    return "FARGATE" in compatibilities


def job_timeout(command: Any) -> int | None:
    """The largest `--timeout` a literal Command gives; None when it gives none."""
    words = []
    for value, _ in items(command, []):
        text = known_text(value)
        if text is not None:
            words.append(" ".join(text.fragments))
    found = [int(seconds) for seconds in TIMEOUT_FLAG.findall(" ".join(words))]
    return max(found) if found else None


def _container_name(container: dict[str, Any]) -> str:
    name = container.get("Name")
    return name if isinstance(name, str) else "?"


def _stop_windows(
    container: dict[str, Any], name: str, path: Path
) -> tuple[list[int | None], list[RuleMatch]]:
    """Each StopTimeout the container may get (None: from a parameter, unknown), and a match
    for each literal one outside Fargate's range."""
    windows: list[int | None] = []
    matches: list[RuleMatch] = []
    if "StopTimeout" not in container:
        windows.append(FARGATE_DEFAULT_STOP_TIMEOUT)
    for value, value_path in branches(container.get("StopTimeout"), [*path, "StopTimeout"]):
        seconds = literal_int(value)
        windows.append(seconds)
        if seconds is not None and not (
            FARGATE_MIN_STOP_TIMEOUT <= seconds <= FARGATE_MAX_STOP_TIMEOUT
        ):
            matches.append(
                RuleMatch(
                    value_path,
                    f"Container {name!r}: StopTimeout {seconds} is outside Fargate's "
                    f"{FARGATE_MIN_STOP_TIMEOUT}-{FARGATE_MAX_STOP_TIMEOUT} s range",
                )
            )
    return windows, matches


def _window_source(container: dict[str, Any], window: int) -> str:
    """Where the stop window comes from, for the message."""
    if "StopTimeout" not in container:
        return "StopTimeout unset: Fargate's default"
    if window > FARGATE_MAX_STOP_TIMEOUT:
        return f"StopTimeout {window}, and Fargate allows 120 at most"
    return f"StopTimeout {window}"


def _job_outlasts_window(
    container: dict[str, Any], name: str, timeout: int, windows: list[int | None], path: Path
) -> RuleMatch | None:
    """A match on Command for the first known window the job timeout does not fit in."""
    for window in windows:
        if window is None:
            continue  # StopTimeout from a parameter: nothing to compare
        effective = min(window, FARGATE_MAX_STOP_TIMEOUT)
        if timeout < effective:
            continue
        fix = f"set --timeout below {effective}"
        if timeout < FARGATE_MAX_STOP_TIMEOUT:
            fix += f" or StopTimeout above {timeout} (Fargate allows up to 120)"
        return RuleMatch(
            [*path, "Command"],
            f"Container {name!r}: job timeout --timeout={timeout} is not below its "
            f"stop window of {effective} s ({_window_source(container, window)}), so a job "
            f"still running at a deploy or scale-in is killed mid-job; {fix}",
        )
    return None


class FargateStopWindow(CloudFormationLintRule):
    """StopTimeout inside Fargate's range, and longer than the worker's job timeout."""

    id = "E9002"
    shortdesc = "Fargate containers stop within 2-120 s, after their longest job"
    description = (
        "For an AWS::ECS::TaskDefinition that requires FARGATE: each container's StopTimeout "
        "must be 2..120 seconds, and a Command with a job timeout (--timeout=N or --timeout N, "
        "e.g. `php artisan queue:work`) needs N strictly below the container's StopTimeout "
        "(30 s when unset). Otherwise a job running at a deploy or scale-in is killed mid-job."
    )
    source_url = (
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"
    )
    tags = ["resources", "ecs", "fargate", "factorstack"]

    def __init__(self) -> None:
        super().__init__()
        self.resource_property_types = ["AWS::ECS::TaskDefinition"]

    def _container_matches(self, container: Any, path: Path) -> list[RuleMatch]:
        if not isinstance(container, dict):
            return []
        name = _container_name(container)
        windows, matches = _stop_windows(container, name, path)
        timeout = job_timeout(container.get("Command"))
        if timeout is not None:
            too_long = _job_outlasts_window(container, name, timeout, windows, path)
            if too_long is not None:
                matches.append(too_long)
        return matches

    def match_resource_properties(
        self, properties: dict[str, Any], resourcetype: str, path: Path, cfn: Template
    ) -> list[RuleMatch]:
        if not is_fargate(properties):
            return []
        matches: list[RuleMatch] = []
        for container, container_path in items(
            properties.get("ContainerDefinitions"), [*path, "ContainerDefinitions"]
        ):
            matches.extend(self._container_matches(container, container_path))
        return matches
