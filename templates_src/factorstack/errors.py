"""Errors a user can cause, as values with a message and an exit code.

cli.py turns each into one line on stderr and its exit code; anything else is a bug.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_GUARD = 3

# The one wording of the exit codes, for every command's --help.
EXIT_CODES_HELP = (
    "exit codes: 0 done or no changes; 1 AWS, build or deploy failure; "
    "2 usage or configuration error; 3 refused by the data-loss guard"
)


class UserError(Exception):
    """A mistake the user can fix; `lines` are printed one per line, no traceback."""

    exit_code = EXIT_USAGE

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


class ConfigError(UserError):
    """app.yaml or an environment file is malformed or inconsistent (exit 2)."""


class BuildError(UserError):
    """Templates were generated but break a CloudFormation limit or a lint rule (exit 1)."""

    exit_code = EXIT_FAILURE


class DeployError(UserError):
    """AWS refused or a deploy failed (exit 1)."""

    exit_code = EXIT_FAILURE


class GuardRefusal(UserError):
    """The data-loss guard refused a change set (exit 3)."""

    exit_code = EXIT_GUARD
