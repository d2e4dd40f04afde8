"""What every deploy command shares: the repo root, output, timing and how AWS is reached.

Tests replace `gateway_for` with a gateway on stubbed clients (or a fake one) and `timing` with
a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from factorstack.build.manifest import AwsTarget, Build, check_fresh, load_build, verify_templates
from factorstack.config import require_environment
from factorstack.deploy.aws.gateway import Gateway, open_gateway
from factorstack.deploy.aws.price_source import PricesFor, price_book

LOG_WIDTH = 160  # CI logs are not terminals; rich would otherwise squeeze tables into 80


class PipeAwareConsole(Console):
    """rich ends the process with exit 1 when the reader of its output goes away; a command
    piped into `head` must stop quietly with 141 (cli.py), as the commands without rich do."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def default_console(stderr: bool = False) -> Console:
    """A console for the terminal, or a wide one when writing to a log."""
    console = PipeAwareConsole(stderr=stderr)
    return console if console.is_terminal else PipeAwareConsole(width=LOG_WIDTH, stderr=stderr)


def notes_console() -> Console:
    """Where a command whose stdout is someone else's output (`run`) says what it does."""
    return default_console(stderr=True)


@dataclass(frozen=True)
class Timing:
    """How long and how often to poll; tests pass a fake sleep and clock."""

    timeout: float = 3600.0
    poll: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], float] = time.time  # wall-clock seconds: how far back logs look


@dataclass
class Context:
    root: Path
    environment: str
    console: Console = field(default_factory=default_console)
    notes: Console = field(default_factory=notes_console)
    timing: Timing = field(default_factory=Timing)
    change_set_timing: Timing = field(default_factory=lambda: Timing(timeout=900.0, poll=2.0))
    gateway_for: Callable[[AwsTarget], Gateway] = open_gateway
    prices_for: PricesFor = price_book  # the cost estimate's prices (tests: the shipped table)

    def echo(self, line: str) -> None:
        """One plain line of progress (no markup, so resource names print as they are)."""
        self.console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)

    def note(self, line: str) -> None:
        """One plain line about what the command does, on stderr (`notes`), so that stdout
        holds only what the command shows (a task's output, JSON)."""
        self.notes.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)

    def load(self, require_fresh: bool = True) -> Build:
        """The environment's build, verified (and checked against the config when asked).

        An environment without a file is refused first: "run make templates" would not help.
        """
        require_environment(self.root, self.environment)
        build = load_build(self.root, self.environment)
        verify_templates(build)
        if require_fresh:
            check_fresh(build, self.root)
        return build

    def connect(self, target: AwsTarget) -> Gateway:
        """The gateway to the target's account and region, refusing the wrong account."""
        aws = self.gateway_for(target)
        aws.check_account(target.account)
        return aws
