"""cfn-lint, in-process, in one call for every template given (start-up is the expensive part)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# W3002 says a template uses local TemplateURLs that only `package` understands. That is the
# contract of build/: deploy packages the children before any change set is made.
IGNORED_RULES = ("W3002",)
INCLUDED_RULES = ("I",)  # informational rules too, e.g. I3011 (stateful resource policies)


@dataclass(frozen=True)
class LintFinding:
    file: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.rule} {self.message}"


def lint_templates(paths: list[Path], regions: list[str]) -> list[LintFinding]:
    """Every finding for the given files; an empty list means clean."""
    if not paths:
        return []
    from cfnlint.api import ManualArgs, lint_by_config  # ~1 s to import: only when needed

    matches = lint_by_config(
        ManualArgs(
            templates=[str(p) for p in paths],
            regions=sorted(set(regions)),
            include_checks=list(INCLUDED_RULES),
            ignore_checks=list(IGNORED_RULES),
        )
    )
    findings = {
        LintFinding(str(m.filename), m.linenumber, m.rule.id, m.message.replace("\n", " "))
        for m in matches
    }
    return sorted(findings, key=lambda f: (f.file, f.line, f.rule, f.message))
