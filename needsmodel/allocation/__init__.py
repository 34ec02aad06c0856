"""Allocation: need → need index → shares → kroner of a fixed budget.

Pools, criteria weights, transition rules, uncertainty of the keys and
scenario comparison.
"""

from .criteria import CriteriaWeights, criteria_weights
from .keys import KEY_COLUMNS, Allocation, allocate, need_index, target_amounts
from .policy import AllocationPolicy
from .rounding import largest_remainder
from .scenarios import compare_scenarios
from .transition import solve_bounded, transition_path
from .uncertainty import KeyUncertainty, key_uncertainty

__all__ = [
    "KEY_COLUMNS",
    "Allocation",
    "AllocationPolicy",
    "CriteriaWeights",
    "KeyUncertainty",
    "allocate",
    "compare_scenarios",
    "criteria_weights",
    "key_uncertainty",
    "largest_remainder",
    "need_index",
    "solve_bounded",
    "target_amounts",
    "transition_path",
]
