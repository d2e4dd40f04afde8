"""`factorstack schema KIND` gives editors one JSON Schema per config file; the committed copies
under schemas/ are what it prints, and the sample files point at them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from factorstack.cli import main
from factorstack.config.schema import DIALECT, KINDS
from tests.support.sample import REPO

SAMPLES = {
    "app": ["app.yaml"],
    "environment": ["environments/dev.yaml", "environments/staging.yaml", "environments/prod.yaml"],
}


def printed(capsys: pytest.CaptureFixture[str], kind: str) -> dict:
    assert main(["schema", kind]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_is_one_draft_07_schema_that_accepts_the_sample(capsys, kind):
    schema = printed(capsys, kind)
    assert schema["$schema"] == DIALECT
    assert schema["title"] == f"factorstack {KINDS[kind].describes}"
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    for sample in SAMPLES[kind]:
        validator.validate(yaml.safe_load((REPO / sample).read_text()))


def test_schema_rejects_unknown_keys_like_the_tool_does(capsys):
    schema = printed(capsys, "environment")
    assert schema["additionalProperties"] is False
    assert "cpu_architecture" in schema["properties"]
    errors = list(jsonschema.Draft7Validator(schema).iter_errors({"acount": "1"}))
    assert any("acount" in error.message for error in errors)


def test_plain_schema_says_which_to_choose(capsys):
    assert main(["schema"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "`factorstack schema app` (app.yaml)" in line
    assert "`factorstack schema environment` (environments/ENV.yaml)" in line
    assert "--write DIR" in line


def test_write_puts_both_schemas_in_a_folder(tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["schema", "--write", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {out / 'app.schema.json'}",
        f"wrote {out / 'environment.schema.json'}",
    ]
    for kind, spec in KINDS.items():
        assert json.loads((out / spec.file_name).read_text()) == printed(capsys, kind)


@pytest.mark.parametrize("kind", list(KINDS))
def test_committed_schemas_equal_what_the_command_prints(capsys, kind):
    """schemas/ is committed for the editor modelines; regenerate it with
    `factorstack schema --write schemas` after changing the config models."""
    assert main(["schema", kind]) == 0
    assert (REPO / "schemas" / KINDS[kind].file_name).read_text() == capsys.readouterr().out


@pytest.mark.parametrize(
    ("sample", "target"),
    [("app.yaml", "schemas/app.schema.json")]
    + [(s, "schemas/environment.schema.json") for s in SAMPLES["environment"]],
)
def test_sample_files_carry_the_editor_modeline(sample, target):
    first = (REPO / sample).read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    pointed = (REPO / sample).parent / first.removeprefix(prefix)
    assert pointed.resolve() == (REPO / target).resolve()  # relative to the YAML file
