"""A requests/tokens-per-minute budget shared by every process through one Redis key.

Many workers (Ray tasks, processes, machines) that share one xAI team share its rate
limit. :class:`RedisRateLimiter` keeps the same token buckets as the in-process
:class:`~grok_async._budget.RateBudget` (refilled at ``per_minute / 60`` per second,
holding one second's worth, lending to one large request), but in a Redis hash updated by
a Lua script, so a draw is atomic across every client of the key. The script reads the
Redis server's clock, so the workers' clocks never need to agree.

The hash also holds a pause: a worker that is answered 429 with a Retry-After stores
"nobody starts before then", and every acquire of every worker waits it out.

``redis`` (redis-py) is imported on first use, never by ``import grok_async``.
"""

from __future__ import annotations

import asyncio
import functools
import time
import urllib.parse
import weakref
from typing import TYPE_CHECKING, Any

from ._ratelimit import RateLimiterError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisRateLimiter"]

# One script for the three operations, so every change to the hash is one atomic step.
# KEYS[1]: the hash: r, t (request and token balances), rts, tts (when each was last
# brought up to date) and p (the end of the shared pause), in seconds of the Redis clock.
# ARGV: operation ("draw", "settle" or "pause"), requests/s, request capacity, tokens/s,
# token capacity, tokens to draw, token correction, pause seconds. A rate of 0 means that
# budget is off for this caller, which then leaves its fields alone. Returns the seconds to
# wait before trying again ("draw": 0 when drawn) or the pause left ("pause"), as a
# string: a Lua number would reach the client truncated to an integer.
_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local op = ARGV[1]
local r_rate, r_cap = tonumber(ARGV[2]), tonumber(ARGV[3])
local t_rate, t_cap = tonumber(ARGV[4]), tonumber(ARGV[5])
local want, correction, pause_for = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local state = redis.call('HMGET', KEYS[1], 'r', 'rts', 't', 'tts', 'p')
local function refilled(balance, updated, rate, cap)
  if balance == nil then return cap end
  return math.min(cap, balance + math.max(0, now - (updated or now)) * rate)
end
local r = r_rate > 0 and refilled(tonumber(state[1]), tonumber(state[2]), r_rate, r_cap)
local t = t_rate > 0 and refilled(tonumber(state[3]), tonumber(state[4]), t_rate, t_cap)
if t then t = math.min(t_cap, t - correction) end
local pause = tonumber(state[5]) or 0
local result = 0
if op == 'pause' then
  pause = math.max(pause, now + pause_for)
  result = pause - now
elseif op == 'draw' then
  if pause > now then
    result = pause - now
  else
    if r and r < 1 then result = (1 - r) / r_rate end
    local need = math.min(want, t_cap)
    if t and t < need then result = math.max(result, (need - t) / t_rate) end
    if result == 0 then
      if r then r = r - 1 end
      if t then t = t - want end
    end
  end
end
local fmt = '%.17g'
local fields = {'p', string.format(fmt, pause)}
-- The hash expires once this caller's budgets would be full again and no pause is left
-- (a later caller then starts from full buckets, which is what it would have found).
local idle = math.max(pause - now, 0)
if r then
  idle = math.max(idle, (r_cap - r) / r_rate)
  for _, v in ipairs({'r', string.format(fmt, r), 'rts', string.format(fmt, now)}) do
    table.insert(fields, v)
  end
end
if t then
  idle = math.max(idle, (t_cap - t) / t_rate)
  for _, v in ipairs({'t', string.format(fmt, t), 'tts', string.format(fmt, now)}) do
    table.insert(fields, v)
  end
end
redis.call('HSET', KEYS[1], unpack(fields))
local ttl = math.ceil((idle + 60) * 1000)
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
-- A draw says explicitly that it drew (-1): a tiny wait must never round to "drawn".
if op == 'draw' and result == 0 then return '-1' end
return string.format(fmt, result)
"""


@functools.cache
def _script_sha() -> str:
    # hashlib is imported on first use: loading OpenSSL would add to `import grok_async`.
    import hashlib

    return hashlib.sha1(_SCRIPT.encode()).hexdigest()


def _redacted(url: str) -> str:
    """The URL without its password (it may appear in a repr or an error message)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


# How long calls fail at once after Redis failed (then the next call tries again).
_FAIL_FAST_SECONDS = 1.0


class _Connection:
    """The Redis client of one event loop (redis-py connections belong to their loop)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        # One draw at a time per process: waiters queue here instead of all polling Redis.
        self.lock = asyncio.Lock()
        # After a failure, calls fail at once for a moment instead of each waiting out
        # the socket timeout in turn behind the lock (a dead Redis would otherwise take
        # timeout x queued requests to report).
        self.failed: tuple[float, str] | None = None


class RedisRateLimiter:
    """A :class:`RateLimiter` kept in Redis: one budget shared by every process using ``key``.

    Pass it as ``rate_limit=`` to :meth:`~grok_async.resources.chat.Completions.create_many`,
    :meth:`~grok_async.resources.chat.Completions.iter_many` or
    ``grok_async.contrib.ray.map_completions``: every request of every worker draws one
    request and its estimated tokens from the budget, and a 429 with Retry-After seen by
    any worker pauses them all. Every sharer should give the same budgets; with neither
    budget the limiter only shares the server's pauses. Close it with :meth:`aclose` (or
    ``async with``) in each event loop that used it.

    Example::

        limiter = RedisRateLimiter("redis://redis.internal:6379/0", requests_per_minute=600)
        results = await client.chat.completions.create_many(requests, rate_limit=limiter)

    The limiter can be pickled (for Ray workers): the copy connects on first use.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` or ``unix://``.
        requests_per_minute: requests allowed per minute across every sharer.
        tokens_per_minute: tokens likewise (estimated before each request, corrected from
            its ``usage``; a correction travels with this process's next draw).
        key: the Redis key holding the budget; different keys are independent budgets.
        timeout: seconds to connect to Redis and for each command.

    Raises:
        ValueError: a budget <= 0, an empty key or a URL that is not a Redis URL.
    """

    def __init__(
        self,
        url: str,
        *,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        key: str = "grok_async:rate",
        timeout: float = 5.0,
    ) -> None:
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("redis", "rediss", "unix"):
            raise ValueError(
                f"not a Redis URL: {_redacted(url)!r} (expected redis://, rediss:// or unix://)"
            )
        for name, value in (
            ("requests_per_minute", requests_per_minute),
            ("tokens_per_minute", tokens_per_minute),
        ):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0 or None, got {value!r}")
        if not key:
            raise ValueError("key must be a non-empty string")
        self._url = url
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.key = key
        self.timeout = timeout
        self._correction = 0
        self._connections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Connection] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return (
            f"RedisRateLimiter({_redacted(self._url)!r}, "
            f"requests_per_minute={self.requests_per_minute!r}, "
            f"tokens_per_minute={self.tokens_per_minute!r}, key={self.key!r})"
        )

    # A copy sent to another process reconnects there: connections do not travel.
    def __getstate__(self) -> dict[str, Any]:
        return {
            "url": self._url,
            "requests_per_minute": self.requests_per_minute,
            "tokens_per_minute": self.tokens_per_minute,
            "key": self.key,
            "timeout": self.timeout,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        url = state.pop("url")
        self.__init__(url, **state)  # type: ignore[misc]

    # -- the RateLimiter protocol ---------------------------------------------------------------

    async def acquire(self, tokens: int) -> None:
        """Wait until one request and ``tokens`` tokens fit the shared budget, then draw them.

        Raises:
            RateLimiterError: Redis is unreachable or refused the command.
        """
        connection = self._connection()
        async with connection.lock:
            while True:
                wait = await self._run(connection, "draw", tokens=tokens)
                if wait < 0.0:  # the script's "drawn"; any wait, however small, is not
                    return
                await asyncio.sleep(wait)

    def settle(self, estimated: int, actual: int) -> None:
        """Correct the tokens drawn for a request; sent with this process's next call."""
        if self.tokens_per_minute:
            self._correction += actual - estimated

    async def pause(self, seconds: float) -> None:
        """Make every sharer's :meth:`acquire` wait ``seconds`` from now (Redis' clock)."""
        if seconds > 0:
            await self._run(self._connection(), "pause", pause=seconds)

    # -- inspection and lifecycle ---------------------------------------------------------------

    async def paused_for(self) -> float:
        """Seconds left of the shared pause (0.0 if none); also sends pending corrections."""
        return await self._run(self._connection(), "pause", pause=0.0)

    async def flush(self) -> None:
        """Send the token corrections not yet sent (they otherwise go with the next draw)."""
        if self._correction:
            await self._run(self._connection(), "settle")

    async def aclose(self) -> None:
        """Send pending corrections and close this event loop's connection to Redis."""
        loop = asyncio.get_running_loop()
        connection = self._connections.get(loop)
        if connection is None:
            return
        try:
            await self.flush()
        finally:
            del self._connections[loop]
            await connection.redis.aclose()

    async def __aenter__(self) -> RedisRateLimiter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- internals ------------------------------------------------------------------------------

    def _connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        connection = self._connections.get(loop)
        if connection is None:
            try:
                import redis.asyncio
            except ImportError:
                raise ImportError(
                    "RedisRateLimiter needs the redis package: pip install 'grok-async[redis]'"
                ) from None
            client = redis.asyncio.from_url(
                self._url,
                socket_connect_timeout=self.timeout,
                socket_timeout=self.timeout,
                decode_responses=True,
            )
            connection = self._connections[loop] = _Connection(client)
        return connection

    async def _run(
        self, connection: _Connection, op: str, *, tokens: int = 0, pause: float = 0.0
    ) -> float:
        """Run the script once; returns its answer in seconds."""
        from redis.exceptions import NoScriptError, RedisError

        if connection.failed is not None:
            failed_at, message = connection.failed
            if time.monotonic() - failed_at < _FAIL_FAST_SECONDS:
                raise RateLimiterError(f"{message} (not retried for {_FAIL_FAST_SECONDS:g} s)")
            connection.failed = None
        correction, self._correction = self._correction, 0
        args = (op, *self._rates(), tokens, correction, pause)
        try:
            try:
                reply = await connection.redis.evalsha(_script_sha(), 1, self.key, *args)
            except NoScriptError:
                # First use on this server (or after SCRIPT FLUSH): EVAL also caches it.
                reply = await connection.redis.eval(_SCRIPT, 1, self.key, *args)
        except (RedisError, OSError) as exc:
            self._correction += correction  # not applied: keep it for the next call
            error = self._error(exc)
            connection.failed = (time.monotonic(), error.message)
            raise error from None
        # (Cancelled mid-command, the correction is dropped: the command may have run, and
        # a correction applied twice would be worse than one lost.)
        return float(reply)

    def _rates(self) -> tuple[float, float, float, float]:
        """Per-second rates and capacities (one second's worth, at least one) of both budgets."""
        rates: list[float] = []
        for per_minute in (self.requests_per_minute, self.tokens_per_minute):
            per_second = per_minute / 60.0 if per_minute else 0.0
            rates += [per_second, max(1.0, per_second)]
        return rates[0], rates[1], rates[2], rates[3]

    def _error(self, exc: BaseException) -> RateLimiterError:
        message = str(exc)
        password = urllib.parse.urlsplit(self._url).password
        if password:
            message = message.replace(password, "***")
        return RateLimiterError(
            f"The shared rate limit {self.key!r} at {_redacted(self._url)} cannot be used: "
            f"{type(exc).__name__}: {message}"
        )
