"""What an environment uses in a month, before any price: one Usage per resource and line item.

Quantities are per month at the lowest and the highest task count, so one estimate answers
both "what does it cost idle" and "what does it cost at full scale". Traffic is never guessed:
what depends on it (load balancer LCUs, NAT data, data transfer) is named in the assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOURS_PER_MONTH = 730.0  # AWS's own convention for a month of an always-on resource
LOG_GB_PER_GROUP = 1.0  # GB a log group ingests a month: a stated guess, not a measurement
# A group only a Lambda function writes (the release runner, secret rotation) gets a few lines
# per deploy or rotation: 10 MB a month is generous, where 1 GB would bill what never happens.
LOG_GB_PER_FUNCTION_GROUP = 0.01
NEVER_EXPIRES_DAYS = 365  # a log group kept forever is counted as one year's worth stored


@dataclass(frozen=True)
class Assumptions:
    """What the estimate assumes; every field is printed with the estimate."""

    hours_per_month: float = HOURS_PER_MONTH
    log_gb_per_group: float = LOG_GB_PER_GROUP
    log_gb_per_function_group: float = LOG_GB_PER_FUNCTION_GROUP

    def lines(self) -> list[str]:
        return [
            f"{self.hours_per_month:g} hours a month; every resource runs all month",
            "Fargate at each service's minimum and maximum task count (`min-max`)",
            f"CloudWatch Logs: {self.log_gb_per_group:g} GB ingested a month per log group, "
            f"{self.log_gb_per_function_group:g} GB per group only a Lambda function writes "
            "(it runs per deploy or per rotation), stored for its retention (never-expiring "
            "groups: one year)",
            "alarms: standard resolution, billed per metric they read",
            "not included: traffic (load balancer LCUs, NAT data processing, data transfer), "
            "Container Insights metrics, backups beyond the free allowance, ECR and S3 storage, "
            "the release phase's one-off task, secrets the app reads but does not create, "
            "taxes, credits and Savings Plans",
        ]


@dataclass(frozen=True)
class Usage:
    """One billed quantity of one resource, e.g. web's vCPU-hours.

    `resource` is the name the line is shown under (a process, or a logical id) and what a
    cost delta matches old and new by; `facts` are the sizes a delta names when they change.
    """

    resource: str
    kind: str  # what the resource is, for people: "Fargate service", "NAT gateway"
    item: str  # the line item: "vCPU-hours (X86_64)"
    price: str  # key into the price table (prices.py)
    quantity: float  # units a month at the minimum task count
    unit: str
    quantity_max: float | None = None  # at the maximum task count, when that differs
    tasks: tuple[int, int] | None = None  # (minimum, maximum) tasks of a service
    facts: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # A key whose rate bounds `price` from above, used when the book has no `price` (a Spot
    # share without a Spot rate for the region is priced at the on-demand rate).
    fallback: str | None = None

    @property
    def most(self) -> float:
        return self.quantity if self.quantity_max is None else self.quantity_max
