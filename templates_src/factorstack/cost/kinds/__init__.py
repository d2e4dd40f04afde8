"""Billed resource kinds, one small function each; importing the package registers them all."""

from factorstack.cost.kinds import compute, data, instances, network, operations
from factorstack.cost.kinds.registry import KINDS, billed, usages_of

__all__ = [
    "KINDS",
    "billed",
    "compute",
    "data",
    "instances",
    "network",
    "operations",
    "usages_of",
]
