"""Dev/prod parity by construction: every child template is the same text in every environment;
only root.json (the values each environment passes its children) differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.templates import raw_templates_of

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "prod")
# alerts.json holds one subscription per address the environment mails (a list cannot arrive
# as a parameter, and moving subscriptions to another stack would unsubscribe them): it is
# shared by the environments that mail the same addresses, staging and prod in the sample.
SAME_ADDRESSES = {"alerts.json": ("staging", "prod")}
CHILDREN = (
    "network.json",
    "cluster.json",
    "data.json",
    "alerts.json",
    "endpoints.json",
    "release-phase.json",
    "rotation.json",
    "process-web.json",
    "process-worker.json",
    "process-scheduler.json",
    "autoscaling.json",
)


@pytest.fixture(scope="module")
def built() -> dict[str, dict[str, str]]:
    """Environment → file → the template's text."""
    return {
        env: {
            name: json.dumps(body, sort_keys=True)
            for name, body in raw_templates_of(REPO, env).items()
        }
        for env in ENVIRONMENTS
    }


@pytest.mark.parametrize("child", CHILDREN)
def test_a_child_template_is_the_same_text_in_every_environment_that_has_it(built, child) -> None:
    among = SAME_ADDRESSES.get(child, ENVIRONMENTS)
    texts = {env: files[child] for env, files in built.items() if child in files and env in among}
    assert texts, f"{child} is built in no environment"
    assert len(set(texts.values())) == 1, f"{child} differs between {sorted(texts)}"


def test_the_root_is_what_differs(built) -> None:
    roots = {files["root.json"] for files in built.values()}
    assert len(roots) == len(ENVIRONMENTS)


@pytest.mark.parametrize(
    "child", ["cluster.json", "network.json", "release-phase.json", "rotation.json"]
)
def test_log_retention_arrives_allowed_only_what_cloudwatch_logs_accepts(child) -> None:
    spec = raw_templates_of(REPO, "dev")[child]["Parameters"]["LogRetentionDays"]
    assert spec["Type"] == "Number"
    assert "7" in spec["AllowedValues"] and "365" in spec["AllowedValues"]
    assert "8" not in spec["AllowedValues"] and len(spec["AllowedValues"]) == 22
