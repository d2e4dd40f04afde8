"""The `factorstack` command: parse arguments, call one function, map errors to exit codes.

Exit codes: 0 done or no changes; 1 AWS, build or deploy failure; 2 usage or configuration
error; 3 refused by the data-loss guard.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from factorstack.deploy.commands import register as register_deploy_commands
from factorstack.errors import EXIT_CODES_HELP, EXIT_OK, UserError

EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit 2 like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{self.prog}: {message} (see --help)")


def _command_build(args: argparse.Namespace) -> int:
    from factorstack.build import build

    report = build(
        Path(args.root), args.environments or None, lint=not args.no_lint, lint_jobs=args.lint_jobs
    )
    for env in report.environments:
        state = "written" if env.changed else "unchanged"
        total = sum(env.resources.values())
        print(
            f"build/{env.name}: {len(env.files)} templates, {total} resources, {state}",
            file=sys.stdout,
        )
        for warning in env.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    if args.no_lint:
        print("cfn-lint: skipped (--no-lint); the next build with lint checks every template")
    elif report.linted_files:
        print(f"cfn-lint: {report.linted_files} templates clean")
    return EXIT_OK


def _command_lint(args: argparse.Namespace) -> int:
    from factorstack.build import BUILD_DIR, MANIFEST_FILE
    from factorstack.deploy.build_output import load_build, verify_templates
    from factorstack.errors import BuildError
    from factorstack.lint import lint_templates

    root = Path(args.root)
    paths: list[Path] = []
    regions: list[str] = []
    for manifest in sorted((root / BUILD_DIR).glob(f"*/{MANIFEST_FILE}")):
        built = load_build(root, manifest.parent.name)  # deploy's checks, deploy's messages
        verify_templates(built)
        paths.extend(built.folder / name for name in sorted(built.templates))
        regions.append(built.target.region)
    if not paths:
        raise UserError(f"{root / BUILD_DIR}: no templates (run `make templates` first)")
    findings = lint_templates(paths, regions, jobs=args.lint_jobs)
    if findings:
        raise BuildError(*(str(f) for f in findings), f"cfn-lint: {len(findings)} finding(s)")
    print(f"cfn-lint: {len(paths)} templates clean")
    return EXIT_OK


def _command_schema(args: argparse.Namespace) -> int:
    from factorstack.config.schema import json_schemas

    print(json.dumps(json_schemas(), indent=2, sort_keys=True))
    return EXIT_OK


def _lint_jobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lint-jobs",
        type=int,
        default=1,
        metavar="N",
        help="cfn-lint in N processes (default 1: one call for every template)",
    )


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="factorstack",
        description="Twelve-factor app → nested CloudFormation for ECS Fargate, "
        "linted and deployed as reviewed change sets.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--root", default=".", help="folder holding app.yaml (default: .)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    build = commands.add_parser("build", help="render, check and lint build/ENV/ (all by default)")
    build.add_argument("environments", nargs="*", metavar="ENV")
    build.add_argument("--no-lint", action="store_true", help="skip cfn-lint (not for CI)")
    _lint_jobs(build)
    build.set_defaults(func=_command_build)

    lint = commands.add_parser("lint", help="cfn-lint every template under build/")
    _lint_jobs(lint)
    lint.set_defaults(func=_command_lint)

    schema = commands.add_parser("schema", help="print the JSON Schema of the config files")
    schema.set_defaults(func=_command_schema)

    register_deploy_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
        return int(args.func(args))
    except UserError as error:
        for line in error.lines:
            print(line, file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
