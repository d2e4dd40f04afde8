"""The plan's files: `changeset.md` for people, `plan.json` for `apply`.

plan.json records exactly which change set was reviewed and the stack's state at that moment,
so apply can refuse when anything moved. It never holds parameter values.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from factorstack.errors import ConfigError

PLAN_FILE = "plan.json"
CHANGESET_FILE = "changeset.md"
PLAN_VERSION = 1


@dataclass
class PlanRecord:
    """What apply needs, and what a reviewer may want to check, about one plan."""

    stack_name: str
    stack_id: str
    change_set_id: str
    change_set_name: str
    change_set_type: str
    stack_status: str | None
    stack_last_updated: str | None
    template_url: str
    template_hashes: dict[str, str]
    nested_change_set_ids: dict[str, str]
    counts: dict[str, int]
    rows: list[dict[str, Any]]
    console_link: str
    guard: list[str] = field(default_factory=list)
    parameter_keys: list[str] = field(default_factory=list)
    # Root parameters a follow-up update sets once the change set succeeded (name → value);
    # only the build's own non-secret values, such as deletion protection "true".
    follow_up: dict[str, str] = field(default_factory=dict)
    commit: str | None = None
    created: str = ""
    version: int = PLAN_VERSION

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n"


def timestamp(value: datetime | str | None) -> str | None:
    """An API timestamp as ISO text (plan.json compares these as strings)."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def write_atomic(path: Path, text: str) -> None:
    """Write a file so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_changeset_md(folder: Path, text: str) -> Path:
    """changeset.md in the build folder, plus the CI step summary when GitHub provides one."""
    path = folder / CHANGESET_FILE
    write_atomic(path, text)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return path


def write_plan(folder: Path, record: PlanRecord) -> Path:
    path = folder / PLAN_FILE
    write_atomic(path, record.to_json())
    return path


def discard_plan(folder: Path) -> None:
    """Remove a plan that must not be applied (superseded, refused, or already applied)."""
    (folder / PLAN_FILE).unlink(missing_ok=True)


def read_plan(folder: Path, environment: str) -> PlanRecord:
    """The recorded plan, or a one-line error telling the user to plan first."""
    path = folder / PLAN_FILE
    if not path.is_file():
        raise ConfigError(f"{path}: no plan to apply (run `./deploy.sh {environment}` first)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != PLAN_VERSION:
            raise ValueError(f"unknown plan version {data.get('version')!r}")
        return PlanRecord(**data)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{path}: unreadable plan: {error} (plan again)") from None
