"""`factorstack local-aws` on a port another program holds: one line and exit 2, not a hang."""

from __future__ import annotations

import socket

import pytest

from factorstack.cli import main


def test_a_port_in_use_is_one_line_and_exit_2(capsys) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert main(["local-aws", "--port", str(port)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"127.0.0.1:{port} is in use (is `make local-aws` already running? stop it, "
        "or choose another port with --port N)"
    )


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_a_port_outside_1_to_65535_is_one_usage_line(port: str, capsys) -> None:
    assert main(["local-aws", "--port", port]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"factorstack local-aws: argument --port: {port!r}: give a port from 1 to 65535, "
        "e.g. 5000 (see --help)"
    )
