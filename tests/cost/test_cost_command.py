"""`factorstack cost ENV`: the table, --json, --offline naming its source, and the one-line
errors (exit 2) for an environment that is not there or not built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factorstack.cli import main


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample, built for dev (cfn-lint assumed clean: tests/build proves it)."""
    from factorstack import build as build_module
    from tests.support.sample import copy_sample

    root = copy_sample(tmp_path_factory.mktemp("repo"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build_module, "lint_templates", lambda paths, regions, jobs=1: [])
        build_module.build(root, ["dev"])
    return root


def test_offline_table_names_its_source_and_assumptions(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(built), "cost", "dev", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "example-dev (dev): $" in out
    assert "/month at the minimum task counts" in out
    assert "web (Fargate service)" in out and "NatInstance1 (EC2 instance)" in out
    assert "prices: shipped price table (--offline), eu-west-1, dated 2026-11-26" in out
    assert "assumed: 730 hours a month" in out
    assert "not included: traffic" in out


def test_json_has_stable_keys(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(built), "cost", "dev", "--offline", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {
        "environment",
        "region",
        "currency",
        "prices",
        "total_monthly_usd",
        "total_monthly_max_usd",
        "resources",
        "unpriced",
        "assumptions",
    }
    assert data["environment"] == "dev" and data["currency"] == "USD"
    assert data["prices"] == {
        "source": "shipped price table (--offline)",
        "date": "2026-11-26",
        "spot": {"source": "https://aws.amazon.com/fargate/pricing/", "date": "2026-09-28"},
    }
    web = next(r for r in data["resources"] if r["resource"] == "web")
    assert web["kind"] == "Fargate service" and web["tasks"] == [1, 2]
    assert web["monthly_usd"] == 7.21 and web["monthly_max_usd"] == 14.42  # ARM64 in dev
    assert set(web["lines"][0]) == {
        "item",
        "price_key",
        "quantity",
        "quantity_max",
        "unit",
        "rate_usd",
        "monthly_usd",
        "monthly_max_usd",
    }
    assert web["lines"][0]["price_key"] == "fargate.vcpu_hour.ARM64"
    assert data["total_monthly_usd"] == pytest.approx(
        sum(r["monthly_usd"] for r in data["resources"]), abs=0.05
    )
    assert data["resources"][0]["kind"] == "Fargate service"  # the running costs first


def test_unknown_environment_is_one_line(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(built), "cost", "qa", "--offline"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "qa" in err


def test_an_environment_not_built_is_one_line(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(built), "cost", "prod", "--offline"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "make templates" in err
