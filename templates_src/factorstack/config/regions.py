"""Who writes a load balancer's access logs into its bucket, per region: the one place for it.

Source: Elastic Load Balancing User Guide, "Enable access logs for your Application Load
Balancer", step "Attach a policy to your S3 bucket"
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html),
read 2026-11. Regions available before August 2022 grant an Elastic Load Balancing account of
the region; regions available since then grant the log-delivery service principal instead.
"""

from __future__ import annotations

# The ELB account that writes access logs, for each region available before August 2022.
ELB_LOG_ACCOUNT_BY_REGION = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
}
# Regions opened since August 2022 (as of 2026-11): their logs are written by the service
# principal logdelivery.elasticloadbalancing.amazonaws.com (stacks/edge.py grants it).
ELB_LOG_DELIVERY_SERVICE_REGIONS = frozenset(
    {
        "ap-south-2",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ap-east-2",
        "ca-west-1",
        "eu-central-2",
        "eu-south-2",
        "il-central-1",
        "me-central-1",
        "mx-central-1",
    }
)


def known_region(region: str) -> bool:
    """A region whose access-log writer factorstack knows (a typo, or a region it has not met)."""
    return region in ELB_LOG_ACCOUNT_BY_REGION or region in ELB_LOG_DELIVERY_SERVICE_REGIONS


def elb_log_account(region: str) -> str | None:
    """The ELB account that writes the region's access logs; None: the service principal does."""
    return ELB_LOG_ACCOUNT_BY_REGION.get(region)
