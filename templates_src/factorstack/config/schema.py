"""JSON Schema of app.yaml and environments/ENV.yaml, for editor completion."""

from __future__ import annotations

from typing import Any

from factorstack.config.models import AppSpec, EnvironmentSpec


def json_schemas() -> dict[str, Any]:
    return {
        "app.yaml": AppSpec.model_json_schema(),
        "environments/ENV.yaml": EnvironmentSpec.model_json_schema(),
    }
