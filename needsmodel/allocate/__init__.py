"""Allocation: need → need index → shares → kroner of a fixed budget."""

from .keys import KEY_COLUMNS, Allocation, allocate, need_index
from .rounding import largest_remainder

__all__ = ["KEY_COLUMNS", "Allocation", "allocate", "largest_remainder", "need_index"]
