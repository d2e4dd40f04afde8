"""`factorstack schema` gives editors the JSON Schema of both config files."""

from __future__ import annotations

import json

import jsonschema
import yaml

from factorstack.cli import main
from tests.conftest import REPO


def test_schema_describes_both_files_and_accepts_the_sample(capsys):
    assert main(["schema"]) == 0
    schemas = json.loads(capsys.readouterr().out)
    assert set(schemas) == {"app.yaml", "environments/ENV.yaml"}
    jsonschema.validate(yaml.safe_load((REPO / "app.yaml").read_text()), schemas["app.yaml"])
    for env in ("dev", "staging", "prod"):
        data = yaml.safe_load((REPO / f"environments/{env}.yaml").read_text())
        jsonschema.validate(data, schemas["environments/ENV.yaml"])


def test_schema_rejects_unknown_keys_like_the_tool_does(capsys):
    main(["schema"])
    schema = json.loads(capsys.readouterr().out)["environments/ENV.yaml"]
    assert schema["additionalProperties"] is False
    assert "cpu_architecture" in schema["properties"]
