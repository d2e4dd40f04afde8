"""What an environment costs a month, read from its templates and priced from a dated table or
AWS's Price List. Pure: no AWS calls and no files but the shipped price table.

    usages(templates)  → what each resource uses (kinds/: one small function per billed type)
    priced(usages, book) → an Estimate by resource and line item
    compare(old, new)  → the per-resource delta a plan's review shows
"""

from factorstack.cost.delta import Change, CostDelta, compare, money
from factorstack.cost.estimate import Estimate, Line, price_keys, priced, usages
from factorstack.cost.prices import PriceBook, shipped
from factorstack.cost.usage import Assumptions, Usage

__all__ = [
    "Assumptions",
    "Change",
    "CostDelta",
    "Estimate",
    "Line",
    "PriceBook",
    "Usage",
    "compare",
    "money",
    "price_keys",
    "priced",
    "shipped",
    "usages",
]
