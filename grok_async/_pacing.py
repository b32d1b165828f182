"""The client's view of the server's budgets, and the gate every model call passes.

One :class:`Pacing` belongs to a client and its ``with_options`` copies: the last reading of
the ``X-Ratelimit-*`` headers per (base URL, model), and one :class:`~._pacer.Pacer` per
(base URL, model) that starts that model's attempts in submission order, no faster than the
readings allow. :meth:`Pacing.gate` wraps one call's attempt function: each attempt waits its
turn, and its response (or its 429) is read back into the pacer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import APIStatusError, BudgetWaitError
from ._pacer import Pacer, Ticket
from ._ratelimits import RateLimits, read_rate_limits

if TYPE_CHECKING:
    from ._ratelimit import RateLimiter

__all__ = ["Gate", "Pacing"]


# xAI's texts for a spent budget: "Too many requests for team <id> and model <m>. Your
# team's rate limit is — Requests per Minute (actual/limit): 301/300" (or tokens).
_SPENT = re.compile(
    r"(requests|tokens) per minute \(actual/limit\)|too many (requests|tokens) for team"
)


def _spent_by_text(message: str) -> str | None:
    """Which budget a 429's text says ran out, when it is xAI's text for that."""
    found = _SPENT.search(message.lower())
    return None if found is None else (found.group(1) or found.group(2))


class Pacing:
    """Readings and pacers of one client family (a client and its copies)."""

    def __init__(self, period: float) -> None:
        # Checked by the client (_settings.check_seconds), its only maker.
        self.period = period
        self._readings: dict[tuple[str, str | None], RateLimits] = {}
        self._pacers: dict[tuple[str, str], Pacer] = {}

    def reading(self, base_url: str, model: str | None) -> RateLimits | None:
        """The last reading for ``model`` (``None``: of any model) at ``base_url``."""
        return self._readings.get((base_url, model))

    def note(
        self, base_url: str, model: str | None, headers: Mapping[str, str]
    ) -> RateLimits | None:
        """Keep what a response's headers say of the budgets; returns the reading."""
        state = read_rate_limits(headers, model)
        if state is not None:
            self._readings[(base_url, None)] = state
            if model is not None:
                self._readings[(base_url, model)] = state
        return state

    def pacer(self, base_url: str, model: str) -> Pacer:
        key = (base_url, model)
        pacer = self._pacers.get(key)
        if pacer is None:
            pacer = self._pacers[key] = Pacer(self.period)
        return pacer

    def gate(
        self,
        base_url: str,
        model: str,
        tokens: int,
        budget: RateLimiter | None = None,
        max_wait: float | None = None,
    ) -> Gate:
        """The gate of one call of ``model`` estimated at ``tokens`` tokens (drawing from
        ``budget`` too, a configured requests/tokens-per-minute share, if given), waiting
        at most ``max_wait`` seconds for the budgets before an attempt (``None``: as long
        as they need)."""
        return Gate(self, base_url, model, tokens, budget, max_wait)


_Attempt = Callable[..., Awaitable[Any]]
T = TypeVar("T")


class Gate:
    """One call's way through its model's pacer: a place in line kept across retries.

    With a configured budget, each attempt draws from it first (the first one the call's
    estimated tokens, retries none: tokens are spent only by the attempt answered), and
    :meth:`settle` corrects both the pacer and the budget from the answer's usage.
    """

    __slots__ = (
        "_base_url",
        "_budget",
        "_max_wait",
        "_model",
        "_pacer",
        "_pacing",
        "seq",
        "ticket",
        "tokens",
    )

    def __init__(
        self,
        pacing: Pacing,
        base_url: str,
        model: str,
        tokens: int,
        budget: RateLimiter | None = None,
        max_wait: float | None = None,
    ) -> None:
        self._pacing = pacing
        self._budget = budget
        self._max_wait = max_wait
        self._base_url = base_url
        self._model = model
        self._pacer = pacer = pacing.pacer(base_url, model)
        self.seq = pacer.next_seq()
        self.tokens = tokens
        #: The last attempt's ticket (``None`` before the first started).
        self.ticket: Ticket | None = None

    def wrap(self, once: _Attempt) -> _Attempt:
        """``once`` started through the pacer, its outcome read back into it."""

        async def gated(*args: Any) -> Any:
            pacer = self._pacer
            budget = self._budget
            if budget is not None:
                await self._within(budget.acquire(self.tokens if self.ticket is None else 0))
            ticket = pacer.start_now(self.tokens, self.seq)
            if ticket is None:
                ticket = await self._within(pacer.start(self.tokens, self.seq))
            self.ticket = ticket
            try:
                response = await once(*args)
            except APIStatusError as exc:
                state = self._pacing.note(self._base_url, self._model, exc.headers)
                if exc.status_code != 429:
                    pacer.done(ticket)
                elif pacer.refused(ticket, state, _spent_by_text(exc.message)):
                    # The pacer holds every call of the model back until the budget
                    # refills: the retry needs no wait of its own on top of that.
                    exc.budget_spent = True
                raise
            except BaseException:
                pacer.done(ticket)
                raise
            pacer.succeeded(
                ticket, self._pacing.note(self._base_url, self._model, response.headers)
            )
            return response

        return gated

    async def _within(self, waiting: Awaitable[T]) -> T:
        """``waiting``, given up with :class:`BudgetWaitError` after ``max_wait`` seconds
        (the pacer and the budget take a cancelled waiter out of their lines)."""
        if self._max_wait is None:
            return await waiting
        try:
            return await asyncio.wait_for(waiting, self._max_wait)
        except asyncio.TimeoutError:
            raise BudgetWaitError(
                f"The rate-limit budget for {self._model} is spent and would not allow this "
                f"request within max_budget_wait={self._max_wait:g} s, so it failed at once "
                "without being sent. Retry later, or raise max_budget_wait (None waits as "
                "long as the budget needs).",
                status_code=429,
            ) from None

    def settle(self, total_tokens: object) -> None:
        """Correct the last attempt's drawn tokens to what its answer used (``None``, no
        usage came: the estimate stands)."""
        if self.ticket is None or not isinstance(total_tokens, int):
            return
        self._pacer.settle(self.ticket, total_tokens)
        if self._budget is not None:
            self._budget.settle(self.tokens, total_tokens)
