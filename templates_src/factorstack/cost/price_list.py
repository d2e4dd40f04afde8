"""The AWS Price List Query API, as plain data: which GetProducts query answers each price key,
and how to read the rate out of its answer.

Each PriceList entry is a JSON document: `product.attributes` (usagetype, regionCode, ...) and
`terms.OnDemand.<offer>.priceDimensions.<rate>.pricePerUnit.USD`. Usage types carry a region
prefix outside us-east-1 ("EU-NatGateway-Hours"), so a query filters on the part after it and
the answer is matched on it exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

RDS_ENGINES = {"mysql": "MySQL", "postgres": "PostgreSQL", "mariadb": "MariaDB"}
CACHE_ENGINES = {"valkey": "Valkey", "redis": "Redis", "memcached": "Memcached"}


@dataclass(frozen=True)
class Query:
    """One GetProducts question: a service, a usage type and the attributes that pin it."""

    service: str
    usagetype: str
    attributes: tuple[tuple[str, str], ...] = ()

    def filters(self, region: str) -> list[dict[str, str]]:
        """GetProducts Filters for this query in `region`."""
        filters = [
            {"Type": "EQUALS", "Field": "regionCode", "Value": region},
            {"Type": "CONTAINS", "Field": "usagetype", "Value": self.usagetype},
        ]
        filters += [{"Type": "EQUALS", "Field": k, "Value": v} for k, v in self.attributes]
        return filters

    def matches(self, usagetype: str) -> bool:
        """`EU-NatGateway-Hours` and `NatGateway-Hours` match; `EU-RegionalNatGateway-Hours`
        and `Fargate-ARM-GB-Hours` (for `Fargate-GB-Hours`) do not."""
        return usagetype == self.usagetype or usagetype.endswith(f"-{self.usagetype}")


ALB = (("productFamily", "Load Balancer-Application"),)
# An on-demand Linux instance on shared hardware, as billed (not a reservation's capacity row).
LINUX_SHARED = (
    ("operatingSystem", "Linux"),
    ("tenancy", "Shared"),
    ("preInstalledSw", "NA"),
    ("capacitystatus", "Used"),
)
FIXED: dict[str, Query] = {
    "fargate.vcpu_hour.X86_64": Query("AmazonECS", "Fargate-vCPU-Hours:perCPU"),
    "fargate.gb_hour.X86_64": Query("AmazonECS", "Fargate-GB-Hours"),
    "fargate.vcpu_hour.ARM64": Query("AmazonECS", "Fargate-ARM-vCPU-Hours:perCPU"),
    "fargate.gb_hour.ARM64": Query("AmazonECS", "Fargate-ARM-GB-Hours"),
    "nat.hour": Query("AmazonEC2", "NatGateway-Hours"),
    "ipv4.hour": Query("AmazonVPC", "PublicIPv4:InUseAddress"),
    "vpce.interface_hour": Query("AmazonVPC", "VpcEndpoint-Hours"),
    "alb.hour": Query("AWSELB", "LoadBalancerUsage", ALB),
    "alb.lcu_hour": Query("AWSELB", "LCUUsage", ALB),
    "rds.gp3.gb_month": Query("AmazonRDS", "RDS:GP3-Storage"),
    "rds.gp2.gb_month": Query("AmazonRDS", "RDS:GP2-Storage"),
    "secrets.month": Query("AWSSecretsManager", "AWSSecretsManager-Secrets"),
    "kms.key_month": Query("awskms", "KMS-Keys"),
    "logs.ingest_gb": Query("AmazonCloudWatch", "DataProcessing-Bytes"),
    "logs.store_gb_month": Query("AmazonCloudWatch", "TimedStorage-ByteHrs"),
    "cloudwatch.alarm_metric_month": Query("AmazonCloudWatch", "CW:AlarmMonitorUsage"),
    "ebs.gp3.gb_month": Query("AmazonEC2", "EBS:VolumeUsage.gp3"),
    "ebs.gp2.gb_month": Query("AmazonEC2", "EBS:VolumeUsage.gp2"),
}


def query_for(key: str) -> Query | None:
    """The query that prices `key`, or None for a key the Price List cannot answer."""
    if key in FIXED:
        return FIXED[key]
    family, _, size = key.partition(":")
    if family.startswith("rds.") and family[4:] in RDS_ENGINES:
        engine = RDS_ENGINES[family[4:]]
        single = (("databaseEngine", engine), ("deploymentOption", "Single-AZ"))
        return Query("AmazonRDS", f"InstanceUsage:{size}", single)
    if family == "ec2.instance":
        return Query("AmazonEC2", f"BoxUsage:{size}", LINUX_SHARED)
    if family.startswith("elasticache.") and family[12:] in CACHE_ENGINES:
        engine = CACHE_ENGINES[family[12:]]
        return Query("AmazonElastiCache", f"NodeUsage:{size}", (("cacheEngine", engine),))
    return None


def rate_from(price_list: Iterable[str | Mapping[str, Any]], query: Query) -> float | None:
    """The on-demand USD rate of the first product whose usage type is the query's."""
    for entry in price_list:
        product = json.loads(entry) if isinstance(entry, str) else entry
        attributes = product.get("product", {}).get("attributes", {})
        if query.matches(str(attributes.get("usagetype", ""))):
            rate = on_demand_rate(product)
            if rate is not None:
                return rate
    return None


def on_demand_rate(product: Mapping[str, Any]) -> float | None:
    """The first tier's rate (beginRange 0); a free-tier dimension at 0 gives way to a paid one."""
    rates: list[float] = []
    for offer in (product.get("terms", {}).get("OnDemand") or {}).values():
        for dimension in (offer.get("priceDimensions") or {}).values():
            if str(dimension.get("beginRange", "0")) in ("0", "0.0"):
                usd = dimension.get("pricePerUnit", {}).get("USD")
                if usd is not None:
                    rates.append(float(usd))
    return max(rates) if rates else None
