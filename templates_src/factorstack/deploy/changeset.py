"""Creating a change set and deciding what its final status means.

The name is deterministic (environment plus git commit; a UTC timestamp outside git), so a
reviewer can match a change set in the console to the commit that produced it.
"""

from __future__ import annotations

import getpass
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from factorstack.deploy.session import aws_errors, error_code, error_message, is_throttling
from factorstack.deploy.stack_state import Timing
from factorstack.errors import DeployError

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]

# describe_change_set's answer for a change set (or stack) that does not exist.
CHANGE_SET_GONE_CODES = frozenset({"ChangeSetNotFound", "ChangeSetNotFoundException"})

NO_CHANGE_MARKERS = (
    "didn't contain changes",
    "No updates are to be performed",
)


@dataclass(frozen=True)
class Revision:
    """What produced this deploy: the commit (or None outside git), who, and when."""

    commit: str | None
    user: str
    time: datetime


def git_commit(root: Path) -> str | None:
    """HEAD's commit of the repo at root, or None outside git (or without git)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def current_revision(root: Path) -> Revision:
    """The revision of the working copy being deployed."""
    return Revision(commit=git_commit(root), user=getpass.getuser(), time=datetime.now(UTC))


def change_set_name(environment: str, revision: Revision) -> str:
    """`fs-ENV-COMMIT12`, or `fs-ENV-YYYYmmddTHHMMSSZ` outside git; valid as a change-set name."""
    suffix = revision.commit[:12] if revision.commit else revision.time.strftime("%Y%m%dT%H%M%SZ")
    safe_env = re.sub(r"[^A-Za-z0-9-]", "-", environment)
    return f"fs-{safe_env}-{suffix}"[:128]


def change_set_description(revision: Revision) -> str:
    """Commit, user and time, within the 1,024-character limit."""
    commit = revision.commit or "outside git"
    stamp = revision.time.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"factorstack: commit {commit}, by {revision.user}, at {stamp}"[:1024]


def is_no_op(change_set: dict[str, Any]) -> bool:
    """True when a FAILED change set failed only because nothing changed."""
    if change_set.get("Status") != "FAILED":
        return False
    reason = change_set.get("StatusReason") or ""
    return any(marker in reason for marker in NO_CHANGE_MARKERS)


def describe_change_set_pages(
    cloudformation: Any, change_set_id: str, stack_name: str | None = None
) -> dict[str, Any]:
    """describe_change_set with all pages of Changes merged into the first response."""
    kwargs: dict[str, Any] = {"ChangeSetName": change_set_id}
    if stack_name and not change_set_id.startswith("arn:"):
        kwargs["StackName"] = stack_name
    first: dict[str, Any] | None = None
    while True:
        page = cloudformation.describe_change_set(**kwargs)
        if first is None:
            first = page
            first["Changes"] = list(page.get("Changes") or [])
        else:
            first["Changes"].extend(page.get("Changes") or [])
        token = page.get("NextToken")
        if not token:
            return first
        kwargs["NextToken"] = token


def wait_for_change_set(
    cloudformation: Any, change_set_id: str, timing: Timing, echo: Callable[[str], None]
) -> dict[str, Any]:
    """Poll until the change set is CREATE_COMPLETE or FAILED; throttled polls try again."""
    deadline = timing.clock() + timing.timeout
    while True:
        with aws_errors("describing the change set"):
            try:
                change_set = describe_change_set_pages(cloudformation, change_set_id)
            except ClientError as error:
                if not is_throttling(error):
                    raise
                change_set = {"Status": "CREATE_IN_PROGRESS"}
        if change_set.get("Status") in {"CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE"}:
            return change_set
        if timing.clock() >= deadline:
            raise DeployError(
                f"change set {change_set_id} still {change_set.get('Status')} after "
                f"{int(timing.timeout)} s"
            )
        timing.sleep(timing.poll)


def delete_change_set(cloudformation: Any, change_set_id: str) -> None:
    """Delete a change set (used for empty ones and ones the guard refused)."""
    with aws_errors("deleting the change set"):
        cloudformation.delete_change_set(ChangeSetName=change_set_id)


def delete_stale_change_set(cloudformation: Any, stack_name: str, name: str) -> None:
    """Remove an earlier change set of the same name so a re-plan of one commit can reuse it."""
    try:
        old = cloudformation.describe_change_set(StackName=stack_name, ChangeSetName=name)
    except ClientError as error:
        if error_code(error) in CHANGE_SET_GONE_CODES or error_code(error) == "ValidationError":
            return
        raise
    cloudformation.delete_change_set(ChangeSetName=old["ChangeSetId"])


@dataclass(frozen=True)
class ChangeSetRequest:
    """Everything create_change_set needs apart from the client."""

    stack_name: str
    name: str
    change_set_type: str
    description: str
    parameters: list[dict[str, Any]]
    tags: dict[str, str]
    template_url: str | None = None
    template_body: str | None = None  # small templates only (the bootstrap stack)
    # True when the stack exists (UPDATE, or a CREATE on a stack in REVIEW_IN_PROGRESS): an
    # earlier change set of the same name may then be there and must go first.
    stack_exists: bool = False

    def api_kwargs(self) -> dict[str, Any]:
        source = (
            {"TemplateURL": self.template_url}
            if self.template_url
            else {"TemplateBody": self.template_body or ""}
        )
        return {
            "StackName": self.stack_name,
            "ChangeSetName": self.name,
            "ChangeSetType": self.change_set_type,
            **source,
            "Description": self.description,
            "Parameters": self.parameters,
            "Capabilities": CAPABILITIES,
            "IncludeNestedStacks": True,
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(self.tags.items())],
        }


def create_change_set(
    cloudformation: Any, request: ChangeSetRequest, timing: Timing, echo: Callable[[str], None]
) -> dict[str, Any]:
    """Create the change set, wait for it, and return its full description."""
    with aws_errors(f"creating change set {request.name}"):
        if request.stack_exists or request.change_set_type == "UPDATE":
            delete_stale_change_set(cloudformation, request.stack_name, request.name)
        try:
            created = cloudformation.create_change_set(**request.api_kwargs())
        except ClientError as error:
            if "No updates are to be performed" in error_message(error):
                return {"Status": "FAILED", "StatusReason": error_message(error)}
            raise
    echo(f"created change set {request.name} ({request.change_set_type}); waiting for it")
    return wait_for_change_set(cloudformation, created["Id"], timing, echo)


def check_created(change_set: dict[str, Any]) -> None:
    """Refuse a change set that FAILED for a real reason (not 'no changes')."""
    if change_set.get("Status") == "FAILED" and not is_no_op(change_set):
        reason = " ".join(str(change_set.get("StatusReason") or "no reason given").split())
        raise DeployError(f"change set {change_set.get('ChangeSetName', '')} failed: {reason}")
