"""Run moto's server on 127.0.0.1 with factorstack's gap fixes, for `make local-aws` and tests."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

from factorstack.errors import UsageError

DEFAULT_ACCOUNT = "123456789012"  # moto's default; MOTO_ACCOUNT_ID changes it
DUMMY_KEY = "testing"


def require_free(port: int) -> None:
    """Refuse a port another program holds: moto's server thread would fail to bind and its
    start() would then wait forever."""
    if port == 0:
        return  # the system picks a free one
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise UsageError(
                f"127.0.0.1:{port} is in use (is `make local-aws` already running? stop it, "
                "or choose another port with --port N)"
            ) from None


class LocalAws:
    """A started moto server; `url` is what AWS_ENDPOINT_URL should be."""

    def __init__(self, port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        from factorstack.deploy.local.moto_gaps import teach

        require_free(port)
        teach()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        host, bound = self._server.get_host_and_port()
        self.url = f"http://{host}:{bound}"

    def environment(self, region: str) -> dict[str, str]:
        """The variables that point boto3 (and the AWS CLI) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": DUMMY_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
            "AWS_DEFAULT_REGION": region,
        }

    def stop(self) -> None:
        self._server.stop()


def serve_forever(
    port: int, region: str, echo: Callable[[str], None] = print, stop: threading.Event | None = None
) -> None:
    """Start the server, print the exports, and block until Ctrl-C (or `stop` is set)."""
    local = LocalAws(port)
    account = os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT)
    echo(f"# local AWS (moto) on {local.url}, account {account}; paste into your shell:")
    for key, value in local.environment(region).items():
        echo(f"export {key}={value}")
    echo("# Ctrl-C stops it (and forgets everything)")
    waiter = stop or threading.Event()
    try:
        while not waiter.wait(0.5):
            pass
    except KeyboardInterrupt:
        echo("stopped")
    finally:
        local.stop()
