"""Batch input: JSONL in the OpenAI/xAI batch format, one request a line, read lazily.

``{"custom_id": "q-17", "method": "POST", "url": "/v1/chat/completions", "body": {...}}``
(``/v1/responses`` too). :func:`check_input` reads the whole file once before anything is
sent and reports every bad line with its number and the reason; :func:`iter_requests` then
reads it again, a line at a time, while the requests go out. Neither holds the file:
memory is one line, plus 8 bytes per line for the ``custom_id`` digests that find
duplicates (a sorted array, not a set of strings: 80 MB for 10 million lines).
"""

from __future__ import annotations

import hashlib
import heapq
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import orjson

from ._budget import estimate_tokens
from ._errors import GrokError
from ._request_params import CHAT_PARAMETERS, RESPONSES_PARAMETERS

__all__ = [
    "BatchInputError",
    "BatchRequest",
    "InputReport",
    "LineProblem",
    "check_body",
    "check_input",
    "id_digest",
    "iter_requests",
    "parse_line",
]

#: The endpoints a line may name, and the API path each is sent to.
SUPPORTED_URLS = {"/v1/chat/completions": "/chat/completions", "/v1/responses": "/responses"}
# Body keys each endpoint requires, besides model; the rest must be known parameters.
_REQUIRED = {"/v1/chat/completions": "messages", "/v1/responses": "input"}
_ALLOWED = {
    "/v1/chat/completions": CHAT_PARAMETERS | {"model", "messages", "stream"},
    "/v1/responses": RESPONSES_PARAMETERS | {"model", "input", "stream"},
}
_OUTPUT_CAPS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
# A report lists this many bad lines; it counts them all.
_SHOWN_PROBLEMS = 20


def id_digest(custom_id: str) -> int:
    """A 64-bit digest of a ``custom_id``: what the duplicate and resume checks keep.

    Two different ids share a digest with a chance of about n²/2^65 (3e-6 for 10 million
    lines), which is the price of not keeping every id in memory.
    """
    return int.from_bytes(hashlib.blake2b(custom_id.encode(), digest_size=8).digest(), "big")


# Digests sorted at once would pass through a list of Python ints (36 bytes each, not 8);
# sorted in runs of this many and merged, memory stays near the arrays themselves.
_RUN = 1 << 16


def _sorted(digests: array[int]) -> array[int]:
    """``digests`` sorted, as a new array, without a list of them all."""
    if len(digests) <= _RUN:
        return array("Q", sorted(digests))
    runs = [array("Q", sorted(digests[i : i + _RUN])) for i in range(0, len(digests), _RUN)]
    merged = array("Q")
    merged.extend(heapq.merge(*runs))
    return merged


class SortedDigests:
    """A sorted array of digests: membership by binary search, 8 bytes per id."""

    def __init__(self, digests: array[int]) -> None:
        self._digests = _sorted(digests)

    def __contains__(self, digest: object) -> bool:
        items = self._digests
        i = bisect_left(items, digest)  # type: ignore[call-overload]
        return i < len(items) and bool(items[i] == digest)

    def __len__(self) -> int:
        return len(self._digests)

    def repeated(self) -> set[int]:
        """The digests that occur more than once."""
        items = self._digests
        return {items[i] for i in range(1, len(items)) if items[i] == items[i - 1]}


@attrs.frozen
class LineProblem:
    """A bad input line: its number (from 1) and why it cannot be sent."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class BatchInputError(GrokError, ValueError):
    """The input file has bad lines; nothing was sent. ``problems`` lists the first of
    them, ``count`` says how many there are."""

    def __init__(self, path: str, problems: list[LineProblem], count: int) -> None:
        self.path = path
        self.problems = problems
        self.count = count
        more = f" (and {count - len(problems)} more)" if count > len(problems) else ""
        first = "; ".join(str(problem) for problem in problems[:3])
        super().__init__(f"{path} has {count} bad line(s), nothing was sent: {first}{more}")


@attrs.frozen
class BatchRequest:
    """One valid input line."""

    line: int
    custom_id: str
    url: str
    body: Mapping[str, Any]

    @property
    def path(self) -> str:
        """The API path it goes to, e.g. ``/chat/completions``."""
        return SUPPORTED_URLS[self.url]

    @property
    def model(self) -> str:
        return str(self.body["model"])

    @property
    def output_cap(self) -> int | None:
        """The body's limit on generated tokens, if it sets one."""
        for key in _OUTPUT_CAPS:
            value = self.body.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None


class _Bad(Exception):
    """A line's problem, raised while checking it."""


def _check_body(url: str, body: Any) -> None:
    if not isinstance(body, dict):
        raise _Bad("'body' must be a JSON object of request parameters")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _Bad("body.model must be a non-empty string")
    required = _REQUIRED[url]
    value = body.get(required)
    if required == "messages":
        if not isinstance(value, list) or not value:
            raise _Bad("body.messages must be a non-empty list of messages")
        for n, message in enumerate(value):
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                raise _Bad(f"body.messages[{n}] must be an object with a 'role'")
    elif not (isinstance(value, str) and value) and not (isinstance(value, list) and value):
        raise _Bad("body.input must be a non-empty string or list of input items")
    if body.get("stream"):
        raise _Bad("body.stream cannot be true in a batch (answers are written whole)")
    unknown = body.keys() - _ALLOWED[url]
    if unknown:
        raise _Bad(f"body has unknown parameter(s): {', '.join(sorted(unknown))}")


def check_body(url: str, body: Any) -> str | None:
    """Why ``body`` cannot be sent to ``url`` (one of :data:`SUPPORTED_URLS`), or None."""
    try:
        _check_body(url, body)
    except _Bad as exc:
        return str(exc)
    return None


def parse_line(raw: bytes, number: int) -> BatchRequest:
    """One line as a request; raises :class:`BatchInputError` naming the line and reason."""
    try:
        return _parse(raw, number)
    except _Bad as exc:
        raise BatchInputError("input", [LineProblem(number, str(exc))], 1) from None


def _parse(raw: bytes, number: int) -> BatchRequest:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _Bad(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _Bad("not a JSON object")
    custom_id = data.get("custom_id")
    if custom_id is None:
        raise _Bad("missing custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise _Bad("custom_id must be a non-empty string")
    method = data.get("method", "POST")
    if method != "POST":
        raise _Bad(f"method must be POST, not {method!r}")
    url = data.get("url")
    if url is None:
        raise _Bad("missing url")
    if url not in SUPPORTED_URLS:
        supported = ", ".join(SUPPORTED_URLS)
        raise _Bad(f"unsupported url {url!r} (supported: {supported})")
    if "body" not in data:
        raise _Bad("missing body")
    _check_body(url, data["body"])
    return BatchRequest(number, custom_id, url, data["body"])


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(number, content)`` of each non-blank line, one at a time."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            if raw.strip():
                yield number, raw


def iter_requests(path: str | Path) -> Iterator[BatchRequest]:
    """The file's requests in order, read lazily (checked by :func:`check_input` first)."""
    for number, raw in _lines(Path(path)):
        yield parse_line(raw, number)


@attrs.define
class InputReport:
    """What :func:`check_input` found: counts, a token estimate, and the bad lines."""

    path: str
    lines: int = 0
    requests: int = 0
    by_url: Counter[str] = attrs.field(factory=Counter)
    by_model: Counter[str] = attrs.field(factory=Counter)
    #: Estimated prompt tokens per model (request bytes / 4).
    prompt_tokens: Counter[str] = attrs.field(factory=Counter)
    #: The output caps (``max_tokens`` ...) summed per model, and lines without one.
    output_cap_tokens: Counter[str] = attrs.field(factory=Counter)
    uncapped: int = 0
    problems: list[LineProblem] = attrs.field(factory=list)
    problem_count: int = 0
    digests: SortedDigests | None = attrs.field(default=None, repr=False)

    def add_problem(self, problem: LineProblem) -> None:
        self.problem_count += 1
        if len(self.problems) < _SHOWN_PROBLEMS:
            self.problems.append(problem)

    def raise_if_bad(self) -> None:
        """Raise :class:`BatchInputError` when any line is bad."""
        if self.problem_count:
            self.problems.sort(key=lambda problem: problem.line)
            raise BatchInputError(self.path, self.problems, self.problem_count)


def check_input(path: str | Path) -> InputReport:
    """Read the whole file once and report its requests and every bad line.

    Raises:
        OSError: the file cannot be read.
    """
    file = Path(path)
    report = InputReport(str(path))
    digests: array[int] = array("Q")
    for number, raw in _lines(file):
        report.lines += 1
        try:
            request = _parse(raw, number)
        except _Bad as exc:
            report.add_problem(LineProblem(number, str(exc)))
            continue
        report.requests += 1
        digests.append(id_digest(request.custom_id))
        report.by_url[request.url] += 1
        model = request.model
        report.by_model[model] += 1
        report.prompt_tokens[model] += estimate_tokens(orjson.dumps(request.body), None)
        cap = request.output_cap
        if cap is None:
            report.uncapped += 1
        else:
            report.output_cap_tokens[model] += cap
    report.digests = SortedDigests(digests)
    del digests
    repeated = report.digests.repeated()
    if repeated:
        _report_duplicates(file, repeated, report)
    return report


def _report_duplicates(file: Path, repeated: set[int], report: InputReport) -> None:
    """A second pass, only when there are duplicates: name each repeat and its first line."""
    first: dict[int, tuple[str, int]] = {}
    for number, raw in _lines(file):
        try:
            custom_id = _parse(raw, number).custom_id
        except _Bad:
            continue
        digest = id_digest(custom_id)
        if digest not in repeated:
            continue
        if digest in first:
            _, line = first[digest]
            report.add_problem(
                LineProblem(number, f"duplicate custom_id {custom_id!r} (first on line {line})")
            )
        else:
            first[digest] = (custom_id, number)
