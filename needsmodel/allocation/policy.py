"""Allocation policy: how a budget is split into pools and how fast units move."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import AllocationError
from .transition import TRANSITION_RULES, TransitionPath, first_year_amounts, transition_path

__all__ = ["MAX_BUDGET", "AllocationPolicy"]

#: Largest budget in kroner that every sum and rounding handles exactly (2^53).
MAX_BUDGET = 2**53
#: Longest phase-in in years.
MAX_PHASE_IN = 50


@dataclass(frozen=True)
class AllocationPolicy:
    """The rules that turn need into kroner.

    Parameters
    ----------
    budget : int
        The fixed budget (kr); a multiple of ``round_to``.
    round_to : int
        Amounts are multiples of this many kroner.
    base_per_unit : float
        Base pool: a fixed amount per unit (kr), whatever its size or need.
    per_capita_pct : float
        Per-capita pool as a percentage of the budget, split by exposure.
    per_capita_amount : float, optional
        Alternatively, the per-capita pool as kroner per unit of exposure.
    max_loss_pct : float, optional
        Floor: no unit gets less than its current budget minus this percentage.
    max_gain_pct : float, optional
        Cap: no unit gets more than its current budget plus this percentage.
    equalisation_pct : float
        Move only this percentage of the way from the current budget (scaled to
        the new budget) to the target; 100 moves all the way.
    phase_in_years : int
        Reach the target in equal steps over this many years; this year's
        allocation is the first step.
    frames : tuple of int
        Several budget years: the frame of each (fixed prices), the first equal
        to ``budget``; the transition runs year by year against each frame.
    labels : tuple of str
        Year labels of ``frames`` (calendar years), e.g. ``("2027", "2028")``.
    transition_rule : {"pace", "proportional"}
        ``"pace"`` (default): every unit moves toward its target and never
        past it; floors are paid by slowing the gainers, money freed by caps
        slows the losers (see :mod:`needsmodel.allocation.pace`).
        ``"proportional"``: the former rule, one common factor on every
        unit's desired amount, which can move a unit near its target away
        from it to pay for others' floors and caps.

    current_price_factor : float
        Factor that lifts the current budget into the first budget year's
        prices before floors, caps and the pace of change apply (the price
        and wage index of the budget year over that of the current budget's
        year): with a price index, "lose at most 5 %" means 5 % in fixed
        prices. 1 applies them to the nominal current budget.

    needs_amount : float, optional
        A needs pool of fixed size (kr), e.g. kroner per counted person times
        the persons counted (``criteria_amounts``): every unit is paid its
        need as stated, and the per-capita pool takes what the base and needs
        pools leave of the budget.

    The needs pool is what is left: ``budget - base pool - per-capita pool``
    (unless ``needs_amount`` fixes it).

    Examples
    --------
    >>> AllocationPolicy(1_000_000, base_per_unit=10_000).has_transition
    False
    >>> AllocationPolicy(1_000_000, max_loss_pct=2).has_transition
    True
    """

    budget: int
    round_to: int = 1
    base_per_unit: float = 0.0
    per_capita_pct: float = 0.0
    per_capita_amount: float | None = None
    max_loss_pct: float | None = None
    max_gain_pct: float | None = None
    equalisation_pct: float = 100.0
    phase_in_years: int = 1
    transition_rule: str = "pace"
    frames: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    current_price_factor: float = 1.0
    needs_amount: float | None = None

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> AllocationError:
            return AllocationError(
                f"{name} must be {expected}; got {getattr(self, name)!r}", field=name
            )

        for name in ("budget", "round_to", "base_per_unit", "per_capita_pct", "equalisation_pct"):
            v = getattr(self, name)
            if not isinstance(v, int | float | np.integer | np.floating) or not np.isfinite(v):
                raise bad(name, "a finite number")
        for name in ("per_capita_amount", "max_loss_pct", "max_gain_pct"):
            v = getattr(self, name)
            if v is not None and (
                not isinstance(v, int | float | np.integer | np.floating) or not np.isfinite(v)
            ):
                raise bad(name, "a finite number")
        if int(self.budget) != self.budget or self.budget < 0:
            raise bad("budget", "a non-negative whole number of kroner")
        if self.budget > MAX_BUDGET:
            raise bad("budget", f"at most {MAX_BUDGET:,} kr (2^53, exact in whole kroner)")
        if int(self.round_to) != self.round_to or self.round_to <= 0:
            raise bad("round_to", "a positive whole number of kroner")
        if self.budget % self.round_to:
            raise AllocationError(
                f"budget {self.budget} is not a multiple of round_to {self.round_to}, so rounded "
                "amounts cannot sum to it exactly"
            )
        if self.base_per_unit < 0:
            raise bad("base_per_unit", "zero or more kroner")
        if not 0 <= self.per_capita_pct <= 100:
            raise bad("per_capita_pct", "between 0 and 100")
        if self.per_capita_amount is not None:
            if self.per_capita_amount < 0:
                raise bad("per_capita_amount", "zero or more kroner")
            if self.per_capita_pct:
                raise AllocationError("give per_capita_pct or per_capita_amount, not both")
        if self.needs_amount is not None:
            v = self.needs_amount
            if not isinstance(v, int | float | np.integer | np.floating) or not np.isfinite(v):
                raise bad("needs_amount", "a finite number")
            if v < 0:
                raise bad("needs_amount", "zero or more kroner")
            if self.per_capita_pct or self.per_capita_amount is not None:
                raise AllocationError(
                    "a needs pool of fixed size (criteria_amounts) leaves the rest of the budget "
                    "to the per-capita pool; give neither per_capita_pct nor per_capita_amount",
                    field="criteria_amounts",
                )
        f = self.current_price_factor
        if (
            not isinstance(f, int | float | np.integer | np.floating)
            or not np.isfinite(f)
            or f <= 0
        ):
            raise bad("current_price_factor", "a positive finite number")
        if self.max_loss_pct is not None and not 0 <= self.max_loss_pct <= 100:
            raise bad("max_loss_pct", "between 0 and 100")
        if self.max_gain_pct is not None and self.max_gain_pct < 0:
            raise bad("max_gain_pct", "zero or more")
        if not 0 < self.equalisation_pct <= 100:
            raise bad("equalisation_pct", "above 0 and at most 100")
        if (
            int(self.phase_in_years) != self.phase_in_years
            or not 1 <= self.phase_in_years <= MAX_PHASE_IN
        ):
            raise bad("phase_in_years", f"a whole number of years from 1 to {MAX_PHASE_IN}")
        if self.frames:
            if any(int(f) != f or f <= 0 or f > MAX_BUDGET for f in self.frames):
                raise bad("frames", f"positive whole numbers of kroner up to {MAX_BUDGET:,}")
            if int(self.frames[0]) != int(self.budget):
                raise AllocationError(
                    f"the first year's frame ({int(self.frames[0]):,} kr) must be the budget "
                    f"({int(self.budget):,} kr)"
                )
            odd = [int(f) for f in self.frames if int(f) % self.round_to]
            if odd:
                raise AllocationError(
                    f"frames must be multiples of round_to {self.round_to}; got {odd[0]:,}"
                )
        if self.labels and len(self.labels) != self.n_years:
            raise AllocationError(
                f"labels name {len(self.labels)} years, but the policy has {self.n_years}"
            )
        if self.transition_rule not in TRANSITION_RULES:
            raise bad("transition_rule", f"one of {', '.join(map(repr, TRANSITION_RULES))}")
        if self.phase_in_years > 1 and self.equalisation_pct < 100:
            raise AllocationError(
                "give phase_in_years or equalisation_pct below 100, not both: phase-in reaches "
                "the target, equalisation deliberately stops short of it"
            )

    @property
    def has_caps(self) -> bool:
        """Whether a floor or a cap applies."""
        return self.max_loss_pct is not None or self.max_gain_pct is not None

    @property
    def n_years(self) -> int:
        """Number of budget years: the frames given, or the phase-in years."""
        return max(len(self.frames), self.phase_in_years, 1)

    @property
    def year_frames(self) -> tuple[int, ...]:
        """The frame of every budget year (the last frame repeated after the frames given)."""
        given = tuple(int(f) for f in self.frames) or (int(self.budget),)
        return given + (given[-1],) * (self.n_years - len(given))

    @property
    def year_labels(self) -> tuple[str, ...]:
        """Labels of the budget years (``year_1`` ... without calendar years)."""
        if self.labels:
            return tuple(self.labels)
        return tuple(f"year_{t + 1}" for t in range(self.n_years))

    @property
    def has_transition(self) -> bool:
        """Whether any rule moves units only part of the way, or bounds their change."""
        return self.has_caps or self.equalisation_pct < 100 or self.phase_in_years > 1

    def _rules(self) -> dict[str, Any]:
        """The transition rules, as keyword arguments of the transition functions."""
        return {
            "years": self.phase_in_years,
            "equalisation_pct": self.equalisation_pct,
            "max_loss_pct": self.max_loss_pct,
            "max_gain_pct": self.max_gain_pct,
            "round_to": self.round_to,
            "rule": self.transition_rule,
        }

    def path(
        self, target: np.ndarray, current: np.ndarray, priority: np.ndarray | None = None
    ) -> TransitionPath:
        """This policy's transition path from ``current`` toward ``target``.

        ``target`` is one row (scaled to each year's frame) or one row per
        year. See :func:`needsmodel.allocation.transition.transition_path`.
        """
        frames = np.asarray(self.year_frames, dtype=float)
        return transition_path(
            target,
            self.current_in_prices(current),
            frames,
            priority=priority,
            labels=self.year_labels,
            **self._rules(),
        )

    def current_in_prices(self, current: np.ndarray) -> np.ndarray:
        """The current budget in the prices the transition rules use (see
        ``current_price_factor``)."""
        cur = np.asarray(current, dtype=float)
        return cur if self.current_price_factor == 1.0 else cur * self.current_price_factor

    def first_year(self, target: np.ndarray, current: np.ndarray) -> np.ndarray:
        """The unrounded first-year amounts of :meth:`path` (one ``target`` row), alone."""
        frames = np.asarray(self.year_frames, dtype=float)
        return first_year_amounts(target, self.current_in_prices(current), frames, **self._rules())

    @property
    def has_pools(self) -> bool:
        """Whether a base or per-capita pool is top-sliced."""
        return bool(self.base_per_unit or self.per_capita_pct or self.per_capita_amount)
