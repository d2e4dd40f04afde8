"""`factorstack plan ENV`: package, create one change set, review the tree, guard, record.

Returns when a plan was recorded or nothing changed; anything else raises a UserError whose
class (errors.py) gives the exit code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from factorstack.build.manifest import CREATE_FIRST_WITH, ROOT_FILE, Build
from factorstack.deploy import guard
from factorstack.deploy.bootstrap_stack import artifacts_bucket
from factorstack.deploy.changeset import (
    ChangeSetRequest,
    change_set_description,
    change_set_name,
    current_revision,
)
from factorstack.deploy.context import Context
from factorstack.deploy.deployed import offline_findings
from factorstack.deploy.flow import reviewed_change_set
from factorstack.deploy.images import preflight, wanted_images
from factorstack.deploy.package import Packaged, package, read_template, url_suffix
from factorstack.deploy.plan_files import (
    RECORDED,
    REFUSED,
    UNCHANGED,
    PlanRecord,
    start_plan,
    timestamp,
    write_changeset_md,
    write_note,
    write_plan,
)
from factorstack.deploy.preflight import account_preflight
from factorstack.deploy.review import Review, markdown, rich_table
from factorstack.deploy.session import Clients, aws_errors
from factorstack.deploy.stack_state import describe_stack, prepare_stack
from factorstack.errors import GuardRefusal, UsageError
from factorstack.release_record import Release, read_release, release_file

IMAGE_TAG = "ImageTag"


@dataclass
class PlanOutcome:
    """What plan decided: no changes, or a recorded change set."""

    changed: bool
    record: PlanRecord | None = None
    review: Review | None = None


def create_first_values(template: dict[str, Any], stack: dict[str, Any] | None) -> dict[str, str]:
    """Root parameters that this deploy sets to their create-time value, because the stack
    does not hold them yet (a first create, or the resource they protect is new)."""
    wanted = (template.get("Metadata") or {}).get(CREATE_FIRST_WITH) or {}
    deployed = {p["ParameterKey"] for p in (stack or {}).get("Parameters") or []}
    return {key: str(value) for key, value in sorted(wanted.items()) if key not in deployed}


def follow_up_values(template: dict[str, Any], first: dict[str, str]) -> dict[str, str]:
    """What a follow-up update sets the create-first parameters to: the build's values."""
    parameters = template.get("Parameters") or {}
    return {
        key: str(parameters[key]["Default"])
        for key, value in first.items()
        if str(parameters.get(key, {}).get("Default", value)) != value
    }


def stack_parameters(
    template: dict[str, Any], stack: dict[str, Any] | None, image_tag: str | None
) -> list[dict[str, Any]]:
    """Root parameters: the given ImageTag, else each deployed value, else the template default.

    A create-first parameter (see create_first_values) gets its create-time value while the
    stack does not hold it, and the build's value (its Default) once it does.
    """
    deployed = {p["ParameterKey"] for p in (stack or {}).get("Parameters") or []}
    create_first = (template.get("Metadata") or {}).get(CREATE_FIRST_WITH) or {}
    first = create_first_values(template, stack)
    chosen: list[dict[str, Any]] = []
    for key, spec in sorted((template.get("Parameters") or {}).items()):
        if key == IMAGE_TAG and image_tag:
            chosen.append({"ParameterKey": key, "ParameterValue": image_tag})
        elif key in first:
            chosen.append({"ParameterKey": key, "ParameterValue": first[key]})
        elif key in create_first and "Default" in (spec or {}):
            chosen.append({"ParameterKey": key, "ParameterValue": str(spec["Default"])})
        elif key in deployed:
            chosen.append({"ParameterKey": key, "UsePreviousValue": True})
        elif "Default" not in (spec or {}):
            hint = " (pass --image-tag TAG)" if key == IMAGE_TAG else ""
            raise UsageError(f"root template parameter {key} has no value{hint}")
    return chosen


def effective_image_tag(
    template: dict[str, Any], stack: dict[str, Any] | None, image_tag: str | None
) -> str | None:
    """The ImageTag the stack will run with: the given one, else the deployed, else the default."""
    if image_tag:
        return image_tag
    for parameter in (stack or {}).get("Parameters") or []:
        if parameter["ParameterKey"] == IMAGE_TAG:
            return str(parameter["ParameterValue"])
    default = ((template.get("Parameters") or {}).get(IMAGE_TAG) or {}).get("Default")
    return None if default is None else str(default)


def check_images(clients: Clients, build: Build, release: Release | None, tag: str | None) -> None:
    """The image preflight: every process's image must already be in ECR."""
    images = wanted_images(build.app, list(build.processes), release, tag)
    registry = f"{build.target.account}.dkr.ecr.{clients.region}.{url_suffix(clients.region)}"
    preflight(clients.ecr, images, build.environment, registry)


def new_templates(build: Build, packaged: Packaged) -> dict[str, dict[str, Any]]:
    """Stack path → template about to be deployed, for the offline guard."""
    templates = {"": read_template(build.root_template)}
    for path, file_name in packaged.children.items():
        templates[path] = read_template(build.folder / file_name)
    return templates


def guard_findings(
    clients: Clients, build: Build, packaged: Packaged, review: Review, stack_exists: bool
) -> list[guard.Finding]:
    """Change-set evidence plus, for a deployed stack, the offline prediction."""
    online = guard.findings_from_rows(review.rows)
    if not stack_exists:
        return online
    offline = offline_findings(
        clients.cloudformation, build.stack_name, new_templates(build, packaged)
    )
    return guard.merge(online, offline)


def run_plan(
    ctx: Context, allow_replace: list[str], image_tag: str | None = None, applying: bool = False
) -> PlanOutcome:
    """Plan one environment; see the module docstring. `applying`: `execute` applies the plan
    right after, so no "apply it with --apply" hint."""
    build = ctx.load()
    start_plan(build.folder, build.templates)  # the older plan and its review are superseded
    clients = ctx.connect(build)
    cfn = clients.cloudformation
    bucket = artifacts_bucket(cfn, build.app, build.environment)
    release = read_release(ctx.root, build.environment, list(build.processes))
    tag = image_tag or os.environ.get("IMAGE_TAG") or (release.tag if release else None)
    if release is not None and tag != release.tag:
        raise UsageError(
            f"{release_file(build.environment)} pins the images of release {release.tag}; "
            f"image tag {tag} would change nothing that runs (run `factorstack release "
            f"{build.environment} --tag {tag}` and `make templates`, or drop the tag)"
        )
    root_template = read_template(build.root_template)
    change_set_type, stack = prepare_stack(cfn, build.stack_name, ctx.timing, ctx.echo)
    check_images(clients, build, release, effective_image_tag(root_template, stack, tag))
    account_preflight(clients, build, new_stack=change_set_type == "CREATE", warn=ctx.echo)
    packaged = package(clients.s3, bucket, clients.region, build.folder, ROOT_FILE, ctx.echo)

    revision = current_revision(ctx.root)
    request = ChangeSetRequest(
        stack_name=build.stack_name,
        name=change_set_name(build.environment, revision),
        change_set_type=change_set_type,
        stack_exists=stack is not None,
        template_url=packaged.root_url,
        description=change_set_description(revision),
        parameters=stack_parameters(root_template, stack, tag),
        tags={
            "app": build.app,
            "environment": build.environment,
            "commit": revision.commit or "none",
        },
    )

    follow_up = follow_up_values(root_template, create_first_values(root_template, stack))
    follow_up_lines = [
        f"after this change set, a follow-up update sets {key} to {value} "
        "(created without it so that a failed create can roll back)"
        for key, value in follow_up.items()
    ]

    def show(review: Review, verdict: guard.Verdict) -> None:
        guard_lines = [f"- data-loss guard: {f.line()}" for f in verdict.findings]
        guard_lines += [f"- {line}" for line in follow_up_lines]
        for line in follow_up_lines:
            ctx.echo(line)
        if verdict.blocked:
            guard_lines.append(
                "- **refused**: plan again with --allow-replace for each, if intended"
            )
        ctx.console.print(rich_table(review))
        ctx.echo(f"console: {review.console_link}")
        md_path = write_changeset_md(build.folder, markdown(review, guard_lines))
        ctx.echo(f"wrote {md_path}")

    try:
        reviewed = reviewed_change_set(
            ctx,
            cfn,
            request,
            clients.region,
            allow_replace,
            show,
            findings=lambda review: guard_findings(
                clients, build, packaged, review, change_set_type == "UPDATE"
            ),
        )
    except GuardRefusal:
        write_note(build.folder, REFUSED, build.templates)  # changeset.md shows the refusal
        raise
    if reviewed is None:
        line = f"no changes: {build.stack_name} already matches build/{build.environment}"
        write_changeset_md(build.folder, f"## Change set for `{build.stack_name}`\n\n{line}\n")
        write_note(build.folder, UNCHANGED, build.templates)
        ctx.echo(line)
        return PlanOutcome(changed=False)
    change_set, review = reviewed.change_set, reviewed.review

    with aws_errors(f"describing stack {build.stack_name}"):
        after = describe_stack(cfn, build.stack_name) or {}
    record = PlanRecord(
        stack_name=build.stack_name,
        stack_id=str(change_set.get("StackId", after.get("StackId", ""))),
        change_set_id=str(change_set["ChangeSetId"]),
        change_set_name=request.name,
        change_set_type=change_set_type,
        stack_status=after.get("StackStatus"),
        stack_last_updated=timestamp(after.get("LastUpdatedTime")),
        template_url=packaged.root_url,
        template_hashes=dict(build.templates),
        nested_change_set_ids=review.nested_change_set_ids,
        counts=review.counts(),
        rows=[row.as_dict() for row in review.rows],
        console_link=review.console_link,
        guard=reviewed.verdict.allowed_lines(),
        parameter_keys=[p["ParameterKey"] for p in request.parameters],
        follow_up=follow_up,
        commit=revision.commit,
        created=datetime.now(UTC).isoformat(),
    )
    plan_path = write_plan(build.folder, record)
    write_note(build.folder, RECORDED, build.templates)
    if applying:
        ctx.echo(f"wrote {plan_path}; applying it now")
    else:
        ctx.echo(f"wrote {plan_path}; apply it with `./deploy.sh {build.environment} --apply`")
    return PlanOutcome(changed=True, record=record, review=review)
