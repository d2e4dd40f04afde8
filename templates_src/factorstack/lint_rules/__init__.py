"""factorstack's own cfn-lint rules (E9xxx): AWS constraints cfn-lint's schemas do not check.

lint.py hands this package's import path to cfn-lint (`append_rules`), which instantiates every
rule class importable from here. One rule per module; a new rule is imported below.
"""

from __future__ import annotations

from factorstack.lint_rules.access_logs import AccessLogBucket
from factorstack.lint_rules.container_memory import ContainerMemory
from factorstack.lint_rules.fargate_stop_window import FargateStopWindow
from factorstack.lint_rules.forced_strategy_change import ForcedStrategyChange
from factorstack.lint_rules.instance_signal import InstanceSignal
from factorstack.lint_rules.lifecycle_days import LifecycleDays
from factorstack.lint_rules.parameter_values import NestedParameterValues
from factorstack.lint_rules.resource_names import ResourceNames
from factorstack.lint_rules.route_target import RouteTarget
from factorstack.lint_rules.security_group_descriptions import SecurityGroupRuleDescriptions
from factorstack.lint_rules.slow_query_export import SlowQueryExport
from factorstack.lint_rules.spot_platform import SpotPlatformVersion

RULES = (
    SecurityGroupRuleDescriptions,
    FargateStopWindow,
    ResourceNames,
    AccessLogBucket,
    SlowQueryExport,
    ContainerMemory,
    LifecycleDays,
    InstanceSignal,
    SpotPlatformVersion,
    NestedParameterValues,
    RouteTarget,
    ForcedStrategyChange,
)

__all__ = [
    "RULES",
    "AccessLogBucket",
    "ContainerMemory",
    "FargateStopWindow",
    "ForcedStrategyChange",
    "InstanceSignal",
    "LifecycleDays",
    "NestedParameterValues",
    "ResourceNames",
    "RouteTarget",
    "SecurityGroupRuleDescriptions",
    "SlowQueryExport",
    "SpotPlatformVersion",
]
