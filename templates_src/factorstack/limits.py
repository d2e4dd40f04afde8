"""CloudFormation's per-template limits, in one place, and the check every template passes
before it is written: over a limit is an error, over WARN_FRACTION of one a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_RESOURCES = 500
MAX_PARAMETERS = 200
MAX_OUTPUTS = 200
MAX_MAPPINGS = 200
MAX_TEMPLATE_BYTES_S3 = 1_000_000  # TemplateURL; every template is uploaded to S3 to deploy
MAX_TEMPLATE_BYTES_INLINE = 51_200  # TemplateBody: why deploy always uploads the root too
MAX_INLINE_LAMBDA_CODE_BYTES = 4096  # AWS::Lambda::Function Code.ZipFile
MAX_CUSTOM_RESOURCE_SECONDS = 3600  # a custom resource's ServiceTimeout: CloudFormation's cap
WARN_FRACTION = 0.8

_SECTION_LIMITS = {
    "Resources": MAX_RESOURCES,
    "Parameters": MAX_PARAMETERS,
    "Outputs": MAX_OUTPUTS,
    "Mappings": MAX_MAPPINGS,
}


@dataclass(frozen=True)
class LimitFinding:
    file: str
    what: str
    used: int
    limit: int

    @property
    def over(self) -> bool:
        return self.used > self.limit

    def __str__(self) -> str:
        verdict = "over the limit" if self.over else f"above {WARN_FRACTION:.0%} of the limit"
        return f"{self.file}: {self.what}: {self.used} of {self.limit} ({verdict})"


def fits_inline(size_bytes: int) -> bool:
    """True when a template this size may go as TemplateBody; a larger one must be read from S3
    (TemplateURL), which needs a bucket first (see the bootstrap stack's two steps)."""
    return size_bytes <= MAX_TEMPLATE_BYTES_INLINE


def check_template(
    file: str, body: dict[str, Any], size_bytes: int, max_bytes: int | None = None
) -> list[LimitFinding]:
    """Findings for one rendered template; an empty list means comfortably inside. `max_bytes`
    defaults to the S3 limit; a template sent inline passes MAX_TEMPLATE_BYTES_INLINE."""
    counts = [
        (section, len(body.get(section, {})), limit) for section, limit in _SECTION_LIMITS.items()
    ]
    counts.append(("size in bytes", size_bytes, max_bytes or MAX_TEMPLATE_BYTES_S3))
    counts += _resource_counts(body.get("Resources") or {})
    return [
        LimitFinding(file, what, used, limit)
        for what, used, limit in counts
        if used > limit * WARN_FRACTION
    ]


def _resource_counts(resources: dict[str, Any]) -> list[tuple[str, int, int]]:
    """Per-resource limits: inline Lambda code, and how long a custom resource may take."""
    counts: list[tuple[str, int, int]] = []
    for logical_id, resource in sorted(resources.items()):
        kind = str(resource.get("Type", ""))
        properties = resource.get("Properties") or {}
        code = (properties.get("Code") or {}).get("ZipFile")
        if kind == "AWS::Lambda::Function" and isinstance(code, str):
            what = f"{logical_id} inline code in bytes"
            counts.append((what, len(code.encode()), MAX_INLINE_LAMBDA_CODE_BYTES))
        timeout = properties.get("ServiceTimeout")
        if kind.startswith("Custom::") and isinstance(timeout, int):
            what = f"{logical_id} ServiceTimeout in seconds"
            counts.append((what, timeout, MAX_CUSTOM_RESOURCE_SECONDS))
    return counts
