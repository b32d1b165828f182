"""What a request cost: xAI reports it in USD ticks (``cost_in_usd_ticks``; 1 tick = 1e-10
USD, the unit of its prices too), and every usage record that carries it also says it in
dollars, as ``cost_usd``. One conversion serves them all, the fan-out's sum and the model
catalogue's prices."""

from __future__ import annotations

from .._constants import USD_TICKS

__all__ = ["CostInTicks", "ticks_to_usd"]


def ticks_to_usd(ticks: int | None) -> float | None:
    """US dollars from USD ticks (``10_000_000_000`` ticks are $1); None stays None."""
    return None if ticks is None else ticks / USD_TICKS


class CostInTicks:
    """Mixin of the usage records with xAI's ``cost_in_usd_ticks`` field: adds ``cost_usd``."""

    # No slots of its own: the attrs classes using it stay slotted.
    __slots__ = ()
    cost_in_usd_ticks: int | None

    @property
    def cost_usd(self) -> float | None:
        """What the request cost in US dollars, or None when the server sent no cost
        (``cost_in_usd_ticks`` / 10**10)."""
        return ticks_to_usd(self.cost_in_usd_ticks)
