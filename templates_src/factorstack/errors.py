"""Errors a user can cause, as values with a message and an exit code.

cli.py turns each into one line on stderr and its exit code; anything else is a bug. The exit
codes are worded here once: every `--help` shows EXIT_CODES_HELP, and a test holds the README's
"Exit codes" section and deploy.sh's header to the same words.

    class           exit  what happened
    ConfigError     2     app.yaml or an environment file is wrong
    UsageError      2     the command line asks for something that is not there or does not fit
    NotReady        2     a step this command relies on was not done, or is out of date
    BuildError      1     rendered templates break a CloudFormation limit or a lint rule
    DeployError     1     AWS refused, or a deploy failed
    GuardRefusal    3     the data-loss guard refused a change set
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_GUARD = 3

# The one wording of the exit codes (README and deploy.sh are tested against it).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "done or no changes",
    EXIT_FAILURE: "AWS, build or deploy failure",
    EXIT_USAGE: "configuration or usage error, or not ready (no build, stale build, no plan)",
    EXIT_GUARD: "refused by the data-loss guard",
}
EXIT_CODES_TEXT = "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES.items())
EXIT_CODES_HELP = f"exit codes: {EXIT_CODES_TEXT}"


class UserError(Exception):
    """A mistake the user can fix; `lines` are printed one per line, no traceback.

    Raise one of the subclasses below, whose name says what happened.
    """

    exit_code = EXIT_USAGE

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


class ConfigError(UserError):
    """app.yaml or an environment file is malformed or inconsistent (exit 2)."""


class UsageError(UserError):
    """The command line is wrong: an unknown command, option or environment, or options that
    contradict each other or the recorded release (exit 2)."""


class NotReady(UserError):
    """A step this command relies on has not been done or is out of date: no build, a build
    older than the config, no plan, no bootstrap stack, an image not yet in ECR, an account
    without the secrets the app reads, no Docker or Docker not running (exit 2). The message
    names the step to run."""


class BuildError(UserError):
    """Templates were generated but break a CloudFormation limit or a lint rule (exit 1)."""

    exit_code = EXIT_FAILURE


class DeployError(UserError):
    """AWS refused or a deploy failed (exit 1)."""

    exit_code = EXIT_FAILURE


class GuardRefusal(UserError):
    """The data-loss guard refused a change set (exit 3)."""

    exit_code = EXIT_GUARD
