"""GetProducts answers shaped like the AWS Price List Query API's (FormatVersion aws_v1): each
PriceList entry is a JSON string with `product.attributes` and `terms.OnDemand`, the rate in
`priceDimensions.*.pricePerUnit.USD` as a 10-decimal string, usage types prefixed `EU-` in
eu-west-1. Written for the tests from AWS's documented format; the rates are eu-west-1's.
"""

from __future__ import annotations

import json
from typing import Any

PUBLICATION = "2026-11-20T10:00:00Z"

# (service code, usage type, unit, USD, extra attributes): what the sample's dev uses
EU_WEST_1: list[tuple[str, str, str, str, dict[str, str]]] = [
    ("AmazonECS", "EU-Fargate-vCPU-Hours:perCPU", "hours", "0.0404800000", {"cputype": "perCPU"}),
    ("AmazonECS", "EU-Fargate-GB-Hours", "hours", "0.0044450000", {"memorytype": "perGB"}),
    ("AmazonECS", "EU-Fargate-ARM-vCPU-Hours:perCPU", "hours", "0.0323800000", {}),
    ("AmazonECS", "EU-Fargate-ARM-GB-Hours", "hours", "0.0035600000", {}),
    ("AmazonEC2", "EU-NatGateway-Hours", "Hrs", "0.0480000000", {"operation": "NatGateway"}),
    ("AmazonEC2", "EU-RegionalNatGateway-Hours", "Hrs", "0.0999000000", {}),  # not zonal NAT
    ("AmazonVPC", "EU-PublicIPv4:InUseAddress", "Hrs", "0.0050000000", {}),
    (
        "AWSELB",
        "EU-LoadBalancerUsage",
        "Hrs",
        "0.0252000000",
        {"productFamily": "Load Balancer-Application"},
    ),
    ("AWSELB", "EU-LCUUsage", "LCU-Hrs", "0.0080000000", {}),
    (
        "AmazonRDS",
        "EU-InstanceUsage:db.t4g.micro",
        "Hrs",
        "0.0170000000",
        {"databaseEngine": "MySQL", "deploymentOption": "Single-AZ"},
    ),
    ("AmazonRDS", "EU-RDS:GP3-Storage", "GB-Mo", "0.1270000000", {}),
    (
        "AmazonElastiCache",
        "EU-NodeUsage:cache.t4g.micro",
        "Hrs",
        "0.0140800000",
        {"cacheEngine": "Valkey"},
    ),
    ("AWSSecretsManager", "EU-AWSSecretsManager-Secrets", "Secrets", "0.4000000000", {}),
    ("awskms", "EU-KMS-Keys", "Keys", "1.0000000000", {}),
    ("AmazonCloudWatch", "EU-DataProcessing-Bytes", "GB", "0.5700000000", {}),
    ("AmazonCloudWatch", "EU-TimedStorage-ByteHrs", "GB-Mo", "0.0300000000", {}),
    ("AmazonCloudWatch", "EU-CW:AlarmMonitorUsage", "Alarms", "0.1000000000", {}),
    (
        "AmazonEC2",
        "EU-BoxUsage:t4g.nano",
        "Hrs",
        "0.0046000000",
        {"instanceType": "t4g.nano", "operatingSystem": "Linux", "tenancy": "Shared"},
    ),
    ("AmazonEC2", "EU-EBS:VolumeUsage.gp3", "GB-Mo", "0.0880000000", {"volumeApiName": "gp3"}),
]


def product(
    service: str, usagetype: str, unit: str, usd: str, extra: dict[str, str], region: str
) -> str:
    """One PriceList entry, as the JSON string AWS sends."""
    sku = f"SKU{abs(hash((service, usagetype))) % 10**10:010d}"
    term = f"{sku}.JRTCKXETXF"
    document: dict[str, Any] = {
        "product": {
            "productFamily": extra.get("productFamily", "Compute"),
            "attributes": {
                "regionCode": region,
                "servicecode": service,
                "usagetype": usagetype,
                "location": "EU (Ireland)",
                **{k: v for k, v in extra.items() if k != "productFamily"},
            },
            "sku": sku,
        },
        "serviceCode": service,
        "terms": {
            "OnDemand": {
                term: {
                    "priceDimensions": {
                        f"{term}.6YS6EN2CT7": {
                            "unit": unit,
                            "endRange": "Inf",
                            "description": f"{usagetype} per {unit}",
                            "appliesTo": [],
                            "rateCode": f"{term}.6YS6EN2CT7",
                            "beginRange": "0",
                            "pricePerUnit": {"USD": usd},
                        }
                    },
                    "sku": sku,
                    "effectiveDate": "2026-11-01T00:00:00Z",
                    "offerTermCode": "JRTCKXETXF",
                    "termAttributes": {},
                }
            }
        },
        "version": "20261120100000",
        "publicationDate": PUBLICATION,
    }
    return json.dumps(document)


def answer(service: str, region: str = "eu-west-1") -> dict[str, Any]:
    """A GetProducts response holding every recorded product of one service."""
    entries = [
        product(code, usage, unit, usd, extra, region)
        for code, usage, unit, usd, extra in EU_WEST_1
        if code == service
    ]
    return {"FormatVersion": "aws_v1", "PriceList": entries}
