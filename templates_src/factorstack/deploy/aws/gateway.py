"""The gateway: every AWS call deploy makes, as one object built on `Clients`.

Each method makes its calls, turns a failure into one DeployError line through
session.translate (saying what it was doing), and returns plain data, typed by decide/ where a
decision reads it. Throttling is retried by the clients themselves (session.RETRY_CONFIG), never
here. Tests build a Gateway on Stubber-driven clients to prove AWS's response shapes, or use
tests/support/fake_aws.py to check outcomes without them.
"""

from __future__ import annotations

from factorstack.build.manifest import AwsTarget
from factorstack.deploy.aws.account import AccountCalls
from factorstack.deploy.aws.artifacts import ArtifactCalls
from factorstack.deploy.aws.change_sets import ChangeSetCalls
from factorstack.deploy.aws.events import EventCalls
from factorstack.deploy.aws.images import ImageCalls
from factorstack.deploy.aws.local_fill import LocalFillCalls
from factorstack.deploy.aws.logs import LogCalls
from factorstack.deploy.aws.monitoring import MonitorCalls
from factorstack.deploy.aws.roles import RoleCalls
from factorstack.deploy.aws.services import ServiceCalls
from factorstack.deploy.aws.session import Clients, caller_account, check_account, open_clients
from factorstack.deploy.aws.stacks import StackCalls


class Gateway(
    StackCalls,
    ChangeSetCalls,
    EventCalls,
    ArtifactCalls,
    ImageCalls,
    AccountCalls,
    RoleCalls,
    LocalFillCalls,
    ServiceCalls,
    LogCalls,
    MonitorCalls,
):
    """Every AWS call of deploy, one method per thing it asks or does."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    @property
    def region(self) -> str:
        return self.clients.region

    def caller_account(self) -> str:
        """The account the credentials belong to."""
        return caller_account(self.clients.sts)

    def check_account(self, expected: str) -> str:
        """Refuse unless the credentials belong to the environment's account."""
        return check_account(self.caller_account(), expected)


def open_gateway(target: AwsTarget) -> Gateway:
    """The gateway for an environment's account and region (its profile or role, if any)."""
    return Gateway(open_clients(target))
