"""From config to `build/ENV/`: render every template, check limits, lint, then swap the new set
in atomically. A failed build leaves `build/ENV/` exactly as it was.

Every template deploy sends is rendered and linted here, the app's bootstrap template too, so
deploy only ever reads files (through build/manifest.py). An environment whose rendered
templates hash the same as its manifest (and whose files on disk still match) is neither
rewritten nor linted again.

Child templates are the same text in every environment (only root.json differs), so each is
written once, content-addressed, to build/.shared/SHA256.json; build/ENV/NAME.json is a relative
link to it and the manifest names its hash. Templates no manifest names any more are removed.

`unchanged` answers first when nothing can have changed (build/unchanged.py), which is why the
stacks (troposphere, awacs) are imported only by the functions that render.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factorstack import limits
from factorstack.build.fingerprint import code_fingerprint
from factorstack.build.layout import (
    BOOTSTRAP_BUCKET_FILE,
    BOOTSTRAP_FILE,
    BUILD_DIR,
    MANIFEST_FILE,
    SHARED_DIR,
    read_manifest,
    sha256,
)
from factorstack.build.lint_cache import LintCache, LintRun, lint_distinct
from factorstack.build.unchanged import (
    ENVIRONMENTS_FIELD,
    FINGERPRINT_FIELD,
    RESOURCES_FIELD,
    WARNINGS_FIELD,
    Summary,
    unchanged_builds,
)
from factorstack.config import LoadedEnvironment, load_environments
from factorstack.config.files import environment_names
from factorstack.errors import BuildError
from factorstack.lint import LintFinding, lint_templates, own_rules_id
from factorstack.release_record import read_release

REJECTED_DIR = "rejected"


def stack_name(loaded: LoadedEnvironment) -> str:
    return f"{loaded.model.app}-{loaded.model.environment}"


def render(body: dict[str, Any]) -> bytes:
    """Stable bytes for a template: the same input always gives the same file."""
    # UTF-8 as it is: an emoji escaped as a surrogate pair is refused by cfn-lint's reader
    return (json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


class Renderer:
    """render(), once per distinct body: the children are the same in every environment, and
    json's indenting encoder is pure Python. A body's repr (C code) tells True from 1 from 1.0
    and "1" from 1, so equal reprs are equal JSON; a different key order only costs a render."""

    def __init__(self) -> None:
        self._done: dict[str, bytes] = {}

    def __call__(self, body: dict[str, Any]) -> bytes:
        key = repr(body)
        data = self._done.get(key)
        if data is None:
            data = self._done[key] = render(body)
        return data


@dataclass
class EnvironmentBuild:
    """One environment's rendered files and what became of them."""

    loaded: LoadedEnvironment
    files: dict[str, bytes]
    resources: dict[str, int]
    changed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    linted_by: str | None = None  # the cfn-lint that passed these templates; None: not linted
    fingerprint: str = ""  # the code that rendered them (build/fingerprint.py)
    environment_files: list[str] = field(default_factory=list)  # environments/*.yaml then

    @property
    def name(self) -> str:
        return self.loaded.model.environment

    def summary(self) -> Summary:
        return Summary(
            self.name,
            len(self.files),
            sum(self.resources.values()),
            bool(self.changed),
            tuple(self.warnings),
        )

    def manifest(self) -> dict[str, Any]:
        model = self.loaded.model
        return {
            "app": model.app,
            "environment": model.environment,
            "stack_name": stack_name(self.loaded),
            "account": model.account,
            "region": model.region,
            "profile": self.loaded.profile,
            "role_arn": self.loaded.role_arn,
            "promotes_from": self.loaded.promotes_from,
            "config_sha256": self.loaded.config_sha256,
            "processes": [p.name for p in model.processes],
            "templates": {name: sha256(data) for name, data in sorted(self.files.items())},
            "linted_by": self.linted_by,
            FINGERPRINT_FIELD: self.fingerprint,
            ENVIRONMENTS_FIELD: self.environment_files,
            RESOURCES_FIELD: dict(sorted(self.resources.items())),
            WARNINGS_FIELD: self.warnings,
        }


@dataclass
class BuildReport:
    environments: list[EnvironmentBuild]
    linted_files: int  # templates found clean, each environment's copy counted
    distinct_files: int = 0  # of those, how many distinct (same text, same answer)
    cfn_linted_files: int = 0  # of the distinct ones, how many cfn-lint checked (not cached)


def with_release(loaded: LoadedEnvironment, root: Path) -> LoadedEnvironment:
    """The environment's model with the digests of its recorded release, if there is one."""
    model = loaded.model
    names = [p.name for p in model.processes]
    release = read_release(root, model.environment, names, every_process=False)
    if release is None:
        return loaded
    return dataclasses.replace(
        loaded, model=dataclasses.replace(model, image_digests=release.digests())
    )


def bootstrap_bodies(
    app: str, processes: list[str], renderer: Callable[[dict[str, Any]], bytes] = render
) -> dict[str, dict[str, Any]]:
    """bootstrap.json, and bootstrap-bucket.json when bootstrap.json cannot go inline: a first
    bootstrap then creates the bucket from it and reads bootstrap.json from that bucket."""
    from factorstack.stacks.bootstrap import create_bucket_template
    from factorstack.stacks.bootstrap import create_template as bootstrap_template

    full = bootstrap_template(app, processes).to_dict()
    if limits.fits_inline(len(renderer(full))):
        return {BOOTSTRAP_FILE: full}
    return {BOOTSTRAP_FILE: full, BOOTSTRAP_BUCKET_FILE: create_bucket_template(app).to_dict()}


def render_environment(
    loaded: LoadedEnvironment, renderer: Callable[[dict[str, Any]], bytes] | None = None
) -> EnvironmentBuild:
    """Templates of one environment as bytes, checked against CloudFormation's limits; pass
    one Renderer for every environment of a build to encode each distinct body once."""
    from factorstack.stacks.root import build_stack_set

    files: dict[str, bytes] = {}
    resources: dict[str, int] = {}
    errors: list[str] = []
    warnings: list[str] = []
    env_name = loaded.model.environment
    try:
        stack_set = build_stack_set(loaded.model)
    except ValueError as error:  # troposphere refuses to add past a CloudFormation limit
        if not str(error).startswith("Maximum"):
            raise
        raise BuildError(
            f"{env_name}: {error} (CloudFormation's limit; fewer process types per app)"
        ) from None
    processes = [process.name for process in loaded.model.processes]
    bodies = {name: template.to_dict() for name, template in stack_set.items()}
    renderer = renderer or Renderer()
    bodies.update(bootstrap_bodies(loaded.model.app, processes, renderer))
    for name, body in bodies.items():
        data = renderer(body)
        files[name] = data
        resources[name] = len(body.get("Resources", {}))
        # bootstrap-bucket.json goes inline (TemplateBody): the bucket does not exist yet.
        most = limits.MAX_TEMPLATE_BYTES_INLINE if name == BOOTSTRAP_BUCKET_FILE else None
        for finding in limits.check_template(f"{env_name}/{name}", body, len(data), most):
            (errors if finding.over else warnings).append(str(finding))
    if errors:
        raise BuildError(*errors)
    return EnvironmentBuild(loaded, files, resources, warnings=warnings)


def linter_id() -> str:
    """Which checks the templates passed: a new cfn-lint version or a change to our own rules
    may find what the last one did not, so either re-lints every template."""
    return f"cfn-lint {importlib.metadata.version('cfn-lint')} + {own_rules_id()}"


def _changed_files(env: EnvironmentBuild, folder: Path, linted_by: str | None) -> list[str]:
    """Files whose content differs from what is on disk and recorded in the manifest; every
    file when they are to be linted and the recorded set was not (or by another cfn-lint)."""
    from factorstack.stacks.root import ROOT_FILE

    manifest = read_manifest(folder) or {}
    recorded = manifest.get("templates", {})
    if linted_by is not None and manifest.get("linted_by") != linted_by:
        return sorted(env.files)
    env.linted_by = manifest.get("linted_by")
    changed = []
    for name, data in env.files.items():
        digest = sha256(data)
        on_disk = folder / name
        if (
            recorded.get(name) != digest
            or not on_disk.is_file()
            or sha256(on_disk.read_bytes()) != digest
        ):
            changed.append(name)
    if set(recorded) - set(env.files):
        changed.append(ROOT_FILE)  # a child went away: the root that named it changed too
    return sorted(set(changed))


def _store(shared: Path, data: bytes) -> str:
    """Write data once under its hash (atomically); the file's name."""
    name = f"{sha256(data)}.json"
    target = shared / name
    if not target.is_file() or sha256(target.read_bytes()) != sha256(data):
        shared.mkdir(exist_ok=True)
        temporary = shared / f".{name}.{os.getpid()}.tmp"
        temporary.write_bytes(data)
        temporary.replace(target)
    return name


def _write_set(folder: Path, env: EnvironmentBuild, shared: Path) -> None:
    """root.json and the manifest as files; every other template written once to the shared
    store and linked as ../.shared/SHA.json (the store sits beside build/ENV)."""
    from factorstack.stacks.root import ROOT_FILE

    folder.mkdir(parents=True)
    for name, data in env.files.items():
        if name == ROOT_FILE:
            (folder / name).write_bytes(data)
        else:
            (folder / name).symlink_to(Path("..", SHARED_DIR, _store(shared, data)))
    (folder / MANIFEST_FILE).write_bytes(render(env.manifest()))


def _prune_shared(out: Path) -> None:
    """Remove shared templates that no environment's manifest names any more."""
    shared = out / SHARED_DIR
    if not shared.is_dir():
        return
    named: set[str] = set()
    for folder in out.iterdir():
        manifest = read_manifest(folder) if folder.is_dir() else None
        named.update(f"{digest}.json" for digest in (manifest or {}).get("templates", {}).values())
    for path in shared.glob("*.json"):
        if path.name not in named:
            path.unlink(missing_ok=True)


def _swap_in(staged: Path, target: Path) -> None:
    """Replace target with staged by renames: readers see the old set or the new one."""
    if target.exists():
        retired = target.with_name(f".{target.name}.old")
        shutil.rmtree(retired, ignore_errors=True)
        target.rename(retired)
        staged.rename(target)
        shutil.rmtree(retired)
    else:
        staged.rename(target)


def _refresh_manifest(folder: Path, env: EnvironmentBuild) -> None:
    """Templates unchanged but config bytes changed (a comment): record the new config hash."""
    if read_manifest(folder) != env.manifest():
        temporary = folder / f".{MANIFEST_FILE}.tmp"
        temporary.write_bytes(render(env.manifest()))
        temporary.replace(folder / MANIFEST_FILE)


def _stage(staging: Path, pending: list[EnvironmentBuild]) -> list[Path]:
    """Write each changed environment under staging; the files to lint (root always, as it
    names the others)."""
    from factorstack.stacks.root import ROOT_FILE

    to_lint: list[Path] = []
    for env in pending:
        folder = staging / env.name
        _write_set(folder, env, staging.parent / SHARED_DIR)
        names = set(env.changed) | {ROOT_FILE}
        to_lint.extend(folder / name for name in sorted(names))
    return to_lint


def _keep_rejected(staging: Path, rejected: Path, findings: list[LintFinding]) -> BuildError:
    """Copy the staged templates (links followed) to build/rejected for a look; return the
    error naming them."""
    shutil.rmtree(rejected, ignore_errors=True)
    shutil.copytree(staging, rejected, ignore=shutil.ignore_patterns(SHARED_DIR))
    shown = os.path.relpath(rejected)
    lines = [str(f).replace(str(staging), shown) for f in findings]
    return BuildError(
        *lines,
        f"cfn-lint: {len(findings)} finding(s); build/ENV left unchanged "
        f"(the rejected templates are in {shown})",
    )


def _lint(paths: list[Path], regions: list[str], linter: str, jobs: int) -> LintRun:
    """Each distinct template once, and only those the lint cache does not know clean."""

    def run(distinct: list[Path], needed: list[str]) -> list[LintFinding]:
        return lint_templates(distinct, needed, jobs=jobs)

    return lint_distinct(paths, regions, linter, run, LintCache.from_environment())


def _write_changed(
    out: Path, pending: list[EnvironmentBuild], linter: str | None, lint_jobs: int
) -> tuple[int, LintRun]:
    """Stage, lint (unless `linter` is None) and swap in the changed environments, all or
    none; how many files were linted, and how."""
    out.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    # staging/ENV/NAME links to ../.shared/SHA.json, as build/ENV/NAME will once swapped in
    (staging / SHARED_DIR).symlink_to(Path("..", SHARED_DIR))
    try:
        to_lint = _stage(staging, pending)
        regions = [e.loaded.model.region for e in pending]
        outcome = LintRun([], 0, 0)
        if linter is not None:
            outcome = _lint(to_lint, regions, linter, lint_jobs)
        if outcome.findings:
            error = _keep_rejected(staging, out / REJECTED_DIR, outcome.findings)
            _prune_shared(out)  # what only the rejected set used
            raise error
        for env in pending:
            _swap_in(staging / env.name, out / env.name)
        shutil.rmtree(out / REJECTED_DIR, ignore_errors=True)
        return (len(to_lint) if linter is not None else 0), outcome
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def unchanged(root: Path, only: list[str] | None = None, lint: bool = True) -> list[Summary] | None:
    """Each environment's summary when `build` would find nothing to write or lint, told from
    the manifests, the inputs' hashes and the code's fingerprint alone; None when in doubt."""
    return unchanged_builds(root, only, linter_id() if lint else None, code_fingerprint())


def build(
    root: Path, only: list[str] | None = None, lint: bool = True, lint_jobs: int = 1
) -> BuildReport:
    """Validate config, render, check limits, lint what changed, then write atomically."""
    out = root / BUILD_DIR
    loaded = [with_release(item, root) for item in load_environments(root, only)]
    renderer = Renderer()
    envs = [render_environment(item, renderer) for item in loaded]
    linted_by = linter_id() if lint else None
    fingerprint, environment_files = code_fingerprint(), environment_names(root)
    for env in envs:
        env.fingerprint, env.environment_files = fingerprint, environment_files
        env.changed = _changed_files(env, out / env.name, linted_by)
    pending = [env for env in envs if env.changed]
    for env in pending:
        env.linted_by = linted_by
    linted, outcome = 0, LintRun([], 0, 0)
    if pending:
        linted, outcome = _write_changed(out, pending, linted_by, lint_jobs)
    for env in envs:
        if env not in pending:
            _refresh_manifest(out / env.name, env)
    _prune_shared(out)
    return BuildReport(envs, linted, outcome.distinct, outcome.linted)
