"""Chat completions over a Ray Data dataset: the fan-out of one process, on many.

:func:`map_completions` runs each row's ``request`` through
:meth:`~grok_async.resources.chat.Completions.iter_many` inside Ray Data workers (one
pooled :class:`~grok_async.AsyncGrok` each), so a job of millions of prompts spreads over a
local Ray instance or a cluster unchanged. Share one team's rate limit between the
workers with a :class:`~grok_async.RedisRateLimiter`. :func:`pending` makes a job
resumable: it drops the rows whose ids are already in the output.

Needs the ``ray`` extra: ``pip install 'grok-async[ray]'``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import orjson

from .._ratelimit import RateLimiter

if TYPE_CHECKING:
    import pyarrow

    from .._client import AsyncGrok

__all__ = ["map_completions", "pending"]

#: Rows per batch a worker takes at once: enough to keep ``concurrency`` requests in
#: flight, small enough that a lost worker costs little work to redo.
DEFAULT_BATCH_SIZE = 256


def map_completions(
    ds: Any,
    *,
    concurrency: int = 64,
    api_key: str | None = None,
    base_url: str | None = None,
    rate_limit: RateLimiter | None = None,
    workers: int | tuple[int, int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    as_json: bool = False,
    ray_remote_args: Mapping[str, Any] | None = None,
    **client_options: Any,
) -> Any:
    """Run the chat completion of every row of ``ds``; a lazy ``ray.data.Dataset``.

    Each input row holds a ``request`` column: a dict of
    :meth:`~grok_async.resources.chat.Completions.create` keyword arguments, or the same
    as a JSON string (use strings when rows differ in shape, e.g. message ``content`` as
    text in one row and as a list of parts in another: Arrow refuses such a column).
    Nulls inside a dict request mean "not sent" (Arrow fills the fields a row lacks with
    nulls). Each output row keeps the input columns and adds:

    - ``response``: the completion as a plain JSON-compatible dict (``to_dict()``), or
      None when the request failed. With ``as_json=True`` it is that dict as a JSON string
      instead: one column type whatever the responses hold, the safe choice for writing
      Parquet. Without it, a batch whose responses Arrow cannot put in one column type
      gets a column of Python objects, which Ray stores pickled.
    - ``error``: None, or one line naming the error class, e.g.
      ``"NotFoundError: The model grok-9 does not exist..."``.

    Every input row becomes exactly one output row, in its batch's order: a failed request
    (after its retries) is a row with an error, never a failed task. The requests run in
    ``workers`` Ray actors, each with one pooled client and at most ``concurrency`` requests
    in flight, with the retries and the shared back-off on 429s of
    :meth:`~grok_async.resources.chat.Completions.iter_many`.

    Args:
        ds: a ``ray.data.Dataset`` with a ``request`` column.
        concurrency: requests in flight per worker at most.
        api_key: defaults to ``XAI_API_KEY`` in each worker's environment (on a cluster,
            pass it or set it with ``runtime_env``).
        base_url: defaults to ``XAI_BASE_URL``, else the xAI API.
        rate_limit: a budget every request of every worker draws from; a
            :class:`~grok_async.RedisRateLimiter` is shared by the whole cluster (an
            in-process ``RateBudget`` would be copied: one budget per worker).
        workers: Ray actors to run (an int, or ``(min, max)`` to autoscale); by default
            from one up to what the cluster's CPUs allow.
        batch_size: rows a worker takes at once.
        as_json: give ``response`` as a JSON string rather than a dict.
        ray_remote_args: more ``map_batches`` options, e.g. ``{"num_cpus": 0.5}``.
        **client_options: further :class:`~grok_async.AsyncGrok` arguments
            (``timeout``, ``max_retries``, ``max_connections``, ...).

    Raises:
        ValueError: ``concurrency`` or ``batch_size`` below 1.
        TypeError: ``rate_limit`` that is not a :class:`~grok_async.RateLimiter`.
        ImportError: Ray is not installed.
    """
    _import_ray()
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    if rate_limit is not None and not isinstance(rate_limit, RateLimiter):
        raise TypeError(
            "rate_limit must be a RateLimiter (e.g. grok_async.RedisRateLimiter), "
            f"not {type(rate_limit).__name__}"
        )
    import ray.data

    if workers is None:
        pool = ray.data.ActorPoolStrategy(min_size=1, max_size=None)
    elif isinstance(workers, tuple):
        pool = ray.data.ActorPoolStrategy(min_size=workers[0], max_size=workers[1])
    else:
        pool = ray.data.ActorPoolStrategy(size=workers)
    return ds.map_batches(
        _CompletionWorker,
        fn_constructor_kwargs={
            "concurrency": concurrency,
            "api_key": api_key,
            "base_url": base_url,
            "rate_limit": rate_limit,
            "as_json": as_json,
            "client_options": client_options,
        },
        batch_format="pyarrow",
        batch_size=batch_size,
        compute=pool,
        **dict(ray_remote_args or {}),
    )


def pending(ds: Any, output_path: str, *, id_column: str = "id") -> Any:
    """The rows of ``ds`` whose ``id_column`` value is not yet in the output at ``output_path``.

    The resumable-job recipe: write the results with Ray Data's Parquet writer, and start
    every run (the first too) from the rows still to do::

        todo = pending(ds, "s3://bucket/answers")
        map_completions(todo, as_json=True).write_parquet("s3://bucket/answers")

    A run that stops part-way leaves the files of the batches it finished; the next run
    skips their rows and appends the rest (failed requests are rows too: rerun those from
    the output's ``error`` column). Ids must be unique in ``ds``. Reading the done ids
    happens here, on the driver. A crash in the middle of a write can leave a truncated
    file (delete it; its rows are redone) or, rarely, a row written twice: de-duplicate by
    id when reading the output (see the "Scaling out" guide).

    Args:
        ds: the input ``ray.data.Dataset``.
        output_path: a directory (local or any pyarrow filesystem URI) of Parquet files,
            possibly missing or empty.
        id_column: a column present in both ``ds`` and the output.
    """
    _import_ray()
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    try:
        written = pads.dataset(output_path, format="parquet")
    except FileNotFoundError:
        return ds
    if not written.files:
        return ds
    if id_column not in written.schema.names:
        raise ValueError(
            f"the output at {output_path!r} has no {id_column!r} column to resume by "
            f"(it has {written.schema.names})"
        )
    done = written.to_table(columns=[id_column])
    if done.num_rows == 0:
        return ds
    done_ids = done.column(id_column).combine_chunks()

    def not_done(batch: pa.Table) -> pa.Table:
        ids = batch.column(id_column)
        seen = pc.is_in(ids, value_set=done_ids.cast(ids.type))
        return batch.filter(pc.invert(seen))

    return ds.map_batches(not_done, batch_format="pyarrow", batch_size=None)


def _import_ray() -> None:
    try:
        import ray.data  # noqa: F401 - fails here, with a clear message, if missing
    except ImportError:
        raise ImportError(
            "grok_async.contrib.ray needs Ray Data: pip install 'grok-async[ray]'"
        ) from None


class _CompletionWorker:
    """One Ray actor: a pooled client and the bound on its requests in flight."""

    def __init__(
        self,
        *,
        concurrency: int,
        api_key: str | None,
        base_url: str | None,
        rate_limit: RateLimiter | None,
        as_json: bool,
        client_options: Mapping[str, Any],
    ) -> None:
        from .._client import AsyncGrok

        self._client: AsyncGrok = AsyncGrok(api_key, base_url=base_url, **client_options)
        self._concurrency = concurrency
        self._rate_limit = rate_limit
        self._as_json = as_json
        # Ray runs several batches of one actor at once: they share this bound.
        self._slots: asyncio.Semaphore | None = None

    # An async generator (of one batch) is the form of async UDF every Ray release with
    # async map_batches accepts.
    async def __call__(self, batch: pyarrow.Table) -> AsyncIterator[pyarrow.Table]:
        if "request" not in batch.column_names:
            raise ValueError(
                f"map_completions needs a 'request' column; the dataset has {batch.column_names}"
            )
        for taken in ("response", "error"):
            if taken in batch.column_names:
                raise ValueError(f"the dataset already has a {taken!r} column")
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._concurrency)
        rows = batch.column("request").to_pylist()
        responses: list[Any] = [None] * len(rows)
        errors: list[str | None] = [None] * len(rows)
        runnable: list[int] = []
        requests: list[dict[str, Any]] = []
        for i, row in enumerate(rows):
            try:
                requests.append(_request_of(row))
            except (TypeError, ValueError) as exc:
                errors[i] = _one_line(exc)
            else:
                runnable.append(i)
        await self._run(requests, runnable, responses, errors)
        yield batch.append_column("response", self._response_column(responses)).append_column(
            "error", _string_array(errors)
        )

    async def _run(
        self,
        requests: list[dict[str, Any]],
        rows: list[int],
        responses: list[Any],
        errors: list[str | None],
    ) -> None:
        slots = self._slots
        assert slots is not None
        held = 0

        async def admitted() -> AsyncIterator[dict[str, Any]]:
            nonlocal held
            for request in requests:
                await slots.acquire()
                held += 1
                yield request

        try:
            async with aclosing(
                self._client.chat.completions.iter_many(
                    admitted(),
                    concurrency=self._concurrency,
                    return_exceptions=True,
                    rate_limit=self._rate_limit,
                )
            ) as results:
                async for index, result in results:
                    held -= 1
                    slots.release()
                    row = rows[index]
                    if isinstance(result, Exception):
                        errors[row] = _one_line(result)
                    else:
                        responses[row] = result.to_dict()
        finally:
            for _ in range(held):  # cancelled part-way: give back what is still held
                slots.release()

    def _response_column(self, responses: list[Any]) -> pyarrow.Array:
        import pyarrow as pa

        if self._as_json:
            return _string_array(
                [None if r is None else orjson.dumps(r).decode() for r in responses]
            )
        try:
            return pa.array(responses)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            # Responses Arrow cannot give one type (a field that is text in one and a
            # number in another): keep them as Python objects rather than fail the batch.
            from ray.data.extensions import ArrowPythonObjectArray

            objects: pyarrow.Array = ArrowPythonObjectArray.from_objects(responses)
            return objects


def _request_of(row: Any) -> dict[str, Any]:
    """The create() arguments of one row: a dict, or a JSON object as text."""
    if isinstance(row, (str, bytes)):
        try:
            value = orjson.loads(row)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"the request is not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise TypeError(f"the request must be a JSON object, not {type(value).__name__}")
        return value
    if isinstance(row, dict):
        dropped: dict[str, Any] = _without_nulls(row)
        return dropped
    if row is None:
        raise ValueError("the request is null")
    raise TypeError(f"the request must be a dict or a JSON string, not {type(row).__name__}")


def _without_nulls(value: Any) -> Any:
    """``value`` without the None fields of its dicts, at every depth."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _one_line(exc: BaseException) -> str:
    """``ClassName: message`` on one line."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _string_array(values: list[str | None]) -> pyarrow.Array:
    import pyarrow as pa

    return pa.array(values, type=pa.string())
