"""E9005: a MySQL instance that exports its slow query log must write one to a file.

RDS for MySQL publishes the slow query log to CloudWatch Logs only when the instance's parameter
group sets `slow_query_log` to 1 and `log_output` to FILE (RDS's default output is TABLE).
Without them, `EnableCloudwatchLogsExports: [slowquery]` is accepted and exports nothing: the
audit trail looks present and is empty. cfn-lint checks the export names, not the parameters.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from factorstack.lint_rules.values import items

REQUIRED = {"slow_query_log": "1", "log_output": "FILE"}
ON = {"1", "ON", "on", "true", "TRUE"}


def _exports_slow_queries(properties: dict[str, Any]) -> bool:
    exports = properties.get("EnableCloudwatchLogsExports")
    return "slowquery" in [value for value, _ in items(exports, [])]


def _problems(parameters: dict[str, Any]) -> list[str]:
    """What the group lacks for a slow query log RDS can export."""
    problems = []
    if str(parameters.get("slow_query_log", "0")) not in ON:
        problems.append("slow_query_log is not 1")
    if str(parameters.get("log_output", "TABLE")).upper() != "FILE":
        problems.append("log_output is not FILE")
    return problems


class SlowQueryExport(CloudFormationLintRule):
    """The slow query log exported only where the parameter group writes it to a file."""

    id = "E9005"
    shortdesc = "An exported MySQL slow query log needs slow_query_log=1 and log_output=FILE"
    description = (
        "For an AWS::RDS::DBInstance with engine mysql that lists slowquery in "
        "EnableCloudwatchLogsExports: its AWS::RDS::DBParameterGroup (when it is in the "
        "template) must set slow_query_log to 1 and log_output to FILE, or nothing is exported."
    )
    source_url = (
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
        "USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html"
    )
    tags = ["resources", "rds", "factorstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        resources = cfn.template.get("Resources") or {}
        matches: list[RuleMatch] = []
        for name, resource in resources.items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::RDS::DBInstance":
                continue
            properties = resource.get("Properties") or {}
            if properties.get("Engine") != "mysql" or not _exports_slow_queries(properties):
                continue
            group = properties.get("DBParameterGroupName")
            reference = group.get("Ref") if isinstance(group, dict) else None
            target = resources.get(reference) if isinstance(reference, str) else None
            if not isinstance(target, dict) or target.get("Type") != "AWS::RDS::DBParameterGroup":
                continue  # a default or external group: not visible here
            parameters = (target.get("Properties") or {}).get("Parameters") or {}
            for problem in _problems(parameters if isinstance(parameters, dict) else {}):
                matches.append(
                    RuleMatch(
                        ["Resources", reference, "Properties", "Parameters"],
                        f"{name} exports slowquery but {reference}: {problem} (RDS would "
                        "export nothing)",
                    )
                )
        return matches
