"""The database fields of app.yaml and the environment files that issue 9 added: one line naming
file, field and fix, exit 2, and nothing built."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from factorstack.cli import main
from tests.support.sample import edit_yaml

CASES: list[tuple[str, Callable[[Any], object], str]] = [
    (
        "app.yaml",
        lambda app: app["database"].update(app_username="app"),
        "app.yaml: database.app_username: the app's database user and the master user are both "
        "'app', but the app must not sign in as the master (give database.app_username another "
        "name)",
    ),
    (
        "app.yaml",
        lambda app: app["database"].update(username="example_app"),
        "app.yaml: database.username: the app's database user and the master user are both "
        "'example_app', but the app must not sign in as the master (give database.app_username "
        "another name)",
    ),
    (
        "app.yaml",
        lambda app: app["database"].update(app_username="a" * 27),
        f"app.yaml: database.app_username: '{'a' * 27}' is not valid "
        "(it must match ^[A-Za-z][A-Za-z0-9_]{0,25}$)",
    ),
    (
        "app.yaml",
        lambda app: app["database"].update(client_image="mysql 8.4"),
        "app.yaml: database.client_image: 'mysql 8.4' is not valid (it must match "
        "^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
        "(@sha256:[a-f0-9]{64})?$)",
    ),
    (
        "environments/dev.yaml",
        lambda env: env["database"].update(monitoring_interval_seconds=45),
        "environments/dev.yaml: database.monitoring_interval_seconds: 45 is not allowed "
        "(use 0, 1, 5, 10, 15, 30 or 60)",
    ),
]


@pytest.mark.parametrize(("file", "change", "expected"), CASES, ids=[c[2][:70] for c in CASES])
def test_a_bad_database_field_is_one_line(sample_root: Path, capsys, file, change, expected):
    edit_yaml(sample_root / file, change)
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [expected]
    assert not (sample_root / "build").exists()


def test_a_hyphenated_app_name_gives_a_user_name_mysql_needs_no_quotes_for(sample_root: Path):
    from tests.support.templates import templates_of

    edit_yaml(sample_root / "app.yaml", lambda app: app.update(app="my-shop"))
    data = templates_of(sample_root, "dev")["data.json"]["Resources"]
    template = data["DatabaseAppSecret"]["Properties"]["GenerateSecretString"]
    assert '"username": "my_shop_app"' in template["SecretStringTemplate"]
