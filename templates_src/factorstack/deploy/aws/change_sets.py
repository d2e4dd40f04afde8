"""CloudFormation change sets: creating, describing (every page), deleting and executing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from factorstack.deploy.aws.session import Clients, aws_errors, error_code, error_message
from factorstack.deploy.decide.change_sets import ChangeSet, ChangeSetRequest

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.type_defs import DescribeChangeSetOutputTypeDef

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# describe_change_set's answer for a change set (or stack) that does not exist.
CHANGE_SET_GONE_CODES = frozenset({"ChangeSetNotFound", "ChangeSetNotFoundException"})
# create_change_set's answer when an UPDATE would change nothing.
NO_UPDATES = "No updates are to be performed"


def change_set_from_api(pages: list[DescribeChangeSetOutputTypeDef]) -> ChangeSet:
    """A ChangeSet from describe_change_set's pages (the Changes of all of them)."""
    first = pages[0]
    return ChangeSet(
        change_set_id=first.get("ChangeSetId", ""),
        name=first.get("ChangeSetName", ""),
        stack_id=first.get("StackId", ""),
        stack_name=first.get("StackName", ""),
        status=first.get("Status", ""),
        status_reason=first.get("StatusReason") or "",
        execution_status=first.get("ExecutionStatus", ""),
        changes=tuple(dict(change) for page in pages for change in page.get("Changes") or []),
    )


def is_gone(error: ClientError) -> bool:
    """True when describe_change_set says the change set does not exist."""
    return error_code(error) in CHANGE_SET_GONE_CODES or "does not exist" in error_message(error)


def create_kwargs(request: ChangeSetRequest) -> dict[str, Any]:
    """create_change_set's arguments for a request: nested stacks included, IAM acknowledged."""
    source = (
        {"TemplateURL": request.template_url}
        if request.template_url
        else {"TemplateBody": request.template_body or ""}
    )
    return {
        "StackName": request.stack_name,
        "ChangeSetName": request.name,
        "ChangeSetType": request.change_set_type,
        **source,
        "Description": request.description,
        "Parameters": request.parameters,
        "Capabilities": CAPABILITIES,
        "IncludeNestedStacks": True,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(request.tags.items())],
    }


class ChangeSetCalls:
    """The gateway's calls about change sets."""

    clients: Clients

    def create_change_set(self, request: ChangeSetRequest) -> str | None:
        """Create the change set (replacing an earlier one of its name, when there may be one);
        its id, or None when AWS refused it because an update would change nothing."""
        cloudformation = self.clients.cloudformation
        with aws_errors(f"creating change set {request.name}"):
            if request.may_meet_its_name:
                self._delete_same_name(request.stack_name, request.name)
            try:
                return cloudformation.create_change_set(**create_kwargs(request))["Id"]
            except ClientError as error:
                if NO_UPDATES in error_message(error):
                    return None
                raise

    def _delete_same_name(self, stack_name: str, name: str) -> None:
        """Remove an earlier change set of the same name so a re-plan of one commit can reuse it."""
        cloudformation = self.clients.cloudformation
        try:
            old = cloudformation.describe_change_set(StackName=stack_name, ChangeSetName=name)
        except ClientError as error:
            if error_code(error) in CHANGE_SET_GONE_CODES or error_code(error) == "ValidationError":
                return
            raise
        cloudformation.delete_change_set(ChangeSetName=old["ChangeSetId"])

    def _pages(self, change_set_id: str) -> ChangeSet:
        kwargs: dict[str, Any] = {"ChangeSetName": change_set_id}
        pages = []
        while True:
            page = self.clients.cloudformation.describe_change_set(**kwargs)
            pages.append(page)
            token = page.get("NextToken")
            if not token:
                return change_set_from_api(pages)
            kwargs["NextToken"] = token

    def describe_change_set(self, change_set_id: str, doing: str = "") -> ChangeSet:
        """The change set with the Changes of every page."""
        with aws_errors(doing or "describing the change set"):
            return self._pages(change_set_id)

    def find_change_set(self, change_set_id: str, doing: str) -> ChangeSet | None:
        """The change set, or None when AWS no longer has it."""
        with aws_errors(doing):
            try:
                return self._pages(change_set_id)
            except ClientError as error:
                if is_gone(error):
                    return None
                raise

    def delete_change_set(self, change_set_id: str) -> None:
        """Delete a change set (used for empty ones and ones the guard refused)."""
        with aws_errors("deleting the change set"):
            self.clients.cloudformation.delete_change_set(ChangeSetName=change_set_id)

    def execute_change_set(self, stack_name: str, change_set_id: str) -> None:
        """Execute a change set.

        RetainExceptOnCreate: when the deploy rolls back, resources it CREATED are deleted even
        if their DeletionPolicy is Retain, so a failed first create leaves no named log group
        or secret behind to block the next create with "already exists"; resources that
        existed before keep their Retain.
        """
        with aws_errors(f"executing the change set on {stack_name}"):
            self.clients.cloudformation.execute_change_set(
                ChangeSetName=change_set_id, RetainExceptOnCreate=True
            )
