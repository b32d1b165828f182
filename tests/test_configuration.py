"""One error type per kind of mistake: every client setting that cannot work is a
ConfigurationError, raised when the client (or a with_options copy) is made."""

from __future__ import annotations

import math
from typing import Any

import aiohttp
import pytest

import grok_async
from grok_async import AsyncGrok, ConfigurationError, GrokError, Hooks, Timeout

KEY = "xai-test-key-not-real"

# (settings, a word the message must contain)
MISTAKES: list[tuple[dict[str, Any], str]] = [
    ({"api_key": ""}, "XAI_API_KEY"),
    ({"api_key": "xai-abc\n"}, "api_key"),
    ({"base_url": "ftp://example.test"}, "base_url"),
    ({"base_url": "https://"}, "base_url"),
    ({"default_headers": {"X-Team": "a\r\nInjected: 1"}}, "X-Team"),
    ({"default_headers": {"X-Team": 7}}, "X-Team"),
    ({"timeout": -1}, "timeout"),
    ({"timeout": "30"}, "timeout"),
    ({"timeout": math.nan}, "timeout"),
    ({"timeout": Timeout(read=-0.5)}, "timeout.read"),
    ({"timeout": Timeout(connect=math.inf)}, "timeout.connect"),
    ({"max_retries": -1}, "max_retries"),
    ({"max_retries": 2.5}, "max_retries"),
    ({"max_connections": 0}, "max_connections"),
    ({"max_connections": True}, "max_connections"),
    ({"max_response_size": 0}, "max_response_size"),
    ({"max_event_size": -5}, "max_event_size"),
    ({"requests_per_minute": 0}, "requests_per_minute"),
    ({"tokens_per_minute": -100}, "tokens_per_minute"),
    ({"tokens_per_minute": "1000"}, "tokens_per_minute"),
    ({"rate_limit_period": 0}, "rate_limit_period"),
    ({"rate_limit_period": math.inf}, "rate_limit_period"),
    ({"max_budget_wait": -1}, "max_budget_wait"),
    ({"max_budget_wait": "5"}, "max_budget_wait"),
    ({"hooks": {"on_request": print}}, "hooks"),
    ({"tracing": "yes"}, "tracing"),
    ({"session": object()}, "session"),
]


@pytest.mark.parametrize(
    ("settings", "named"),
    MISTAKES,
    ids=[f"{next(iter(s))}={s[next(iter(s))]!r}" for s, _ in MISTAKES],
)
def test_every_setting_mistake_is_a_configuration_error_naming_the_setting(
    settings: dict[str, Any], named: str
) -> None:
    settings = {"api_key": KEY, **settings}
    with pytest.raises(ConfigurationError) as info:
        AsyncGrok(**settings)
    assert named in str(info.value)
    assert KEY not in str(info.value)


def test_a_configuration_error_is_still_the_builtin_type_older_code_caught() -> None:
    """Before it existed these mistakes raised GrokError, ValueError or TypeError; code
    catching any of them keeps working."""
    for base in (GrokError, ValueError, TypeError):
        with pytest.raises(base):
            AsyncGrok(api_key=KEY, max_retries=-1)
    assert issubclass(ConfigurationError, GrokError)


def test_no_key_in_the_environment_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="XAI_API_KEY"):
        AsyncGrok()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"api_key": "xai-abc\n"}, "api_key"),
        ({"base_url": "not a url"}, "base_url"),
        ({"timeout": -3}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_response_size": 0}, "max_response_size"),
        ({"default_headers": {"X-A": "b\n"}}, "X-A"),
        ({"hooks": object()}, "hooks"),
        ({"max_budget_wait": math.nan}, "max_budget_wait"),
    ],
)
def test_with_options_checks_what_it_changes(options: dict[str, Any], named: str) -> None:
    client = AsyncGrok(api_key=KEY)
    with pytest.raises(ConfigurationError) as info:
        client.with_options(**options)
    assert named in str(info.value)


@pytest.mark.parametrize(
    "settings",
    [
        {"timeout": 0},
        {"timeout": Timeout(connect=0, read=0, total=None)},
        {"timeout": None},
        {"timeout": 2.5},
        {"max_retries": 0},
        {"requests_per_minute": 0.5, "tokens_per_minute": None},
        {"rate_limit_period": 2},
        {"hooks": Hooks()},
    ],
)
def test_reasonable_edge_values_are_accepted(settings: dict[str, Any]) -> None:
    """0 or None means no limit for a timeout, as in aiohttp; fractions are fine."""
    AsyncGrok(api_key=KEY, **settings)


async def test_a_real_session_is_accepted() -> None:
    async with aiohttp.ClientSession() as session:
        client = AsyncGrok(api_key=KEY, session=session)
        await client.close()
        assert not session.closed  # the caller's session is the caller's to close


async def test_a_call_argument_mistake_is_not_a_configuration_error() -> None:
    """The other kind: an argument of one call raises the builtin TypeError/ValueError,
    as Python does for any call (documented in _errors)."""
    async with AsyncGrok(api_key=KEY, base_url="http://127.0.0.1:9") as client:
        with pytest.raises(TypeError) as info:
            await client.chat.completions.create(model="grok-4", messages="hi")
    assert not isinstance(info.value, ConfigurationError)


def test_the_error_tree_names_every_exported_exception() -> None:
    """_errors' docstring draws the tree users read: every exported exception is in it."""
    from grok_async import _errors

    exceptions = [
        name
        for name in grok_async.__all__
        if isinstance(getattr(grok_async, name), type)
        and issubclass(getattr(grok_async, name), BaseException)
    ]
    assert "ConfigurationError" in exceptions
    for name in exceptions:
        assert name in (_errors.__doc__ or ""), name
