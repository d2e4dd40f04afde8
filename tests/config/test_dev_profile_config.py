"""The cheap-dev options in an environment file: `spot` per process and `network.nat`. Fargate
Spot runs X86_64 tasks only, so spot with ARM64 is refused: one line naming file, field and fix;
exit 2; no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from factorstack.cli import main
from tests.support.sample import edit_yaml
from tests.support.templates import model_of

STAGING = "environments/staging.yaml"
DEV = "environments/dev.yaml"
CASES = [
    (
        DEV,  # dev runs on ARM64
        lambda d: d["processes"]["worker"].update(spot=True),
        f"{DEV}: processes.worker.spot: Fargate Spot runs only X86_64 tasks, and this "
        "environment's cpu_architecture is ARM64 (remove spot, or use cpu_architecture: X86_64)",
    ),
    (
        STAGING,
        lambda d: d.update(cpu_architecture="ARM64", processes={"web": {"spot": True}}),
        f"{STAGING}: processes.web.spot: Fargate Spot runs only X86_64 tasks, and this "
        "environment's cpu_architecture is ARM64 (remove spot, or use cpu_architecture: X86_64)",
    ),
    (
        DEV,
        lambda d: d["network"].update(nat="instances"),
        f"{DEV}: network.nat: 'instances' is not allowed (use 'gateway' or 'instance')",
    ),
    (
        DEV,
        lambda d: d["processes"]["web"].update(spot="sometimes"),
        f"{DEV}: processes.web.spot: 'sometimes': input should be a valid boolean, unable to "
        "interpret input",
    ),
]


@pytest.mark.parametrize(("file", "change", "expected"), CASES, ids=[c[2][:60] for c in CASES])
def test_bad_dev_profile_settings_get_one_line_and_exit_2(
    sample_root: Path, capsys, file, change, expected
):
    edit_yaml(sample_root / file, change)
    code = main(["--root", str(sample_root), "build", "--no-lint"])
    captured = capsys.readouterr()
    assert code == 2
    assert expected in captured.err.splitlines(), captured.err
    assert "Traceback" not in captured.err


def test_defaults_are_nat_gateways_and_regular_fargate(sample_root: Path) -> None:
    edit_yaml(sample_root / STAGING, lambda d: None)
    model = model_of(sample_root, "staging")
    assert model.network.nat == "gateway" and not model.network.nat_instances
    assert [p.spot for p in model.processes] == [False, False, False]


def test_spot_on_x86_reaches_the_model(sample_root: Path) -> None:
    edit_yaml(sample_root / STAGING, lambda d: d["processes"]["worker"].update(spot=True))
    model = model_of(sample_root, "staging")
    assert {p.name: p.spot for p in model.processes} == {
        "web": False,
        "worker": True,
        "scheduler": False,
    }


def test_the_sample_dev_uses_graviton_and_a_nat_instance() -> None:
    from tests.support.sample import REPO

    model = model_of(REPO, "dev")
    assert model.cpu_architecture == "ARM64"
    assert model.network.nat_instances and model.network.nat_gateways == 1
    assert not any(p.spot for p in model.processes)  # Spot does not run ARM64 tasks
