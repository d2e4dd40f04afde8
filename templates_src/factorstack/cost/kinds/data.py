"""The data tier: RDS instance-hours and storage, ElastiCache node-hours.

Multi-AZ RDS runs a standby of the same class with its own copy of the storage, so both count
twice. ElastiCache bills every node: the primary and each replica.
"""

from __future__ import annotations

from factorstack.cost.kinds.registry import billed
from factorstack.cost.tree import Found, Tree, as_bool, as_int, literal
from factorstack.cost.usage import Assumptions, Usage

DEFAULT_STORAGE_TYPE = "gp2"  # RDS's default when neither StorageType nor Iops is given


@billed("AWS::RDS::DBInstance")
def database(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    props = found.properties
    engine = str(literal(props.get("Engine"), "mysql"))
    size = str(literal(props.get("DBInstanceClass"), "unknown"))
    multi_az = as_bool(props.get("MultiAZ"))
    copies = 2 if multi_az else 1
    storage_gb = as_int(props.get("AllocatedStorage"), 20)
    storage = str(literal(props.get("StorageType"), DEFAULT_STORAGE_TYPE))
    facts = (
        ("instance class", size),
        ("Multi-AZ", "yes" if multi_az else "no"),
        ("storage", f"{storage_gb} GB {storage}"),
    )
    where = "Multi-AZ: 2 instances" if multi_az else "Single-AZ"
    return [
        Usage(
            found.logical,
            "RDS instance",
            f"{size} instance-hours ({where})",
            f"rds.{engine}:{size}",
            assumptions.hours_per_month * copies,
            "instance-hour",
            facts=facts,
        ),
        Usage(
            found.logical,
            "RDS instance",
            f"{storage} storage ({storage_gb} GB{' x 2' if multi_az else ''})",
            f"rds.{storage}.gb_month",
            storage_gb * copies,
            "GB-month",
            facts=facts,
        ),
    ]


@billed("AWS::ElastiCache::ReplicationGroup")
def replication_group(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    props = found.properties
    groups = as_int(props.get("NumNodeGroups"), 0)
    if groups:
        nodes = groups * (as_int(props.get("ReplicasPerNodeGroup"), 0) + 1)
    else:
        nodes = as_int(props.get("NumCacheClusters"), 1)
    return _cache_nodes(found, assumptions, nodes)


@billed("AWS::ElastiCache::CacheCluster")
def cache_cluster(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    return _cache_nodes(found, assumptions, as_int(found.properties.get("NumCacheNodes"), 1))


def _cache_nodes(found: Found, assumptions: Assumptions, nodes: int) -> list[Usage]:
    engine = str(literal(found.properties.get("Engine"), "redis")).lower()
    size = str(literal(found.properties.get("CacheNodeType"), "unknown"))
    return [
        Usage(
            found.logical,
            "ElastiCache",
            f"{size} node-hours ({nodes} node{'' if nodes == 1 else 's'}, {engine})",
            f"elasticache.{engine}:{size}",
            assumptions.hours_per_month * nodes,
            "node-hour",
            facts=(("node type", size), ("nodes", str(nodes)), ("engine", engine)),
        )
    ]
