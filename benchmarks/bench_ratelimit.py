"""Rate limits: a fan-out of N requests through a rate-limited emulator, four clients.

Every run sends the same N chat completions (default 2,000; ``--quick``: 200), each with a
unique id in its prompt (``#17 Describe the sea ...``), at concurrency C (64, and 256 for
some scenarios) to a fresh FakeGrok that enforces xAI's per-minute budgets with a scaled
minute (``--minute``, default 2 s, ``--quick`` 0.4 s: ``time_scale = minute / 60``).
The emulator runs in a **separate process** pinned to core 0 (the clients run here, on
core 1), so a busy client does not slow the server's clock-keeping and the server's work
is not billed to the client; it answers every admitted request after ``latency`` with a
scripted reply that echoes the id (``answer to #17: ...``) and counts the answers per id.

Clients (all with a connection pool of C):

* ``grok_async``: ``AsyncGrok(api_key="bench", base_url=..., rate_limit_period=minute,
  max_connections=C)`` and ``create_many(requests, concurrency=C, return_exceptions=True)``:
  whatever the client does on its own from the ``X-Ratelimit-*`` headers and 429s.
* ``grok_async + budget``: the same with ``requests_per_minute``/``tokens_per_minute`` set
  to the server's limits. The client counts those per *real* minute, so with a scaled
  minute the configured value is ``limit * 60 / minute`` (= ``limit / time_scale``).
  Not run where no limit binds.
* ``AsyncOpenAI``: ``asyncio.Semaphore(C)`` + ``asyncio.gather`` over N ``create()`` calls,
  ``max_retries=2`` as shipped (its own backoff: 0.5 s doubling, or ``retry-after-ms``).
* ``reference``: a minimal header pacer written here (``HeaderPacer``, raw aiohttp, C
  workers): it keeps, per budget, a level = the newest reading's remaining - what it
  started since the attempt that carried that reading + elapsed * limit / minute, never
  above what the budget was seen to hold (the largest remaining reported + 1, at most the
  limit), and starts requests first come first served (a retry keeps its place) while the
  level covers one request and its estimated tokens (body bytes / 4 + ``max_tokens``). A
  429 whose own headers show a budget spent empties that budget for a probe delay (one
  request's refill time, doubling up to minute / 30, reset by a success): every start
  waits; any other 429 waits its ``retry-after-ms``, alone. It retries without limit and
  never gives up.

Scenarios (limit L = 600 requests per minute by default, 0.3 N; ``--quick``: 60):

* ``bucket``: L RPM, ``refill="bucket"`` (holds a whole minute's budget, starts full).
* ``per_second``: L RPM, ``refill="per_second"`` (holds max(1, L / 60), RPS = RPM / 60).
* ``fixed_window``: L RPM, ``refill="fixed_window"`` (L per minute, minutes counted from
  the emulator's start).
* ``tpm``: the tokens budget binds: L requests' worth of tokens per minute (L * T, T the
  tokens of one request, measured once from a probe answer's ``usage``), 10 L RPM.
* ``no_faults`` and ``random_429``: no budget; 5 % of requests answered 429 at random
  (``fault_rates={"429": 0.05}``, with ``retry-after-ms: 50``), and the same run without
  faults, both at latency 50 ms (the others: 20 ms).
* ``drop``: L RPM (bucket), dropping to L / 3 (600 -> 200) halfway: at the time a perfect
  client has had N / 2 requests admitted, t_d = max(0, N / 2 - L) / r1 (r1 = L / minute)
  after the first request arrived. (A drop triggered by a count of answers would reward a
  client that is slow before it: the level a greedy client spent would have been clipped
  to the new capacity anyway.) The server process calls ``fake.set_limits()``: what is
  left is kept up to the new limit, the refill and the headers follow the new one.

Metrics per (scenario, concurrency, client):

* ``time``: from the start of the fan-out to the end of its last request.
* ``ideal``: what a perfect client needs to get its S answered requests through the
  budget (S = the successes, so a client that gives up is not credited for requests it
  did not get answered), plus one latency, and never less than ceil(S / C) latencies:
  - bucket, per_second (``_budgets.py``: a token bucket of capacity B, starting full,
    refilled at r = limit / minute): ``max(0, S - B) / r``, with B = L (bucket) or
    max(1, L / 60) (per_second).
  - fixed_window: window k (from the emulator's start) holds L; a fan-out starting in
    window w0 needs k = ceil(S / L) windows, so its last request starts at the start of
    window w0 + k - 1: ``origin + (w0 + k - 1) * minute - t0``.
  - tpm: a request needs its prompt's p tokens at admission and is charged its c
    completion tokens with its answer (T = p + c); with capacity B = L T and r = B /
    minute: ``max(0, (S - 1) T + p - B) / r``.
  - drop: t_d, by which a perfect client had A = min(S, L + r1 t_d) admitted, then the
    rest at r2 = r1 / 3, from what was left in the bucket (L + r1 t_d - A) clipped to the
    new capacity L / 3: ``t_d + max(0, S - A - min(L + r1 t_d - A, L / 3)) / r2``.
  - random_429: the same client's time in ``no_faults`` (fault-free time / faulty time).
* ``goodput``: ideal / time (1.00 = as fast as the budget allows).
* ``429 share``: 429 answers / attempts, both counted by the emulator (``attempts`` is
  every request it received, retries included).
* ``failed``: requests that did not get their own answer: ended in an exception, had not
  ended at the time-out, or (never seen) got another request's answer.
* ``p99``: 99th percentile of the time from submission (when the client took the request
  from the input: the fan-out's generator pulled it, or the semaphore let it in) to its
  end (answer or exception); pacing waits and retries included.
* ``overtaking``: the worst by how much a request was overtaken: for each request i, its
  end minus the earliest end of any request submitted after it (clipped at 0); the
  maximum over i, in seconds. 0 means answers came in submission order.
* ``exactly once``: requests the server answered exactly once *and* whose answer reached
  the client at the right place (the answer's text names the request's id).
* ``CPU``: the client process's CPU time over the run / wall time.

Each run has a time-out (3 x the ideal time of all N + 10 s; ``--quick``: + 5 s); a run
that hits it is marked TIMEOUT and its unfinished requests count as failed.

Caveats:

* A scaled minute does not scale the clients' fixed delays. AsyncOpenAI's 0.5 s first
  backoff is a quarter of a 2 s "minute" here, 1/120 of a real one, so against api.x.ai it
  would retry relatively sooner and fail more, not less.
* ``grok_async + budget``: the client's ``RateBudget`` has no period; it refills per real
  second and holds one real second's worth, which under a scaled minute is L / minute
  requests (300 at the default 2 s): half the ``bucket`` burst, 30 times the
  ``per_second`` bucket (10).
* ``--quick`` (L = 60) makes the ``per_second`` bucket hold a single request, refilled
  every 6.7 ms: far harsher than the full run's 10, any jitter is a 429.

    python benchmarks/bench_ratelimit.py [--quick] [--n 2000] [--concurrency 64 256]
        [--scenarios ...] [--clients ...] [--minute 2.0] [--json results.json]

About 4.5 minutes on 2 cores (less once no client hits a time-out); ``--quick`` under a
minute.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import _common as common

MODEL = "grok-4"
API_KEY = "bench"
SYSTEM = "You are Grok, a helpful assistant. Answer in one sentence."
QUESTION = "Describe the sea at dawn to someone who has never seen it."
ANSWER = "grey, then silver, then gold."
MAX_TOKENS = 16
LATENCY = 0.02  # the emulator's answer time where a budget binds
FREE_LATENCY = 0.05  # where none does (no_faults, random_429)
RANDOM_429 = 0.05
TIMEOUT_FACTOR = 3.0

CLIENTS = ("grok", "grok-budget", "openai", "reference")
CLIENT_LABELS = {
    "grok": "grok_async",
    "grok-budget": "grok_async + budget",
    "openai": "AsyncOpenAI + Semaphore",
    "reference": "reference header pacer",
}
SCENARIOS = ("bucket", "per_second", "fixed_window", "tpm", "no_faults", "random_429", "drop")
# Scenarios also run at the concurrencies after the first one.
WIDE_SCENARIOS = ("bucket", "per_second")
SCRIPT = os.path.abspath(__file__)


def request(i: int) -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"#{i} {QUESTION}"},
        ],
        "max_tokens": MAX_TOKENS,
    }


def answer_of(i: int) -> str:
    return f"answer to #{i}: {ANSWER}"


# -- scenarios and the ideal time ------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    refill: str = "bucket"
    rpm: float | None = None
    tpm: float | None = None
    fault_429: float = 0.0
    drop_to: float | None = None  # the RPM from drop_after() on
    latency: float = LATENCY


def scenarios(limit: float, tokens: int) -> dict[str, Scenario]:
    return {
        "bucket": Scenario("bucket", rpm=limit),
        "per_second": Scenario("per_second", refill="per_second", rpm=limit),
        "fixed_window": Scenario("fixed_window", refill="fixed_window", rpm=limit),
        "tpm": Scenario("tpm", rpm=10 * limit, tpm=limit * tokens),
        "no_faults": Scenario("no_faults", latency=FREE_LATENCY),
        "random_429": Scenario("random_429", fault_429=RANDOM_429, latency=FREE_LATENCY),
        "drop": Scenario("drop", rpm=limit, drop_to=limit / 3),
    }


@dataclass(frozen=True)
class Tokens:
    prompt: int
    completion: int

    @property
    def total(self) -> int:
        return self.prompt + self.completion


def drop_after(sc: Scenario, n: int, minute: float) -> float:
    """When the limit drops, after the first request: a perfect client's N / 2 admitted."""
    assert sc.rpm is not None
    return max(0.0, n / 2 - sc.rpm) / (sc.rpm / minute)


def ideal_seconds(
    sc: Scenario,
    *,
    n: int,
    answered: int,
    concurrency: int,
    minute: float,
    tokens: Tokens,
    origin: float,
    t0: float,
) -> float:
    """The least time a perfect client needs for ``answered`` requests (see the docstring)."""
    s = answered
    if s <= 0:
        return 0.0
    lat = sc.latency
    floor = math.ceil(s / concurrency) * lat
    budget = 0.0
    if sc.tpm is not None:
        capacity = sc.tpm
        rate = sc.tpm / minute
        budget = max(0.0, ((s - 1) * tokens.total + tokens.prompt - capacity) / rate)
    elif sc.rpm is not None and sc.drop_to is not None:
        cap1, rate1 = sc.rpm, sc.rpm / minute
        cap2, rate2 = sc.drop_to, sc.drop_to / minute
        t_drop = drop_after(sc, n, minute)
        admitted = min(float(s), cap1 + rate1 * t_drop)
        left = cap1 + rate1 * t_drop - admitted
        budget = t_drop + max(0.0, s - admitted - min(left, cap2)) / rate2
    elif sc.rpm is not None and sc.refill == "fixed_window":
        windows = math.ceil(s / sc.rpm)
        first = math.floor((t0 - origin) / minute)
        budget = max(0.0, origin + (first + windows - 1) * minute - t0)
    elif sc.rpm is not None:
        capacity = sc.rpm if sc.refill == "bucket" else max(1.0, sc.rpm / 60)
        budget = max(0.0, s - capacity) / (sc.rpm / minute)
    return max(budget + lat, floor)


# -- the emulator, in its own process -------------------------------------------------------


async def serve(config: dict[str, Any]) -> None:
    """The server process: a FakeGrok per ``config``; answers "stats" on stdin."""
    from grok_async.testing import FakeGrok, Reply

    if common.SERVER_CPU is not None:
        try:
            os.sched_setaffinity(0, {common.SERVER_CPU})
        except OSError:
            pass
    answers: Counter[int] = Counter()
    drop_after = config.pop("drop_after", None)
    drop_to = config.pop("drop_to", None)
    dropped: list[float] = []
    fake: Any = None

    def drop() -> None:
        fake.set_limits(requests_per_minute=drop_to)
        dropped.append(time.monotonic())

    def reply(body: dict[str, Any]) -> Reply:
        text = body["messages"][-1]["content"]
        i = int(text[1 : text.index(" ")])
        if drop_after is not None and not answers:
            # The first answer: its request arrived `latency` ago.
            delay = max(0.0, drop_after - config["latency"])
            asyncio.get_running_loop().call_later(delay, drop)
        answers[i] += 1
        return Reply(answer_of(i))

    fake = FakeGrok(replies=reply, record_requests=False, **config)
    origin = time.monotonic()  # the budgets' minutes count from the start, just after this
    await fake.start()
    try:
        print(json.dumps({"base_url": fake.base_url, "origin": origin, "minute": fake.minute}))
        sys.stdout.flush()
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            if line.strip() != b"stats":
                break
            stats = fake.stats
            print(
                json.dumps(
                    {
                        "requests": stats.requests,
                        "status": {str(k): v for k, v in stats.responses_by_status.items()},
                        "faults": dict(stats.faults),
                        "answers": {str(k): v for k, v in answers.items()},
                        "dropped": dropped[0] if dropped else None,
                    }
                )
            )
            sys.stdout.flush()
    finally:
        await fake.stop()


class Server:
    """A FakeGrok in a subprocess (``--serve``), for one run."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    async def __aenter__(self) -> Server:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            SCRIPT,
            "--serve",
            json.dumps(self.config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=common.child_env(),
        )
        info = json.loads(await self._line(30.0))
        self.base_url: str = info["base_url"]
        self.origin: float = info["origin"]
        self.minute: float = info["minute"]
        return self

    async def _line(self, timeout: float) -> bytes:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError("the emulator process ended early")
        return line

    async def stats(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"stats\n")
        await self.proc.stdin.drain()
        result: dict[str, Any] = json.loads(await self._line(30.0))
        return result

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def __aexit__(self, *exc: object) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10.0)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def server_config(sc: Scenario, minute: float, n: int) -> dict[str, Any]:
    config: dict[str, Any] = {
        "latency": sc.latency,
        "time_scale": minute / 60.0,
        "refill": sc.refill,
        "requests_per_minute": sc.rpm,
        "tokens_per_minute": sc.tpm,
        "seed": 16,
    }
    if sc.fault_429:
        config["fault_rates"] = {"429": sc.fault_429}
    if sc.drop_to is not None:
        config["drop_after"] = drop_after(sc, n, minute)
        config["drop_to"] = sc.drop_to
    return config


# -- what a run records, client side --------------------------------------------------------


@dataclass
class Track:
    """When each request was taken from the input and when it ended, and how."""

    n: int
    t0: float = 0.0
    taken: list[float] = field(default_factory=list)
    ended: list[float] = field(default_factory=list)
    right: list[bool] = field(default_factory=list)  # an answer naming its own id
    errors: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.taken = [math.nan] * self.n
        self.ended = [math.nan] * self.n
        self.right = [False] * self.n

    def take(self, i: int) -> dict[str, Any]:
        """Request *i*, stamped as the client takes it."""
        self.taken[i] = time.monotonic()
        return request(i)

    def requests(self) -> Iterator[dict[str, Any]]:
        """The requests in order, each stamped as the client takes it."""
        for i in range(self.n):
            yield self.take(i)

    def answer(self, i: int, content: str | None) -> None:
        self.ended[i] = time.monotonic()
        self.right[i] = content == answer_of(i)

    def fail(self, i: int, exc: BaseException) -> None:
        self.ended[i] = time.monotonic()
        self.errors[type(exc).__name__] += 1


# -- the clients ----------------------------------------------------------------------------


async def run_grok(
    base_url: str, minute: float, c: int, track: Track, budget: Scenario | None
) -> None:
    from grok_async import AsyncGrok

    limits: dict[str, float] = {}
    if budget is not None:
        # The client's budgets are per real minute; the emulator's minute is `minute` s.
        if budget.rpm is not None:
            limits["requests_per_minute"] = budget.rpm * 60.0 / minute
        if budget.tpm is not None:
            limits["tokens_per_minute"] = budget.tpm * 60.0 / minute

    def on_result(i: int, result: Any) -> None:
        if isinstance(result, BaseException):
            track.fail(i, result)
        else:
            track.answer(i, result.choices[0].message.content)

    async with AsyncGrok(
        api_key=API_KEY,
        base_url=base_url,
        rate_limit_period=minute,
        max_connections=c,
        **limits,  # type: ignore[arg-type]
    ) as client:
        track.t0 = time.monotonic()
        await client.chat.completions.create_many(
            track.requests(), concurrency=c, return_exceptions=True, on_result=on_result
        )


async def run_openai(base_url: str, minute: float, c: int, track: Track) -> None:
    import openai

    limits = openai.DEFAULT_CONNECTION_LIMITS.__class__(
        max_connections=c, max_keepalive_connections=c
    )
    client = openai.AsyncOpenAI(
        api_key=API_KEY,
        base_url=base_url,
        max_retries=2,
        http_client=openai.DefaultAsyncHttpxClient(limits=limits),
    )
    semaphore = asyncio.Semaphore(c)

    async def one(i: int) -> None:
        async with semaphore:
            body = track.take(i)  # submitted: the semaphore let it in
            try:
                result = await client.chat.completions.create(**body)
            except Exception as exc:
                track.fail(i, exc)
            else:
                track.answer(i, result.choices[0].message.content)

    try:
        track.t0 = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(track.n)))
    finally:
        await client.close()


_HEADERS = (
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
)
Start = tuple[float, int, int]  # (when, requests started so far, tokens started so far)


class _Level:
    """One budget (requests or tokens) as the reference believes it stands."""

    __slots__ = ("at", "full", "level", "limit")

    def __init__(self) -> None:
        self.limit = 0.0  # per period, from the headers; 0: not reported (not paced)
        self.full = 0.0  # what it holds at most: the largest remaining seen (+ its request)
        self.level = 0.0
        self.at = 0.0

    def refill(self, now: float, period: float) -> None:
        self.level = min(self.full, self.level + (now - self.at) * self.limit / period)
        self.at = now


class HeaderPacer:
    """The reference: starts requests in submission order as the reported budgets allow.

    Per budget (requests, tokens): level = the newest reading's remaining - what was started
    since the attempt that carried it + the refill since (limit / period per second), never
    above what the budget was seen to hold (the largest remaining reported, plus the request
    that carried it, at most the limit): xAI's per-second rule lets a budget hold only a
    60th of its limit, and crediting a pause with more than that would send a burst into a
    wall. Before any reading, everything starts.
    """

    def __init__(self, period: float) -> None:
        self.period = period
        self.levels = (_Level(), _Level())
        self.started = [0, 0]
        self.read_at = 0.0  # when the attempt behind the reading started; 0: no reading yet
        self.probe = 0.0
        self.queue: list[tuple[int, int, asyncio.Future[Start]]] = []
        self.timer: asyncio.TimerHandle | None = None

    def _delay(self, tokens: int, now: float) -> float:
        delay = 0.0
        for budget, need in zip(self.levels, (1, tokens), strict=True):
            if budget.limit > 0:
                budget.refill(now, self.period)
                missing = min(need, budget.full) - budget.level  # a full budget lends any amount
                if missing > 0:
                    delay = max(delay, missing * self.period / budget.limit)
        return delay

    async def start(self, seq: int, tokens: int) -> Start:
        """Wait for this request's turn (lowest ``seq`` first) and the budgets."""
        waiter: asyncio.Future[Start] = asyncio.get_running_loop().create_future()
        heapq.heappush(self.queue, (seq, tokens, waiter))
        self._release()
        return await waiter

    def _release(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        while self.queue:
            _, tokens, waiter = self.queue[0]
            if waiter.done():  # cancelled
                heapq.heappop(self.queue)
                continue
            now = time.monotonic()
            delay = self._delay(tokens, now)
            if delay > 0:
                self.timer = asyncio.get_running_loop().call_later(delay, self._release)
                return
            heapq.heappop(self.queue)
            for k, need in enumerate((1, tokens)):
                self.started[k] += need
                self.levels[k].level -= need
            waiter.set_result((now, self.started[0], self.started[1]))

    def observe(self, start: Start, headers: Mapping[str, str]) -> list[float] | None:
        """Take a response's reading (the newest attempt's wins); return it."""
        try:
            values = [float(headers[name]) for name in _HEADERS]
        except (KeyError, ValueError):
            return None
        now = time.monotonic()
        newest = start[0] >= self.read_at
        for k, budget in enumerate(self.levels):
            limit, remaining = values[2 * k], values[2 * k + 1]
            budget.full = min(max(budget.full, remaining + (1 - k)), limit)
            if newest:
                budget.limit = limit
                refilled = min(budget.full, remaining + (now - start[0]) * limit / self.period)
                budget.level = refilled - (self.started[k] - start[k + 1])
                budget.at = now
        if newest:
            self.read_at = start[0]
            if self.queue:
                self._release()
        return values

    def succeeded(self) -> None:
        self.probe = 0.0

    def refused(self, start: Start, headers: Mapping[str, str], tokens: int) -> float:
        """A 429: if its headers show a budget spent, hold everyone back for the probe delay
        and return 0; else return how long this request alone waits."""
        values = self.observe(start, headers)
        spent = (values[1] < 1, values[3] < tokens) if values is not None else (False, False)
        if values is not None and any(spent):
            first = self.period / values[0] if values[0] > 0 else 0.05
            self.probe = min(max(2 * self.probe, first), self.period / 30)
            # The refusal is believed over the refill model (which a fixed window breaks):
            # the spent budget holds nothing until the probe delay has passed.
            now = time.monotonic()
            for budget, empty in zip(self.levels, spent, strict=True):
                if empty and budget.limit > 0:
                    budget.refill(now, self.period)
                    budget.level = min(budget.level, 0.0) - self.probe * budget.limit / self.period
            return 0.0
        try:
            return float(headers["retry-after-ms"]) / 1000
        except (KeyError, ValueError):
            return 0.05


async def run_reference(base_url: str, minute: float, c: int, track: Track) -> None:
    import aiohttp
    import orjson

    url = base_url + "/chat/completions"
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    pacer = HeaderPacer(minute)
    requests = enumerate(track.requests())

    async def worker(session: aiohttp.ClientSession) -> None:
        for i, body in requests:  # the shared iterator hands each request out once
            data = orjson.dumps(body)
            tokens = len(data) // 4 + MAX_TOKENS
            while True:
                start = await pacer.start(i, tokens)
                try:
                    async with session.post(url, data=data, headers=headers) as resp:
                        payload = await resp.read()
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    await asyncio.sleep(0.1)
                    continue
                if resp.status == 200:
                    pacer.observe(start, resp.headers)
                    pacer.succeeded()
                    track.answer(i, orjson.loads(payload)["choices"][0]["message"]["content"])
                    break
                wait = pacer.refused(start, resp.headers, tokens) if resp.status == 429 else 0.1
                if wait > 0:
                    await asyncio.sleep(wait)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=c)) as session:
        track.t0 = time.monotonic()
        await asyncio.gather(*(worker(session) for _ in range(c)))


# -- one run, and the metrics ---------------------------------------------------------------


@dataclass
class Run:
    scenario: str
    concurrency: int
    client: str
    n: int
    seconds: float = math.nan
    ideal: float = math.nan
    goodput: float = math.nan
    attempts: int = 0
    status_429: int = 0
    failed: int = 0
    p99: float = math.nan
    overtaking: float = math.nan
    exactly_once: int = 0
    duplicates: int = 0
    cpu: float = math.nan
    server_cpu: float = math.nan
    timed_out: bool = False
    note: str = ""
    errors: dict[str, int] = field(default_factory=dict)


async def measure(
    sc: Scenario, client: str, c: int, *, n: int, minute: float, tokens: Tokens, slack: float
) -> Run:
    run = Run(sc.name, c, client, n)
    track = Track(n)
    async with Server(server_config(sc, minute, n)) as server:
        url, period = server.base_url, server.minute
        runner: Coroutine[Any, Any, None]
        if client == "grok":
            runner = run_grok(url, period, c, track, None)
        elif client == "grok-budget":
            runner = run_grok(url, period, c, track, sc)
        elif client == "openai":
            runner = run_openai(url, period, c, track)
        else:
            runner = run_reference(url, period, c, track)
        # A generous time-out from the ideal time of all N (as if all succeed).
        full = ideal_seconds(
            sc,
            n=n,
            answered=n,
            concurrency=c,
            minute=period,
            tokens=tokens,
            origin=server.origin,
            t0=time.monotonic(),
        )
        timeout = TIMEOUT_FACTOR * full + slack
        server_cpu0 = common.process_cpu_seconds(server.pid)
        cpu0 = time.process_time()
        wall0 = time.monotonic()
        try:
            await asyncio.wait_for(runner, timeout)
        except asyncio.TimeoutError:
            run.timed_out = True
        now = time.monotonic()
        run.cpu = (time.process_time() - cpu0) / (now - wall0)
        run.server_cpu = (common.process_cpu_seconds(server.pid) - server_cpu0) / (now - wall0)
        stats = await server.stats()
    t0 = track.t0 or wall0
    ended = [e for e in track.ended if e == e]
    last = max(ended) if ended else now
    run.seconds = (now if run.timed_out else last) - t0
    answers = {int(k): v for k, v in stats["answers"].items()}
    succeeded = sum(1 for e, r in zip(track.ended, track.right, strict=True) if e == e and r)
    run.failed = n - succeeded
    run.exactly_once = sum(1 for i in range(n) if track.right[i] and answers.get(i) == 1)
    run.duplicates = sum(1 for v in answers.values() if v > 1)
    run.attempts = stats["requests"]
    run.status_429 = stats["status"].get("429", 0)
    run.errors = dict(track.errors)
    lat = sorted(e - s for s, e in zip(track.taken, track.ended, strict=True) if e == e and s == s)
    run.p99 = common.percentile(lat, 0.99)
    run.overtaking = overtaking(track.ended, now)
    run.ideal = ideal_seconds(
        sc,
        n=n,
        answered=succeeded,
        concurrency=c,
        minute=period,
        tokens=tokens,
        origin=server.origin,
        t0=t0,
    )
    run.goodput = run.ideal / run.seconds if run.seconds > 0 else math.nan
    if sc.drop_to is not None and stats["dropped"] is None:
        run.note = "drop not applied"
    return run


def overtaking(ended: list[float], deadline: float) -> float:
    """max over i of (end_i - min end_j over j > i), clipped at 0 (unended: the deadline)."""
    worst = 0.0
    earliest_later = math.inf
    for end in reversed(ended):
        end = end if end == end else deadline
        worst = max(worst, end - earliest_later)
        earliest_later = min(earliest_later, end)
    return worst


async def probe_tokens() -> Tokens:
    """The prompt and completion tokens of one request, from an answer's ``usage``."""
    import aiohttp

    async with (
        Server(server_config(Scenario("probe"), 60.0, 1)) as server,
        aiohttp.ClientSession() as session,
        session.post(server.base_url + "/chat/completions", json=request(0)) as resp,
    ):
        usage = (await resp.json())["usage"]
    return Tokens(usage["prompt_tokens"], usage["completion_tokens"])


# -- the report -----------------------------------------------------------------------------


def report(runs: list[Run]) -> str:
    baseline = {(r.concurrency, r.client): r for r in runs if r.scenario == "no_faults"}
    rows = []
    for r in runs:
        goodput = f"{r.goodput:.2f}"
        ideal = f"{r.ideal:.2f}"
        if r.scenario == "no_faults":
            goodput, ideal = "base", "-"
        elif r.scenario == "random_429":
            base = baseline.get((r.concurrency, r.client))
            if base is not None and r.seconds > 0:
                goodput = f"{base.seconds / r.seconds:.2f}"
                ideal = f"{base.seconds:.2f}"
            else:
                goodput = ideal = "n/a"
        time_text = f"{r.seconds:.2f}" + (" TIMEOUT" if r.timed_out else "")
        once = f"{r.exactly_once:,}/{r.n:,}" + (f" ({r.duplicates} dup)" if r.duplicates else "")
        rows.append(
            [
                r.scenario + (f" ({r.note})" if r.note else ""),
                r.concurrency,
                CLIENT_LABELS[r.client],
                time_text,
                ideal,
                goodput,
                f"{100 * r.status_429 / r.attempts:.1f}%" if r.attempts else "n/a",
                f"{r.attempts:,}",
                f"{r.failed:,}",
                f"{r.p99:.2f}",
                f"{r.overtaking:.2f}",
                once,
                f"{100 * r.cpu:.0f}%",
            ]
        )
    return common.table(
        [
            "scenario",
            "c",
            "client",
            "time s",
            "ideal s",
            "goodput",
            "429 share",
            "attempts",
            "failed",
            "p99 s",
            "overtaking s",
            "exactly once",
            "client CPU",
        ],
        rows,
    )


def plan(args: argparse.Namespace) -> list[tuple[str, int, str]]:
    chosen = list(args.scenarios)
    if "random_429" in chosen and "no_faults" not in chosen:
        chosen.insert(chosen.index("random_429"), "no_faults")  # its goodput's baseline
    runs = []
    for position, c in enumerate(args.concurrency):
        for name in SCENARIOS:
            if name not in chosen or (position and name not in args.wide):
                continue
            for client in CLIENTS:
                if client not in args.clients:
                    continue
                if client == "grok-budget" and name in ("no_faults", "random_429"):
                    continue  # no budget to configure
                runs.append((name, c, client))
    return runs


async def main_async(args: argparse.Namespace) -> list[Run]:
    tokens = await probe_tokens()
    all_scenarios = scenarios(args.limit, tokens.total)
    print(
        f"n={args.n:,}, limit {args.limit:g} RPM, minute {args.minute:g} s "
        f"(time_scale {args.minute / 60:.4g}), tokens per request {tokens.total} "
        f"(prompt {tokens.prompt}, completion {tokens.completion}), "
        f"latency {LATENCY * 1000:.0f} ms ({FREE_LATENCY * 1000:.0f} ms without a budget)",
        file=sys.stderr,
    )
    runs = []
    for name, c, client in plan(args):
        run = await measure(
            all_scenarios[name],
            client,
            c,
            n=args.n,
            minute=args.minute,
            tokens=tokens,
            slack=5.0 if args.quick else 10.0,
        )
        runs.append(run)
        print(
            f"  {name:<12} c={c:<4} {CLIENT_LABELS[client]:<24} {run.seconds:6.2f} s "
            f"(ideal {run.ideal:5.2f})  429s {run.status_429:>5}/{run.attempts:<6} "
            f"failed {run.failed:>4}  once {run.exactly_once}"
            + ("  TIMEOUT" if run.timed_out else "")
            + (f"  errors {run.errors}" if run.errors else ""),
            file=sys.stderr,
        )
    return runs


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        asyncio.run(serve(json.loads(sys.argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run, for CI")
    parser.add_argument("--n", type=int, help="requests per run (default 2000; quick 200)")
    parser.add_argument(
        "--limit", type=float, help="the requests-per-minute limit (default 0.3 n: 600)"
    )
    parser.add_argument(
        "--minute", type=float, help="seconds of the emulator's minute (default 2; quick 0.4)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        help="every scenario runs at the first; --wide ones at the others too "
        "(default 64 256; quick 64)",
    )
    parser.add_argument("--wide", nargs="*", default=list(WIDE_SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--clients", nargs="+", default=list(CLIENTS), choices=CLIENTS)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    args.n = args.n or (200 if args.quick else 2000)
    args.limit = args.limit or round(0.3 * args.n)
    args.minute = args.minute or (0.4 if args.quick else 2.0)
    args.concurrency = args.concurrency or ([64] if args.quick else [64, 256])

    common.pin_client()
    started = time.monotonic()
    runs = asyncio.run(main_async(args))
    print(
        f"\nRate limits: {args.n:,} requests per run, limit {args.limit:g} requests/min, "
        f'a "minute" of {args.minute:g} s; {time.monotonic() - started:.0f} s in all\n'
    )
    print(report(runs))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([vars(r) for r in runs], f, indent=1)


if __name__ == "__main__":
    main()
