"""The account preflight on the local moto server: the SSM parameters and secret keys app.yaml
reads must exist before plan uploads anything; `factorstack local-seed` puts placeholders there."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from factorstack.build import build
from factorstack.cli import main
from factorstack.deploy.bootstrap import run_bootstrap
from factorstack.deploy.local.server import LocalAws
from factorstack.deploy.plan import run_plan
from tests.support.fixture_build import ACCOUNT, REGION, dev_context, seed_app
from tests.support.sample import copy_sample, edit_yaml

pytestmark = pytest.mark.usefixtures("lint_assumed_clean")

MISSING_PARAMETER = (
    "SSM parameter APP_URL does not exist in eu-west-1 (create it, e.g. `aws ssm put-parameter "
    "--region eu-west-1 --name APP_URL --type SecureString --value ...`)"
)
MISSING_SECRET = (
    "secret STRIPE does not exist in Secrets Manager in eu-west-1 (create it holding the JSON "
    "keys STRIPE_KEY, STRIPE_SECRET, e.g. `aws secretsmanager create-secret --region eu-west-1 "
    "--name STRIPE --secret-string ...`)"
)


@pytest.fixture
def released(local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample app built, bootstrapped and released with placeholder images; not seeded."""
    monkeypatch.setenv("PATH", "/nonexistent")  # no docker: local-images stands in for it
    root = copy_sample(tmp_path / "repo")
    edit_yaml(root / "environments/dev.yaml", lambda d: d.update(account=ACCOUNT, region=REGION))
    build(root, ["dev"])
    run_bootstrap(dev_context(root))
    assert main(["local-images", "dev", "--root", str(root), "--tag", "v1"]) == 0
    assert main(["release", "dev", "--root", str(root), "--no-build", "--tag", "v1"]) == 0
    build(root, ["dev"])
    return root


def refused_plan(root: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """`factorstack plan dev` exits 2; the lines it printed on stderr."""
    capsys.readouterr()
    assert main(["plan", "dev", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.splitlines()


def uploaded_templates() -> list[str]:
    s3 = boto3.client("s3", region_name=REGION)
    keys: list[str] = []
    for bucket in s3.list_buckets()["Buckets"]:
        listed = s3.list_objects_v2(Bucket=bucket["Name"], Prefix="templates/")
        keys += [item["Key"] for item in listed.get("Contents", [])]
    return keys


def test_plan_names_the_missing_parameter_and_secret_and_uploads_nothing(
    released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused_plan(released, capsys) == [MISSING_PARAMETER, MISSING_SECRET]
    assert uploaded_templates() == []
    stacks = boto3.client("cloudformation", region_name=REGION).list_stacks()["StackSummaries"]
    assert "example-dev" not in {s["StackName"] for s in stacks}


def test_a_missing_parameter_stops_plan(released: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_app(released)
    boto3.client("ssm", region_name=REGION).delete_parameter(Name="APP_URL")
    assert refused_plan(released, capsys) == [MISSING_PARAMETER]


def test_a_secret_lacking_one_of_its_keys_stops_plan(
    released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_app(released)
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId="STRIPE", SecretString=json.dumps({"STRIPE_KEY": "local-placeholder"})
    )
    assert refused_plan(released, capsys) == [
        "secret STRIPE has no key STRIPE_SECRET (add it to the secret's JSON, or fix `key:` in "
        "app.yaml)"
    ]


def test_after_local_seed_plan_passes_the_preflight(
    released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["local-seed", "dev", "--root", str(released)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "SSM parameter APP_URL = local-placeholder",
        "secret STRIPE (keys STRIPE_KEY, STRIPE_SECRET) = local-placeholder",
    ]
    assert main(["local-seed", "dev", "--root", str(released)]) == 0  # again: nothing changes
    assert capsys.readouterr().out.splitlines() == [
        "SSM parameter APP_URL: already there, kept",
        "secret STRIPE (keys STRIPE_KEY, STRIPE_SECRET): already there, kept",
    ]
    value = boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId="STRIPE")
    assert json.loads(value["SecretString"]) == {
        "STRIPE_KEY": "local-placeholder",
        "STRIPE_SECRET": "local-placeholder",
    }

    planned = run_plan(dev_context(released), [])
    assert planned.changed and planned.record is not None
    assert planned.record.change_set_type == "CREATE"


def test_local_seed_adds_a_missing_key_and_keeps_the_others(
    released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.create_secret(Name="STRIPE", SecretString=json.dumps({"STRIPE_KEY": "mine"}))
    capsys.readouterr()
    assert main(["local-seed", "dev", "--root", str(released)]) == 0
    assert (
        "secret STRIPE (keys STRIPE_KEY, STRIPE_SECRET): missing keys set to local-placeholder"
        in capsys.readouterr().out.splitlines()
    )
    assert json.loads(secrets.get_secret_value(SecretId="STRIPE")["SecretString"]) == {
        "STRIPE_KEY": "mine",
        "STRIPE_SECRET": "local-placeholder",
    }


@pytest.mark.parametrize("endpoint", ["https://ssm.eu-west-1.amazonaws.com", None])
def test_local_seed_refuses_unless_the_endpoint_is_local(
    endpoint: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if endpoint is None:
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    root = copy_sample(tmp_path / "repo")
    assert main(["local-seed", "dev", "--root", str(root)]) == 2
    assert capsys.readouterr().err == (
        "local-seed: AWS_ENDPOINT_URL must point at a local endpoint such as `make local-aws` "
        "(it never writes to AWS)\n"
    )
