"""The data-loss guard: refuse to remove or replace a stateful resource unless allowed by name.

Evidence, merged per resource into one finding with every reason:
- the change sets (Action Remove, or Replacement True/Conditional with its causing properties):
  verdict.findings_from_rows;
- an offline prediction per stack (schema.predict): a create-only property whose text changes,
  or a stateful resource missing from the new template; this protects data even where a change
  set says nothing (and against a local endpoint);
- values followed across the nested tree (resolution.predict_tree): replacements that arrive
  through nested-stack parameters, generated secrets whose value changes under a resource that
  resolved them (secrets), and new engines or major versions (engines).
"""

from factorstack.deploy.decide.guard.engines import engine_reason, major_version
from factorstack.deploy.decide.guard.resolution import (
    Change,
    DeployedStack,
    Link,
    Resolution,
    explain,
    predict_tree,
)
from factorstack.deploy.decide.guard.schema import create_only_properties, predict
from factorstack.deploy.decide.guard.values import concrete, references
from factorstack.deploy.decide.guard.verdict import (
    STATEFUL_TYPES,
    Finding,
    Verdict,
    enforce,
    findings_from_rows,
    judge,
    merge,
)

__all__ = [
    "STATEFUL_TYPES",
    "Change",
    "DeployedStack",
    "Finding",
    "Link",
    "Resolution",
    "Verdict",
    "concrete",
    "create_only_properties",
    "engine_reason",
    "enforce",
    "explain",
    "findings_from_rows",
    "judge",
    "major_version",
    "merge",
    "predict",
    "predict_tree",
    "references",
]
