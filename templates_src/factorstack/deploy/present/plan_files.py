"""The plan's files: `changeset.md` for people, `plan.json` for `apply`, and a note of how the
last plan ended.

plan.json records exactly which change set was reviewed and the stack's state at that moment,
so apply can refuse when anything moved. It never holds parameter values.

Both live in build/ENV/, which a rebuild replaces; the note (`build/.plans/ENV.json`) lives
beside it and outlives a rebuild, so `apply` can say why there is no plan: never planned, the
build changed since, applied already, refused, or no changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from factorstack.deploy.present.job_summary import append_job_summary
from factorstack.errors import NotReady

PLAN_FILE = "plan.json"
CHANGESET_FILE = "changeset.md"
PLAN_VERSION = 1
# build/.plans/ENV.json: not an environment's name (those start with a letter), not replaced by
# a build of ENV.
NOTES_DIR = ".plans"

# How the last plan of an environment ended, as its note records it.
PLANNING = "planning"  # started and never finished: it stopped with an error
RECORDED = "recorded"
UNCHANGED = "unchanged"
REFUSED = "refused"
APPLIED = "applied"


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
    # The monthly cost before and after (present/cost.py's delta_json); None when the change
    # moves no cost.
    cost: dict[str, Any] | None = None
    # The parity with the environment this one promotes from (present/parity.py's
    # ParitySection.as_json); None when it names none.
    parity: dict[str, Any] | None = None
    commit: str | None = None
    created: str = ""
    version: int = PLAN_VERSION

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n"


_PLAN_RECORD = TypeAdapter(PlanRecord)


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
    append_job_summary(text)
    return path


def write_plan(folder: Path, record: PlanRecord) -> Path:
    path = folder / PLAN_FILE
    write_atomic(path, record.to_json())
    return path


def discard_plan(folder: Path) -> None:
    """Remove a plan that must not be applied again (it was just applied)."""
    (folder / PLAN_FILE).unlink(missing_ok=True)


def start_plan(folder: Path, templates: dict[str, str]) -> None:
    """A new plan supersedes the last one: its plan.json and its review go (so no table is left
    beside a plan that no longer exists), and the note says a plan is under way."""
    discard_plan(folder)
    (folder / CHANGESET_FILE).unlink(missing_ok=True)
    write_note(folder, PLANNING, templates)


@dataclass(frozen=True)
class PlanNote:
    """How the last plan of an environment ended, and which build it was made from."""

    outcome: str
    templates: dict[str, str]
    at: str


def note_path(folder: Path) -> Path:
    """build/.plans/ENV.json for build/ENV."""
    return folder.parent / NOTES_DIR / f"{folder.name}.json"


def write_note(folder: Path, outcome: str, templates: dict[str, str]) -> None:
    """Record how the plan of the build in `folder` ended (templates: the manifest's hashes)."""
    at = datetime.now(UTC).isoformat(timespec="seconds")
    note = {"outcome": outcome, "templates": templates, "at": at}
    write_atomic(note_path(folder), json.dumps(note, indent=2, sort_keys=True) + "\n")


def read_note(folder: Path) -> PlanNote | None:
    """The note of the last plan, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(note_path(folder).read_text(encoding="utf-8"))
        return PlanNote(str(data["outcome"]), dict(data["templates"]), str(data["at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def why_no_plan(note: PlanNote | None, templates: dict[str, str] | None, environment: str) -> str:
    """Why build/ENV holds no plan.json, told from the note of the last plan."""
    again = f"run `./deploy.sh {environment}`"
    if note is None:
        return f"no plan to apply ({again} first)"
    last = f"the last plan ({note.at})"
    if note.outcome == APPLIED:
        return f"no plan to apply: {last} was applied already (a change set runs once; {again})"
    if templates is not None and note.templates != templates:
        return (
            f"no plan to apply: build/{environment} was rebuilt after {last}, and the rebuild "
            f"replaced it (the templates changed; {again} to plan them)"
        )
    reasons = {
        UNCHANGED: "found no changes: the stack already matches the build",
        REFUSED: "was refused by the data-loss guard (see changeset.md; plan again with "
        "--allow-replace ID for each resource, if intended)",
        PLANNING: f"stopped before it recorded one (see its error, then {again})",
    }
    reason = reasons.get(note.outcome, f"was recorded and then removed ({again})")
    return f"no plan to apply: {last} {reason}"


def read_plan(
    folder: Path, environment: str, templates: dict[str, str] | None = None
) -> PlanRecord:
    """The recorded plan, or a one-line error saying why there is none and what to run.

    `templates` (the build's manifest hashes) tells a plan lost to a rebuild from the others.
    """
    path = folder / PLAN_FILE
    if not path.is_file():
        raise NotReady(f"{path}: {why_no_plan(read_note(folder), templates, environment)}")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        if not isinstance(data, dict):
            kind = {list: "array", str: "string", type(None): "null"}.get(type(data), "number")
            raise ValueError(f"a JSON {kind}, not an object")
        if data.get("version") != PLAN_VERSION:
            raise ValueError(f"unknown plan version {data.get('version')!r}")
        # strict: a `change_set_id` of 5 must not reach AWS as "5"
        return _PLAN_RECORD.validate_json(text, strict=True)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        reason = f"{where}: {problem['msg'][:1].lower()}{problem['msg'][1:]}"
        raise NotReady(f"{path}: unreadable plan: {reason} (plan again)") from None
    except (ValueError, TypeError) as error:
        raise NotReady(f"{path}: unreadable plan: {error} (plan again)") from None
