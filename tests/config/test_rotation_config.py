"""`database.rotation_days` in an environment file: Secrets Manager's range, 0 for off; a bad
value is one line naming file and field, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from factorstack.cli import main
from tests.support.sample import edit_yaml


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (
            1001,
            "environments/dev.yaml: database.rotation_days: 1001 is out of range "
            "(input should be less than or equal to 1000)",
        ),
        (
            -1,
            "environments/dev.yaml: database.rotation_days: -1 is out of range "
            "(input should be greater than or equal to 0)",
        ),
        (
            "monthly",
            "environments/dev.yaml: database.rotation_days: 'monthly' is not a whole number "
            "(write it in digits, e.g. 2)",
        ),
    ],
)
def test_a_bad_rotation_days_is_one_line(sample_root: Path, capsys, days, expected) -> None:
    edit_yaml(
        sample_root / "environments/dev.yaml",
        lambda data: data.setdefault("database", {}).__setitem__("rotation_days", days),
    )
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [expected]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        (
            {"app_username": "shop_clone"},
            "app.yaml: database.app_username: rotation alternates the app's user 'shop_clone' "
            "with 'shop_clone_clone' (the suffix '_clone'), so neither may end in it or be the "
            "master user (give database.app_username another name)",
        ),
        (
            {"username": "example_app_clone"},
            "app.yaml: database.username: rotation alternates the app's user 'example_app' with "
            "'example_app_clone' (the suffix '_clone'), so neither may end in it or be the "
            "master user (give database.app_username another name)",
        ),
    ],
)
def test_the_rotation_partner_of_the_app_user_is_never_the_master(
    sample_root: Path, capsys, database, expected
) -> None:
    edit_yaml(sample_root / "app.yaml", lambda app: app["database"].update(database))
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 2
    assert expected in capsys.readouterr().err.splitlines()
