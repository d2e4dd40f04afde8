"""The deploy subcommands: bootstrap, plan, apply, execute, release, the day-two commands
(status, run, logs) and the local endpoint's (local-aws, local-images, local-seed).

cli.py calls `register(subparsers)` and then `args.func(args)`; UserErrors raised here become
one line and their exit code there.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factorstack.errors import EXIT_CODES_HELP, EXIT_OK

if TYPE_CHECKING:
    from factorstack.deploy.context import Context

DEFAULT_TIMEOUT = 3600
DEFAULT_POLL = 5.0  # seconds between looks at a stack
FOLLOW_POLL = 2.0  # seconds between looks at a one-off task or at new log lines
DEFAULT_SINCE = "10m"


def _context(args: argparse.Namespace, poll: float = DEFAULT_POLL) -> Context:
    # Imported here: boto3 and rich cost ~0.2 s that `factorstack build` should not pay.
    from factorstack.deploy.context import Context, Timing

    return Context(
        root=Path(getattr(args, "root", ".")),
        environment=args.environment,
        timing=Timing(timeout=float(getattr(args, "timeout", DEFAULT_TIMEOUT)), poll=poll),
    )


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from factorstack.deploy.bootstrap import run_bootstrap

    run_bootstrap(_context(args), args.allow_replace)
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from factorstack.deploy.plan import run_plan

    run_plan(
        _context(args),
        args.allow_replace,
        args.image_tag,
        newest_nat_image=args.newest_nat_image,
        promotes_from=args.promotes_from,
    )
    return EXIT_OK


def cmd_apply(args: argparse.Namespace) -> int:
    from factorstack.deploy.apply import run_apply

    run_apply(_context(args))
    return EXIT_OK


def cmd_execute(args: argparse.Namespace) -> int:
    from factorstack.deploy.apply import run_apply
    from factorstack.deploy.plan import run_plan

    ctx = _context(args)
    newest, before = args.newest_nat_image, args.promotes_from
    if run_plan(ctx, args.allow_replace, args.image_tag, True, newest, before).changed:
        run_apply(ctx)
    return EXIT_OK


def cmd_release(args: argparse.Namespace) -> int:
    from factorstack.deploy.release import run_release

    run_release(_context(args), args.tag, build_images=not args.no_build)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from factorstack.deploy.status import run_status

    run_status(_context(args), as_json=args.json)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from factorstack.deploy.run import run_one_off

    ctx = _context(args, FOLLOW_POLL)
    return run_one_off(ctx, args.process, args.task_command, args.detach)


def cmd_logs(args: argparse.Namespace) -> int:
    from factorstack.deploy.decide.log_events import parse_since
    from factorstack.deploy.logs import run_logs

    since = parse_since(args.since)
    run_logs(_context(args, FOLLOW_POLL), args.processes, since, args.follow, args.filter)
    return EXIT_OK


def cmd_cost(args: argparse.Namespace) -> int:
    from factorstack.deploy.cost import run_cost

    run_cost(_context(args), as_json_output=args.json, offline=args.offline)
    return EXIT_OK


def cmd_parity(args: argparse.Namespace) -> int:
    import json

    from factorstack.build.parity import compare_builds
    from factorstack.config import require_environment
    from factorstack.deploy.present.parity import as_json, report_lines
    from factorstack.errors import UsageError

    root = Path(getattr(args, "root", "."))
    if args.environment == args.other:
        raise UsageError(f"factorstack parity: name two environments, not {args.other} twice")
    for environment in (args.environment, args.other):
        require_environment(root, environment)
    parity = compare_builds(root, args.environment, args.other)
    if args.json:
        print(json.dumps(as_json(parity), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print("\n".join(report_lines(parity)))
    return EXIT_OK


def cmd_local_images(args: argparse.Namespace) -> int:
    from factorstack.build.manifest import AwsTarget
    from factorstack.config import load_model
    from factorstack.deploy.local.placeholder_images import publish_placeholders
    from factorstack.model import repository_name

    model = load_model(Path(getattr(args, "root", ".")), args.environment).model
    repositories = [repository_name(model.app, p.name) for p in model.processes]
    target = AwsTarget(model.account, model.region)  # the local endpoint: no profile, no role
    for repository, digest in publish_placeholders(repositories, args.tag, target).items():
        print(f"{repository}:{args.tag} -> {digest}")
    return EXIT_OK


def cmd_local_seed(args: argparse.Namespace) -> int:
    from factorstack.build.manifest import AwsTarget
    from factorstack.config import load_model
    from factorstack.deploy.local.placeholder_images import require_local_endpoint
    from factorstack.deploy.local.seed import seed_placeholders, wanted_seeds

    require_local_endpoint("local-seed")  # before reading config: refuse AWS first
    model = load_model(Path(getattr(args, "root", ".")), args.environment).model
    target = AwsTarget(model.account, model.region)  # the local endpoint: no profile, no role
    for line in seed_placeholders(wanted_seeds(model), target):
        print(line)
    return EXIT_OK


def cmd_local_aws(args: argparse.Namespace) -> int:
    from factorstack.deploy.local.server import serve_forever

    serve_forever(port=args.port, region=args.region)
    return EXIT_OK


def _env(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "environment", metavar="ENV", help="environment name (environments/ENV.yaml)"
    )


def _allow(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-replace",
        metavar="ID",
        action="append",  # one id per flag, so `--allow-replace Database dev` keeps ENV
        default=[],
        help="logical id of a stateful resource that may be removed or replaced "
        "(repeat the flag for each: --allow-replace A --allow-replace B)",
    )


def tcp_port(text: str) -> int:
    """--port's type: 1-65535 (a larger number was a traceback from the socket)."""
    refusal = f"{text!r}: give a port from 1 to 65535, e.g. 5000"
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(refusal) from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(refusal)
    return port


def positive_seconds(text: str) -> int:
    """--timeout's type: a whole number of seconds above zero (argparse makes a refusal one
    usage line, exit 2, before anything is sent to AWS)."""
    refusal = f"{text!r}: give a positive whole number of seconds, e.g. {DEFAULT_TIMEOUT}"
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(refusal) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(refusal)
    return seconds


def _timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT,
        help=f"how long to wait for a busy stack or a deploy (default {DEFAULT_TIMEOUT})",
    )


def _image_tag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--image-tag",
        metavar="TAG",
        help="ImageTag for the root stack (default: $IMAGE_TAG, else the deployed value)",
    )
    parser.add_argument(
        "--newest-nat-image",
        action="store_true",
        help="move the NAT instances to the newest Amazon Linux image (replaces them; "
        "default: keep the image they were created with)",
    )
    parser.add_argument(
        "--promotes-from",
        metavar="OTHER",
        help="show parity with build/OTHER in the review (default: the environment file's "
        "promotes_from)",
    )


def register(subparsers: Any) -> None:
    """Add the deploy subcommands to cli.py's subparsers (cli.py adds `--root` to each)."""
    specs = [
        ("bootstrap", cmd_bootstrap, "create/update the artifacts bucket and ECR repositories"),
        ("plan", cmd_plan, "package, create and review a change set (writes build/ENV/plan.json)"),
        ("apply", cmd_apply, "execute exactly the change set recorded in build/ENV/plan.json"),
        ("execute", cmd_execute, "plan and apply in one run (the guard still applies)"),
    ]
    for name, func, help_text in specs:
        parser = subparsers.add_parser(
            name, help=help_text, description=help_text, epilog=EXIT_CODES_HELP
        )
        _env(parser)
        _timeout(parser)
        if name != "apply":
            _allow(parser)
        if name in {"plan", "execute"}:
            _image_tag(parser)
        parser.set_defaults(func=func)

    release_help = "build and push each process's image, record digests in releases/ENV.json"
    release = subparsers.add_parser(
        "release", help=release_help, description=release_help, epilog=EXIT_CODES_HELP
    )
    _env(release)
    release.add_argument("--tag", metavar="TAG", help="image tag (default: the git commit)")
    release.add_argument(
        "--no-build",
        action="store_true",
        help="record the digests of images already pushed under TAG (e.g. by CI itself)",
    )
    release.set_defaults(func=cmd_release)

    _register_day_two(subparsers)
    _register_cost(subparsers)
    _register_parity(subparsers)

    local_help = "run a local AWS endpoint (moto) on 127.0.0.1 and print the variables to export"
    local = subparsers.add_parser(
        "local-aws",
        help=local_help,
        description=f"{local_help}; it runs until interrupted (Ctrl-C)",
        epilog=EXIT_CODES_HELP,
    )
    local.add_argument(
        "--port", type=tcp_port, default=5000, help="port on 127.0.0.1 (default 5000)"
    )
    local.add_argument("--region", default="eu-west-1", help="AWS_DEFAULT_REGION to print")
    local.set_defaults(func=cmd_local_aws)

    images_help = "put placeholder images into the LOCAL endpoint's ECR (no Docker needed)"
    images = subparsers.add_parser(
        "local-images", help=images_help, description=images_help, epilog=EXIT_CODES_HELP
    )
    _env(images)
    images.add_argument("--tag", metavar="TAG", required=True, help="image tag to publish")
    images.set_defaults(func=cmd_local_images)

    seed_help = (
        "put placeholder SSM parameters and secrets (with the keys app.yaml names) into the "
        "LOCAL endpoint, so plan's account preflight passes"
    )
    seed = subparsers.add_parser(
        "local-seed", help=seed_help, description=seed_help, epilog=EXIT_CODES_HELP
    )
    _env(seed)
    seed.set_defaults(func=cmd_local_seed)


def _register_day_two(subparsers: Any) -> None:
    """status, run, logs: what a deployed environment is doing; they read its stacks and need
    no names but ENV's (and a process's)."""
    status_help = "show what a deployed environment runs: tasks, rollout, images, alarms, scaling"
    status = subparsers.add_parser(
        "status",
        help=status_help,
        description=f"{status_help}; the root stack's status, last update, release and URL",
        epilog=EXIT_CODES_HELP,
    )
    _env(status)
    status.add_argument("--json", action="store_true", help="JSON with stable keys, for scripts")
    status.set_defaults(func=cmd_status)

    run_help = "run a one-off command as a task of a deployed process (e.g. a migration)"
    run = subparsers.add_parser(
        "run",
        help=run_help,
        description=f"{run_help}: its task definition (image, variables, secrets), its "
        "subnets and security group, COMMAND instead of its own; the task's log is followed "
        "live until it stops. Put COMMAND after `--`: "
        "factorstack run prod web -- php artisan migrate:status",
        epilog="Without --detach it exits with COMMAND's own exit code once the task ran "
        "(1 when the task stopped without one, e.g. its image could not be pulled); before "
        f"that, {EXIT_CODES_HELP}",
    )
    _env(run)
    run.add_argument("process", metavar="PROCESS", help="process type whose task it runs as")
    # Not `command`: cli.py's subparsers keep the subcommand's name there.
    run.add_argument(
        "task_command", metavar="COMMAND", nargs="+", help="the command and its arguments"
    )
    run.add_argument("--detach", action="store_true", help="only start the task and print its id")
    run.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT,
        help=f"how long to follow the task (default {DEFAULT_TIMEOUT}); it runs on after that",
    )
    run.set_defaults(func=cmd_run)

    logs_help = "print the log lines of a deployed environment's processes, interleaved by time"
    logs = subparsers.add_parser(
        "logs",
        help=logs_help,
        description=f"{logs_help}, each with its process in front (`release` for the release "
        "phase's task); times are UTC",
        epilog=EXIT_CODES_HELP,
    )
    _env(logs)
    logs.add_argument(
        "processes", metavar="PROCESS", nargs="*", help="only these processes (default: all)"
    )
    logs.add_argument(
        "--since",
        metavar="AGE",
        default=DEFAULT_SINCE,
        help=f"how far back: 30s, 10m, 2h, 1d (default {DEFAULT_SINCE})",
    )
    logs.add_argument("--follow", action="store_true", help="keep printing new lines until Ctrl-C")
    logs.add_argument(
        "--filter",
        metavar="PATTERN",
        help="CloudWatch Logs filter pattern, e.g. ERROR or '\"payment failed\"'",
    )
    logs.set_defaults(func=cmd_logs)


def _register_cost(subparsers: Any) -> None:
    """cost: what an environment's build costs a month (README, "What it costs")."""
    cost_help = "estimate what an environment costs a month, by resource and line item"
    cost = subparsers.add_parser(
        "cost",
        help=cost_help,
        description=f"{cost_help}, from build/ENV at the minimum and maximum task counts; "
        "prices from the AWS Price List (cached per region and day), else from the dated "
        "table factorstack ships; traffic is not included",
        epilog=EXIT_CODES_HELP,
    )
    _env(cost)
    cost.add_argument("--json", action="store_true", help="JSON with stable keys, for scripts")
    cost.add_argument(
        "--offline",
        action="store_true",
        help="use the shipped price table; do not ask the AWS Price List",
    )
    cost.set_defaults(func=cmd_cost)


def _register_parity(subparsers: Any) -> None:
    """parity: what differs between two built environments (README, "Parity")."""
    parity_help = "compare two built environments: template hashes and the values that differ"
    parity = subparsers.add_parser(
        "parity",
        help=parity_help,
        description=f"{parity_help}, from build/ENV and build/OTHER only (no AWS); values "
        "that differ only by the environment's name, account or region are counted, not listed",
        epilog=EXIT_CODES_HELP,
    )
    _env(parity)
    parity.add_argument("other", metavar="OTHER", help="the environment to compare ENV with")
    parity.add_argument("--json", action="store_true", help="JSON with stable keys, for scripts")
    parity.set_defaults(func=cmd_parity)
