"""``FakeGrok``: the emulator's lifecycle — in the running loop, in a thread, or forever."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from aiohttp import web

from ._options import Options
from ._records import RecordedRequest, Stats
from ._script import Replier, ReplyItem
from ._server import Emulator

__all__ = ["FakeGrok"]


class _Keep:
    """The default of ``set_limits``' arguments: leave that budget as it is."""


_KEEP = _Keep()

# How long stop() lets requests still running finish before cancelling them. Short: an
# emulator being stopped has nothing worth waiting for (e.g. a Fault.stall in progress).
_SHUTDOWN_TIMEOUT = 0.25
# How long start_in_thread() waits for the server thread to be listening.
_THREAD_START_TIMEOUT = 30.0


def _announce(base_url: str) -> None:
    print(f"FakeGrok serving the xAI API at {base_url} (Ctrl-C to stop)", file=sys.stderr)


class FakeGrok:
    """A local emulator of the xAI Grok REST API, on a real socket.

    Run it in the current event loop::

        async with FakeGrok() as fake:
            client = AsyncGrok(api_key="test", base_url=fake.base_url)

    or in a background thread with its own loop (for synchronous code)::

        with FakeGrok() as fake:
            ...

    It validates requests like xAI (flat ``{"code", "error"}`` error bodies), answers
    chat completions deterministically (streamed or not, deferred too, JSON that fits a
    ``response_format`` schema), serves the Responses API (``/v1/responses``, stored and
    chained), image generation, embeddings (hashed word vectors: texts that share words
    are similar), documents search over what ``add_document()`` stored, video jobs (a
    prompt with ``[fail]`` fails), text to speech and speech to text (its own speech is
    transcribed back to the text), the model catalogues, tokenizer and api-key endpoints,
    injects faults, enforces limits and records requests.

    Every option is keyword-only:

    - ``host``, ``port``: where to listen; port 0 (the default) picks a free port.
    - ``api_key``: None accepts any key or none; otherwise a missing/malformed
      ``Authorization: Bearer`` gets 401 and a wrong key 400 "Incorrect API key provided".
    - ``models``: extra model names to accept, besides the built-in Grok models.
    - ``replies``: how chat requests are answered — a callable ``(request_json) -> Reply |
      Fault | str | list[Reply] | None`` (sync or async; None means the default answer), or
      an iterable of ``Reply | Fault | str`` consumed one per request (the default answer
      once it runs out). Default: a deterministic answer (see ``default_reply``).
      ``enqueue()`` items go first.
    - ``fault_rates``: random faults per chat request, e.g. ``{"503": 0.1, "reset": 0.05}``
      (kinds: reset, reset_mid_stream, 429, 500, 502, 503, 504, html, stall, malformed,
      error_event, no_done), drawn from an RNG seeded with ``seed``. ``stall_seconds`` is
      the length of a random stall; random 429/503 carry ``retry-after-ms`` =
      ``retry_after`` (and a whole-second ``Retry-After``).
    - ``latency``: seconds to wait before answering any request.
    - ``tokens_per_second``: pace streamed chunks (None: as fast as possible).
    - ``chunk_heartbeats``: empty-delta chunks to stream before each choice's content, as
      xAI's reasoning models do while thinking.
    - ``requests_per_second``, ``burst``: a token-bucket rate limit (burst defaults to the
      rate); excess requests get 429 with ``retry-after`` and ``retry-after-ms``.
    - ``max_in_flight``: requests beyond this many concurrently get 429 (retry-after-ms).
    - ``requests_per_minute``, ``tokens_per_minute``: xAI's per-minute budgets of the team,
      one pair per model (None: unlimited). A model request (a JSON body naming a
      ``model``) needs one request and its prompt's tokens left, else 429 with xAI's
      "Too many requests/tokens for team ..." text and no ``Retry-After``; its answer's
      completion and reasoning tokens are charged once generated. Every response to a
      model request carries ``X-Ratelimit-Limit-Requests``/``-Remaining-Requests``/
      ``-Limit-Tokens``/``-Remaining-Tokens`` (budgets not set count down from 1,000,000
      requests and 10,000,000,000 tokens and never refuse); answers also carry
      ``X-Metrics-Ttft-Ms``, ``X-Metrics-Mean-Itl-Ms`` and ``X-Metrics-E2e-Ms``.
    - ``refill``: how the budgets refill: "bucket" (a whole minute's budget that refills
      continuously), "per_second" (xAI's rule: only a 60th of it, at least 1, may be
      spent at once) or "fixed_window" (reset at the start of each minute).
    - ``time_scale``: a minute lasts ``60 * time_scale`` seconds (see ``minute``), to test
      budgets quickly; the headers still show the per-minute numbers as given.
    - ``quota_exhausted``: answer every model request with xAI's 429 "used all available
      credits" (also settable on a running emulator).
    - ``deferred_delay``: seconds before a deferred completion is ready (202 until then).
    - ``video_delay``: seconds a video job runs: until then polls answer 202 with a
      ``progress`` growing towards 99.
    - ``batch_delay``: seconds after it was added that a request of a batch (Batch API)
      is answered; until then it is pending. A request whose last message contains
      ``BATCH_FAIL`` becomes a failed row.
    - ``record_requests``: keep every request in ``requests`` (turn off for benchmarks).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        models: Iterable[str] = (),
        replies: Replier | Iterable[ReplyItem] | None = None,
        fault_rates: Mapping[str, float] | None = None,
        seed: int = 0,
        stall_seconds: float = 2.0,
        retry_after: float = 0.05,
        latency: float = 0.0,
        tokens_per_second: float | None = None,
        chunk_heartbeats: int = 0,
        requests_per_second: float | None = None,
        burst: float | None = None,
        max_in_flight: int | None = None,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        refill: str = "bucket",
        time_scale: float = 1.0,
        quota_exhausted: bool = False,
        deferred_delay: float = 0.0,
        video_delay: float = 0.0,
        batch_delay: float = 0.0,
        record_requests: bool = True,
    ) -> None:
        options = Options(
            api_key=api_key,
            models=tuple(models),
            fault_rates=dict(fault_rates) if fault_rates else None,
            seed=seed,
            stall_seconds=stall_seconds,
            retry_after=retry_after,
            latency=latency,
            tokens_per_second=tokens_per_second,
            chunk_heartbeats=chunk_heartbeats,
            requests_per_second=requests_per_second,
            burst=burst,
            max_in_flight=max_in_flight,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
            refill=refill,
            time_scale=time_scale,
            quota_exhausted=quota_exhausted,
            deferred_delay=deferred_delay,
            video_delay=video_delay,
            batch_delay=batch_delay,
            record_requests=record_requests,
        )
        self._emulator = Emulator(options, replies)
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop_event: asyncio.Event | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "not started"
        return f"<FakeGrok {where}>"

    # -- what tests look at ----------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (RuntimeError before it started)."""
        if self._port is None:
            raise RuntimeError("FakeGrok is not running: use 'async with' or 'with' first")
        return self._port

    @property
    def url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The base URL to give a client: ``http://127.0.0.1:<port>/v1``."""
        return f"{self.url}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first (authorization values masked)."""
        return self._emulator.requests

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request (IndexError if there was none)."""
        return self._emulator.requests[-1]

    @property
    def stats(self) -> Stats:
        """Counters: requests, responses by status, faults, in-flight, connections."""
        return self._emulator.stats

    @property
    def minute(self) -> float:
        """How many seconds a budget's "minute" lasts: ``60 * time_scale``."""
        return self._emulator.gate.minute

    @property
    def quota_exhausted(self) -> bool:
        """Whether every model request is refused with xAI's "used all available credits"
        429; set it to run out of (or get back) credits mid-test."""
        return self._emulator.gate.quota_exhausted

    @quota_exhausted.setter
    def quota_exhausted(self, value: bool) -> None:
        self._emulator.gate.quota_exhausted = value

    def set_limits(
        self,
        *,
        requests_per_minute: float | _Keep | None = _KEEP,
        tokens_per_minute: float | _Keep | None = _KEEP,
    ) -> None:
        """Change the team's per-minute budgets of a running emulator (``None``:
        unlimited; a budget not named stays as it is). Each model keeps what it has left, up
        to the new limit, and refills at the new rate from then on. An emulator running in its own
        thread applies the change on its loop."""
        gate = self._emulator.gate
        requests = (
            gate.requests_per_minute
            if isinstance(requests_per_minute, _Keep)
            else requests_per_minute
        )
        tokens = (
            gate.tokens_per_minute if isinstance(tokens_per_minute, _Keep) else tokens_per_minute
        )
        for name, value in (("requests_per_minute", requests), ("tokens_per_minute", tokens)):
            if value is not None and not value >= 1:
                raise ValueError(f"{name} must be >= 1 or None, got {value!r}")
        loop = self._loop
        if self._thread is not None and loop is not None:
            done = threading.Event()

            def apply() -> None:
                gate.set_limits(requests, tokens)
                done.set()

            loop.call_soon_threadsafe(apply)
            done.wait(_THREAD_START_TIMEOUT)
        else:
            gate.set_limits(requests, tokens)

    def enqueue(self, *items: ReplyItem) -> None:
        """Script the next chat answers: each item answers one request, in order, before
        ``replies`` is consulted. Thread-safe."""
        self._emulator.script.queue.extend(items)

    def add_document(
        self,
        collection_id: str,
        text: str,
        *,
        file_id: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> str:
        """Put a document in a collection (made on first use) for ``/v1/documents/search``;
        return its file id (``file_id``, else a new ``file_<uuid>``).

        The text is cut into chunks at blank lines (and pages at form feeds ``\f``);
        ``fields`` are its metadata, which a search's ``filter`` can test. Thread-safe.
        """
        return self._emulator.media.documents.add(
            collection_id, text, file_id=file_id, fields=fields
        )

    def reset(self) -> None:
        """Forget recorded requests and zero the stats (the queue is kept)."""
        self._emulator.requests.clear()
        self._emulator.stats.clear()

    def open_connections(self) -> int:
        """How many client TCP connections are open right now."""
        loop = self._loop
        if self._runner is None or loop is None:
            return 0
        if self._thread is not None and threading.current_thread() is not self._thread:
            # The connection table belongs to the server's loop: read it there.
            future = asyncio.run_coroutine_threadsafe(self._count_connections(), loop)
            return future.result(timeout=10)
        return self._count_open()

    async def _count_connections(self) -> int:
        return self._count_open()

    def _count_open(self) -> int:
        server = self._runner.server if self._runner is not None else None
        if server is None:
            return 0
        return sum(
            1
            for handler in server.connections
            if handler.transport is not None and not handler.transport.is_closing()
        )

    # -- in the running loop -----------------------------------------------------------

    async def start(self) -> FakeGrok:
        """Start listening in the running event loop."""
        if self._runner is not None:
            raise RuntimeError("FakeGrok is already running")
        runner = web.AppRunner(
            self._emulator.make_app(),
            access_log=None,  # a log line per request would cost more than the request
            handler_cancellation=True,  # a client that gives up cancels its handler
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._runner = runner
        self._loop = asyncio.get_running_loop()
        return self

    async def stop(self) -> None:
        """Stop listening and close every connection. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeGrok:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- in a background thread --------------------------------------------------------

    def start_in_thread(self) -> FakeGrok:
        """Start the server in a daemon thread running its own event loop; returns once
        it is listening."""
        if self._thread is not None or self._runner is not None:
            raise RuntimeError("FakeGrok is already running")
        ready = threading.Event()
        failure: list[BaseException] = []
        thread = threading.Thread(
            target=asyncio.run,
            args=(self._serve_in_thread(ready, failure),),
            name=f"FakeGrok-{id(self):x}",
            daemon=True,  # never keep a test process alive
        )
        self._thread = thread
        thread.start()
        if not ready.wait(_THREAD_START_TIMEOUT):
            raise RuntimeError("FakeGrok's thread did not start in time")
        if failure:
            thread.join()
            self._thread = None
            raise failure[0]
        return self

    async def _serve_in_thread(self, ready: threading.Event, failure: list[BaseException]) -> None:
        try:
            await self.start()
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            return
        self._stop_event = asyncio.Event()
        ready.set()
        try:
            await self._stop_event.wait()
        finally:
            await self.stop()

    def stop_in_thread(self) -> None:
        """Stop the background server and join its thread. Safe to call twice."""
        thread, loop, event = self._thread, self._loop, self._stop_event
        if thread is None or loop is None or event is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop already ended
            loop.call_soon_threadsafe(event.set)
        thread.join()
        self._thread = None
        self._stop_event = None

    def __enter__(self) -> FakeGrok:
        return self.start_in_thread()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_in_thread()

    # -- as a process --------------------------------------------------------------------

    @classmethod
    def run_forever(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        announce: Callable[[str], object] | None = _announce,
        **options: Any,
    ) -> None:
        """Serve until Ctrl-C or SIGTERM (what ``grok-async serve-fake`` runs).

        *announce* is called with the base URL once the server listens (default: a line on
        stderr). *options* are ``FakeGrok``'s keyword arguments.
        """
        fake = cls(host=host, port=port, **options)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(fake._serve_until_signalled(announce))

    async def _serve_until_signalled(self, announce: Callable[[str], object] | None) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Unix: stop cleanly. Elsewhere Ctrl-C arrives as KeyboardInterrupt instead.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        async with self:
            if announce is not None:
                announce(self.base_url)
            await stop.wait()
