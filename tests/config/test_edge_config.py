"""Mistakes in the notify, waf and load balancer settings, and a region whose access-log writer
is unknown: one line naming file, field and fix; exit 2; no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from factorstack.cli import main
from tests.support.sample import edit_yaml

DEV = "environments/dev.yaml"
CASES = [
    (
        lambda d: d.update(notify={"emails": ["ops@example.com", "ops at example.com"]}),
        f"{DEV}: notify.emails.1: 'ops at example.com' is not an email address "
        "(use one like ops@example.com)",
    ),
    (
        lambda d: d.update(notify={"emails": ["ops@localhost"]}),
        f"{DEV}: notify.emails.0: 'ops@localhost' is not an email address "
        "(use one like ops@example.com)",
    ),
    (
        lambda d: d.update(notify={"emails": ["ops@example.com", "OPS@example.com"]}),
        f"{DEV}: notify.emails.1: OPS@example.com is listed twice (keep one)",
    ),
    (  # dev has no alarm topic (notify.topic: false)
        lambda d: d["notify"].update(emails=["ops@example.com"]),
        f"{DEV}: notify.topic: false: no topic, so nothing mails ops@example.com "
        "(set topic: true, or empty notify.emails)",
    ),
    (
        lambda d: d.update(region="eu-west-9"),
        f"{DEV}: region: eu-west-9 is a region factorstack does not know, so it cannot grant "
        "the load balancer's access-log writer (check the spelling, or add the region to "
        "config/regions.py from AWS's access-log documentation)",
    ),
    (
        lambda d: d.update(waf={"enabled": True, "rate_limit": 5}),
        f"{DEV}: waf.rate_limit: 5 is out of range (input should be greater than or equal to 10)",
    ),
    (
        lambda d: d.update(load_balancer={"access_log_days": 0}),
        f"{DEV}: load_balancer.access_log_days: 0 is out of range "
        "(input should be greater than or equal to 1)",
    ),
    (
        lambda d: d.update(waf={"enabled": True, "limit": 100}),
        f"{DEV}: waf.limit: unknown key (remove it or fix its spelling; "
        "`factorstack schema environment` lists the keys)",
    ),
]


@pytest.mark.parametrize(("change", "expected"), CASES, ids=[c[1][22:70] for c in CASES])
def test_bad_edge_settings_get_one_line_and_exit_2(sample_root: Path, capsys, change, expected):
    edit_yaml(sample_root / DEV, change)
    code = main(["--root", str(sample_root), "build", "--no-lint"])
    captured = capsys.readouterr()
    assert code == 2
    assert expected in captured.err.splitlines(), captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("name", ["alerts", "endpoints"])
def test_process_names_of_the_new_stacks_are_reserved(sample_root: Path, capsys, name):
    edit_yaml(sample_root / "app.yaml", lambda d: d["processes"].update({name: {"docker": "x"}}))
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 2
    assert f"app.yaml: processes.{name}: {name!r} is reserved" in capsys.readouterr().err


@pytest.mark.parametrize("folder", ["../../etc", "/etc", "docker/../../outside"])
def test_a_docker_folder_outside_the_repo_is_refused(sample_root: Path, capsys, folder):
    edit_yaml(sample_root / "app.yaml", lambda d: d["processes"]["web"].update(docker=folder))
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"app.yaml: processes.web.docker: {folder!r} is not a folder inside the repo "
        "(write it relative to the repo, without ..)"
    )
