"""`factorstack local-images`: AWS failures are one line and exit 1, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from factorstack.build.manifest import AwsTarget
from factorstack.cli import main
from factorstack.deploy.local.placeholder_images import publish_placeholders
from factorstack.errors import DeployError
from tests.support.sample import copy_sample


def closed_port() -> int:
    """A local port nothing listens on (the endpoint is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def endpoint_down(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # no retries: the test stays fast
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return url


def test_endpoint_down_is_a_deploy_error(endpoint_down: str) -> None:
    with pytest.raises(DeployError) as failed:
        publish_placeholders(["example/web"], "v1", AwsTarget("111111111111", "eu-west-1"))
    assert failed.value.exit_code == 1
    assert len(failed.value.lines) == 1
    assert "cannot reach AWS" in failed.value.lines[0]


def test_endpoint_down_is_one_line_and_exit_1(
    endpoint_down: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_sample(tmp_path / "repo")
    assert main(["local-images", "dev", "--root", str(root), "--tag", "v1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"local-images: publishing placeholder images to {endpoint_down}: ")
    assert "cannot reach AWS" in err
