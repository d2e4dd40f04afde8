"""`factorstack plan ENV`: package, create one change set, review the tree, guard, record.

Returns when a plan was recorded or nothing changed; anything else raises a UserError whose
class (errors.py) gives the exit code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from factorstack.build.manifest import BUCKET_OUTPUT, ROOT_FILE, Build
from factorstack.build.parity import compare_builds
from factorstack.config import require_environment
from factorstack.config.checks import predecessor_problem
from factorstack.config.files import environment_names
from factorstack.config.loading import unknown_environment
from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context
from factorstack.deploy.cost import DeployedTree, PlanCost
from factorstack.deploy.decide import guard
from factorstack.deploy.decide.change_sets import (
    ChangeSetRequest,
    Revision,
    change_set_description,
    change_set_name,
)
from factorstack.deploy.decide.follow_up import follow_up_lines, follow_up_values
from factorstack.deploy.decide.images import refuse_missing, refuse_unchosen, wanted_images
from factorstack.deploy.decide.named_replacement import named_replacements
from factorstack.deploy.decide.parameters import (
    effective_image_tag,
    first_values,
    needs_pair_from_children,
    pair_from_children,
    pinned_values,
    stack_parameters,
)
from factorstack.deploy.decide.review import Review
from factorstack.deploy.decide.stacks import Stack, bootstrap_stack_name
from factorstack.deploy.flow import Reviewed, prepare_stack, reviewed_change_set
from factorstack.deploy.package import Packaged, package, read_template, url_suffix
from factorstack.deploy.preflight import account_preflight
from factorstack.deploy.present.cost import delta_json, delta_lines
from factorstack.deploy.present.parity import ParitySection, missing_section, plan_section
from factorstack.deploy.present.plan_files import (
    RECORDED,
    REFUSED,
    UNCHANGED,
    PlanRecord,
    start_plan,
    write_changeset_md,
    write_note,
    write_plan,
)
from factorstack.deploy.present.review import markdown, no_changes_markdown, rich_table
from factorstack.deploy.revision import current_revision
from factorstack.errors import GuardRefusal, NotReady, UsageError
from factorstack.release_record import Release, read_release, release_file


@dataclass
class PlanOutcome:
    """What plan decided: no changes, or a recorded change set."""

    changed: bool
    record: PlanRecord | None = None
    review: Review | None = None


def run_plan(
    ctx: Context,
    allow_replace: list[str],
    image_tag: str | None = None,
    applying: bool = False,
    newest_nat_image: bool = False,
    promotes_from: str | None = None,
) -> PlanOutcome:
    """Plan one environment; see the module docstring. `applying`: `execute` applies the plan
    right after, so no "apply it with --apply" hint. `newest_nat_image`: re-read the pinned
    image ids from AWS's public parameters (decide/parameters.py) instead of keeping them.
    `promotes_from`: the environment to show parity with (default: the build's own)."""
    refuse_promotes_from(ctx, promotes_from)  # a command-line mistake: before anything else
    build = ctx.load()
    start_plan(build.folder, build.templates)  # the older plan and its review are superseded
    parity = predecessor_parity(ctx, build, promotes_from)
    aws = ctx.connect(build.target)
    bucket = artifacts_bucket(aws, build.app, build.environment)
    release = read_release(ctx.root, build.environment, list(build.processes))
    tag = chosen_image_tag(build, release, image_tag)
    root_template = read_template(build.root_template)
    change_set_type, stack = prepare_stack(aws, build.stack_name, ctx.timing, ctx.echo)
    check_images(aws, build, release, effective_image_tag(root_template, stack, tag))
    account_preflight(aws, build, new_stack=change_set_type == "CREATE", warn=ctx.echo)
    packaged = package(aws, bucket, build.folder, ROOT_FILE, ctx.echo)

    revision = current_revision(ctx.root)
    pinned = pinned_values(root_template, stack, aws.public_parameter, newest_nat_image)
    updating = change_set_type == "UPDATE"
    held = stack.parameters if stack else None
    # The deployed templates, read once: guard, cost, and a stack from before the cache's pair.
    tree = DeployedTree(aws, build.stack_name, held) if updating else None
    judged = stack
    if tree is not None and stack is not None and needs_pair_from_children(root_template, stack):
        judged = pair_from_children(root_template, stack, tree.template(""))
    first = first_values(root_template, judged)
    request = plan_request(
        build, revision, change_set_type, stack, packaged, root_template, tag, pinned, first
    )
    follow_up = follow_up_values(root_template, first)
    cost = PlanCost(ctx, build, new_templates(build, packaged), tree)
    try:
        reviewed = reviewed_change_set(
            ctx,
            aws,
            request,
            allow_replace,
            show=partial(
                show_review, ctx, build, follow_up_lines(follow_up, root_template), cost, parity
            ),
            findings=partial(guard_findings, aws, build, packaged, deployed=updating, tree=tree),
        )
    except GuardRefusal:
        write_note(build.folder, REFUSED, build.templates)  # changeset.md shows the refusal
        raise
    if reviewed is None:
        line = f"no changes: {build.stack_name} already matches build/{build.environment}"
        no_changes = no_changes_markdown(build.stack_name, line)
        if parity is not None:
            no_changes += "\n".join(parity.markdown_lines()) + "\n"
            for parity_line in parity.terminal_lines():
                ctx.echo(parity_line)
        write_changeset_md(build.folder, no_changes)
        write_note(build.folder, UNCHANGED, build.templates)
        ctx.echo(line)
        return PlanOutcome(changed=False)

    after = aws.describe_stack(build.stack_name)
    record = plan_record(build, request, reviewed, after, revision, follow_up)
    record.cost = delta_json(cost.delta())
    record.parity = parity.as_json() if parity is not None else None
    plan_path = write_plan(build.folder, record)
    write_note(build.folder, RECORDED, build.templates)
    if applying:
        ctx.echo(f"wrote {plan_path}; applying it now")
    else:
        ctx.echo(f"wrote {plan_path}; apply it with `./deploy.sh {build.environment} --apply`")
    return PlanOutcome(changed=True, record=record, review=reviewed.review)


def refuse_promotes_from(ctx: Context, promotes_from: str | None) -> None:
    """--promotes-from must name another environment of this repo, as an environment file's
    `promotes_from` must (the same check); refused before the build is read or AWS is asked.
    One that is not built yet is a note in the review (predecessor_parity)."""
    if promotes_from is None:
        return
    require_environment(ctx.root, ctx.environment)  # an unknown ENV is named first
    known = environment_names(ctx.root)
    problem = predecessor_problem(promotes_from, ctx.environment, known, "drop --promotes-from")
    if problem:
        raise UsageError(f"--promotes-from {promotes_from}: {problem}")


def predecessor_parity(
    ctx: Context, build: Build, promotes_from: str | None
) -> ParitySection | None:
    """What differs from the environment this one promotes from (--promotes-from, else the
    environment file's `promotes_from`), read from both builds; None when neither names one.
    A predecessor that was never built (or not rebuilt) is a note in the review, not a failure;
    so is one whose environment file was removed after this build (refuse_promotes_from has
    refused a --promotes-from that names no environment, or this one)."""
    predecessor = promotes_from or build.promotes_from
    if predecessor is None or predecessor == build.environment:
        return None
    if predecessor not in environment_names(ctx.root):  # a build could not help: say so
        unknown = unknown_environment(ctx.root, predecessor)
        return missing_section(predecessor, build.environment, unknown)
    try:
        parity = compare_builds(ctx.root, predecessor, build.environment)
    except NotReady as error:
        return missing_section(predecessor, build.environment, error.lines[0])
    return plan_section(parity)


def artifacts_bucket(aws: Gateway, app: str, environment: str) -> str:
    """The artifacts bucket from the bootstrap stack, or tell the user to bootstrap first."""
    name = bootstrap_stack_name(app)
    stack = aws.describe_stack(name, doing=f"reading the bootstrap stack {name}")
    bucket = stack.outputs.get(BUCKET_OUTPUT) if stack else None
    if not bucket:  # a step not done yet, like a missing build: exit 2, not a failure
        raise NotReady(
            f"no bootstrap stack {name} in this account and region "
            f"(run `factorstack bootstrap {environment}` first)"
        )
    return bucket


def chosen_image_tag(build: Build, release: Release | None, image_tag: str | None) -> str | None:
    """--image-tag, else $IMAGE_TAG, else the release's; refused when a release pins others."""
    tag = image_tag or os.environ.get("IMAGE_TAG") or (release.tag if release else None)
    if release is not None and tag != release.tag:
        raise UsageError(
            f"{release_file(build.environment)} pins the images of release {release.tag}; "
            f"image tag {tag} would change nothing that runs (run `factorstack release "
            f"{build.environment} --tag {tag}` and `make templates`, or drop the tag)"
        )
    return tag


def check_images(aws: Gateway, build: Build, release: Release | None, tag: str | None) -> None:
    """The image preflight: every process's image must already be in ECR."""
    images = wanted_images(build.app, list(build.processes), release, tag)
    refuse_unchosen(images, build.environment)
    registry = f"{build.target.account}.dkr.ecr.{aws.region}.{url_suffix(aws.region)}"
    missing = [image for image in images if aws.image_digest(image) is None]
    refuse_missing(missing, build.environment, registry)


def plan_request(
    build: Build,
    revision: Revision,
    change_set_type: str,
    stack: Stack | None,
    packaged: Packaged,
    root_template: dict[str, Any],
    tag: str | None,
    pinned: dict[str, str] | None = None,
    first: dict[str, str] | None = None,
) -> ChangeSetRequest:
    """The root change set: the packaged root, named after the revision, tagged with it;
    `pinned`: the pinned parameters' values (decide/parameters.py pinned_values); `first`:
    the values this change set passes before a follow-up (first_values)."""
    return ChangeSetRequest(
        stack_name=build.stack_name,
        name=change_set_name(build.environment, revision),
        change_set_type=change_set_type,
        stack_exists=stack is not None,
        template_url=packaged.root_url,
        description=change_set_description(revision),
        parameters=stack_parameters(root_template, stack, tag, pinned, first),
        tags={
            "app": build.app,
            "environment": build.environment,
            "commit": revision.commit or "none",
        },
    )


def show_review(
    ctx: Context,
    build: Build,
    follow_up: list[str],
    cost: PlanCost,
    parity: ParitySection | None,
    review: Review,
    verdict: guard.Verdict,
) -> None:
    """Print the review and write changeset.md, with the guard's findings, the follow-up,
    the monthly cost delta (nothing when the change moves no cost) and the parity with the
    environment this one promotes from (when it names one)."""
    cost_lines = delta_lines(cost.delta())
    guard_lines = [f"- data-loss guard: {f.line()}" for f in verdict.findings]
    guard_lines += [f"- {line}" for line in follow_up]
    for line in follow_up:
        ctx.echo(line)
    if verdict.blocked:
        guard_lines.append("- **refused**: plan again with --allow-replace for each, if intended")
    ctx.console.print(rich_table(review))
    ctx.echo(f"console: {review.console_link}")
    for line in cost_lines:
        ctx.echo(f"cost: {line}")
    guard_lines += [f"- cost: {line}" for line in cost_lines]
    if parity is not None:
        for line in parity.terminal_lines():
            ctx.echo(line)
        guard_lines += parity.markdown_lines()
    md_path = write_changeset_md(build.folder, markdown(review, guard_lines))
    ctx.echo(f"wrote {md_path}")


def new_templates(build: Build, packaged: Packaged) -> dict[str, dict[str, Any]]:
    """Stack path → template about to be deployed, for the offline guard."""
    templates = {"": read_template(build.root_template)}
    for path, file_name in packaged.children.items():
        templates[path] = read_template(build.folder / file_name)
    return templates


def offline_findings(
    aws: Gateway,
    stack_name: str,
    new: dict[str, dict[str, Any]],
    tree: DeployedTree | None = None,
) -> list[guard.Finding]:
    """The guard's offline prediction over every deployed stack of the tree.

    `new` maps stack paths ('' for the root) to the templates about to be deployed; a deployed
    stack with no new template is being removed with all its resources. A stack's parameters
    are read only if following a change needs them. `tree` holds the deployed templates once
    read (the cost delta reads them too).
    """
    tree = tree or DeployedTree(aws, stack_name)
    deployed: dict[str, guard.DeployedStack] = {}
    for path, physical in sorted(tree.stacks().items()):
        parameters: Callable[[], dict[str, str]] = partial(aws.deployed_parameters, physical)
        deployed[path] = guard.DeployedStack(tree.template(path), parameters)
    return guard.predict_tree(stack_name, deployed, new)


def guard_findings(
    aws: Gateway,
    build: Build,
    packaged: Packaged,
    review: Review,
    deployed: bool,
    tree: DeployedTree | None = None,
) -> list[guard.Finding]:
    """Change-set evidence plus, for a deployed stack (an UPDATE), the offline prediction.
    First, a replacement CloudFormation cannot carry out (a fixed name) refuses the plan."""
    new = new_templates(build, packaged)
    unreplaceable = named_replacements(review.rows, new, build.stack_name)
    if unreplaceable:
        raise GuardRefusal("plan refused: this change set cannot be applied:", *unreplaceable)
    online = guard.findings_from_rows(review.rows)
    if not deployed:
        return online
    offline = offline_findings(aws, build.stack_name, new, tree)
    return guard.merge(online, offline)


def plan_record(
    build: Build,
    request: ChangeSetRequest,
    reviewed: Reviewed,
    after: Stack | None,
    revision: Revision,
    follow_up: dict[str, str],
) -> PlanRecord:
    """What plan.json records: the change set, the stack as the plan saw it, never a value."""
    change_set, review = reviewed.change_set, reviewed.review
    return PlanRecord(
        stack_name=build.stack_name,
        stack_id=change_set.stack_id or (after.stack_id if after else ""),
        change_set_id=change_set.change_set_id,
        change_set_name=request.name,
        change_set_type=request.change_set_type,
        stack_status=after.status if after else None,
        stack_last_updated=after.last_updated if after else None,
        template_url=request.template_url or "",
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
