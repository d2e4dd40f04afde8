"""A change set as deploy sees it: what to ask for, what it is named, and what its status means.

The name is deterministic (environment plus git commit; a UTC timestamp outside git), so a
reviewer can match a change set in the console to the commit that produced it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from factorstack.errors import DeployError

NO_CHANGE_MARKERS = (
    "didn't contain changes",
    "No updates are to be performed",
)
# Statuses after which waiting for a change set is over.
FINISHED = frozenset({"CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE"})


@dataclass(frozen=True)
class ChangeSet:
    """One change set as describe_change_set shows it, with the Changes of every page."""

    change_set_id: str
    name: str
    stack_id: str
    stack_name: str
    status: str
    status_reason: str = ""
    execution_status: str = ""
    changes: tuple[dict[str, Any], ...] = ()  # each as AWS sends it: {"Type", "ResourceChange"}


@dataclass(frozen=True)
class ChangeSetRequest:
    """Everything a change set is created from."""

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

    @property
    def may_meet_its_name(self) -> bool:
        """True when an earlier change set of this name may exist (a re-plan of one commit)."""
        return self.stack_exists or self.change_set_type == "UPDATE"


@dataclass(frozen=True)
class Revision:
    """What produced this deploy: the commit (or None outside git), who, and when."""

    commit: str | None
    user: str
    time: datetime


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


def is_no_op(change_set: ChangeSet) -> bool:
    """True when a FAILED change set failed only because nothing changed."""
    if change_set.status != "FAILED":
        return False
    return any(marker in change_set.status_reason for marker in NO_CHANGE_MARKERS)


def check_created(change_set: ChangeSet) -> None:
    """Refuse a change set that FAILED for a real reason (not 'no changes')."""
    if change_set.status == "FAILED" and not is_no_op(change_set):
        reason = " ".join((change_set.status_reason or "no reason given").split())
        raise DeployError(f"change set {change_set.name} failed: {reason}")


def check_executable(name: str, change_set: ChangeSet | None) -> None:
    """Refuse a change set that is gone, failed or already executed."""
    if change_set is None:
        raise DeployError(f"change set {name} no longer exists (plan again)")
    status, execution = change_set.status, change_set.execution_status
    if status != "CREATE_COMPLETE" or execution != "AVAILABLE":
        raise DeployError(
            f"change set {name} cannot be executed "
            f"(Status {status}, ExecutionStatus {execution}); plan again"
        )
