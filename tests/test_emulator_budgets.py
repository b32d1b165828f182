"""The emulator enforces xAI's per-minute budgets and sends the headers xAI sends.

The refill models are checked on the pure bookkeeping with a fake clock; the wire
behaviour (texts, headers, charging) against a running FakeGrok, mostly with a minute so
long (``LONG``) that no refill blurs exact counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import orjson
import pytest

from grok_async.testing import FakeGrok, Fault, Reply
from grok_async.testing._budgets import Budgets, Refusal, per_minute
from grok_async.testing._errors import TEAM_ID

LIMIT_REQUESTS = "X-Ratelimit-Limit-Requests"
REMAINING_REQUESTS = "X-Ratelimit-Remaining-Requests"
LIMIT_TOKENS = "X-Ratelimit-Limit-Tokens"
REMAINING_TOKENS = "X-Ratelimit-Remaining-Tokens"
BUDGET_HEADERS = (LIMIT_REQUESTS, REMAINING_REQUESTS, LIMIT_TOKENS, REMAINING_TOKENS)
METRICS_HEADERS = ("X-Metrics-Ttft-Ms", "X-Metrics-Mean-Itl-Ms", "X-Metrics-E2e-Ms")
QUOTA_TEXT = (
    f"Your team {TEAM_ID} has either used all available credits or reached its monthly "
    "spending limit. To continue making API requests, please purchase more credits or raise "
    "your spending limit."
)
# A minute of 0.3 s: long enough to send a few requests within one, short to wait out.
SHORT = 0.005
# A minute of 1000 minutes: a budget refills too slowly to show in the headers.
LONG = 1000.0
PROMPT = "one two three four five"  # five tokens for the emulator's tokenizer


def chat(content: str = PROMPT, model: str = "grok-3", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(
    session: aiohttp.ClientSession,
    fake: FakeGrok,
    body: dict[str, Any],
    path: str = "/chat/completions",
) -> tuple[int, Any, Mapping[str, str]]:
    """POST *body*; (status, decoded JSON or raw text, response headers)."""
    async with session.post(fake.base_url + path, json=body) as resp:
        raw = await resp.read()
        headers = resp.headers.copy()
    try:
        decoded: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        decoded = raw.decode()
    return resp.status, decoded, headers


def admitted(budgets: Budgets, now: float, count: int, prompt: int = 0) -> int:
    """How many of *count* requests of grok-3 sent at *now* the budgets let in."""
    return sum(not isinstance(budgets.admit("grok-3", prompt, now), Refusal) for _ in range(count))


# -- the refill models, on a fake clock ----------------------------------------------------


def test_bucket_admits_a_whole_minute_at_once_then_the_rate() -> None:
    """A "bucket" lets a full minute's requests through at once, then one per 60/rpm s."""
    budgets = Budgets(requests_per_minute=60, tokens_per_minute=None, refill="bucket")
    assert admitted(budgets, 0.0, 100) == 60
    assert admitted(budgets, 0.5, 5) == 0
    assert admitted(budgets, 1.0, 5) == 1
    assert admitted(budgets, 11.0, 50) == 10


def test_per_second_admits_one_seconds_worth_at_once() -> None:
    """ "per_second" lets only rpm/60 through at once, refilled at the same rate."""
    budgets = Budgets(requests_per_minute=600, tokens_per_minute=None, refill="per_second")
    assert admitted(budgets, 0.0, 100) == 10
    assert admitted(budgets, 0.1, 5) == 1
    # An idle minute fills the bucket only to one second's worth.
    assert admitted(budgets, 60.0, 100) == 10


def test_per_second_holds_at_least_one_request() -> None:
    """ "per_second" under 60 per minute still admits one request at a time."""
    budgets = Budgets(requests_per_minute=30, tokens_per_minute=None, refill="per_second")
    assert admitted(budgets, 0.0, 5) == 1
    assert admitted(budgets, 1.0, 5) == 0
    assert admitted(budgets, 2.0, 5) == 1


def test_fixed_window_resets_at_the_window_boundary() -> None:
    """ "fixed_window" admits the budget per minute counted from the origin, refilling
    nothing until the next window starts."""
    budgets = Budgets(
        requests_per_minute=5, tokens_per_minute=None, refill="fixed_window", origin=100.0
    )
    assert admitted(budgets, 130.0, 10) == 5
    assert admitted(budgets, 159.99, 10) == 0
    assert admitted(budgets, 160.0, 10) == 5
    assert admitted(budgets, 280.5, 10) == 5


def test_refusals_report_actual_over_limit_and_spend_nothing() -> None:
    """A refusal names its budget and reports what was spent plus the request; the
    refused request costs nothing."""
    budgets = Budgets(requests_per_minute=3, tokens_per_minute=100)
    assert budgets.admit("grok-3", 40, 0.0) == (2, 60)
    assert budgets.admit("grok-3", 70, 0.0) == Refusal("tokens", 110, 100)
    assert budgets.remaining("grok-3", 0.0) == (2, 60)
    assert budgets.admit("grok-3", 10, 0.0) == (1, 50)
    assert budgets.admit("grok-3", 10, 0.0) == (0, 40)
    assert budgets.admit("grok-3", 10, 0.0) == Refusal("requests", 4, 3)


def test_a_prompt_over_the_whole_budget_is_refused_with_its_own_size() -> None:
    """A prompt larger than tokens_per_minute can never pass: actual is the prompt."""
    budgets = Budgets(requests_per_minute=None, tokens_per_minute=100)
    assert budgets.admit("grok-3", 250, 0.0) == Refusal("tokens", 250, 100)
    assert budgets.admit("grok-3", 250, 3600.0) == Refusal("tokens", 250, 100)


def test_completion_tokens_put_the_budget_in_debt() -> None:
    """Charged completion tokens may overdraw the budget; the debt blocks later prompts
    until the refill pays it back, and remaining never shows below zero."""
    budgets = Budgets(requests_per_minute=None, tokens_per_minute=60)
    assert budgets.admit("grok-3", 10, 0.0) == (1_000_000 - 1, 50)
    assert budgets.charge("grok-3", 80, 0.0) == 0
    assert isinstance(budgets.admit("grok-3", 1, 0.0), Refusal)
    assert budgets.remaining("grok-3", 30.0)[1] == 0
    assert budgets.remaining("grok-3", 35.0)[1] == 5


def test_per_second_lets_a_long_prompt_through_from_a_full_bucket() -> None:
    """Under "per_second" a prompt larger than one second's tokens waits for a full
    bucket and then passes, leaving a debt, instead of being refused for ever."""
    budgets = Budgets(requests_per_minute=None, tokens_per_minute=600, refill="per_second")
    assert not isinstance(budgets.admit("grok-3", 50, 0.0), Refusal)
    assert isinstance(budgets.admit("grok-3", 50, 0.5), Refusal)
    assert budgets.admit("grok-3", 50, 5.0) == (999_999, 0)
    assert isinstance(budgets.admit("grok-3", 1, 8.0), Refusal)


def test_models_have_their_own_budgets() -> None:
    """Each model name gets its own pair of budgets."""
    budgets = Budgets(requests_per_minute=1, tokens_per_minute=None)
    assert admitted(budgets, 0.0, 3) == 1
    assert not isinstance(budgets.admit("grok-4-0709", 0, 0.0), Refusal)


def test_unconfigured_budgets_count_down_but_never_refuse() -> None:
    """Without configured budgets the defaults count every request and token, and refuse
    none."""
    budgets = Budgets(requests_per_minute=None, tokens_per_minute=None, refill="fixed_window")
    for _ in range(3):
        outcome = budgets.admit("grok-3", 4_000_000_000, 0.0)
    assert outcome == (999_997, 0)
    assert not isinstance(budgets.admit("grok-3", 1, 0.0), Refusal)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"refill": "sliding"}, "'bucket', 'per_second', 'fixed_window'", id="refill"),
        pytest.param({"amount": 0.5}, ">= 1", id="amount"),
    ],
)
def test_impossible_budgets_are_refused(kwargs: dict[str, Any], message: str) -> None:
    """An unknown refill model or a budget below one unit raises ValueError."""
    arguments: dict[str, Any] = {"amount": 60, "refill": "bucket"} | kwargs
    with pytest.raises(ValueError, match=message):
        per_minute(
            arguments["amount"], refill=arguments["refill"], minute=60.0, now=0.0, origin=0.0
        )


# -- on the wire ------------------------------------------------------------------------


async def test_headers_count_down_and_requests_429_has_xais_text(
    session: aiohttp.ClientSession,
) -> None:
    """The budget headers count down per request; the request over the budget gets
    xAI's 429 text, without Retry-After, still with the headers."""
    async with FakeGrok(requests_per_minute=3, tokens_per_minute=10_000, time_scale=LONG) as fake:
        seen = []
        for _ in range(3):
            status, body, headers = await post(session, fake, chat())
            assert status == 200
            seen.append((headers[REMAINING_REQUESTS], int(headers[REMAINING_TOKENS])))
            assert (headers[LIMIT_REQUESTS], headers[LIMIT_TOKENS]) == ("3", "10000")
        assert [requests for requests, _ in seen] == ["2", "1", "0"]
        assert seen[0][1] > seen[1][1] > seen[2][1]
        status, body, headers = await post(session, fake, chat())
    assert status == 429
    assert body == {
        "code": "Some resource has been exhausted",
        "error": f"Too many requests for team {TEAM_ID} and model grok-3. Your team's rate "
        "limit is \u2014 Requests per Minute (actual/limit): 4/3",
    }
    assert "Retry-After" not in headers and "retry-after-ms" not in headers
    assert headers[REMAINING_REQUESTS] == "0"
    assert fake.stats.faults == {"requests_limited": 1}


async def test_a_non_streamed_answer_is_charged_before_its_headers(
    session: aiohttp.ClientSession,
) -> None:
    """A plain answer's headers already count its prompt and completion tokens."""
    async with FakeGrok(tokens_per_minute=1000, time_scale=LONG) as fake:
        status, body, headers = await post(session, fake, chat())
    usage = body["usage"]
    assert status == 200 and usage["prompt_tokens"] == 5
    assert int(headers[REMAINING_TOKENS]) == 1000 - 5 - usage["completion_tokens"]


async def test_a_stream_is_charged_when_it_ends(session: aiohttp.ClientSession) -> None:
    """A stream's headers count only its prompt; its completion is charged once it ends,
    as the next response shows."""
    async with FakeGrok(tokens_per_minute=1000, time_scale=LONG) as fake:
        fake.enqueue(Reply("alpha beta gamma"), Reply("ok"))
        _, _, streamed = await post(session, fake, chat(stream=True))
        _, _, after = await post(session, fake, chat("ping"))
    assert streamed[REMAINING_TOKENS] == str(1000 - 5)
    assert after[REMAINING_TOKENS] == str(1000 - 5 - 3 - 1 - 1)


async def test_tokens_429_texts(session: aiohttp.ClientSession) -> None:
    """Over the token budget the 429 reports spent plus prompt; a prompt over the whole
    budget reports its own size."""
    async with FakeGrok(tokens_per_minute=30, time_scale=LONG) as fake:
        fake.enqueue(Reply("ok"))  # one completion token
        assert (await post(session, fake, chat("a b c d e f g h i j")))[0] == 200
        status, over, _ = await post(session, fake, chat(" ".join(["w"] * 20)))
        _, huge, _ = await post(session, fake, chat(" ".join(["w"] * 45)))
    assert status == 429
    prefix = f"Too many tokens for team {TEAM_ID} and model grok-3. Your team's rate limit is "
    assert over["error"] == prefix + "\u2014 Tokens per Minute (actual/limit): 31/30"
    assert huge["error"] == prefix + "\u2014 Tokens per Minute (actual/limit): 45/30"
    assert fake.stats.faults == {"tokens_limited": 2}


async def test_aliases_share_their_models_budget(session: aiohttp.ClientSession) -> None:
    """An alias spends its model's budget, which the 429 names by the model's id."""
    async with FakeGrok(requests_per_minute=1, time_scale=LONG) as fake:
        assert (await post(session, fake, chat(model="grok-4-0709")))[0] == 200
        status, body, _ = await post(session, fake, chat(model="grok-4"))
        assert (await post(session, fake, chat(model="grok-3")))[0] == 200
    assert status == 429
    assert "and model grok-4-0709." in body["error"]


async def test_quota_exhausted_refuses_every_model_request(
    session: aiohttp.ClientSession,
) -> None:
    """quota_exhausted answers model requests with xAI's credits 429 (headers included),
    can be flipped at run time, and leaves other endpoints alone."""
    async with FakeGrok(quota_exhausted=True) as fake:
        status, body, headers = await post(session, fake, chat())
        assert (status, body["error"]) == (429, QUOTA_TEXT)
        assert all(name in headers for name in BUDGET_HEADERS)
        assert "Retry-After" not in headers
        async with session.get(fake.base_url + "/models") as resp:
            assert resp.status == 200
        fake.quota_exhausted = False
        assert (await post(session, fake, chat()))[0] == 200
        fake.quota_exhausted = True
        status, _, _ = await post(
            session, fake, {"model": "grok-3", "text": "hi"}, "/tokenize-text"
        )
    assert status == 429
    assert fake.stats.faults == {"quota_exceeded": 2}


async def test_quota_exceeded_fault(session: aiohttp.ClientSession) -> None:
    """Fault.quota_exceeded() sends xAI's credits 429 once, counted as "quota_exceeded"."""
    async with FakeGrok() as fake:
        fake.enqueue(Fault.quota_exceeded())
        status, body, headers = await post(session, fake, chat())
        assert (await post(session, fake, chat()))[0] == 200
    assert (status, body) == (
        429,
        {"code": "Some resource has been exhausted", "error": QUOTA_TEXT},
    )
    assert "Retry-After" not in headers
    assert fake.stats.faults == {"quota_exceeded": 1}


@pytest.mark.parametrize("kind", ["503", "429"])
async def test_random_faults_carry_the_headers_and_cost_only_admission(
    session: aiohttp.ClientSession, kind: str
) -> None:
    """A random status fault carries the budget headers, and costs the request and its
    prompt only."""
    async with FakeGrok(
        tokens_per_minute=100, requests_per_minute=10, fault_rates={kind: 1.0}
    ) as fake:
        status, _, headers = await post(session, fake, chat())
    assert status == int(kind)
    assert (headers[REMAINING_REQUESTS], headers[REMAINING_TOKENS]) == ("9", "95")
    assert not any(name in headers for name in METRICS_HEADERS)


async def test_metrics_headers_on_plain_and_streamed_chat(
    session: aiohttp.ClientSession,
) -> None:
    """Chat answers carry X-Metrics-* in ms: measured when plain, predicted from the
    pacing when streamed."""
    async with FakeGrok(latency=0.01, tokens_per_second=500) as fake:
        _, body, plain = await post(session, fake, chat())
        _, events, streamed = await post(session, fake, chat(stream=True))
    ttft, itl, e2e = (float(plain[name]) for name in METRICS_HEADERS)
    assert ttft == e2e >= 10.0
    assert itl == pytest.approx(e2e / body["usage"]["completion_tokens"], abs=0.1)
    ttft, itl, e2e = (float(streamed[name]) for name in METRICS_HEADERS)
    assert ttft >= 10.0
    assert itl == 2.0
    assert e2e == pytest.approx(ttft + itl * (events.count("data:") - 1), abs=0.1)


async def test_metrics_and_budget_headers_on_responses(session: aiohttp.ClientSession) -> None:
    """The Responses API sends the budget and timing headers too; its input counts as
    the prompt."""
    async with FakeGrok(tokens_per_minute=1000, time_scale=LONG, latency=0.005) as fake:
        status, body, headers = await post(
            session, fake, {"model": "grok-3", "input": PROMPT}, "/responses"
        )
    assert status == 200
    spent = 5 + body["usage"]["output_tokens"]
    assert headers[REMAINING_TOKENS] == str(1000 - spent)
    assert float(headers["X-Metrics-E2e-Ms"]) >= 5.0
    assert all(name in headers for name in BUDGET_HEADERS)


async def test_images_and_tokenizer_headers(session: aiohttp.ClientSession) -> None:
    """An image generation carries the budget and timing headers; the tokenizer, which
    generates nothing, only the budget ones."""
    async with FakeGrok() as fake:
        _, _, image = await post(
            session, fake, {"model": "grok-2-image", "prompt": "a cat"}, "/images/generations"
        )
        _, _, tokenized = await post(
            session, fake, {"model": "grok-3", "text": "hi"}, "/tokenize-text"
        )
    assert all(name in image for name in (*BUDGET_HEADERS, *METRICS_HEADERS))
    assert all(name in tokenized for name in BUDGET_HEADERS)
    assert not any(name in tokenized for name in METRICS_HEADERS)


async def test_unconfigured_budgets_send_never_binding_headers(
    session: aiohttp.ClientSession,
) -> None:
    """Without budgets every model request still gets the headers, counting down from
    1,000,000 requests and 10,000,000,000 tokens, and none is refused; other requests get
    no budget headers."""
    async with FakeGrok(time_scale=LONG) as fake:
        results = [await post(session, fake, chat()) for _ in range(3)]
        many = await asyncio.gather(*(post(session, fake, chat()) for _ in range(50)))
        async with session.get(fake.base_url + "/models") as resp:
            model_list_headers = resp.headers
    headers = [h for _, _, h in results]
    assert {(h[LIMIT_REQUESTS], h[LIMIT_TOKENS]) for h in headers} == {("1000000", "10000000000")}
    assert [h[REMAINING_REQUESTS] for h in headers] == ["999999", "999998", "999997"]
    assert all(int(h[REMAINING_TOKENS]) < 10_000_000_000 for h in headers)
    assert {status for status, _, _ in many} == {200}
    assert LIMIT_REQUESTS not in model_list_headers


async def test_time_scale_shortens_the_minute(session: aiohttp.ClientSession) -> None:
    """With time_scale the budget comes back after 60 * time_scale seconds."""
    async with FakeGrok(requests_per_minute=2, refill="fixed_window", time_scale=SHORT) as fake:
        assert fake.minute == pytest.approx(0.3)
        statuses = [(await post(session, fake, chat()))[0] for _ in range(3)]
        await asyncio.sleep(fake.minute)
        statuses.append((await post(session, fake, chat()))[0])
    assert statuses == [200, 200, 429, 200]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"refill": "sliding"}, "'bucket', 'per_second', 'fixed_window'", id="refill"),
        pytest.param({"time_scale": 0}, "time_scale", id="time_scale"),
        pytest.param({"requests_per_minute": 0}, "requests_per_minute", id="rpm"),
        pytest.param({"tokens_per_minute": 0.5}, "tokens_per_minute", id="tpm"),
    ],
)
def test_invalid_budget_options_raise(options: dict[str, Any], message: str) -> None:
    """Options that cannot describe a budget raise ValueError naming the option."""
    with pytest.raises(ValueError, match=message):
        FakeGrok(**options)


async def test_set_limits_changes_a_running_emulators_budget(
    session: aiohttp.ClientSession,
) -> None:
    """A limit cut mid-run: what was left is kept up to the new limit, the headers show the
    new limit, and the refill follows it; None lifts the limit."""
    async with FakeGrok(requests_per_minute=10, time_scale=SHORT) as fake:
        for _ in range(4):
            assert (await post(session, fake, chat()))[0] == 200
        fake.set_limits(requests_per_minute=3)
        results = [await post(session, fake, chat()) for _ in range(4)]
        assert [status for status, _, _ in results] == [200, 200, 200, 429]
        assert {h[LIMIT_REQUESTS] for _, _, h in results} == {"3"}
        fake.set_limits(requests_per_minute=None)
        assert (await post(session, fake, chat()))[0] == 200
        with pytest.raises(ValueError, match="requests_per_minute"):
            fake.set_limits(requests_per_minute=0)
