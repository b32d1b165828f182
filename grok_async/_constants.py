"""Every default the library uses, one line each with the reason for its value."""

from __future__ import annotations

# The public endpoint; XAI_BASE_URL or base_url= point elsewhere (a proxy, the emulator).
DEFAULT_BASE_URL = "https://api.x.ai/v1"
API_KEY_ENV = "XAI_API_KEY"
BASE_URL_ENV = "XAI_BASE_URL"

# Fan-out: 64 in flight keeps a pool busy without tripping typical per-team rate limits.
DEFAULT_CONCURRENCY = 64

# Under fan-out a 429 means "wait your turn" (the shared limiter paces everyone), so up to
# this many rate-limited attempts per request do not count against max_retries.
FANOUT_RATE_LIMIT_RETRIES = 20
# 429s the budget headers explain (the pacer holds the call until the budget refills,
# probing at most every 2 s of a 60 s minute) do not count at all, up to this many: only a
# server that never refills (a limit of zero) makes a call give up on them.
SPENT_BUDGET_RETRIES = 1000

# Two retries ride out a blip or a short rate-limit window without tripling a real outage.
DEFAULT_MAX_RETRIES = 2
# aiohttp's own default; one pool per event loop, shared by every call of a client.
DEFAULT_MAX_CONNECTIONS = 100

# A TCP+TLS handshake that has not finished in 5 s is not going to.
DEFAULT_CONNECT_TIMEOUT = 5.0
# Reasoning models can think for many minutes before the first byte of a non-streamed reply
# (xAI's own SDK waits 27 minutes); 15 minutes of silence is a dead connection, not thinking.
DEFAULT_READ_TIMEOUT = 900.0

# Full-jitter exponential backoff: 0.5 s doubling to a ceiling of 8 s.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A server's Retry-After is honoured up to this many seconds; past it we wait this long.
MAX_RETRY_AFTER = 60.0

# Streams: one SSE event may be as large as this (a whole tool call, a long citation list).
DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024
# Non-streamed bodies larger than this are refused, so a broken server cannot exhaust memory.
DEFAULT_MAX_RESPONSE_SIZE = 256 * 1024 * 1024
# After [DONE] the body's end is normally already here or a moment away: wait this long
# for it to keep the connection, rather than opening a new one for the next request.
DONE_GRACE = 0.05
# How much of an error body we keep on an exception (enough for any real error message).
MAX_ERROR_BODY = 64 * 1024

#: run_tools(): rounds of tool calls before MaxToolRoundsError (a loop guard, not a budget).
DEFAULT_MAX_TOOL_ROUNDS = 10

#: Price units (and ``cost_in_usd_ticks``) per US dollar: 100 cents x 100 million.
USD_TICKS = 10_000_000_000
