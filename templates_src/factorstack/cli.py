"""The `factorstack` command: parse arguments, call one function, map errors to exit codes.

The exit codes are errors.py's (EXIT_CODES); every --help shows them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from factorstack.deploy.commands import register as register_deploy_commands
from factorstack.errors import EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE, UsageError, UserError

EXIT_INTERRUPTED = 130
# `factorstack schema`'s choices: config/schema.py's KINDS, named here so that building the
# parser does not import the config models (~0.4 s); tests/test_cli.py holds the two equal.
SCHEMA_KINDS = ("app", "environment")
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `cmd | head`


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit 2 like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _command_build(args: argparse.Namespace) -> int:
    from factorstack.build import build, unchanged

    root, only, lint = Path(args.root), args.environments or None, not args.no_lint
    summaries = unchanged(root, only, lint)  # nothing to render, write or lint: said at once
    report = None
    if summaries is None:
        report = build(root, only, lint=lint, lint_jobs=args.lint_jobs)
        summaries = [env.summary() for env in report.environments]
    for env in summaries:
        state = "written" if env.written else "unchanged"
        print(f"build/{env.name}: {env.templates} templates, {env.resources} resources, {state}")
        for warning in env.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    if args.no_lint:
        print("cfn-lint: skipped (--no-lint); the next build with lint checks every template")
    elif report is not None and report.linted_files:
        cached = report.distinct_files - report.cfn_linted_files
        templates = "template" if report.linted_files == 1 else "templates"
        print(
            f"cfn-lint: {report.linted_files} {templates} clean "
            f"({report.distinct_files} distinct, {cached} known clean from the lint cache)"
        )
    return EXIT_OK


def _command_lint(args: argparse.Namespace) -> int:
    from factorstack.build.manifest import (
        BUILD_DIR,
        built_environments,
        load_build,
        verify_templates,
    )
    from factorstack.errors import BuildError, NotReady
    from factorstack.lint import lint_templates

    root = Path(args.root)
    paths: list[Path] = []
    regions: list[str] = []
    for environment in built_environments(root):
        built = load_build(root, environment)  # the checks and messages deploy uses too
        verify_templates(built)
        paths.extend(built.folder / name for name in sorted(built.templates))
        regions.append(built.target.region)
    if not paths:
        raise NotReady(f"{root / BUILD_DIR}: no templates (run `make templates` first)")
    findings = lint_templates(paths, regions, jobs=args.lint_jobs)
    if findings:
        raise BuildError(*(str(f) for f in findings), f"cfn-lint: {len(findings)} finding(s)")
    print(f"cfn-lint: {len(paths)} templates clean")
    return EXIT_OK


def _command_schema(args: argparse.Namespace) -> int:
    from factorstack.config.schema import KINDS, schema_text, write_schemas

    if args.write is not None:
        for path in write_schemas(Path(args.write), [args.kind] if args.kind else list(KINDS)):
            print(f"wrote {path}")
        return EXIT_OK
    if args.kind is None:
        choices = " or ".join(
            f"`factorstack schema {kind}` ({spec.describes})" for kind, spec in KINDS.items()
        )
        raise UsageError(
            f"factorstack schema: which file? choose {choices}, "
            "or `factorstack schema --write DIR` for both"
        )
    sys.stdout.write(schema_text(args.kind))
    return EXIT_OK


def _lint_jobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lint-jobs",
        type=int,
        default=1,
        metavar="N",
        help="cfn-lint in N processes (default 1: one call for every template)",
    )


def _version() -> str:
    try:
        return metadata.version("factorstack")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _every_command(parser: argparse.ArgumentParser) -> None:
    """What every subcommand accepts and shows: `--root` after the command, the exit codes."""
    if not any("--root" in action.option_strings for action in parser._actions):
        # SUPPRESS: a default here would overwrite a `factorstack --root X` given before it.
        parser.add_argument(
            "--root",
            default=argparse.SUPPRESS,
            help="repo root holding app.yaml, environments/, build/ (default: .)",
        )
    parser.epilog = parser.epilog or EXIT_CODES_HELP


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="factorstack",
        description="Twelve-factor app → nested CloudFormation for ECS Fargate, "
        "linted and deployed as reviewed change sets.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"factorstack {_version()}")
    parser.add_argument("--root", default=".", help="folder holding app.yaml (default: .)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    build_help = "render, check and lint build/ENV/ (all by default)"
    build = commands.add_parser(
        "build",
        help=build_help,
        description=f"{build_help}: validate app.yaml and environments/ENV.yaml, render the "
        "nested templates, check CloudFormation's limits, cfn-lint them, then replace "
        "build/ENV/ in one step (a failure leaves it as it was)",
    )
    build.add_argument("environments", nargs="*", metavar="ENV")
    build.add_argument("--no-lint", action="store_true", help="skip cfn-lint (not for CI)")
    _lint_jobs(build)
    build.set_defaults(func=_command_build)

    lint_help = "cfn-lint every template under build/"
    lint = commands.add_parser(
        "lint",
        help=lint_help,
        description=f"{lint_help} again (with factorstack's own rules), without rebuilding",
    )
    _lint_jobs(lint)
    lint.set_defaults(func=_command_lint)

    schema_help = "print the JSON Schema of app.yaml or of an environment file"
    schema = commands.add_parser(
        "schema",
        help=schema_help,
        description=f"{schema_help}, for editor completion and checks (see README, "
        "Configuration reference)",
    )
    schema.add_argument(
        "kind",
        nargs="?",
        choices=SCHEMA_KINDS,
        help="app (app.yaml) or environment (environments/ENV.yaml)",
    )
    schema.add_argument(
        "--write",
        metavar="DIR",
        help="write DIR/app.schema.json and DIR/environment.schema.json instead of printing",
    )
    schema.set_defaults(func=_command_schema)

    register_deploy_commands(commands)
    for command in commands.choices.values():
        _every_command(command)
    return parser


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit does not hit the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (captured in tests): nothing to flush
        pass


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; `run`'s command given without `--` gets the way to pass its options."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        return make_parser().parse_args(words)
    except UsageError as error:
        if "run" in words and "--" not in words and "unrecognized arguments" in error.lines[0]:
            raise UsageError(
                f"{error.lines[0]}; put the task's command after `--`, e.g. "
                "factorstack run ENV PROCESS --detach -- php artisan --version"
            ) from None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    command = ""  # known once the arguments parse
    try:
        args = _parse(argv)
        command = args.command
        code = int(args.func(args))
        sys.stdout.flush()  # a reader that went away (`| head`) shows up here, not at exit
        return code
    except BrokenPipeError:
        _drop_stdout()
        return EXIT_BROKEN_PIPE
    except UserError as error:
        for line in error.lines:
            print(line, file=sys.stderr)
        _summarise_stop(command, error)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (IsADirectoryError, NotADirectoryError, FileExistsError, PermissionError) as error:
        print(_path_problem(error), file=sys.stderr)
        return EXIT_USAGE


def _summarise_stop(command: str, error: UserError) -> None:
    """In CI, a command that stops (no plan, a preflight problem, the guard, a failed apply)
    says so in the job summary too."""
    from factorstack.deploy.present.job_summary import append_job_summary, stopped_markdown

    append_job_summary(stopped_markdown(command, error.lines, error.exit_code))


def _path_problem(error: OSError) -> str:
    """A file or folder of the wrong kind where factorstack reads or writes (a folder named
    app.yaml, a file named build): one line naming it, not a traceback."""
    path = error.filename or "a path"
    if isinstance(error, IsADirectoryError):
        return f"{path}: is a folder where a file belongs (remove or rename it)"
    if isinstance(error, PermissionError):
        return f"{path}: permission denied (check its owner and mode)"
    return f"{path}: a file stands where a folder belongs (remove or rename it)"


if __name__ == "__main__":
    sys.exit(main())
