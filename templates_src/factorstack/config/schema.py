"""JSON Schema of app.yaml and environments/ENV.yaml, one document per file, for editors.

Draft-07, because that is what YAML editors (yaml-language-server, behind VS Code's YAML
extension and most others) read; pydantic's `$defs` are moved to draft-07's `definitions`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from factorstack.config.models import AppSpec, EnvironmentSpec

DIALECT = "http://json-schema.org/draft-07/schema#"


@dataclass(frozen=True)
class SchemaKind:
    """One config file's schema: the model, the file it describes, the file it is written to."""

    model: type[BaseModel]
    describes: str
    file_name: str


KINDS: dict[str, SchemaKind] = {
    "app": SchemaKind(AppSpec, "app.yaml", "app.schema.json"),
    "environment": SchemaKind(EnvironmentSpec, "environments/ENV.yaml", "environment.schema.json"),
}


def kind_of(shown_as: str) -> str:
    """Which schema a config file (as shown in messages) follows."""
    return "environment" if shown_as.startswith("environments/") else "app"


def json_schema(kind: str) -> dict[str, Any]:
    """The draft-07 JSON Schema of one config file (`app` or `environment`)."""
    spec = KINDS[kind]
    schema = spec.model.model_json_schema(ref_template="#/definitions/{model}")
    definitions = schema.pop("$defs", None)
    head: dict[str, Any] = {"$schema": DIALECT, "title": f"factorstack {spec.describes}"}
    body = {key: value for key, value in schema.items() if key != "title"}
    if definitions:
        body["definitions"] = definitions
    return head | body


def schema_text(kind: str) -> str:
    """The schema as written to a file or printed: stable key order, a final newline."""
    return json.dumps(json_schema(kind), indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path, kinds: list[str]) -> list[Path]:
    """Write each kind's schema to FOLDER/KIND.schema.json; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in kinds:
        path = folder / KINDS[kind].file_name
        path.write_text(schema_text(kind), encoding="utf-8")
        written.append(path)
    return written
